"""The dataset card of a build and `dataset_infos.json`, generated from the builder and the build's measurements.

The card's prose is a template shipped with the package (`resources/card.md`); its YAML header and the
blocks between `<!-- bioinstruct:NAME -->` markers are generated here, into every build. Measured
figures (rows, bytes, the upstream checksum) exist only after a build on a real file: a build writes
them into its output folder, and `bioinstruct build --record` (upstream file only, from a checkout)
records them in `resources/dataset_infos.json`, the package's one record of the upstream file. The
checkout's root `dataset_infos.json` is a copy of it for the loading script on datasets 3.6, which
reads it beside the script; `bioinstruct card` rewrites the copy and `card --check` fails on drift.
"""

import json
import re
import tempfile
from pathlib import Path
from typing import Optional

import datasets
from datasets.info import DatasetInfosDict
from datasets.utils.metadata import MetadataConfigs
from datasets.utils.py_utils import asdict
from huggingface_hub import DatasetCardData

import bioinstruct
from bioinstruct_tools.categories import PAPER_SHARES
from bioinstruct_tools.paths import CHECKOUT_ROOT
from bioinstruct_tools.text import markdown_literal
from bioinstruct_tools.published import (
    CONFIG_NAMES,
    DATASET_NAME,
    DEFAULT_CONFIG,
    INFOS_FILENAME,
    PUBLISHED_SIZE,
    UPSTREAM_FILENAME,
    UPSTREAM_URL,
    parquet_pattern,
)

RESOURCES = Path(__file__).resolve().parent / "resources"
TEMPLATE_PATH = RESOURCES / "card.md"  # the card's prose, rendered into every build
RECORDED_INFOS_PATH = RESOURCES / INFOS_FILENAME  # the upstream file's recorded measurements (none until --record)

# Generated blocks of the card's body, between `<!-- bioinstruct:NAME -->` and `<!-- /bioinstruct:NAME -->`.
SIZES_BLOCK, PROVENANCE_BLOCK, CONTAMINATION_BLOCK, FIGURES_BLOCK = "sizes", "provenance", "contamination", "figures"

# Hub metadata that the builder does not carry.
CARD_METADATA = {
    "license": "mit",
    "language": ["en"],
    "pretty_name": "BioInstruct",
    "task_categories": ["text-generation", "question-answering", "summarization", "zero-shot-classification"],
    "tags": ["biology", "medical", "clinical", "healthcare", "instruction-finetuning", "self-instruct",
             "multi-task learning"],
}
# Fields of DatasetInfo that only a build measures.
MEASURED_FIELDS = ("splits", "download_checksums", "download_size", "dataset_size")


def builder_info(config_name: str) -> datasets.DatasetInfo:
    """The config's DatasetInfo as the builder defines it, without any recorded measurement."""
    with tempfile.TemporaryDirectory() as cache_dir:
        builder = bioinstruct.BioInstruct(config_name=config_name, cache_dir=cache_dir)
        info = builder._info()
    info.builder_name = info.dataset_name = DATASET_NAME
    info.config_name = config_name
    info.version = builder.config.version
    return info


def config_infos(measured: Optional[DatasetInfosDict] = None) -> DatasetInfosDict:
    """Every config's info from the builder, with the measured fields of `measured` where it has them."""
    infos = DatasetInfosDict()
    for name in CONFIG_NAMES:
        info = builder_info(name)
        if measured and name in measured:
            for field_name in MEASURED_FIELDS:
                setattr(info, field_name, getattr(measured[name], field_name))
        infos[name] = info
    return infos


def read_infos(path: Path) -> DatasetInfosDict:
    if not path.exists():
        return DatasetInfosDict()
    with open(path, encoding="utf-8") as f:
        return DatasetInfosDict({name: datasets.DatasetInfo.from_dict(info) for name, info in json.load(f).items()})


def infos_json(infos: DatasetInfosDict) -> str:
    return json.dumps({name: asdict(info) for name, info in infos.items()}, indent=2, ensure_ascii=False) + "\n"


def measured_rows(infos: DatasetInfosDict, config_name: str) -> Optional[int]:
    info = infos.get(config_name)
    if info is None or not info.splits or "train" not in info.splits:
        return None
    return info.splits["train"].num_examples


def size_category(rows: int) -> str:
    """The Hub's size_categories bucket for `rows`."""
    for bound, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                         (10_000_000, "1M<n<10M")):
        if rows < bound:
            return label
    return "10M<n<100M"


def card_data(infos: DatasetInfosDict) -> DatasetCardData:
    """The card's YAML: Hub metadata, `configs:` pointing at the parquet folders, `dataset_info:`."""
    rows = measured_rows(infos, DEFAULT_CONFIG) or PUBLISHED_SIZE
    data = DatasetCardData(**CARD_METADATA, size_categories=[size_category(rows)])
    MetadataConfigs({
        name: {"data_files": [{"split": "train", "path": parquet_pattern(name)}],
               **({"default": True} if name == DEFAULT_CONFIG else {})}
        for name in CONFIG_NAMES
    }).to_dataset_card_data(data)
    # Keep the configs in the builder's order (MetadataConfigs sorts them by name).
    order = {name: position for position, name in enumerate(CONFIG_NAMES)}
    data["configs"] = sorted(data["configs"], key=lambda config: order[config["config_name"]])
    DatasetInfosDict(infos).to_dataset_card_data(data)
    data["dataset_info"] = sorted(data["dataset_info"], key=lambda info: order[info["config_name"]])
    return data


def sizes_table(infos: DatasetInfosDict) -> str:
    full = measured_rows(infos, DEFAULT_CONFIG)
    lines = ["| config | rows | share of the full set | paper's share |", "|---|---:|---:|---:|"]
    for name in CONFIG_NAMES:
        rows = measured_rows(infos, name)
        paper = PAPER_SHARES.get(name, 1.0)
        if rows is None:
            shown = f"{PUBLISHED_SIZE:,} (paper)" if name == DEFAULT_CONFIG else "not measured yet"
            share = "100.0%" if name == DEFAULT_CONFIG else "not measured yet"
        else:
            shown, share = f"{rows:,}", f"{rows / full:.1%}" if full else "n/a"
        lines.append(f"| `{name}` | {shown} | {share} | {paper:.1%} |")
    return "\n".join(lines)


def provenance_note(infos: DatasetInfosDict) -> str:
    """What the card's figures describe: the paper's count, or the rows a build measured and its source."""
    rows = measured_rows(infos, DEFAULT_CONFIG)
    if rows is None:
        return (f"The counts on this card are the paper's ({PUBLISHED_SIZE:,} records) until a build "
                "of the upstream file is recorded.")
    checksums = infos[DEFAULT_CONFIG].download_checksums or {}
    source = next(iter(checksums), "an unnamed source")
    if source == UPSTREAM_URL:
        return f"This copy holds {rows:,} records, built from the upstream `{UPSTREAM_FILENAME}`."
    return (f"**This copy is not the published BioInstruct file.** It holds {rows:,} records, built from "
            f"{markdown_literal(source)}; the published set holds {PUBLISHED_SIZE:,} (the paper's count).")


def _fill_block(body: str, name: str, content: str) -> str:
    start, end = f"<!-- bioinstruct:{name} -->", f"<!-- /bioinstruct:{name} -->"
    if start not in body or end not in body:
        raise ValueError(f"the card has no {start} ... {end} block")
    return re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: f"{start}\n{content}\n{end}", body, flags=re.S)


def contamination_note(check) -> str:
    """The card's Contamination line from a build's `contamination` check; empty when the build ran none."""
    if check is None:
        return ""
    benchmarks = check.details["benchmarks"]
    named = ", ".join(f"{markdown_literal(Path(name).name)} ({figures['items']:,} items: {figures['records']} records)"
                      for name, figures in benchmarks.items())
    overlapping = len({offender.index for offender in check.offenders})
    return (f"**Contamination.** The build checked every record against {named}, with "
            f"{check.details['ngram']}-grams of the instruction, input and output (a field shorter than that: "
            f"the whole field): {overlapping} records overlap a benchmark item.")


def figures_section(figures: dict[str, str]) -> str:
    """The card's figures, `{file in the repo: title}`, drawn by the build from its data; empty for none."""
    if not figures:
        return ""
    images = "\n".join(f"![{title}]({path})" for path, title in figures.items())
    return ("### Figures\n\nDrawn by `bioinstruct report` from this build's data (numbers in the card above and "
            "in `bioinstruct validate --json`):\n\n" + images)


def render_card(infos: DatasetInfosDict, contamination=None, figures: Optional[dict[str, str]] = None) -> str:
    """The card of a build: YAML from `infos`, the template's prose with its generated blocks filled.

    `contamination` is a build's contamination check result, when it ran one; `figures` the images it drew.
    """
    body = TEMPLATE_PATH.read_text(encoding="utf-8")
    body = _fill_block(body, SIZES_BLOCK, sizes_table(infos))
    body = _fill_block(body, PROVENANCE_BLOCK, provenance_note(infos))
    body = _fill_block(body, CONTAMINATION_BLOCK, contamination_note(contamination))
    body = _fill_block(body, FIGURES_BLOCK, figures_section(figures or {}))
    return f"---\n{card_data(infos).to_yaml()}\n---\n\n{body}"


# ---------------------------------------------------------------------------------------------------
# The checkout's files (maintainers only): the recorded infos and the script's copy of them
# ---------------------------------------------------------------------------------------------------


def _checkout_infos_path() -> Path:
    if CHECKOUT_ROOT is None:
        raise FileNotFoundError("`bioinstruct card` and `build --record` maintain a git checkout of the package; "
                                "this is an installed copy")
    return CHECKOUT_ROOT / INFOS_FILENAME


def repo_files(recorded: Optional[DatasetInfosDict] = None) -> dict[Path, str]:
    """What the recorded infos and the script's copy of them should hold."""
    text = infos_json(config_infos(read_infos(RECORDED_INFOS_PATH) if recorded is None else recorded))
    return {RECORDED_INFOS_PATH: text, _checkout_infos_path(): text}


def stale_repo_files(recorded: Optional[DatasetInfosDict] = None) -> list[Path]:
    """The checkout's generated files that differ from what the builder produces now."""
    return [path for path, text in repo_files(recorded).items()
            if not path.exists() or _semantic(path.read_text(encoding="utf-8")) != _semantic(text)]


def _semantic(text: str):
    """Compare infos as DatasetInfo objects: `datasets` 3.x and 5.x serialize the same features differently."""
    return {name: datasets.DatasetInfo.from_dict(info) for name, info in json.loads(text).items()}


def write_repo_files(recorded: Optional[DatasetInfosDict] = None) -> list[Path]:
    written = []
    for path, text in repo_files(recorded).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written
