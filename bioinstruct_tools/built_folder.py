"""A folder written by `bioinstruct build`: its manifest, and reading it back only when it is exactly what the
build wrote.

Every reader of a built folder goes through `read_built_folder` (`sources.read_source` does, so `validate`,
`clean`, `contamination`, `categorize`, `report` and `build --source` all do, and the push gate does),
which refuses, in one line naming the file:
- a loading script; a file of the layout that is not regular (a pipe named `.parquet` would block
  forever), a link out of the folder, or a hard link;
- in `data/` and `assets/`, any file the build does not write: a second shard, a config the card does not
  list, a 0-row shard, an asset that is not one of the report's PNG figures;
- a card whose YAML is not what the shards give: its `configs:`, its `dataset_info` rows, and, against the
  build's manifest, every other key (license, pretty_name, ...);
- a shard whose schema is not its config's features, a subset that is not exactly the `default` rows of
  its category, a view whose turns do not rebuild them;
- a `dataset_infos.json` that does not describe exactly the card's configs, rows and license;
- any file of the layout that differs from the manifest the build wrote into its marker. The card's prose
  may be edited by hand: the edit is allowed and reported (`card_prose_edited`), never hidden.
Files outside the layout's places (`NOTES.md`, `work/draft.txt`) are someone's: listed, never read or uploaded.
"""

import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pyarrow
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from bioinstruct_tools import views
from bioinstruct_tools.categories import CATEGORIES
from bioinstruct_tools.published import (
    ASSETS,
    BUILD_MARKER,
    CARD_FILENAME,
    CATEGORIZED_CONFIG,
    CONFIG_NAMES,
    DEFAULT_CONFIG,
    FIGURE_NAMES,
    INFOS_FILENAME,
    PNG_SIGNATURE,
    VIEW_CONFIGS,
    LayoutError,
    card_configs,
    expected_files,
    in_layout_zone,
    shard_path,
)
from bioinstruct_tools.records import FIELDS
from bioinstruct_tools.text import one_line, terminal_safe

MANIFEST_KEY = "files"  # in the build marker: {path: sha256} of every file the build wrote


@dataclass
class LayoutFile:
    path: str  # relative to the folder, POSIX
    size: int
    sha256: str


@dataclass
class BuiltFolder:
    folder: Path
    tables: dict[str, pyarrow.Table]  # config -> its rows (an empty category: a 0-row table, no file)
    layout_files: list[LayoutFile]  # what a push uploads, each with the hash it was checked with
    card: dict  # the card's YAML
    foreign_files: list[str] = field(default_factory=list)  # outside the layout's places: listed, never uploaded
    card_prose_edited: bool = False  # the card's prose differs from what the build wrote (its YAML never may)

    @property
    def rows(self) -> dict[str, int]:
        return {name: table.num_rows for name, table in self.tables.items()}

    @property
    def empty_categories(self) -> list[str]:
        """Categories with no record, which the card leaves out of its configs."""
        return [name for name in CATEGORIES if self.tables[name].num_rows == 0]

    @property
    def pretty_name(self) -> Optional[str]:
        name = self.card.get("pretty_name")
        return name if isinstance(name, str) else None

    def default_rows(self) -> list[dict]:
        """The full set's records, as dicts of the three fields."""
        return self.tables[DEFAULT_CONFIG].select(list(FIELDS)).to_pylist()


# ---------------------------------------------------------------------------------------------------
# The manifest: what the build wrote, hashed, in its marker
# ---------------------------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest(folder: Path) -> dict:
    """The marker's fields of a finished build in `folder`: every file of the layout with its hash, and the
    card's YAML and prose hashed apart (the prose may be edited; the YAML may not)."""
    files = {}
    for directory, subfolders, names in os.walk(folder):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in sorted(names):
            relative = (Path(directory) / name).relative_to(folder).as_posix()
            if not name.startswith(".") and in_layout_zone(relative):
                files[relative] = sha256_of(folder / relative)
    card_yaml, card_prose = _split_card((folder / CARD_FILENAME).read_text(encoding="utf-8"))
    return {MANIFEST_KEY: files, "card_yaml_sha256": _sha256_text(card_yaml),
            "card_prose_sha256": _sha256_text(card_prose)}


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _split_card(text: str) -> tuple[str, str]:
    """A card's YAML header and its prose."""
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end != -1:
            return text[4:end], text[end + 5:]
    return "", text


# ---------------------------------------------------------------------------------------------------
# Reading it back
# ---------------------------------------------------------------------------------------------------


def read_built_folder(folder) -> BuiltFolder:
    folder = Path(folder)
    if not folder.is_dir():
        raise LayoutError(f"{terminal_safe(str(folder))}: " + ("not a folder (a built folder is the DIR that "
                                                                "`bioinstruct build --out DIR` wrote)"
                                                                if folder.exists() else "no such folder"))
    files, foreign = _list_files(folder)
    present = {entry.path for entry in files}
    if CARD_FILENAME not in present:
        raise LayoutError(f"{_shown(folder)}: no {CARD_FILENAME}: not a folder written by `bioinstruct build`")
    card_text = _read_text(folder / CARD_FILENAME)
    card = _card_yaml(folder, card_text)
    card_rows = _card_rows(folder, card)
    listed = [name for name in CONFIG_NAMES if name in card_rows]
    _check_listed(folder, listed, card)
    expected = expected_files(listed, FIGURE_NAMES)
    unexpected = sorted(present - expected)
    if unexpected:
        raise LayoutError(f"{_shown(folder / unexpected[0])}: not a file `bioinstruct build` writes for the configs its "
                          "card lists; refusing to read or publish the folder (remove it, or build again)")
    missing = sorted(expected - present)
    if missing:
        raise LayoutError(f"{_shown(folder)}: no {missing[0]}: not the folder `bioinstruct build` wrote")
    tables = {}
    for name in listed:
        tables[name] = _read_shard(folder / shard_path(name), name)
        if tables[name].num_rows == 0:
            raise LayoutError(f"{_shown(folder / shard_path(name))}: holds 0 rows; a build gives an empty category no "
                              "config and no file")
        if card_rows[name] != tables[name].num_rows:
            raise LayoutError(f"{_shown(folder / CARD_FILENAME)}: says config '{name}' has {card_rows[name]} rows, "
                              f"its parquet file {tables[name].num_rows}")
    _check_configs_agree(folder, tables)
    _check_infos(folder, card, tables)
    for entry in files:
        if entry.path.startswith(f"{ASSETS}/"):
            _check_png(folder / entry.path)
    prose_edited = _check_manifest(folder, files, card_text)
    return BuiltFolder(folder=folder, tables=tables, layout_files=files, card=card, foreign_files=foreign,
                       card_prose_edited=prose_edited)


def _shown(path: Path) -> str:
    return terminal_safe(str(path))


def _list_files(folder: Path) -> tuple[list[LayoutFile], list[str]]:
    """The files in the layout's places, each checked and hashed, and every other file (names only)."""
    root = folder.resolve()
    layout, foreign = [], []
    for directory, subfolders, names in os.walk(folder):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in sorted(names):
            path = Path(directory) / name
            relative = path.relative_to(folder).as_posix()
            if "/" not in relative and name.endswith(".py"):
                raise LayoutError(f"{_shown(folder)}: holds {terminal_safe(relative)}: datasets >= 4 refuses a repo "
                                  "with a loading script")
            if name.startswith("."):
                continue  # the build's marker and editors' files: never part of the layout
            if not in_layout_zone(relative):
                foreign.append(relative)
                continue
            try:
                resolved = path.resolve(strict=True)
                info = os.stat(resolved)
            except (OSError, RuntimeError) as e:  # a dangling link, a link loop
                raise LayoutError(f"{_shown(path)}: cannot be read ({getattr(e, 'strerror', None) or e})") from None
            if not resolved.is_relative_to(root):
                raise LayoutError(f"{_shown(path)}: a link to {_shown(resolved)}, outside the folder; refusing to read "
                                  "or upload it")
            if not stat.S_ISREG(info.st_mode):
                raise LayoutError(f"{_shown(path)}: not a regular file (a device or pipe)")
            if info.st_nlink > 1:
                raise LayoutError(f"{_shown(path)}: a hard link ({info.st_nlink} names for one file): its bytes can "
                                  "change through a name outside this folder; refusing to read or upload it")
            layout.append(LayoutFile(relative, info.st_size, sha256_of(resolved)))
    return layout, foreign


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise LayoutError(f"{_shown(path)}: cannot be read ({one_line(e)})") from None


def _card_yaml(folder: Path, text: str) -> dict:
    yaml_text, _ = _split_card(text)
    try:
        data = yaml.safe_load(yaml_text) if yaml_text else None
    except yaml.YAMLError as e:
        raise LayoutError(f"{_shown(folder / CARD_FILENAME)}: not a card written by `bioinstruct build` "
                          f"({one_line(e)})") from None
    if not isinstance(data, dict):
        raise LayoutError(f"{_shown(folder / CARD_FILENAME)}: not a card written by `bioinstruct build` (no YAML header)")
    return data


def _card_rows(folder: Path, card: dict) -> dict[str, int]:
    """Rows per config as the card's `dataset_info` states them."""
    path = folder / CARD_FILENAME
    try:
        infos = card.get("dataset_info") or []
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
            name = info.get("config_name", DEFAULT_CONFIG)
            if name not in CONFIG_NAMES:
                raise ValueError(f"config {name!r} is not one a build writes ({', '.join(CONFIG_NAMES)})")
            rows[name] = total
        return rows
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise LayoutError(f"{_shown(path)}: not a card written by `bioinstruct build` ({one_line(e)})") from None


def _check_listed(folder: Path, listed: list[str], card: dict) -> None:
    """Every config but an empty category's is listed, and `configs:` points each at its own parquet folder."""
    needed = [name for name in CONFIG_NAMES if name not in CATEGORIES]
    absent = [name for name in needed if name not in listed]
    if absent:
        raise LayoutError(f"{_shown(folder)}: config '{absent[0]}' has no {shard_path(absent[0])}")
    if card.get("configs") != card_configs(listed):
        raise LayoutError(f"{_shown(folder / CARD_FILENAME)}: its YAML `configs:` are not the ones the build writes for "
                          f"{', '.join(listed)} (each config's data_files is its own data/<config>/ folder)")


def _read_shard(path: Path, config_name: str) -> pyarrow.Table:
    from bioinstruct_tools.configs import shard_schema_matches  # datasets, only when a built folder is read

    try:
        table = pq.read_table(path)
        for column in table.column_names:  # pyarrow does not check UTF-8 on read; decoding does
            if pyarrow.types.is_string(table.schema.field(column).type):
                pc.utf8_length(table.column(column))
                table.column(column).validate(full=True)
    except (pyarrow.ArrowException, OSError, UnicodeDecodeError) as e:
        raise LayoutError(f"{_shown(path)}: not a readable parquet file ({one_line(e)})") from None
    if not shard_schema_matches(table.schema, config_name):
        raise LayoutError(f"{_shown(path)}: its columns ({', '.join(table.column_names)}) are not config "
                          f"'{config_name}''s features; `load_dataset` would fail on it")
    return table


def _check_configs_agree(folder: Path, tables: dict[str, pyarrow.Table]) -> None:
    """Every subset is exactly the `default` rows of its category; `categorized` is `default` plus a category;
    the views rebuild it. An empty category gets its 0-row table here."""
    default = tables[DEFAULT_CONFIG].select(list(FIELDS))
    categorized = tables[CATEGORIZED_CONFIG]
    if not categorized.select(list(FIELDS)).equals(default):
        raise LayoutError(f"{_shown(folder / shard_path(CATEGORIZED_CONFIG))}: its rows are not the '{DEFAULT_CONFIG}' rows")
    labels = categorized.column("category")
    for view in VIEW_CONFIGS:
        expected = views.turns_table(categorized, view)
        table = tables[view]
        turns = [name for name in expected.column_names if name != "category"]
        if not (all(views.same_turns(table.column(name), expected.column(name)) for name in turns)
                and table.column("category").equals(labels)):
            raise LayoutError(f"{_shown(folder / shard_path(view))}: its turns do not rebuild the '{DEFAULT_CONFIG}' rows "
                              f"(user: the instruction, a blank line and the input; assistant: the output)")
    for number, category in enumerate(CATEGORIES):
        expected = default.filter(pc.equal(labels, number))
        if category not in tables:
            if expected.num_rows:
                raise LayoutError(f"{_shown(folder)}: config '{category}' is missing, yet {expected.num_rows} rows of "
                                  f"'{CATEGORIZED_CONFIG}' are of that category")
            tables[category] = expected  # the empty category, as a 0-row table
        elif not tables[category].select(list(FIELDS)).equals(expected):
            raise LayoutError(f"{_shown(folder / shard_path(category))}: its rows are not the '{DEFAULT_CONFIG}' rows of "
                              f"category '{category}'")


def _check_infos(folder: Path, card: dict, tables: dict[str, pyarrow.Table]) -> None:
    """`dataset_infos.json` describes exactly the card's configs, with their rows and the card's license."""
    path = folder / INFOS_FILENAME
    try:
        infos = json.loads(_read_text(path))
    except ValueError as e:
        raise LayoutError(f"{_shown(path)}: not JSON ({one_line(e)})") from None
    listed = [name for name in CONFIG_NAMES if name in tables and tables[name].num_rows]
    if not isinstance(infos, dict) or list(infos) != listed:
        raise LayoutError(f"{_shown(path)}: does not list exactly the card's configs ({', '.join(listed)})")
    for name, info in infos.items():
        try:
            rows = info["splits"]["train"]["num_examples"]
            license = info["license"]
        except (KeyError, TypeError):
            raise LayoutError(f"{_shown(path)}: config '{name}' has no train split size or license") from None
        if rows != tables[name].num_rows:
            raise LayoutError(f"{_shown(path)}: says config '{name}' has {rows} rows, its parquet file "
                              f"{tables[name].num_rows}")
        if license != card.get("license"):
            raise LayoutError(f"{_shown(path)}: config '{name}' states the license {license!r}, the card "
                              f"{card.get('license')!r}")


def _check_png(path: Path) -> None:
    with open(path, "rb") as f:
        if f.read(len(PNG_SIGNATURE)) != PNG_SIGNATURE:
            raise LayoutError(f"{_shown(path)}: not a PNG file; the card's assets are the report's PNG figures")


def _check_manifest(folder: Path, files: list[LayoutFile], card_text: str) -> bool:
    """Every file is the one the build wrote (the marker's manifest), but for edits to the card's prose,
    which are allowed and reported: returns whether there are any."""
    marker = folder / BUILD_MARKER
    try:
        if not marker.is_file() or marker.is_symlink():
            raise ValueError("missing")
        recorded = json.loads(marker.read_text(encoding="utf-8"))
        hashes = recorded[MANIFEST_KEY]
        if not isinstance(hashes, dict):
            raise ValueError("not a mapping")
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise LayoutError(f"{_shown(folder)}: no build manifest in {BUILD_MARKER}: not written by this version of "
                          "`bioinstruct build`; build it again") from None
    present = {entry.path: entry.sha256 for entry in files}
    for path in sorted(set(hashes) | set(present)):
        if path not in present:
            raise LayoutError(f"{_shown(folder / path)}: written by the build, now missing")
        if path not in hashes:
            raise LayoutError(f"{_shown(folder / path)}: not written by the build")
        if path != CARD_FILENAME and hashes[path] != present[path]:
            raise LayoutError(f"{_shown(folder / path)}: changed since the build wrote it; build again")
    card_yaml, card_prose = _split_card(card_text)
    if _sha256_text(card_yaml) != recorded.get("card_yaml_sha256"):
        raise LayoutError(f"{_shown(folder / CARD_FILENAME)}: its YAML header changed since the build wrote it (license, "
                          "pretty_name and the other metadata are the build's, from --card-meta); build again")
    return _sha256_text(card_prose) != recorded.get("card_prose_sha256")
