"""The dataset card of a build: its YAML header and the generated blocks of its prose.

The card's prose is a template shipped with the package: BioInstruct's own card (`resources/card.md`)
for a build of the upstream file, and the copy card (`resources/copy_card.md`) for any other, which
states what the build measured and what the maintainer's `--card-meta` file says, and none of
BioInstruct's claims. Blocks between `<!-- bioinstruct:NAME -->` markers are generated here; every
block says something, "not checked" included, and never stays empty.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from datasets.info import DatasetInfosDict
from huggingface_hub import DatasetCardData

from bioinstruct_tools import personal_information
from bioinstruct_tools.card_meta import CardMeta
from bioinstruct_tools.categories import CATEGORIES, PAPER_SHARES
from bioinstruct_tools.infos import listed_configs, measured_rows
from bioinstruct_tools.text import markdown_literal, markdown_prose
from bioinstruct_tools.published import (
    CONFIG_NAMES,
    DEFAULT_CONFIG,
    PUBLISHED_SIZE,
    UPSTREAM_FILENAME,
    UPSTREAM_URL,
    card_configs,
)

RESOURCES = Path(__file__).resolve().parent / "resources"
TEMPLATE_PATH = RESOURCES / "card.md"  # the published BioInstruct's card, for a build of the upstream file
COPY_TEMPLATE_PATH = RESOURCES / "copy_card.md"  # any other copy's card: measured facts and what --card-meta states

# Generated blocks of the card's body, between `<!-- bioinstruct:NAME -->` and `<!-- /bioinstruct:NAME -->`.
SIZES_BLOCK, PROVENANCE_BLOCK, CONTAMINATION_BLOCK, FIGURES_BLOCK = "sizes", "provenance", "contamination", "figures"
INSTANCES_BLOCK = "instances"
PERSONAL_CHECK_BLOCK = "personal-check"

# Hub metadata of the published BioInstruct, which the builder does not carry.
CARD_METADATA = {
    "license": "mit",
    "language": ["en"],
    "pretty_name": "BioInstruct",
    "task_categories": ["text-generation", "question-answering", "summarization", "zero-shot-classification"],
    "tags": ["biology", "medical", "clinical", "healthcare", "instruction-finetuning", "self-instruct",
             "multi-task learning"],
}
INSTANCE_CHARACTERS = 600  # a longer value is cut in the card's Data Instances


@dataclass
class SourceDescription:
    """What the card can say about the source: the published file or a copy, and the copy's own records."""

    published: bool  # the upstream file (downloaded, or its recorded checksum): BioInstruct's own card
    meta: Optional[CardMeta] = None
    instances: dict[str, dict] = field(default_factory=dict)  # category -> its first record


def size_category(rows: int) -> str:
    """The Hub's size_categories bucket for `rows`."""
    for bound, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                         (10_000_000, "1M<n<10M")):
        if rows < bound:
            return label
    return "10M<n<100M"


COPY_NAME = "Instruction records in BioInstruct's format"  # a copy's pretty_name when its maintainer gives none


def card_data(infos: DatasetInfosDict, description: Optional[SourceDescription] = None) -> DatasetCardData:
    """The card's YAML: Hub metadata, `configs:` pointing at the parquet folders, `dataset_info:`."""
    rows = measured_rows(infos, DEFAULT_CONFIG) or PUBLISHED_SIZE
    data = DatasetCardData(**_hub_metadata(description), size_categories=[size_category(rows)])
    listed = listed_configs(infos)
    data["configs"] = card_configs(listed)
    DatasetInfosDict({name: info for name, info in infos.items() if name in listed}).to_dataset_card_data(data)
    order = {name: position for position, name in enumerate(CONFIG_NAMES)}  # the builder's order, not by name
    data["dataset_info"] = sorted(data["dataset_info"], key=lambda info: order[info["config_name"]])
    return data


def _hub_metadata(description: Optional[SourceDescription]) -> dict:
    """BioInstruct's metadata for the published file; for a copy, what its maintainer stated, and no more."""
    if description is None or description.published and description.meta is None:
        return dict(CARD_METADATA)
    meta = description.meta or CardMeta()
    stated = {"language": meta.language, "tags": meta.tags, "task_categories": meta.task_categories,
              "source_datasets": meta.source_datasets, "annotations_creators": meta.annotations_creators}
    return {"license": meta.license or "unknown", "pretty_name": meta.pretty_name or COPY_NAME,
            **{key: list(value) for key, value in stated.items() if value}}


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


_BLOCK = re.compile(r"<!-- bioinstruct:([\w-]+) -->.*?<!-- /bioinstruct:\1 -->", re.S)


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
        parts.append(f"The first `{category}` record:\n\n" + _fenced(json.dumps(shown, ensure_ascii=False, indent=2), "json"))
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
    """A maintainer's text as Markdown paragraphs that read as written: only what would change the Markdown's
    meaning (HTML, links, images, headings, lists, quotes, tables, code, the card's markers) is escaped."""
    return "\n\n".join(markdown_prose(paragraph) for paragraph in re.split(r"\n\s*\n", text) if paragraph.strip())


def contamination_note(check) -> str:
    """The card's Contamination line from a build's `contamination` check, or that none was run."""
    if check is None:
        return ("**Contamination: not checked.** The build was given no evaluation benchmark (`--against`), so no "
                "overlap with one was looked for.")
    found = check.findings
    named = ", ".join(f"{markdown_literal(Path(name).name)} ({overlap.items:,} items: {overlap.records} records)"
                      for name, overlap in found.benchmarks.items())
    overlapping = len({offender.index for offender in check.offenders})
    return (f"**Contamination.** The build checked every record against {named}, with "
            f"{found.ngram}-grams of the instruction, input and output (a field shorter than that: "
            f"the whole field): {overlapping} records overlap a benchmark item.")


def personal_information_note(check) -> str:
    """The card's measured personal-information line from a build's `personal_information` check, or that none ran."""
    if check is None:
        return ("**Personal information: not checked.** The build did not look for personal identifiers, so this "
                "card cannot say whether the records hold any.")
    found = check.findings
    counts = ", ".join(f"{kind} {count:,}" for kind, count in found.by_kind.items() if count)
    measured = (f"{found.records:,} of {found.checked:,} records hold at least one ({counts})" if found.records
                else f"none of the {found.checked:,} records holds one")
    if found.unchecked:
        measured += (f", and {found.unchecked:,} records have a field too long to check "
                     f"(over {personal_information.MAX_CHECKED_CHARACTERS:,} characters)")
    return (f"**Personal information, as measured.** The build looked for the identifiers of HIPAA's Safe Harbor "
            f"list that text can hold (names with a title or label, addresses, ZIP codes, dates tied to a person, "
            f"ages over 89, phone and fax numbers, e-mail and web addresses, IP addresses, and labelled numbers: "
            f"SSN, medical record, health plan, account, licence, vehicle and device) in every record's "
            f"instruction, input and output: {measured}. It cannot see {personal_information.CANNOT_SEE}; a record "
            f"it passes may still identify someone. {personal_information.MEASURED}")


def figures_section(figures: dict[str, str], notes: Sequence[str] = ()) -> str:
    """The card's figures, `{file in the repo: title}`, drawn by the build from its data; `notes`: one line for
    each figure that had nothing to show, said instead of drawing an empty panel."""
    if not figures:
        return "No figure was drawn for this build."
    images = "\n".join(f"![{title}]({path})" for path, title in figures.items()) + "".join(
        f"\n\n{note}" for note in notes)
    return ("### Figures\n\nDrawn by `bioinstruct report` from this build's data (numbers in the card above and "
            "in `bioinstruct validate --json`):\n\n" + images)


def render_card(infos: DatasetInfosDict, contamination=None, figures: Optional[dict[str, str]] = None,
                description: Optional[SourceDescription] = None, personal_information_check=None,
                figure_notes: Sequence[str] = ()) -> str:
    """The card of a build: YAML from `infos`, a template's prose with its generated blocks filled.

    The published file gets BioInstruct's card; any other copy the copy card, which states what was
    measured and what `description.meta` says, and none of BioInstruct's claims. `contamination` is a
    build's contamination check result, when it ran one; `figures` the images it drew;
    `personal_information_check` its personal-information check result (None: the card says it was not checked).
    """
    description = description or SourceDescription(published=True)
    blocks = {SIZES_BLOCK: sizes_table(infos), CONTAMINATION_BLOCK: contamination_note(contamination),
              FIGURES_BLOCK: figures_section(figures or {}, figure_notes),
              PERSONAL_CHECK_BLOCK: personal_information_note(personal_information_check)}
    if description.instances:
        blocks[INSTANCES_BLOCK] = instances_section(description.instances)
    if description.published and description.meta is None:
        template = TEMPLATE_PATH
        blocks[PROVENANCE_BLOCK] = provenance_note(infos)
    else:
        template = COPY_TEMPLATE_PATH
        blocks.update(copy_blocks(infos, description.meta))
    body = _fill_blocks(template.read_text(encoding="utf-8"), blocks)
    return f"---\n{card_data(infos, description).to_yaml()}\n---\n\n{body}"


def copy_blocks(infos: DatasetInfosDict, meta: Optional[CardMeta]) -> dict[str, str]:
    """The copy card's statements: the maintainer's, where given; otherwise that nothing is known."""
    rows = measured_rows(infos, DEFAULT_CONFIG)
    unstated = ("not stated (the build had no `--card-meta` file)" if meta is None else
                "not stated in the build's `--card-meta` file")
    meta = meta or CardMeta()
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
        "citation": _fenced(meta.citation, "bibtex") if meta.citation else f"None: a citation is {unstated}.",
    }


def _fenced(text: str, language: str) -> str:
    fence = "`" * max(3, _longest_run(text, "`") + 1)  # a fence longer than any run of backticks inside
    return f"{fence}{language}\n{text}\n{fence}"


