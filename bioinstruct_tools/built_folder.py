"""Reading a folder written by `bioinstruct build`, and checking that it is exactly the layout it claims.

`push`, `report` and `validate` read built folders through `read_built_folder`, which refuses, in one
line, anything that is not the layout of `published.py`: a loading script, a file that is not regular
(a pipe named `.parquet` would block forever), a link out of the folder, a config missing, a subset
that is not exactly the `default` rows of its category, a `categorized` config that is not `default`
plus a category, or a card whose row counts differ from the files. Files that are not of the layout
are listed, never read or uploaded.
"""

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml
from huggingface_hub import DatasetCard

from bioinstruct_tools import views
from bioinstruct_tools.categories import CATEGORIES
from bioinstruct_tools.published import (
    CARD_FILENAME,
    CATEGORIZED_CONFIG,
    CONFIG_NAMES,
    DEFAULT_CONFIG,
    VIEW_CONFIGS,
    LayoutError,
    is_layout_file,
    shard_path,
)
from bioinstruct_tools.records import FIELDS
from bioinstruct_tools.text import one_line


@dataclass
class BuiltFolder:
    folder: Path
    tables: dict[str, pyarrow.Table]  # config -> its rows
    layout_files: list[tuple[str, int]]  # (path relative to the folder, size): what a push uploads
    foreign_files: list[str] = field(default_factory=list)  # anything else: listed, never uploaded

    @property
    def rows(self) -> dict[str, int]:
        return {name: table.num_rows for name, table in self.tables.items()}

    @property
    def empty_categories(self) -> list[str]:
        """Categories with no record, which the card leaves out of its configs."""
        return [name for name in CATEGORIES if self.tables[name].num_rows == 0]

    def default_rows(self) -> list[dict]:
        """The full set's records, as dicts of the three fields."""
        return self.tables[DEFAULT_CONFIG].select(list(FIELDS)).to_pylist()


def read_built_folder(folder) -> BuiltFolder:
    folder = Path(folder)
    if not folder.is_dir():
        raise LayoutError(f"{folder}: no such folder")
    layout, foreign = _list_files(folder)
    scripts = sorted(path for path, _ in layout + [(f, 0) for f in foreign] if "/" not in path and path.endswith(".py"))
    if scripts:
        raise LayoutError(f"{folder}: holds {', '.join(scripts)}: datasets >= 4 refuses a repo with a loading script")
    present = {path for path, _ in layout}
    if CARD_FILENAME not in present:
        raise LayoutError(f"{folder}: no {CARD_FILENAME}: not a folder written by `bioinstruct build`")
    card_rows = _card_rows(folder)
    tables = {}
    for name in CONFIG_NAMES:
        if shard_path(name) not in present:
            if name in CATEGORIES and name not in card_rows:  # an empty category: no config, no file
                tables[name] = None
                continue
            raise LayoutError(f"{folder}: config '{name}' has no {shard_path(name)}")
        tables[name] = _read_shard(folder / shard_path(name))
        if card_rows.get(name, 0) != tables[name].num_rows:
            raise LayoutError(f"{folder / CARD_FILENAME}: says config '{name}' has {card_rows.get(name, 0)} rows, "
                              f"its parquet file {tables[name].num_rows}")
    try:
        _check_configs_agree(folder, tables)
    except KeyError as e:
        raise LayoutError(f"{folder}: a config's parquet file lacks the column {e}") from None
    return BuiltFolder(folder=folder, tables=tables, layout_files=layout, foreign_files=foreign)


def _list_files(folder: Path) -> tuple[list[tuple[str, int]], list[str]]:
    """The layout's files with their sizes, and every other file; refuses links out and non-regular layout files."""
    root = folder.resolve()
    layout, foreign = [], []
    for directory, subfolders, files in os.walk(folder):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in sorted(files):
            path = Path(directory) / name
            relative = path.relative_to(folder).as_posix()
            if name.startswith("."):
                continue  # the build's marker and editors' files: never part of the layout
            if not is_layout_file(relative):
                foreign.append(relative)
                continue
            try:
                resolved = path.resolve(strict=True)
                mode = os.stat(resolved).st_mode
            except (OSError, RuntimeError) as e:  # a dangling link, a link loop
                raise LayoutError(f"{path}: cannot be read ({getattr(e, 'strerror', None) or e})") from None
            if not resolved.is_relative_to(root):
                raise LayoutError(f"{path}: a link to {resolved}, outside the folder; refusing to read or upload it")
            if not stat.S_ISREG(mode):
                raise LayoutError(f"{path}: not a regular file (a device or pipe)")
            layout.append((relative, os.stat(resolved).st_size))
    return layout, foreign


def _card_rows(folder: Path) -> dict[str, int]:
    """Rows per config as the card's `dataset_info` states them."""
    path = folder / CARD_FILENAME
    try:
        infos = DatasetCard.load(path).data.get("dataset_info") or []
        if isinstance(infos, dict):
            infos = [infos]
        rows = {}
        for info in infos:
            splits = info.get("splits") or []
            if not isinstance(splits, list):
                raise ValueError(f"'splits' of config {info.get('config_name')!r} is not a list")
            total = 0
            for split in splits:
                count = split.get("num_examples", 0)
                if not isinstance(count, int) or isinstance(count, bool):
                    raise ValueError(f"num_examples {count!r} is not a whole number")
                total += count
            rows[info.get("config_name", DEFAULT_CONFIG)] = total
        return rows
    except (ValueError, TypeError, KeyError, AttributeError, yaml.YAMLError, UnicodeDecodeError) as e:
        raise LayoutError(f"{path}: not a card written by `bioinstruct build` ({one_line(e)})") from None


def _read_shard(path: Path) -> pyarrow.Table:
    try:
        table = pq.read_table(path)
        for column in table.column_names:  # pyarrow does not check UTF-8 on read; decoding does
            if pyarrow.types.is_string(table.schema.field(column).type):
                pc.utf8_length(table.column(column))
                table.column(column).validate(full=True)
        return table
    except (pyarrow.ArrowException, OSError, UnicodeDecodeError) as e:
        raise LayoutError(f"{path}: not a readable parquet file ({one_line(e)})") from None


def _check_configs_agree(folder: Path, tables: dict[str, pyarrow.Table]) -> None:
    """Every subset is exactly the `default` rows of its category; `categorized` is `default` plus a category."""
    default = tables[DEFAULT_CONFIG].select(list(FIELDS))
    categorized = tables[CATEGORIZED_CONFIG]
    if "category" not in categorized.column_names:
        raise LayoutError(f"{folder / shard_path(CATEGORIZED_CONFIG)}: has no 'category' column")
    if not categorized.select(list(FIELDS)).equals(default):
        raise LayoutError(f"{folder / shard_path(CATEGORIZED_CONFIG)}: its rows are not the '{DEFAULT_CONFIG}' rows")
    labels = categorized.column("category")
    for view in VIEW_CONFIGS:
        expected = views.turns_table(categorized, view)
        table = tables[view]
        for column in expected.column_names:
            if column not in table.column_names:
                raise LayoutError(f"{folder / shard_path(view)}: has no '{column}' column")
        turns = [name for name in expected.column_names if name != "category"]
        if not (all(views.same_turns(table.column(name), expected.column(name)) for name in turns)
                and table.column("category").equals(labels)):
            raise LayoutError(f"{folder / shard_path(view)}: its turns do not rebuild the '{DEFAULT_CONFIG}' rows "
                              f"(user: the instruction, a blank line and the input; assistant: the output)")
    for number, category in enumerate(CATEGORIES):
        expected = default.filter(pc.equal(labels, number))
        if tables[category] is None:
            if expected.num_rows:
                raise LayoutError(f"{folder}: config '{category}' is missing, yet {expected.num_rows} rows of "
                                  f"'{CATEGORIZED_CONFIG}' are of that category")
            tables[category] = expected  # the empty category, as a 0-row table
        elif not tables[category].select(list(FIELDS)).equals(expected):
            raise LayoutError(f"{folder / shard_path(category)}: its rows are not the '{DEFAULT_CONFIG}' rows of "
                              f"category '{category}'")
