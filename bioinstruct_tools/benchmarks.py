"""Evaluation benchmarks as files and folders: JSON, JSON Lines, CSV, parquet, `save_to_disk`, `datasets`.

Reading only: items come out one dict at a time, so a large benchmark is never all in memory, and no
benchmark's own code ever runs (a folder with a loading script is refused). The n-gram search that
uses them is `contamination.py`.
"""

import csv
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Sequence

from bioinstruct_tools.records import UnreadableFileError, read_records

MAX_FIELD_CHARACTERS = 10_000_000  # one benchmark text larger than this is corruption, not an item
MAX_ITEM_CHARACTERS = 5 * MAX_FIELD_CHARACTERS  # a JSON item's whole text: a few fields of that size
_BATCH_ITEMS = 5_000
_FORMATS = "JSON, JSON Lines, CSV, parquet, a save_to_disk folder or a datasets folder"


class BenchmarkError(ValueError):
    """A benchmark cannot be read, holds no items, or has none of the fields asked for; the message names it."""


@dataclass(frozen=True)
class Benchmark:
    """One benchmark to read: a file, or a folder and the split chosen in it."""

    path: str
    split: Optional[str] = None  # the split read from a folder; None for a file

    def items(self) -> Iterator[dict]:
        """Every item, in order; raises BenchmarkError, naming the file, even halfway through."""
        count = 0
        for count, item in enumerate(self._items(), start=1):
            yield item
        if count == 0:
            raise BenchmarkError(f"{self.path}: holds no items")

    def _items(self) -> Iterator[dict]:
        if os.path.isdir(self.path):
            yield from _folder_items(self.path, self.split)
            return
        suffix = Path(self.path).suffix.lower()
        try:
            if suffix == ".csv":
                yield from _csv_items(self.path)
            elif suffix == ".parquet":
                import pyarrow.parquet as pq

                for batch in pq.ParquetFile(self.path).iter_batches(batch_size=_BATCH_ITEMS):
                    yield from batch.to_pylist()
            else:
                for _, _, record in read_records(self.path, max_record_chars=MAX_ITEM_CHARACTERS):
                    yield record
        except UnreadableFileError as e:
            if e.reason == "empty_file":
                return  # said once, by items(): "holds no items"
            raise BenchmarkError(f"{e} (a benchmark is {_FORMATS})") from None
        except (OSError, ValueError, csv.Error, UnicodeDecodeError) as e:
            raise BenchmarkError(f"{self.path}: cannot be read as {suffix[1:].upper() or 'JSON'} "
                                 f"({' '.join(str(e).split())[:200]})") from None


def open_benchmarks(paths: Sequence[str], split: Optional[str] = None) -> list[Benchmark]:
    """The benchmarks named on the command line, checked before any work: each exists, is read once, is data.

    Raises BenchmarkError for a missing path, a device or pipe, a folder holding a loading script, a
    benchmark named twice, `--split` given for a file, or a split the folder does not have.
    """
    opened: list[Benchmark] = []
    for path in paths:
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            raise BenchmarkError(f"{path}: no such file or folder") from None
        except OSError as e:
            raise BenchmarkError(f"{path}: cannot be read ({e.strerror})") from None
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise BenchmarkError(f"{path}: not a regular file or folder (a device or pipe); expected {_FORMATS}")
        for earlier in opened:
            if os.path.samefile(earlier.path, path):
                raise BenchmarkError(f"{path}: named twice as a benchmark (also as {earlier.path})")
        if stat.S_ISDIR(mode):
            opened.append(Benchmark(path, _folder_split(path, split)))
        elif split is not None:
            raise BenchmarkError(f"{path}: a file has no splits; --split applies to a benchmark folder")
        else:
            opened.append(Benchmark(path))
    return opened


def item_texts(item: dict, bench_fields: Sequence[str]) -> list[str]:
    """The texts of an item's benchmark fields; options given as a list or a dict count one by one."""
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

    for name in bench_fields:
        if name in item:
            collect(item[name])
    return texts


# ---------------------------------------------------------------------------------------------------
# Formats
# ---------------------------------------------------------------------------------------------------


def _csv_items(path: str) -> Iterator[dict]:
    csv.field_size_limit(MAX_FIELD_CHARACTERS)
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            return
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:
            raise BenchmarkError(f"{path}: line 1: the header names the column {repeated[0]!r} twice")
        for row in reader:
            yield dict(zip(header, row))


def _is_saved_to_disk(path: str) -> bool:
    return any(os.path.exists(os.path.join(path, name)) for name in ("dataset_dict.json", "state.json"))


def _refuse_code(path: str) -> None:
    """A folder with a loading script would run its code (or prompt for it, on datasets 3.6): never."""
    scripts = sorted(name for name in os.listdir(path) if name.endswith(".py"))
    if scripts:
        raise BenchmarkError(f"{path}: holds the script {scripts[0]}; benchmark code is never run "
                             "(give its data files or a save_to_disk folder)")


def _folder_split(path: str, split: Optional[str]) -> str:
    """The split to read: `split` if the folder has it, else `test`, else its only split."""
    _refuse_code(path)
    names = _split_names(path)
    if split is not None:
        if split not in names:
            raise BenchmarkError(f"{path}: has no split {split!r} (it has {', '.join(names)})")
        return split
    if "test" in names:
        return "test"
    if len(names) == 1:
        return names[0]
    raise BenchmarkError(f"{path}: has the splits {', '.join(names)} and none is 'test'; choose one with --split")


def _split_names(path: str) -> list[str]:

    try:
        if os.path.exists(os.path.join(path, "dataset_dict.json")):
            with open(os.path.join(path, "dataset_dict.json"), encoding="utf-8") as f:
                return list(json.load(f)["splits"])
        if os.path.exists(os.path.join(path, "state.json")):
            return ["train"]  # one saved Dataset: its split is whatever it was; there is only one
        names = sorted(_data_files_by_split(path))
        if not names:
            raise BenchmarkError(f"{path}: holds no JSON, JSON Lines, CSV or parquet file")
        return names
    except BenchmarkError:
        raise
    except Exception as e:  # datasets raises many types for a folder it cannot read
        raise BenchmarkError(f"{path}: cannot be read as a datasets folder ({type(e).__name__}: "
                             f"{' '.join(str(e).split())[:200]})") from None


def _folder_items(path: str, split: str) -> Iterator[dict]:
    """The folder's rows as plain values: nothing is decoded (images stay bytes) and no cache is written."""
    import datasets
    import pyarrow

    try:
        if _is_saved_to_disk(path):
            if os.path.exists(os.path.join(path, "dataset_dict.json")):
                path = os.path.join(path, split)
            for arrow_file in _arrow_files(path):
                table = datasets.Dataset.from_file(arrow_file, in_memory=False).data.table
                for batch in table.to_batches(max_chunksize=_BATCH_ITEMS):
                    yield from batch.to_pylist()
        else:  # data files, read by this module's readers: no pattern, no cache, nothing decoded
            for data_file in _data_files_by_split(path)[split]:
                yield from Benchmark(data_file).items()
    except BenchmarkError:
        raise
    except (Exception, pyarrow.ArrowException) as e:
        raise BenchmarkError(f"{path}: cannot be read as a datasets folder ({type(e).__name__}: "
                             f"{' '.join(str(e).split())[:200]})") from None


_SPLIT_WORDS = ("train", "test", "validation", "valid", "dev", "eval")
_DATA_SUFFIXES = (".json", ".jsonl", ".csv", ".parquet")


def _data_files_by_split(folder: str) -> dict[str, list[str]]:
    """A `datasets`-style folder's data files by split, as `datasets` names them: a split word as the file
    name's start (`test.jsonl`, `test-00000-of-00001.parquet`) or as a folder (`test/...`); with none,
    every file is `train`. Walked by hand: `datasets` would resolve the folder's name as a glob pattern."""
    files = []
    for directory, subfolders, names in os.walk(folder):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        files += [os.path.join(directory, name) for name in sorted(names)
                  if name.lower().endswith(_DATA_SUFFIXES) and not name.startswith(".")]
    by_split: dict[str, list[str]] = {}
    for path in files:
        parts = os.path.relpath(path, folder).replace(os.sep, "/").split("/")
        words = [part.lower() for part in parts[:-1]] + [re.split(r"[-_.]", parts[-1].lower())[0]]
        split = next((word for word in words if word in _SPLIT_WORDS), None)
        by_split.setdefault(split, []).append(path)
    if set(by_split) == {None}:
        return {"train": by_split[None]}
    by_split.pop(None, None)
    return by_split


def _arrow_files(folder: str) -> list[str]:
    """The shards save_to_disk wrote (data-00000-of-00002.arrow, ...), in order."""
    files = sorted(name for name in os.listdir(folder) if name.endswith(".arrow"))
    if not files:
        raise BenchmarkError(f"{folder}: no .arrow file; expected a folder written by save_to_disk")
    return [os.path.join(folder, name) for name in files]
