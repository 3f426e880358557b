"""`bioinstruct build`: validate a source, run the loading script, and write the data-only Hub layout.

The layout (`published.py` names every path) is what `datasets` 2.14 through 5.x load without remote code:

    README.md                          the card; YAML `configs:` points at the parquet folders
    dataset_infos.json                 features, rows and bytes per config, the source checksum
    data/<config>/train-00000-of-00001.parquet
    assets/*.png                       the figures the card shows

Never a `<name>.py`: `datasets` >= 4 refuses a repo that holds a loading script. A source file is
copied into a staging folder beside DIR first and read from there through `sources.read_source` (any
shape, renamed by `--field-map`); the records validated are written as JSON Lines that the loading
script reads, so the rows built are exactly the records checked (a path is never globbed or parsed as a
URL). A category with no record has no config: `datasets` cannot load a split of 0 rows. Everything,
the `datasets` cache included, is written in staging and moved into place only when complete, after
the validation gates passed (`paths.staged_folder`).

`datasets` takes about a second to import, and drawing the figures about as long: the figures are drawn by a
forked worker as soon as the validation is known, and this module imports `datasets` (and what imports it: the
loading script, `card`, `infos`, `configs`) only after that fork, in the functions that use it; `checkout` only
for `--record`.
"""

import contextlib
import functools
import shutil
import unittest.mock
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

import pyarrow as pa
import pyarrow.compute as pc

from bioinstruct_tools import __version__, checks, paths, views, workers
from bioinstruct_tools.built_folder import manifest, sha256_of
from bioinstruct_tools.card_meta import CardMeta
from bioinstruct_tools.categories import CATEGORIES, PAPER_SHARES
from bioinstruct_tools.errors import Failed, Refused, Unavailable
from bioinstruct_tools.json_writer import write_json_lines
from bioinstruct_tools.records import FIELDS, BioInstructInputError
from bioinstruct_tools.text import one_line
from bioinstruct_tools.sources import NO_FIELD_MAP, FieldMap, check_source_path
from bioinstruct_tools.published import (
    ASSETS,
    BUILD_MARKER,
    CARD_FILENAME,
    CATEGORIZED_CONFIG,
    CONFIG_NAMES,
    DATASET_NAME,
    DEFAULT_CONFIG,
    FIGURE_HALVES,
    FIGURE_NAMES,
    FIGURE_TITLES,
    HISTOGRAM_FROM,
    INFOS_FILENAME,
    UPSTREAM_FILENAME,
    UPSTREAM_URL,
    shard_path,
)

if TYPE_CHECKING:
    from datasets.info import DatasetInfosDict

    from bioinstruct_tools import card

# The copy of the source in staging, read through the builder's `data_dir`, which joins a path: `data_files`
# would be resolved as a glob pattern, and a folder such as "w [x]?" would match nothing (0 rows).
_STAGED_SOURCE = f"source/{UPSTREAM_FILENAME}"


class BuildError(Unavailable):
    """A build stopped before writing anything; the message says why and what to do."""


class OptionsRefused(ValueError, Refused):
    """Build options that do not go together (`--record` with `--source`); nothing was done."""


class GateFailed(Failed):
    """The source failed a validation gate; `validation` holds the offending records."""

    def __init__(self, validation: checks.Validation):
        self.validation = validation
        failed = [check.name for check in validation.checks if check.status == "fail"]
        super().__init__(f"{validation.path}: validation failed ({', '.join(failed)}); nothing was written "
                         f"(run `bioinstruct validate {validation.path}` for the offending records)")


@dataclass(frozen=True)
class BuildOptions:
    """What `bioinstruct build` is told; validation options travel inside, unchanged."""

    out_dir: str
    source: Optional[str] = None  # a local file (a path, never a pattern or URL); None: the upstream file, downloaded
    overwrite: bool = False
    record: bool = False  # store the upstream file's measurements in the checkout
    validation: checks.ValidationOptions = field(default_factory=checks.ValidationOptions)
    field_map: FieldMap = NO_FIELD_MAP  # the source's keys, renamed to the record's fields
    card_meta: Optional[CardMeta] = None  # what the maintainer states about a copy (--card-meta)


@dataclass
class BuildResult:
    out_dir: Path
    source: str
    rows: dict[str, int]
    infos: "DatasetInfosDict"
    validation: checks.Validation

    def table(self) -> list[dict]:
        full = self.rows[DEFAULT_CONFIG]
        return [
            {"config": name, "rows": rows, "share": rows / full if full else 0.0,
             "paper_share": PAPER_SHARES.get(name, 1.0), "empty": rows == 0}
            for name, rows in self.rows.items()
        ]

    @property
    def empty_categories(self) -> list[str]:
        """Categories with no record: no config, no parquet, named in the card."""
        return [name for name in CATEGORIES if self.rows[name] == 0]


def download_upstream() -> str:
    """A local path to the pinned upstream file, downloaded once into the datasets cache."""
    from datasets.utils.file_utils import cached_path

    try:
        return cached_path(UPSTREAM_URL)
    except Exception as e:  # offline, DNS, HTTP errors: all mean "no copy here"
        raise BuildError(f"cannot download {UPSTREAM_URL} ({type(e).__name__}); pass a local copy with "
                         "--source FILE") from None


def build(options: BuildOptions, hooks: Optional[checks.Hooks] = None) -> BuildResult:
    """Validate the source, then build every config into `options.out_dir`.

    `hooks.steps` is entered around reading, each check, the configs and the figures.
    """
    hooks = hooks or checks.Hooks()
    upstream = options.source is None
    if options.record:
        if not upstream:
            raise OptionsRefused("--record stores the upstream file's checksum and sizes: build without --source")
        from bioinstruct_tools import checkout

        checkout.require_checkout("--record")
    inputs = options.validation.benchmark_paths + ([] if upstream else [options.source])
    out = paths.check_output_dir(options.out_dir, inputs=inputs)  # before any download or validation
    source_path = download_upstream() if upstream else options.source
    shown_source = UPSTREAM_URL if upstream else options.source
    validation_options = replace(options.validation, histogram_from=HISTOGRAM_FROM)  # the card's figure needs them
    build_manifest: dict = {}  # filled once the layout is complete; the marker carries it
    with paths.staged_folder(out, options.overwrite, BUILD_MARKER, "bioinstruct build", __version__,
                             marker_fields=build_manifest) as staging:
        read_from, checksum = _stage_source(source_path, staging)
        validation = checks.validate_file(str(read_from), validation_options, hooks,
                                          display=shown_source, field_map=options.field_map)
        if not validation.passed:
            raise GateFailed(validation)
        with _drawing_figures(validation, staging / ASSETS) as drawing:  # forked before datasets is imported
            from datasets.exceptions import DatasetGenerationError  # datasets: while the figures are drawn

            from bioinstruct_tools import card

            builder_input = _write_builder_input(validation, staging)
            checksum = checksum or _checksum(builder_input)
            if upstream:
                _check_recorded_checksum(checksum)
            source_name = UPSTREAM_URL if upstream else Path(options.source).name
            description = card.SourceDescription(published=upstream or _is_recorded_upstream(checksum),
                                                 meta=options.card_meta, instances=_instances(validation))
            try:
                measured = _write_layout(builder_input, staging, {source_name: checksum}, validation, description,
                                         drawing, hooks)
            except DatasetGenerationError as e:  # the loading script refused a record: say which, as the reader does
                cause = e.__cause__ or e
                if isinstance(cause, BioInstructInputError):
                    raise cause from None
                raise BuildError(f"the loading script failed ({one_line(cause)})") from None
        shutil.rmtree(builder_input.parent)
        shutil.rmtree(staging / _RAW_COPY, ignore_errors=True)
        build_manifest.update(manifest(staging))
    from bioinstruct_tools import infos

    if options.record:
        checkout.write_repo_files(recorded=measured)
    rows = {name: infos.measured_rows(measured, name) or 0 for name in CONFIG_NAMES}
    return BuildResult(out_dir=out, source=shown_source, rows=rows, infos=measured, validation=validation)


_RAW_COPY = "raw"


def _stage_source(source_path: str, staging: Path) -> tuple[Path, Optional[dict]]:
    """A source file is copied into staging and read from there, so what is read is what was hashed; a
    source folder (a build, save_to_disk, a datasets folder) is read where it is. Returns the path to read
    and, for a file, its size and checksum."""
    if check_source_path(source_path):  # before opening: a pipe would block forever
        return Path(source_path), None
    copy = staging / _RAW_COPY / Path(source_path).name
    copy.parent.mkdir()
    shutil.copyfile(source_path, copy)
    return copy, _checksum(copy)


def _checksum(path: Path) -> dict:
    return {"num_bytes": path.stat().st_size, "checksum": sha256_of(path)}


def _write_builder_input(validation: checks.Validation, staging: Path) -> Path:
    """The records validated, as the JSON Lines file the loading script reads through its `data_dir`."""
    path = staging / _STAGED_SOURCE
    path.parent.mkdir()
    with open(path, "w", encoding="utf-8", errors="backslashreplace") as f:
        write_json_lines(f, ({name: record.data[name] for name in FIELDS} for record in validation.records))
    return path


def _instances(validation: checks.Validation) -> dict[str, dict]:
    """The first record of each category with one, for the card's Data Instances."""
    first: dict[str, dict] = {}
    for record, label in zip(validation.valid, validation.category_labels()):
        first.setdefault(label, {name: record.data[name] for name in FIELDS})
    return {category: first[category] for category in CATEGORIES if category in first}


def _is_recorded_upstream(checksum: dict) -> bool:
    """A local file is the published one when its checksum is the one a build of the upstream recorded."""
    from bioinstruct_tools import infos

    recorded = infos.read_infos(infos.RECORDED_INFOS_PATH).get(DEFAULT_CONFIG)
    return bool(recorded and (recorded.download_checksums or {}).get(UPSTREAM_URL) == checksum)


def _check_recorded_checksum(checksum: dict) -> None:
    from bioinstruct_tools import infos

    recorded = infos.read_infos(infos.RECORDED_INFOS_PATH).get(DEFAULT_CONFIG)
    expected = (recorded.download_checksums or {}).get(UPSTREAM_URL) if recorded else None
    if expected and expected != checksum:
        raise BuildError(f"{UPSTREAM_URL}: checksum {checksum} differs from the recorded {expected}")


@contextlib.contextmanager
def no_lock_beside_the_script():
    """datasets 3.x, making a builder, locks `<the folder two above the script>.lock` while it reads the script's
    imports: it takes the script for one in its own modules cache. Beside an installed package that leaves a stray
    file in the install (`lib/python3.11.lock`), and where that folder is read-only (a system-wide install, a
    read-only image) the build fails. The script imports nothing of its own folder, so there is nothing to guard:
    on 3.x the lock is skipped. datasets 4 and later take no such lock."""
    import datasets.streaming

    if not hasattr(datasets.streaming, "lock_importable_file"):
        yield
        return
    with unittest.mock.patch.object(datasets.streaming, "lock_importable_file",
                                    lambda path: contextlib.nullcontext()):
        yield


def _build_configs(source_path: Path, cache_dir: Path, folder: Path,
                   config_progress: Optional[Callable[[str], None]]) -> "DatasetInfosDict":
    """Every config's parquet and measured info, from one run of the loading script.

    The script runs once, for the `categorized` config; the others are cut from its table as the script
    defines them (the full set: every row without `category`; a category's subset: its rows without
    `category`), so the source is read once. The tests compare every config in the folder with what
    the script yields for it.
    """
    import datasets
    from datasets.info import DatasetInfosDict
    from datasets.splits import SplitDict, SplitInfo
    from datasets.table import InMemoryTable

    import bioinstruct
    from bioinstruct_tools.configs import features_of

    with no_lock_beside_the_script():
        builder = bioinstruct.BioInstruct(config_name=CATEGORIZED_CONFIG, data_dir=str(source_path.parent.resolve()),
                                          cache_dir=str(cache_dir))
    builder.download_and_prepare()
    categorized = builder.as_dataset(split="train")  # an empty split gives an empty Dataset
    table = categorized.data.table
    measured = DatasetInfosDict()
    for config in bioinstruct.BioInstruct.BUILDER_CONFIGS:
        if config.view:
            dataset = datasets.Dataset(InMemoryTable(views.turns_table(table, config.view)),
                                       info=datasets.DatasetInfo(features=features_of(config.name)),
                                       fingerprint=_never_cached(config.name))
        elif config.with_category:
            dataset = categorized
        else:
            rows = table if config.category is None else table.filter(
                pc.equal(table.column("category"), CATEGORIES.index(config.category)))
            dataset = datasets.Dataset(InMemoryTable(rows.drop_columns(["category"])),
                                       info=datasets.DatasetInfo(features=features_of(config.name)),
                                       fingerprint=_never_cached(config.name))
        size, rows, downloaded = dataset.data.nbytes, dataset.num_rows, 0
        if rows or config.category is None:  # an empty category gets no file: it could not load
            parquet_path = folder / shard_path(config.name)
            parquet_path.parent.mkdir(parents=True, exist_ok=True)
            # Min/max statistics only for the category: a text column's would copy its longest and shortest
            # values (a 100 MB field twice over) to say nothing a reader filters on.
            # A native file, not the Python one `datasets` opens for a path: pyarrow copies every page it writes
            # to a Python file into a bytes object (200 MB more for a 100 MB field).
            with pa.OSFile(str(parquet_path), "wb") as sink:
                dataset.to_parquet(sink, write_statistics=[name for name in ("category",)
                                                           if name in dataset.column_names])
            downloaded = parquet_path.stat().st_size  # what a user of this config downloads
        del dataset  # each config's table and parquet buffers go back to the system before the next is made
        pa.default_memory_pool().release_unused()
        measured[config.name] = datasets.DatasetInfo(
            splits=SplitDict({"train": SplitInfo(name="train", num_bytes=size, num_examples=rows,
                                                 dataset_name=DATASET_NAME)}),
            dataset_size=size, download_size=downloaded)
        if config_progress:
            config_progress(config.name)
    return measured


def _never_cached(config_name: str) -> str:
    """A fingerprint for a table that is written once and never cached: without one, `datasets` pickles and hashes
    the whole in-memory table to make one (a copy of the data; a 200 MB record cost 1 GB more)."""
    return f"bioinstruct-build-{config_name}-{uuid.uuid4().hex}"


def _drawing_figures(validation: checks.Validation, folder: Path) -> workers.ForkedMap:
    """Start drawing the report's figures as PNG in the layout's assets folder: two forked workers, a half each, each
    importing matplotlib itself (this process never does), while this one builds the configs."""
    folder.mkdir(parents=True, exist_ok=True)
    return workers.ForkedMap(functools.partial(_draw_half, validation, folder), FIGURE_HALVES, parallel_from=2,
                             chunk=1)


def _draw_half(validation: checks.Validation, folder: Path, names: tuple) -> tuple[list[Path], dict[str, str]]:
    from bioinstruct_tools import report  # matplotlib: in the worker

    numbers = report.collect(validation)
    return report.draw(numbers, folder, names, formats=("png",)), report.empty_figures(numbers)


def _figures_drawn(drawing: workers.ForkedMap) -> tuple[dict[str, str], list[str]]:
    """({path in the repo: title} of the figures the card shows, the lines it says instead of the figures that have
    nothing to show)."""
    halves = drawing.results()
    empty = halves[0][1]
    drawn = sorted((path for paths, _ in halves for path in paths), key=lambda path: FIGURE_NAMES.index(path.stem))
    shown = {f"{ASSETS}/{path.name}": FIGURE_TITLES[path.stem] for path in drawn if path.stem not in empty}
    return shown, list(empty.values())


def _write_layout(source_path: Path, staging: Path, checksums: dict, validation: checks.Validation,
                  description: "card.SourceDescription", drawing: workers.ForkedMap,
                  hooks: checks.Hooks) -> "DatasetInfosDict":
    """Every file of the layout, in staging, the figures from `drawing`; returns the infos."""
    import datasets

    import bioinstruct
    from bioinstruct_tools import card, infos

    bars_were_disabled = datasets.utils.are_progress_bars_disabled()
    datasets.utils.disable_progress_bars()  # one bar of our own instead of two per config
    try:
        with hooks.steps("building configs", len(bioinstruct.BioInstruct.BUILDER_CONFIGS), "config") as update:
            measured = _build_configs(source_path, staging / ".cache", staging, lambda name: update(1))
    finally:
        if not bars_were_disabled:
            datasets.utils.enable_progress_bars()
    shutil.rmtree(staging / ".cache")
    for info in measured.values():
        info.download_checksums = checksums
    copy = None if description.published and description.meta is None else description.meta or CardMeta()
    config_infos = infos.config_infos(measured, copy=copy)
    (staging / INFOS_FILENAME).write_text(infos.infos_json(config_infos), encoding="utf-8")
    with hooks.steps("drawing figures"):
        figures, figure_notes = _figures_drawn(drawing)
    (staging / CARD_FILENAME).write_text(
        card.render_card(config_infos, contamination=validation.get(checks.CONTAMINATION), figures=figures,
                         figure_notes=figure_notes,
                         personal_information_check=validation.get(checks.PERSONAL_INFORMATION),
                         description=description),
        encoding="utf-8")
    return config_infos
