"""Evaluation benchmarks as files and folders: JSON, JSON Lines, CSV, parquet, `save_to_disk`, `datasets`.

Reading only: items come out one dict at a time, so a large benchmark is never all in memory, and no
benchmark's own code ever runs (a folder with a loading script is refused). The n-gram search that
uses them is `contamination.py`.
"""

import os
from dataclasses import dataclass
from typing import Iterator, Optional, Sequence

from bioinstruct_tools import sources
from bioinstruct_tools.errors import Refused
from bioinstruct_tools.records import UnreadableFileError
from bioinstruct_tools.sources import SourceRecord

MAX_ITEM_CHARACTERS = 5 * sources.MAX_FIELD_CHARACTERS  # a JSON item's whole text: a few fields of that size


class BenchmarkError(ValueError, Refused):
    """A benchmark cannot be read, holds no items, or has none of the fields asked for; the message names it."""


@dataclass(frozen=True)
class Benchmark:
    """One benchmark to read: a file, or a folder and the split chosen in it."""

    path: str
    split: Optional[str] = None  # the split read from a folder; None for a file

    def items(self) -> Iterator[SourceRecord]:
        """Every item, in order, with its id; raises BenchmarkError, naming the file, even halfway through."""
        try:
            yield from sources.read_source(self.path, split=self.split, max_record_chars=MAX_ITEM_CHARACTERS)
        except UnreadableFileError as e:
            if e.reason == "empty_file":
                raise BenchmarkError(f"{e.path}: holds no items") from None
            raise BenchmarkError(str(e)) from None


def open_benchmarks(paths: Sequence[str], split: Optional[str] = None) -> list[Benchmark]:
    """The benchmarks named on the command line, checked before any work: each exists, is read once, is data.

    Raises BenchmarkError for a missing path, a device or pipe, a folder holding a loading script, a
    benchmark named twice, `--split` given for a file, or a split the folder does not have (never a
    fallback to another: the split read is the split asked for, or `test`, or the folder's only one).
    """
    opened: list[Benchmark] = []
    for path in paths:
        try:
            is_folder = sources.check_source_path(path)
            for earlier in opened:
                if os.path.samefile(earlier.path, path):
                    raise BenchmarkError(f"{path}: named twice as a benchmark (also as {earlier.path})")
            if is_folder:
                opened.append(Benchmark(path, sources.folder_split(path, split, preferred="test")))
            elif split is not None:
                raise BenchmarkError(f"{path}: a file has no splits; --split applies to a benchmark folder")
            else:
                opened.append(Benchmark(path))
        except UnreadableFileError as e:
            raise BenchmarkError(str(e)) from None
    return opened


def item_texts(item: dict, bench_fields) -> list[str]:
    """The texts of an item's benchmark fields (lower-case names; keys match in any case); lists and dicts of
    strings (`CONTEXTS`, `options`) count one by one."""
    texts: list[str] = []

    def collect(value) -> None:
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, dict):
            for inner in value.values():
                collect(inner)
        elif isinstance(value, (list, tuple)):
            for inner in value:
                collect(inner)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            texts.append(str(value))

    for key, value in item.items():
        if isinstance(key, str) and key.lower() in bench_fields:
            collect(value)
    return texts
