"""`bioinstruct build`: validate a source, run the loading script, and write the data-only Hub layout.

The layout (`published.py` names every path) is what `datasets` 2.14 through 5.x load without remote code:

    README.md                          the card; YAML `configs:` points at the parquet folders
    dataset_infos.json                 features, rows and bytes per config, the source checksum
    data/<config>/train-00000-of-00001.parquet
    assets/*.png                       the figures the card shows

Never a `<name>.py`: `datasets` >= 4 refuses a repo that holds a loading script. The source is copied
into a staging folder beside DIR first; that copy is what is validated and what the loading script
reads, so the rows built are exactly the bytes checked (a path is never globbed or parsed as a URL).
Everything, the `datasets` cache included, is written in staging and moved into place only when
complete, after the validation gates passed (`paths.staged_folder`).
"""

import hashlib
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Optional

import datasets
import pyarrow.compute as pc
from datasets.info import DatasetInfosDict
from datasets.splits import SplitDict, SplitInfo
from datasets.table import InMemoryTable
from datasets.utils.file_utils import cached_path

import bioinstruct
from bioinstruct_tools import __version__, card, checks, paths
from bioinstruct_tools.categories import CATEGORIES, PAPER_SHARES
from bioinstruct_tools.records import check_regular_file
from bioinstruct_tools.published import (
    ASSETS,
    BUILD_MARKER,
    CARD_FILENAME,
    CATEGORIZED_CONFIG,
    CONFIG_NAMES,
    DATASET_NAME,
    DEFAULT_CONFIG,
    INFOS_FILENAME,
    UPSTREAM_FILENAME,
    UPSTREAM_URL,
    expected_rows,
    shard_path,
)

# The copy of the source in staging, read through the builder's `data_dir`, which joins a path: `data_files`
# would be resolved as a glob pattern, and a folder such as "w [x]?" would match nothing (0 rows).
_STAGED_SOURCE = f"source/{UPSTREAM_FILENAME}"


class BuildError(Exception):
    """A build stopped before writing anything; the message says why and what to do."""


class GateFailed(BuildError):
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


@dataclass
class BuildResult:
    out_dir: Path
    source: str
    rows: dict[str, int]
    infos: DatasetInfosDict
    validation: checks.Validation

    def table(self) -> list[dict]:
        full = self.rows[DEFAULT_CONFIG]
        return [
            {"config": name, "rows": rows, "share": rows / full if full else 0.0,
             "paper_share": PAPER_SHARES.get(name, 1.0), "empty": rows == 0}
            for name, rows in self.rows.items()
        ]


def download_upstream() -> str:
    """A local path to the pinned upstream file, downloaded once into the datasets cache."""
    try:
        return cached_path(UPSTREAM_URL)
    except Exception as e:  # offline, DNS, HTTP errors: all mean "no copy here"
        raise BuildError(f"cannot download {UPSTREAM_URL} ({type(e).__name__}); pass a local copy with "
                         "--source FILE") from None


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build(options: BuildOptions, progress: Optional[Callable[[int], None]] = None,
          config_progress: Optional[Callable[[str], None]] = None) -> BuildResult:
    """Validate the source, then build every config into `options.out_dir`.

    `progress` is called as validation advances; `config_progress` with each config's name once it is built.
    """
    upstream = options.source is None
    if options.record and not upstream:
        raise BuildError("--record stores the upstream file's checksum and sizes: build without --source")
    benchmarks = options.validation.contamination.benchmarks if options.validation.contamination else ()
    inputs = [benchmark.path for benchmark in benchmarks] + ([] if upstream else [options.source])
    out = paths.check_output_dir(options.out_dir, inputs=inputs)  # before any download or validation
    source_path = download_upstream() if upstream else options.source
    shown_source = UPSTREAM_URL if upstream else options.source
    validation_options = replace(options.validation, histogram_from=_histogram_from(),
                                 expected_rows=expected_rows(options.validation.expected_rows, source=shown_source))
    with paths.staged_folder(out, options.overwrite, BUILD_MARKER, "bioinstruct build", __version__) as staging:
        staged = _stage_source(source_path, staging)
        validation = checks.validate_file(str(staged), validation_options, checks.Hooks(progress=progress),
                                          display=shown_source)
        if not validation.passed:
            raise GateFailed(validation)
        checksum = {"num_bytes": staged.stat().st_size, "checksum": sha256_of(str(staged))}
        if upstream:
            _check_recorded_checksum(checksum)
        source_name = UPSTREAM_URL if upstream else Path(options.source).name
        infos = _write_layout(staged, staging, {source_name: checksum}, validation, config_progress)
        shutil.rmtree(staged.parent)
    if options.record:
        card.write_repo_files(recorded=infos)
    rows = {name: card.measured_rows(infos, name) for name in CONFIG_NAMES}
    return BuildResult(out_dir=out, source=shown_source, rows=rows, infos=infos, validation=validation)


def _histogram_from() -> float:
    from bioinstruct_tools.report import HISTOGRAM_FROM  # the card's figures need pairs from there

    return HISTOGRAM_FROM


def _stage_source(source_path: str, staging: Path) -> Path:
    """Copy the source into staging: what is validated and what is built are then the same bytes."""
    check_regular_file(source_path)  # before opening: a pipe would block forever
    staged = staging / _STAGED_SOURCE
    staged.parent.mkdir()
    shutil.copyfile(source_path, staged)
    return staged


def _check_recorded_checksum(checksum: dict) -> None:
    recorded = card.read_infos(card.RECORDED_INFOS_PATH).get(DEFAULT_CONFIG)
    expected = (recorded.download_checksums or {}).get(UPSTREAM_URL) if recorded else None
    if expected and expected != checksum:
        raise BuildError(f"{UPSTREAM_URL}: checksum {checksum} differs from the recorded {expected}")


def _build_configs(source_path: Path, cache_dir: Path, folder: Path,
                   config_progress: Optional[Callable[[str], None]]) -> DatasetInfosDict:
    """Every config's parquet and measured info, from one run of the loading script.

    The script runs once, for the `categorized` config; the others are cut from its table as the script
    defines them (the full set: every row without `category`; a category's subset: its rows without
    `category`), so the source is read once. The tests compare every config in the folder with what
    the script yields for it.
    """
    builder = bioinstruct.BioInstruct(config_name=CATEGORIZED_CONFIG, data_dir=str(source_path.parent.resolve()),
                                      cache_dir=str(cache_dir))
    builder.download_and_prepare()
    categorized = builder.as_dataset(split="train")  # an empty split gives an empty Dataset
    table = categorized.data.table
    plain_features = datasets.Features({name: feature for name, feature in categorized.features.items()
                                        if name != "category"})
    measured = DatasetInfosDict()
    for config in bioinstruct.BioInstruct.BUILDER_CONFIGS:
        if config.with_category:
            dataset = categorized
        else:
            rows = table if config.category is None else table.filter(
                pc.equal(table.column("category"), CATEGORIES.index(config.category)))
            dataset = datasets.Dataset(InMemoryTable(rows.drop_columns(["category"])),
                                       info=datasets.DatasetInfo(features=plain_features))
        parquet_path = folder / shard_path(config.name)
        parquet_path.parent.mkdir(parents=True, exist_ok=True)
        dataset.to_parquet(str(parquet_path))
        size = dataset.data.nbytes
        measured[config.name] = datasets.DatasetInfo(
            splits=SplitDict({"train": SplitInfo(name="train", num_bytes=size, num_examples=dataset.num_rows,
                                                 dataset_name=DATASET_NAME)}),
            dataset_size=size, download_size=parquet_path.stat().st_size)  # what a user of this config downloads
        if config_progress:
            config_progress(config.name)
    return measured


def _write_figures(validation: checks.Validation, folder: Path) -> dict[str, str]:
    """The report's figures as PNG in the layout's assets folder: {path in the repo: title}."""
    from bioinstruct_tools import report  # matplotlib only when figures are drawn

    drawn = report.write_figures(report.collect(validation), folder, formats=("png",))
    return {f"{ASSETS}/{path.name}": report.TITLES[path.stem] for path in drawn}


def _write_layout(source_path: Path, staging: Path, checksums: dict, validation: checks.Validation,
                  config_progress: Optional[Callable[[str], None]]) -> DatasetInfosDict:
    """Every file of the layout, in staging; returns the infos."""
    bars_were_disabled = datasets.utils.are_progress_bars_disabled()
    datasets.utils.disable_progress_bars()  # one bar of our own instead of two per config
    try:
        measured = _build_configs(source_path, staging / ".cache", staging, config_progress)
    finally:
        if not bars_were_disabled:
            datasets.utils.enable_progress_bars()
    shutil.rmtree(staging / ".cache")
    for info in measured.values():
        info.download_checksums = checksums
    infos = card.config_infos(measured)
    (staging / INFOS_FILENAME).write_text(card.infos_json(infos), encoding="utf-8")
    figures = _write_figures(validation, staging / ASSETS)
    (staging / CARD_FILENAME).write_text(
        card.render_card(infos, contamination=validation.get(checks.CONTAMINATION), figures=figures),
        encoding="utf-8")
    return infos

