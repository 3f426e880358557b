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
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Optional

import datasets
import yaml
from datasets.info import DatasetInfosDict
from datasets.utils.metadata import MetadataConfigs
from datasets.utils.py_utils import asdict
from huggingface_hub import DatasetCardData

import bioinstruct
from bioinstruct_tools.categories import CATEGORIES, PAPER_SHARES
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
TEMPLATE_PATH = RESOURCES / "card.md"  # the published BioInstruct's card, for a build of the upstream file
COPY_TEMPLATE_PATH = RESOURCES / "copy_card.md"  # any other copy's card: measured facts and what --card-meta states
RECORDED_INFOS_PATH = RESOURCES / INFOS_FILENAME  # the upstream file's recorded measurements (none until --record)

# Generated blocks of the card's body, between `<!-- bioinstruct:NAME -->` and `<!-- /bioinstruct:NAME -->`.
SIZES_BLOCK, PROVENANCE_BLOCK, CONTAMINATION_BLOCK, FIGURES_BLOCK = "sizes", "provenance", "contamination", "figures"
INSTANCES_BLOCK = "instances"

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
INSTANCE_CHARACTERS = 600  # a longer value is cut in the card's Data Instances
_LICENSE_ID = re.compile(r"[a-z0-9][a-z0-9.+-]*")  # the Hub's license identifiers: mit, cc-by-4.0, other, unknown


class CardMetaError(ValueError):
    """A --card-meta file is not a mapping of the known keys to text; the message names the file."""


@dataclass(frozen=True)
class CardMeta:
    """What a maintainer states about a copy (`build --card-meta META.yaml`); the card measures the rest."""

    pretty_name: Optional[str] = None
    license: Optional[str] = None  # a Hub license identifier
    summary: Optional[str] = None  # what the copy is, in a paragraph or two
    source: Optional[str] = None  # how it was made: generator model, date, seed tasks
    personal_information: Optional[str] = None  # whether real people's data is in it, and how it was handled

    @classmethod
    def read(cls, path: str) -> "CardMeta":
        try:
            with open(path, encoding="utf-8") as f:
                data = yaml.safe_load(f)
        except FileNotFoundError:
            raise CardMetaError(f"{path}: no such file") from None
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
            raise CardMetaError(f"{path}: not a readable YAML file ({' '.join(str(e).split())[:200]})") from None
        known = [f.name for f in fields(cls)]
        if not isinstance(data, dict):
            raise CardMetaError(f"{path}: expected a YAML mapping of {', '.join(known)}")
        unknown = sorted(str(key) for key in data if key not in known)
        if unknown:
            raise CardMetaError(f"{path}: unknown key {unknown[0]!r} (the keys are {', '.join(known)})")
        for key, value in data.items():
            if not isinstance(value, str) or not value.strip():
                raise CardMetaError(f"{path}: {key} must be non-empty text")
        if "license" in data and not _LICENSE_ID.fullmatch(data["license"]):
            raise CardMetaError(f"{path}: license {data['license']!r} is not a Hub license identifier (mit, "
                                "cc-by-4.0, apache-2.0, other, ...)")
        return cls(**{key: value.strip() for key, value in data.items()})


@dataclass
class SourceDescription:
    """What the card can say about the source: the published file or a copy, and the copy's own records."""

    published: bool  # the upstream file (downloaded, or its recorded checksum): BioInstruct's own card
    meta: Optional[CardMeta] = None
    instances: dict[str, dict] = field(default_factory=dict)  # category -> its first record


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
    """The infos as `datasets` 3.6 and 5.x both read them (the loading script reads this file on 3.6)."""
    return json.dumps({name: _portable(asdict(info)) for name, info in infos.items()}, indent=2,
                      ensure_ascii=False) + "\n"


def _portable(value):
    """5.x writes a list feature as `{"_type": "List", "feature": F}`, which 3.6 cannot read; both read `[F]`."""
    if isinstance(value, dict):
        if value.get("_type") == "List" and set(value) == {"_type", "feature"}:
            return [_portable(value["feature"])]
        return {key: _portable(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_portable(inner) for inner in value]
    return value


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


def listed_configs(infos: DatasetInfosDict) -> list[str]:
    """The configs a card lists: every one but an empty category's (`datasets` cannot load 0 rows)."""
    return [name for name in CONFIG_NAMES if name not in CATEGORIES or measured_rows(infos, name) != 0]


COPY_NAME = "Instruction records in BioInstruct's format"  # a copy's pretty_name when its maintainer gives none


def card_data(infos: DatasetInfosDict, description: Optional[SourceDescription] = None) -> DatasetCardData:
    """The card's YAML: Hub metadata, `configs:` pointing at the parquet folders, `dataset_info:`."""
    rows = measured_rows(infos, DEFAULT_CONFIG) or PUBLISHED_SIZE
    data = DatasetCardData(**_hub_metadata(description), size_categories=[size_category(rows)])
    listed = listed_configs(infos)
    MetadataConfigs({
        name: {"data_files": [{"split": "train", "path": parquet_pattern(name)}],
               **({"default": True} if name == DEFAULT_CONFIG else {})}
        for name in listed
    }).to_dataset_card_data(data)
    # Keep the configs in the builder's order (MetadataConfigs sorts them by name).
    order = {name: position for position, name in enumerate(CONFIG_NAMES)}
    data["configs"] = sorted(data["configs"], key=lambda config: order[config["config_name"]])
    DatasetInfosDict({name: info for name, info in infos.items() if name in listed}).to_dataset_card_data(data)
    data["dataset_info"] = sorted(data["dataset_info"], key=lambda info: order[info["config_name"]])
    return data


def _hub_metadata(description: Optional[SourceDescription]) -> dict:
    if description is None or description.published and description.meta is None:
        return dict(CARD_METADATA)
    meta = description.meta or CardMeta()
    return {"license": meta.license or "unknown", "pretty_name": meta.pretty_name or COPY_NAME,
            "task_categories": ["text-generation"], "tags": ["instruction-finetuning"]}


def sizes_table(infos: DatasetInfosDict) -> str:
    full = measured_rows(infos, DEFAULT_CONFIG)
    lines = ["| config | rows | share of the full set | paper's share |", "|---|---:|---:|---:|"]
    empty = []
    for name in CONFIG_NAMES:
        rows = measured_rows(infos, name)
        paper = PAPER_SHARES.get(name, 1.0)
        if rows is None:
            shown = f"{PUBLISHED_SIZE:,} (paper)" if name == DEFAULT_CONFIG else "not measured yet"
            share = "100.0%" if name == DEFAULT_CONFIG else "not measured yet"
        else:
            shown, share = f"{rows:,}", f"{rows / full:.1%}" if full else "n/a"
        if rows == 0 and name in CATEGORIES:
            empty.append(name)
            shown += " (no config)"
        lines.append(f"| `{name}` | {shown} | {share} | {paper:.1%} |")
    for name in empty:
        lines.append(f"\nThis copy has no {name} record: the `{name}` config is left out, since a config of 0 rows "
                     "cannot be loaded.")
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


_BLOCK = re.compile(r"<!-- bioinstruct:(\w+) -->.*?<!-- /bioinstruct:\1 -->", re.S)


def _fill_blocks(body: str, contents: dict[str, str]) -> str:
    """Every `<!-- bioinstruct:NAME -->` block filled in one pass: text put in (a record's) is never read again
    as a marker."""
    present = set(_BLOCK.findall(body))
    missing = sorted(set(contents) - present)
    if missing:
        raise ValueError(f"the card has no <!-- bioinstruct:{missing[0]} --> block")

    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name not in contents:
            return match.group(0)
        return f"<!-- bioinstruct:{name} -->\n{contents[name]}\n<!-- /bioinstruct:{name} -->"

    return _BLOCK.sub(fill, body)


def instances_section(instances: dict[str, dict]) -> str:
    """One record per category, as JSON in a fenced block: record text never becomes Markdown, HTML or YAML."""
    if not instances:
        return "No record."
    parts = []
    for category, record in instances.items():
        shown = {name: _cut(value) for name, value in record.items()}
        text = json.dumps(shown, ensure_ascii=False, indent=2)
        fence = "`" * max(3, _longest_run(text, "`") + 1)  # a fence longer than any run of backticks inside
        parts.append(f"The first `{category}` record:\n\n{fence}json\n{text}\n{fence}")
    cut = (f"\n\n(Values longer than {INSTANCE_CHARACTERS} characters are cut, marked by an ellipsis.)"
           if any(len(value) > INSTANCE_CHARACTERS for record in instances.values() for value in record.values())
           else "")
    return "\n\n".join(parts) + cut


def _cut(value: str) -> str:
    return value if len(value) <= INSTANCE_CHARACTERS else value[:INSTANCE_CHARACTERS] + "…"


def _longest_run(text: str, character: str) -> int:
    runs = re.findall(f"{re.escape(character)}+", text)
    return max(map(len, runs), default=0)


def prose(text: str) -> str:
    """A maintainer's text as inert Markdown paragraphs: no HTML, link, heading or code of its own."""
    return "\n\n".join(markdown_literal(paragraph) for paragraph in re.split(r"\n\s*\n", text) if paragraph.strip())


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


def render_card(infos: DatasetInfosDict, contamination=None, figures: Optional[dict[str, str]] = None,
                description: Optional[SourceDescription] = None) -> str:
    """The card of a build: YAML from `infos`, a template's prose with its generated blocks filled.

    The published file gets BioInstruct's card; any other copy the copy card, which states what was
    measured and what `description.meta` says, and none of BioInstruct's claims. `contamination` is a
    build's contamination check result, when it ran one; `figures` the images it drew.
    """
    description = description or SourceDescription(published=True)
    blocks = {SIZES_BLOCK: sizes_table(infos), CONTAMINATION_BLOCK: contamination_note(contamination),
              FIGURES_BLOCK: figures_section(figures or {})}
    if description.instances:
        blocks[INSTANCES_BLOCK] = instances_section(description.instances)
    if description.published and description.meta is None:
        template = TEMPLATE_PATH
        blocks[PROVENANCE_BLOCK] = provenance_note(infos)
    else:
        template = COPY_TEMPLATE_PATH
        blocks.update(copy_blocks(infos, description.meta or CardMeta()))
    body = _fill_blocks(template.read_text(encoding="utf-8"), blocks)
    return f"---\n{card_data(infos, description).to_yaml()}\n---\n\n{body}"


def copy_blocks(infos: DatasetInfosDict, meta: CardMeta) -> dict[str, str]:
    """The copy card's statements: the maintainer's, where given; otherwise that nothing is known."""
    rows = measured_rows(infos, DEFAULT_CONFIG)
    unstated = "not stated (the build had no `--card-meta` file)"
    return {
        "title": f"# Dataset Card for {markdown_literal(meta.pretty_name or COPY_NAME)}",
        "summary": prose(meta.summary) if meta.summary else (
            f"{rows:,} instruction records (`instruction`, `input`, `output`), in the format of BioInstruct "
            "(Tran et al., JAMIA 2024). **Their provenance is unknown**: this card was built without a "
            "`--card-meta` file, so it states only what the build measured."),
        "source": prose(meta.source) if meta.source else f"Unknown: how the records were made is {unstated}.",
        "personal": prose(meta.personal_information) if meta.personal_information else (
            f"Unknown: whether the records hold personal or health information about real people is {unstated}. "
            "Nothing in this card claims they do not; check the records before using or sharing them."),
        "license": f"`{meta.license}`." if meta.license else f"Unknown: the license is {unstated}.",
    }


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
