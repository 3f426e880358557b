"""`bioinstruct build`: run the loading script for every config and write the data-only Hub layout.

The layout is what `datasets` 2.14 through 5.x load without remote code:

    README.md                          the card; YAML `configs:` points at the parquet folders
    dataset_infos.json                 features, rows and bytes per config, the source checksum
    data/<config>/train-00000-of-00001.parquet

Never a `<name>.py`: `datasets` >= 4 refuses a repo that holds a loading script. Everything, the
`datasets` cache included, is written to a staging folder beside DIR and moved into place only when
complete, after the validation gates passed, so a failed or interrupted build leaves no DIR behind.
A lock per DIR keeps two builds apart; the build holding it removes staging folders that a killed
build left. DIR gets a marker file, and `--overwrite` replaces only a folder that has it.
"""

import glob
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import datasets
import filelock
import pyarrow.compute as pc
from datasets.info import DatasetInfosDict
from datasets.splits import SplitDict, SplitInfo
from datasets.table import InMemoryTable
from datasets.utils.file_utils import cached_path

import bioinstruct
from bioinstruct_tools import __version__, card, checks, paths
from bioinstruct_tools.categories import CATEGORIES, PAPER_SHARES
from bioinstruct_tools.records import PUBLISHED_SIZE, UPSTREAM_URL

SHARD_NAME = "train-00000-of-00001.parquet"
BUILD_MARKER = ".bioinstruct-build"  # hidden: neither pushed to the Hub nor read by load_dataset
ASSETS = "assets"  # the figures the card shows


class BuildError(Exception):
    """A build stopped before writing anything; the message says why and what to do."""


class GateFailed(BuildError):
    """The source failed a validation gate; `report` holds the offending records."""

    def __init__(self, report: checks.Report):
        self.report = report
        failed = [check.name for check in report.checks if check.status == "fail"]
        super().__init__(f"{report.path}: validation failed ({', '.join(failed)}); nothing was written "
                         f"(run `bioinstruct validate {report.path}` for the offending records)")


@dataclass
class BuildResult:
    out_dir: Path
    source: str
    rows: dict[str, int]
    infos: DatasetInfosDict
    report: checks.Report

    def table(self) -> list[dict]:
        full = self.rows[bioinstruct.DEFAULT_CONFIG_NAME]
        return [
            {"config": name, "rows": rows, "share": rows / full if full else 0.0,
             "paper_share": PAPER_SHARES.get(name, 1.0), "empty": rows == 0}
            for name, rows in self.rows.items()
        ]


def fetch_source(source: Optional[str]) -> str:
    """A local path to the source: the upstream file (downloaded once into the datasets cache) by default."""
    if source is None or "://" in source:
        url = source or UPSTREAM_URL
        try:
            return cached_path(url)
        except Exception as e:  # offline, DNS, HTTP errors: all mean "no copy here"
            raise BuildError(
                f"cannot download {url} ({type(e).__name__}); pass a local copy with --source FILE"
            ) from None
    return source  # read_records says what is wrong with a missing or unreadable file


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _build_configs(source_path: str, cache_dir: Path, data_dir: Path,
                   config_progress: Optional[Callable[[str], None]]) -> DatasetInfosDict:
    """Every config's parquet and measured info, from one run of the loading script.

    The script runs once, for the `categorized` config; the others are cut from its table as the script
    defines them (the full set: every row without `category`; a category's subset: its rows without
    `category`), so the source is read and categorized once rather than once per config. The tests
    compare every config in the folder with what the script yields for it.
    """
    builder = bioinstruct.BioInstruct(config_name=bioinstruct.CATEGORIZED_CONFIG_NAME,
                                      data_files=[os.path.abspath(source_path)], cache_dir=str(cache_dir))
    builder.download_and_prepare()
    categorized = builder.as_dataset(split="train")  # an empty split gives an empty Dataset
    table = categorized.data.table
    measured = DatasetInfosDict()
    for config in bioinstruct.BioInstruct.BUILDER_CONFIGS:
        if config.with_category:
            dataset = categorized
        else:
            rows = table if config.category is None else table.filter(
                pc.equal(table.column("category"), CATEGORIES.index(config.category)))
            dataset = datasets.Dataset(InMemoryTable(rows.drop_columns(["category"])),
                                       info=datasets.DatasetInfo(features=bioinstruct.FEATURES))
        parquet_path = data_dir / config.name / SHARD_NAME
        parquet_path.parent.mkdir(parents=True, exist_ok=True)
        dataset.to_parquet(str(parquet_path))
        size = dataset.data.nbytes
        measured[config.name] = datasets.DatasetInfo(
            splits=SplitDict({"train": SplitInfo(name="train", num_bytes=size, num_examples=dataset.num_rows,
                                                 dataset_name=bioinstruct._DATASETNAME)}),
            dataset_size=size, download_size=parquet_path.stat().st_size)  # what a user of this config downloads
        if config_progress:
            config_progress(config.name)
    return measured


def _lock_for(out: Path) -> filelock.FileLock:
    """One lock per output folder, kept in the temp folder so that nothing is left beside DIR."""
    folder = Path(tempfile.gettempdir()) / "bioinstruct-locks"
    folder.mkdir(exist_ok=True)
    name = hashlib.sha256(str(out.resolve()).encode("utf-8", "backslashreplace")).hexdigest()[:20]
    return filelock.FileLock(str(folder / f"{name}.lock"), timeout=0)


def _remove_stale_staging(out: Path) -> None:
    """Staging and retired folders of earlier builds of `out`: under the lock, their writers are gone."""
    prefix = os.path.join(glob.escape(str(out.parent)), glob.escape(f".{out.name}."))
    for stale in glob.glob(prefix + "building-*") + glob.glob(prefix + "old-*"):
        shutil.rmtree(stale, ignore_errors=True)




def build(
    source: Optional[str],
    out_dir: str,
    expected_rows: Optional[int] = None,
    strict: bool = False,
    overwrite: bool = False,
    record: bool = False,
    progress=None,
    config_progress: Optional[Callable[[str], None]] = None,
    benchmarks: Optional[checks.Benchmarks] = None,
) -> BuildResult:
    """Validate `source` (None: the upstream file), then build every config into `out_dir`.

    `progress` is called as validation advances; `config_progress` with each config's name once it is built.
    """
    upstream = source is None or source == UPSTREAM_URL
    if record and not upstream:
        raise BuildError("--record stores the upstream file's checksum and sizes: build from the upstream URL")
    benchmark_paths = list(benchmarks.paths) if benchmarks else []
    if source is not None and "://" not in source:
        paths.check_output_dir(out_dir, inputs=[source, *benchmark_paths])  # before a long validation
    source_path = fetch_source(source)
    out = paths.check_output_dir(out_dir, inputs=[source_path, *benchmark_paths])
    if upstream and expected_rows is None:
        expected_rows = PUBLISHED_SIZE
    report = checks.validate_file(source_path, expected_rows=expected_rows, strict=strict, progress=progress,
                                  benchmarks=benchmarks)
    if not report.passed:
        raise GateFailed(report)

    source_url = UPSTREAM_URL if upstream else os.path.basename(source_path)
    checksum = {"num_bytes": os.path.getsize(source_path), "checksum": sha256_of(source_path)}
    if upstream:
        recorded = card.read_infos(card.INFOS_PATH).get(bioinstruct.DEFAULT_CONFIG_NAME)
        expected = (recorded.download_checksums or {}).get(UPSTREAM_URL) if recorded else None
        if expected and expected != checksum:
            raise BuildError(f"{UPSTREAM_URL}: checksum {checksum} differs from the recorded {expected}")

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        lock = _lock_for(out)
        lock.acquire()
    except filelock.Timeout:
        raise BuildError(f"{out}: another `bioinstruct build` is writing this folder; try again when it ends") from None
    except OSError as e:
        raise BuildError(f"{out}: cannot write here ({e.strerror})") from None
    try:
        _remove_stale_staging(out)
        refusal = paths.replacement_refusal(out, overwrite, BUILD_MARKER, "bioinstruct build")
        if refusal:
            raise BuildError(refusal)
        infos = _build_into_place(source_path, out, {source_url: checksum}, config_progress, report)
    finally:
        lock.release()
    if record:
        card.write_repo_files(recorded=infos)
    rows = {name: card.measured_rows(infos, name) for name in bioinstruct.CONFIG_NAMES}
    return BuildResult(out_dir=out, source=source_path, rows=rows, infos=infos, report=report)


def _write_figures(report: checks.Report, folder: Path) -> dict[str, str]:
    """The report's figures as PNG in the layout's assets folder: {path in the repo: title}."""
    from bioinstruct_tools import (
        report as report_module,  # matplotlib only when figures are drawn
    )

    drawn = report_module.write_figures(report_module.collect(report), folder, formats=("png",))
    return {f"{ASSETS}/{path.name}": report_module.TITLES[path.stem] for path in drawn}


def _build_into_place(source_path: str, out: Path, checksums: dict,
                      config_progress: Optional[Callable[[str], None]], report: checks.Report) -> DatasetInfosDict:
    """Build every config in a staging folder beside `out`, then move it into place; returns the infos."""
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    except OSError as e:
        raise BuildError(f"{out}: cannot write here ({e.strerror})") from None
    bars_were_disabled = datasets.utils.are_progress_bars_disabled()
    datasets.utils.disable_progress_bars()  # one bar of our own instead of two per config
    try:
        measured = _build_configs(source_path, staging / ".cache", staging / "data", config_progress)
        for info in measured.values():
            info.download_checksums = checksums
        shutil.rmtree(staging / ".cache")
        infos = card.config_infos(measured)
        (staging / card.INFOS_FILENAME).write_text(card.infos_json(infos), encoding="utf-8")
        figures = _write_figures(report, staging / ASSETS)
        contamination = next((check for check in report.checks if check.name == "contamination"), None)
        (staging / "README.md").write_text(
            card.render_card(card.CARD_PATH.read_text(encoding="utf-8"), infos, for_hub=True,
                             contamination=contamination, figures=figures), encoding="utf-8")
        (staging / BUILD_MARKER).write_text(
            json.dumps({"written_by": "bioinstruct build", "version": __version__}) + "\n", encoding="utf-8")
        paths.move_into_place(staging, out)
    except OSError as e:
        shutil.rmtree(staging, ignore_errors=True)
        raise BuildError(f"{out}: the build could not be written ({e.strerror or e})") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        if not bars_were_disabled:
            datasets.utils.enable_progress_bars()
    return infos
