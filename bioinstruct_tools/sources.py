"""The one reader: records or benchmark items from every shape a user has, as `SourceRecord`s.

A source is a file (a JSON array, JSON Lines, a JSON object keyed by id, CSV or parquet) or a folder (one
written by `bioinstruct build`, a `save_to_disk` folder, or a `datasets`-style folder of data files).
Every command reads through `read_source`, so every command takes every shape. Rows come out one at a
time; nothing is decoded (images stay bytes), no cache is written and no code of the source's is run
(a folder holding a loading script is refused).

`FieldMap` renames a source's keys to the record's fields (`--field-map output=gpt-4-answer,input=`).
A record's id is its key in a keyed object, else its `id`-like field (`ID_FIELDS`), else none.
"""

import csv
import json
import os
import re
import stat
from pathlib import Path
from typing import Iterator, NamedTuple, Optional

from bioinstruct_tools.published import CARD_FILENAME, DEFAULT_CONFIG, shard_path
from bioinstruct_tools.json_reader import read_json_records
from bioinstruct_tools.records import FIELDS, UnreadableFileError
from bioinstruct_tools.text import one_line

FORMATS = ("a JSON array, JSON Lines, a JSON object keyed by id, CSV, parquet, a built folder, a save_to_disk "
           "folder or a datasets folder")
MAX_FIELD_CHARACTERS = 10_000_000  # one text larger than this is corruption, not a record
# The fields that name a row, in the order they are looked for (case-insensitive): datasets' `id`, PubMedQA's
# `pubid`, MedQA's and BioASQ's `qid`/`question_id`, `pmid`.
ID_FIELDS = ("id", "_id", "uid", "pubid", "pmid", "qid", "question_id", "example_id", "idx")
_BATCH_ROWS = 5_000
_SPLIT_WORDS = ("train", "test", "validation", "valid", "dev", "eval")
_DATA_SUFFIXES = (".json", ".jsonl", ".csv", ".parquet")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")  # a split's folder name: no separator, no ".."


class FieldMapError(UnreadableFileError):
    """A `--field-map` that does not fit the file: it names a field the records lack, or would drop one."""

    def __init__(self, path: str, detail: str):
        super().__init__(path, detail, reason="field_map")


class SourceRecord(NamedTuple):
    """One row of a source: where it is, its own id when it has one, and its fields."""

    index: int  # from 0, in the source's order
    line: Optional[int]  # where it starts in a text file; None for parquet and folders
    data: dict
    id: Optional[str] = None

    def where(self) -> str:
        """`record 3 (line 4, id 'q17')`: how errors and reports name it."""
        details = ([f"line {self.line}"] if self.line is not None else []) + (
            [f"id {self.id!r}"] if self.id is not None else [])
        return f"record {self.index}" + (f" ({', '.join(details)})" if details else "")


# ---------------------------------------------------------------------------------------------------
# Field maps
# ---------------------------------------------------------------------------------------------------


class FieldMap(NamedTuple):
    """`NEW=OLD` renames: the record's field NEW is the source's key OLD; `NEW=` means the source has none."""

    renames: tuple[tuple[str, Optional[str]], ...] = ()

    @classmethod
    def parse(cls, text: str) -> "FieldMap":
        """`output=gpt-4-answer,input=`; raises ValueError naming what is wrong."""
        renames = []
        for part in (part.strip() for part in text.split(",")):
            if not part:
                continue
            new, equals, old = (piece.strip() for piece in part.partition("="))
            if not equals or not new:
                raise ValueError(f"expected NEW=OLD (or NEW= for a field the source lacks), got {part!r}")
            if new not in FIELDS:
                raise ValueError(f"{new!r} is not a record field: choose from {', '.join(FIELDS)}")
            if new in (name for name, _ in renames):
                raise ValueError(f"{new!r} is mapped twice")
            renames.append((new, old or None))
        if not renames:
            raise ValueError(f"expected NEW=OLD,..., got {text!r}")
        return cls(tuple(renames))

    def check(self, row: dict, shown: str) -> None:
        """Refuse a map that names a field the first record lacks, or that would drop one of its fields: a
        typo or a misunderstanding, said once with the record's fields, instead of every record excluded."""
        fields = ", ".join(repr(key) for key in list(row)[:20]) or "no field"
        for new, old in self.renames:
            if old is not None and old not in row:
                raise FieldMapError(shown, f"--field-map {new}={old}: record 0 has no field {old!r} (its fields: "
                                    f"{fields})")
        sources = {old for _, old in self.renames if old is not None}
        for new, old in self.renames:
            if new in row and new not in sources:
                raise FieldMapError(shown, f"--field-map {new}={old or ''}: record 0 has its own {new!r} field, which "
                                    f"this map would drop (its fields: {fields}); map it to a field, or use the "
                                    "file as it is")

    def apply(self, row: dict) -> dict:
        """The row with its keys renamed, in the row's own order; a key the map replaces is dropped."""
        if not self.renames:
            return row
        renamed: dict[str, list[str]] = {}
        for new, old in self.renames:
            if old is not None:
                renamed.setdefault(old, []).append(new)
        targets = {new for new, _ in self.renames}
        mapped = {}
        for key, value in row.items():
            if key in renamed:
                for new in renamed[key]:
                    mapped[new] = value
            elif key not in targets:
                mapped[key] = value
        for new, old in self.renames:
            if old is None:
                mapped[new] = ""
        return mapped

    def __str__(self) -> str:
        return ",".join(f"{new}={old or ''}" for new, old in self.renames)


NO_FIELD_MAP = FieldMap()


# ---------------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------------


def read_source(path: str, field_map: FieldMap = NO_FIELD_MAP, split: Optional[str] = None,
                display: Optional[str] = None, max_record_chars: Optional[int] = None,
                preferred_split: str = "train") -> Iterator[SourceRecord]:
    """Every row of `path`, any of `FORMATS`, renamed by `field_map`.

    `split` picks a folder's split (an error when it has none of that name); without it a folder gives
    `preferred_split`, else its only split. Raises `UnreadableFileError` naming the file (as `display`,
    when the path read is a copy) and the record, even halfway through.
    """
    shown = display or path
    for index, line, key, row in _rows(path, split, preferred_split, shown, max_record_chars):
        if index == 0 and field_map.renames:
            field_map.check(row, shown)
        yield SourceRecord(index, line, field_map.apply(row), key if key is not None else row_id(row))


def merged_files(path: str, split: Optional[str] = None) -> list[str]:
    """The data files a `datasets`-style folder's split is read from, when there are several: they are read as
    one source, as `datasets` would, and a command says so. Empty for a file or any other folder."""
    if not os.path.isdir(path) or is_built_folder(path) or _is_saved_to_disk(path):
        return []
    try:
        files = _data_files_by_split(path).get(folder_split(path, split))
    except UnreadableFileError:
        return []
    return [os.path.relpath(file, path) for file in files] if files and len(files) > 1 else []


def row_id(row: dict) -> Optional[str]:
    """A row's own id: the first of ID_FIELDS it holds (any case) as a string or whole number."""
    best, best_rank = None, len(ID_FIELDS)
    for key, value in row.items():  # one pass over the row's few keys: this runs for every row read
        rank = _ID_RANK.get(key.lower() if type(key) is str else key, best_rank)
        if rank < best_rank and (type(value) is str and value.strip() or type(value) is int):
            best, best_rank = str(value), rank
    return best


_ID_RANK = {name: rank for rank, name in enumerate(ID_FIELDS)}


def folder_split(path: str, split: Optional[str], preferred: str = "train") -> str:
    """The split read from a folder: `split` if it has it (else an error), `preferred`, or its only split."""
    refuse_code(path)
    names = split_names(path)
    if split is not None:
        if split not in names:
            raise UnreadableFileError(path, f"has no split {split!r} (it has {', '.join(names)})",
                                      reason="missing_split")
        return split
    if preferred in names:
        return preferred
    if len(names) == 1:
        return names[0]
    raise UnreadableFileError(path, f"has the splits {', '.join(names)} and none is {preferred!r}; choose one "
                              "with --split", reason="missing_split")


def check_regular(path: str) -> None:
    """Refuse a file inside a folder that is not a regular file, before opening it: a pipe would block."""
    if check_source_path(path):
        raise UnreadableFileError(path, "a folder where a file was expected", reason="not_a_regular_file")


def check_source_path(path: str) -> bool:
    """Refuse a missing path, a device or a pipe before reading; True for a folder."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise UnreadableFileError(path, "no such file or folder", reason="missing_file") from None
    except (OSError, ValueError) as e:
        raise UnreadableFileError(path, f"cannot be read ({getattr(e, 'strerror', None) or e})",
                                  reason="unreadable") from None
    if stat.S_ISDIR(mode):
        return True
    if not stat.S_ISREG(mode):
        raise UnreadableFileError(path, f"not a regular file or folder (a device or pipe); expected {FORMATS}",
                                  reason="not_a_regular_file")
    return False


def is_built_folder(path: str) -> bool:
    """A folder with a card and the `default` config's shard: the layout `bioinstruct build` writes."""
    return os.path.isdir(path) and os.path.isfile(os.path.join(path, CARD_FILENAME)) and os.path.isfile(
        os.path.join(path, shard_path(DEFAULT_CONFIG)))


def _rows(path: str, split: Optional[str], preferred: str, shown: str,
          max_record_chars: Optional[int]) -> Iterator[tuple[int, Optional[int], Optional[str], dict]]:
    count = 0
    for count, row in enumerate(_shaped_rows(path, split, preferred, shown, max_record_chars), start=1):
        yield row
    if count == 0:
        raise UnreadableFileError(shown, f"holds no records (expected {FORMATS})", reason="empty_file")


def _shaped_rows(path, split, preferred, shown, max_record_chars):
    if check_source_path(path):
        if is_built_folder(path):
            if split is not None:
                raise UnreadableFileError(shown, f"a built folder has one split, its records; --split {split} does not "
                                          "apply", reason="missing_split")
            rows = _built_rows(path)
        else:
            rows = _folder_rows(path, folder_split(path, split, preferred), shown, max_record_chars)
    elif split is not None:
        raise UnreadableFileError(shown, "a file has no splits; --split applies to a folder", reason="missing_split")
    else:
        rows = _file_rows(path, shown, max_record_chars)
    for index, (line, key, row) in enumerate(rows):
        yield index, line, key, row


def _file_rows(path: str, shown: str, max_record_chars: Optional[int]):
    suffix = Path(path).suffix.lower()
    if suffix == ".parquet":
        yield from _parquet_rows(path, shown)
    elif suffix == ".csv":
        yield from _csv_rows(path, shown)
    else:
        try:
            for record in read_json_records(path, display=shown, max_record_chars=max_record_chars):
                yield record.line, record.key, record.data
        except UnreadableFileError as e:
            if e.reason != "empty_file":  # said once, by _rows
                raise


def _built_rows(path: str):
    """A built folder's `default` rows, once its layout is checked (`read_built_folder` refuses, in one line, a
    folder that is not exactly what the build wrote): the shard is read once, there."""
    from bioinstruct_tools.built_folder import read_built_folder  # pyarrow and the card reader, for folders only

    table = read_built_folder(path).tables[DEFAULT_CONFIG].select(list(FIELDS))
    for batch in table.to_batches(max_chunksize=_BATCH_ROWS):
        for row in batch.to_pylist():
            yield None, None, row


def _parquet_rows(path: str, shown: str):
    import pyarrow
    import pyarrow.parquet as pq

    try:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=_BATCH_ROWS):
            for row in batch.to_pylist():
                yield None, None, row
    except (pyarrow.ArrowException, OSError, UnicodeDecodeError) as e:
        raise UnreadableFileError(shown, f"cannot be read as PARQUET ({one_line(e)})", reason="unreadable") from None


def _csv_rows(path: str, shown: str):
    csv.field_size_limit(MAX_FIELD_CHARACTERS)
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f, strict=True)
            header = next(reader, None)
            if header is None:
                return
            check_csv_header(header, shown)
            start = reader.line_num + 1
            for row in reader:
                if len(row) != len(header):
                    if not row:
                        start = reader.line_num + 1
                        continue  # a blank line between rows holds no record
                    raise UnreadableFileError(shown, f"a row of {len(row)} cells under a header of {len(header)} "
                                              "columns (a cell holding a comma needs quotes)", line=start,
                                              reason="invalid_csv")
                yield start, None, dict(zip(header, row))
                start = reader.line_num + 1
    except (csv.Error, UnicodeDecodeError) as e:
        raise UnreadableFileError(shown, f"cannot be read as CSV ({one_line(e)})", reason="invalid_csv") from None


def check_csv_header(header: list[str], shown: str) -> None:
    """A CSV header names each column once, and names it: checked in one pass (a header of 100,000 columns
    takes a moment, not minutes)."""
    if not header:
        raise UnreadableFileError(shown, "the first line is empty; expected the header naming the columns", line=1,
                                  reason="invalid_csv")
    seen: set[str] = set()
    for name in header:
        if not name.strip():
            raise UnreadableFileError(shown, "the header has an empty column name (is the first line the header?)",
                                      line=1, reason="invalid_csv")
        if name in seen:
            raise UnreadableFileError(shown, f"the header names the column {name!r} twice", line=1,
                                      reason="invalid_csv")
        seen.add(name)


def _folder_rows(path: str, split: str, shown: str, max_record_chars: Optional[int]):
    """A save_to_disk folder's arrow shards, or a datasets folder's data files of `split`."""
    if _is_saved_to_disk(path):
        folder = os.path.join(path, split) if os.path.exists(os.path.join(path, "dataset_dict.json")) else path
        if not os.path.realpath(folder).startswith(os.path.realpath(path) + os.sep) and folder != path:
            raise UnreadableFileError(path, f"its split {split!r} lies outside the folder", reason="unreadable")
        for arrow_file in _arrow_files(folder):
            yield from _arrow_rows(arrow_file)
        return
    for data_file in _data_files_by_split(path)[split]:
        for _, line, key, row in _rows(data_file, None, split, data_file, max_record_chars):
            yield line, key, row


def _arrow_rows(path: str):
    """save_to_disk's shards are Arrow IPC streams: read a batch at a time, memory-mapped."""
    import pyarrow

    check_regular(path)  # a pipe named like a shard would block the memory map forever
    try:
        with pyarrow.memory_map(path) as source:
            for batch in pyarrow.ipc.open_stream(source):
                for row in batch.to_pylist():
                    yield None, None, row
    except (pyarrow.ArrowException, OSError) as e:
        raise UnreadableFileError(path, f"cannot be read as a save_to_disk shard ({one_line(e)})",
                                  reason="unreadable") from None


def split_names(path: str) -> list[str]:
    try:
        if os.path.exists(os.path.join(path, "dataset_dict.json")):
            check_regular(os.path.join(path, "dataset_dict.json"))
            with open(os.path.join(path, "dataset_dict.json"), encoding="utf-8") as f:
                names = json.load(f)["splits"]
            if not isinstance(names, list) or not all(isinstance(name, str) and _PLAIN_NAME.fullmatch(name)
                                                      for name in names):
                raise ValueError("'splits' is not a list of plain names (a split is a folder inside this one)")
            return names
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UnreadableFileError(path, f"cannot be read as a save_to_disk folder ({one_line(e)})",
                                  reason="unreadable") from None
    if os.path.exists(os.path.join(path, "state.json")):
        return ["train"]  # one saved Dataset: its split is whatever it was; there is only one
    names = sorted(_data_files_by_split(path))
    if not names:
        raise UnreadableFileError(path, "holds no JSON, JSON Lines, CSV or parquet file", reason="empty_file")
    return names


def refuse_code(path: str) -> None:
    """A folder with a loading script would run its code (or prompt for it, on datasets 3.6): never."""
    scripts = sorted(name for name in os.listdir(path) if name.endswith(".py"))
    if scripts:
        raise UnreadableFileError(path, f"holds the script {scripts[0]}; its code is never run (give its data "
                                  "files or a save_to_disk folder)", reason="loading_script")


def _is_saved_to_disk(path: str) -> bool:
    return any(os.path.exists(os.path.join(path, name)) for name in ("dataset_dict.json", "state.json"))


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
    try:
        files = sorted(name for name in os.listdir(folder) if name.endswith(".arrow"))
    except OSError as e:
        raise UnreadableFileError(folder, f"cannot be read ({e.strerror})", reason="unreadable") from None
    if not files:
        raise UnreadableFileError(folder, "no .arrow file; expected a folder written by save_to_disk",
                                  reason="empty_file")
    return [os.path.join(folder, name) for name in files]
