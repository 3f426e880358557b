"""The dataset card's YAML, its split-size table and `dataset_infos.json`, all generated from the builder.

README.md is both the dataset card and the maintainer guide. Its YAML header and the table between the
`sizes` markers are generated here (`bioinstruct card` rewrites them, `bioinstruct card --check` and the
tests fail on drift); the prose is written by hand. Measured figures (rows, bytes, the upstream checksum)
exist only after a build on a real file: a build writes them into its output folder, and
`bioinstruct build --record` (upstream file only) writes them into this repository.
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
from huggingface_hub import DatasetCard, DatasetCardData

import bioinstruct
from bioinstruct_tools.categories import PAPER_SHARES
from bioinstruct_tools.records import PUBLISHED_SIZE, UPSTREAM_FILENAME, UPSTREAM_URL

REPO_ROOT = Path(bioinstruct.__file__).resolve().parent
CARD_PATH = REPO_ROOT / "README.md"
INFOS_PATH = REPO_ROOT / "dataset_infos.json"
INFOS_FILENAME = "dataset_infos.json"

# Generated blocks of the card's body, between `<!-- bioinstruct:NAME -->` and `<!-- /bioinstruct:NAME -->`.
SIZES_BLOCK, PROVENANCE_BLOCK, CONTAMINATION_BLOCK, FIGURES_BLOCK = "sizes", "provenance", "contamination", "figures"
MAINTAINER_GUIDE = "<!-- bioinstruct:maintainer-guide -->"  # the exported card stops here

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


def parquet_pattern(config_name: str) -> str:
    return f"data/{config_name}/train-*.parquet"


def builder_info(config_name: str) -> datasets.DatasetInfo:
    """The config's DatasetInfo as the builder defines it, without any recorded measurement."""
    with tempfile.TemporaryDirectory() as cache_dir:
        builder = bioinstruct.BioInstruct(config_name=config_name, cache_dir=cache_dir)
        info = builder._info()
    info.builder_name = info.dataset_name = bioinstruct._DATASETNAME
    info.config_name = config_name
    info.version = builder.config.version
    return info


def config_infos(measured: Optional[DatasetInfosDict] = None) -> DatasetInfosDict:
    """Every config's info from the builder, with the measured fields of `measured` where it has them."""
    infos = DatasetInfosDict()
    for name in bioinstruct.CONFIG_NAMES:
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
    rows = measured_rows(infos, bioinstruct.DEFAULT_CONFIG_NAME) or PUBLISHED_SIZE
    data = DatasetCardData(**CARD_METADATA, size_categories=[size_category(rows)])
    MetadataConfigs({
        name: {"data_files": [{"split": "train", "path": parquet_pattern(name)}],
               **({"default": True} if name == bioinstruct.DEFAULT_CONFIG_NAME else {})}
        for name in bioinstruct.CONFIG_NAMES
    }).to_dataset_card_data(data)
    # Keep the configs in the builder's order (MetadataConfigs sorts them by name).
    order = {name: position for position, name in enumerate(bioinstruct.CONFIG_NAMES)}
    data["configs"] = sorted(data["configs"], key=lambda config: order[config["config_name"]])
    DatasetInfosDict(infos).to_dataset_card_data(data)
    data["dataset_info"] = sorted(data["dataset_info"], key=lambda info: order[info["config_name"]])
    return data


def sizes_table(infos: DatasetInfosDict) -> str:
    full = measured_rows(infos, bioinstruct.DEFAULT_CONFIG_NAME)
    lines = ["| config | rows | share of the full set | paper's share |", "|---|---:|---:|---:|"]
    for name in bioinstruct.CONFIG_NAMES:
        rows = measured_rows(infos, name)
        paper = PAPER_SHARES.get(name, 1.0)
        if rows is None:
            shown = f"{PUBLISHED_SIZE:,} (paper)" if name == bioinstruct.DEFAULT_CONFIG_NAME else "not measured yet"
            share = "100.0%" if name == bioinstruct.DEFAULT_CONFIG_NAME else "not measured yet"
        else:
            shown, share = f"{rows:,}", f"{rows / full:.1%}" if full else "n/a"
        lines.append(f"| `{name}` | {shown} | {share} | {paper:.1%} |")
    return "\n".join(lines)


def provenance_note(infos: DatasetInfosDict) -> str:
    """What the card's figures describe: the paper's count, or the rows a build measured and its source."""
    rows = measured_rows(infos, bioinstruct.DEFAULT_CONFIG_NAME)
    if rows is None:
        return (f"The counts on this card are the paper's ({PUBLISHED_SIZE:,} records) until a build "
                "of the upstream file is recorded.")
    checksums = infos[bioinstruct.DEFAULT_CONFIG_NAME].download_checksums or {}
    source = next(iter(checksums), "an unnamed source")
    if source == UPSTREAM_URL:
        return f"This copy holds {rows:,} records, built from the upstream `{UPSTREAM_FILENAME}`."
    return (f"**This copy is not the published BioInstruct file.** It holds {rows:,} records, built from "
            f"`{source}`; the published set holds {PUBLISHED_SIZE:,} (the paper's count).")


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
    named = ", ".join(f"`{Path(name).name}` ({figures['items']:,} items: {figures['records']} records)"
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


def render_card(current_text: str, infos: DatasetInfosDict, for_hub: bool = False, contamination=None,
                figures: Optional[dict[str, str]] = None) -> str:
    """`current_text` with its YAML and generated blocks regenerated; `for_hub` drops the maintainer guide.

    `contamination` is a build's contamination check result, when it ran one; `figures` the images it drew.
    """
    body = DatasetCard(current_text).text
    body = _fill_block(body, SIZES_BLOCK, sizes_table(infos))
    body = _fill_block(body, PROVENANCE_BLOCK, provenance_note(infos))
    body = _fill_block(body, CONTAMINATION_BLOCK, contamination_note(contamination))
    body = _fill_block(body, FIGURES_BLOCK, figures_section(figures or {}))
    if for_hub and MAINTAINER_GUIDE in body:
        body = body[: body.index(MAINTAINER_GUIDE)].rstrip() + "\n"
    return f"---\n{card_data(infos).to_yaml()}\n---\n{body}"


def repo_files(recorded: Optional[DatasetInfosDict] = None) -> dict[Path, str]:
    """What README.md and dataset_infos.json of this repository should hold."""
    infos = config_infos(read_infos(INFOS_PATH) if recorded is None else recorded)
    return {
        CARD_PATH: render_card(CARD_PATH.read_text(encoding="utf-8"), infos),
        INFOS_PATH: infos_json(infos),
    }


def stale_repo_files(recorded: Optional[DatasetInfosDict] = None) -> list[Path]:
    """The repository's generated files that differ from what the builder produces now."""
    return [path for path, text in repo_files(recorded).items()
            if not path.exists() or _semantic(path, path.read_text(encoding="utf-8")) != _semantic(path, text)]


def _semantic(path: Path, text: str):
    """Compare infos as DatasetInfo objects: `datasets` 3.x and 5.x serialize the same features differently."""
    if path.name == INFOS_FILENAME:
        return {name: datasets.DatasetInfo.from_dict(info) for name, info in json.loads(text).items()}
    return text


def write_repo_files(recorded: Optional[DatasetInfosDict] = None) -> list[Path]:
    written = []
    for path, text in repo_files(recorded).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written
