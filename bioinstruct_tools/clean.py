"""`bioinstruct clean`: a raw file in, the records that pass out, every other record beside them with its reasons.

In two stages, so that every instruction keeps a representative:
1. a record's own faults: it breaks the schema, its output is a placeholder, it leaks a benchmark;
2. among the records left, repeats: an exact duplicate instruction (the first is kept), and the later
   record of each near-duplicate pair by Self-Instruct's greedy filter.
A record excluded in stage 1 is never the "kept partner" of one excluded in stage 2. The same check
units as `validate` decide, so the clean file passes `validate`, and cleaning it again keeps every
record. Every record lands, whole (its id included), in exactly one of the two files; a clean that
would keep no record writes nothing and says why.
"""

import dataclasses
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Optional

from bioinstruct_tools import checks, paths
from bioinstruct_tools.errors import Failed
from bioinstruct_tools.json_writer import write_json_array, write_json_lines
from bioinstruct_tools.personal_information import redact
from bioinstruct_tools.sources import NO_FIELD_MAP, FieldMap, row_id
from bioinstruct_tools.text import plural

OWN_FAULT_CHECKS = (checks.SCHEMA, checks.PLACEHOLDERS, checks.CONTAMINATION)
# What `clean` does with a record that holds a personal identifier: keep it as it is, exclude it, or keep it with
# each identifier replaced by its kind in brackets ("[PHONE]"). `--gate-personal-information` means exclude.
PERSONAL_INFORMATION_ACTIONS = ("keep", "exclude", "redact")
REPEAT_CHECKS = (checks.UNIQUENESS, checks.NEAR_DUPLICATES)
# Reasons that are reported but keep the record: a normalised duplicate is a warning in `validate` too.
KEPT_REASONS = {"normalized_duplicate_instruction"}
MASS_EXCLUSION_SHARE = 0.5  # a reason that takes more than this share of the records is explained
# What usually causes a mass exclusion, by reason.
CAUSES = {
    "duplicate_instruction": "the records share a few instructions, so the task is likely in another field (a "
                             "question in `input`, as in ChatDoctor): read it with --field-map instruction=FIELD",
    "near_duplicate": "the instructions are filled from a template; Self-Instruct keeps one per template",
    "missing_field": "the file names its fields otherwise: map them with --field-map NEW=OLD",
    "not_a_string": "a field holds numbers or lists, not text: map a text field with --field-map NEW=OLD",
    "benchmark_overlap": "the records overlap the benchmark wholesale: is the benchmark built from this data?",
    "placeholder_output": "the outputs were never generated (placeholders such as <nooutput>)",
    "personal_information": "the records come from clinical notes or patient messages: --personal-information redact "
                            "keeps them with each identifier replaced by its kind",
}


class NothingKept(Failed):
    """Every record would be excluded: nothing is written. `result` says why."""

    def __init__(self, result: "CleanResult"):
        self.result = result
        reasons = ", ".join(f"{reason} {count:,}" for reason, count in result.reason_counts().items())
        super().__init__(f"{result.source}: every one of its {plural(result.read, 'record')} would be excluded "
                         f"({reasons}); nothing was written" + (f": {result.advice()}" if result.advice() else ""))


@dataclass(frozen=True)
class CleanOptions:
    source: str
    out: str  # JSON Lines, or a JSON array when the name ends in .json
    excluded: Optional[str] = None  # default: `excluded_beside(out)`
    overwrite: bool = False  # replace existing output files
    field_map: FieldMap = NO_FIELD_MAP
    validation: checks.ValidationOptions = field(default_factory=lambda: checks.ValidationOptions(keep_pairs=0))
    personal_information: str = "keep"  # one of PERSONAL_INFORMATION_ACTIONS

    @property
    def excluded_path(self) -> str:
        return self.excluded or excluded_beside(self.out)


@dataclass
class CleanResult:
    source: str
    read: int
    kept: list[checks.Record]
    excluded: list[dict]  # `validate --rejects` lines: index, line, id, reasons (with kept_partner), record
    redacted: list[dict] = field(default_factory=list)  # kept with identifiers replaced: index, line, id, reasons
    clean_path: Optional[str] = None
    excluded_path: Optional[str] = None

    def reason_counts(self) -> dict[str, int]:
        """Excluded records per reason (a record with two reasons counts under both)."""
        counts = Counter(reason for row in self.excluded for reason in {r["reason"] for r in row["reasons"]})
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    def advice(self) -> Optional[str]:
        """When one reason takes most records: which, how many, and what usually causes it."""
        for reason, count in self.reason_counts().items():
            if count > MASS_EXCLUSION_SHARE * self.read:
                cause = CAUSES.get(reason, "")
                return (f"{plural(count, 'record')} of {self.read:,} excluded as {reason}"
                        + (f"; usually {cause}" if cause else ""))
        return None

    def to_json(self) -> dict:
        return {"file": self.source, "read": self.read, "kept": len(self.kept), "excluded": len(self.excluded),
                "clean_file": self.clean_path, "excluded_file": self.excluded_path,
                "reasons": self.reason_counts(), "advice": self.advice(), "redacted": len(self.redacted),
                "redacted_records": self.redacted}


def excluded_beside(clean_path: str) -> str:
    """`out/clean.jsonl` -> `out/clean.excluded.jsonl`: every record lands in one of the two files."""
    stem, _ = os.path.splitext(clean_path)
    return f"{stem}.excluded.jsonl"


def clean_file(options: CleanOptions, hooks: Optional[checks.Hooks] = None) -> CleanResult:
    """Read, split and write: the outputs are checked before any work (never an input, never a file that exists
    without `overwrite`, never a link or a file inside the package), locked for the whole run, and appear
    together only when both are complete. Raises `NothingKept` when no record would be kept."""
    excluded_path = options.excluded_path
    outputs = paths.check_output_files([options.out, excluded_path], [options.source, *options.validation.benchmark_paths],
                                       options.overwrite, names="--out and --excluded")
    with paths.output_files(outputs, "bioinstruct clean") as (kept_file, excluded_file):
        records = checks.read_records(options.source, options.field_map, hooks=hooks, for_checks=True)
        result = clean(records, options.source, options.validation, hooks, options.personal_information)
        if not result.kept:
            raise NothingKept(result)
        rows = (record_with_id(record) for record in result.kept)
        if options.out.lower().endswith(".json"):
            write_json_array(kept_file, rows)
        else:
            write_json_lines(kept_file, rows)
        write_json_lines(excluded_file, result.excluded)
    result.clean_path, result.excluded_path = options.out, excluded_path
    return result


def clean(records: list[checks.Record], source: str, options: checks.ValidationOptions = checks.ValidationOptions(),
          hooks: Optional[checks.Hooks] = None, personal_information: str = "keep") -> CleanResult:
    """Split records into kept and excluded, in the source's order: own faults first, then repeats among the rest.

    A record holding a personal identifier is kept, excluded (a fault of its own, in stage 1) or redacted (kept
    with each identifier replaced by its kind, before the repeats are looked for), as `personal_information` says;
    `options.gate_personal_information` means exclude.
    """
    if personal_information not in PERSONAL_INFORMATION_ACTIONS:
        raise ValueError(f"personal_information must be one of {PERSONAL_INFORMATION_ACTIONS}, not {personal_information!r}")
    if options.gate_personal_information and personal_information == "keep":
        personal_information = "exclude"
    own_checks = OWN_FAULT_CHECKS + ((checks.PERSONAL_INFORMATION,) if personal_information != "keep" else ())
    redacted: list[dict] = []
    with checks.cyclic_gc_paused():
        own = checks.validate(records, source, options, hooks, own_checks)
        own_rows = checks.rejected_records(own)
        # Redacting keeps the records whose identifiers it replaces; one with a field too long to check stays out.
        faulty = _excluded_reasons(own_rows, kept_reasons={"personal_information"} if personal_information == "redact"
                                   else frozenset())
        rest = [record for record in own.valid if record.index not in faulty]
        if personal_information == "redact":
            rest, redacted = _redacted(rest, own[checks.PERSONAL_INFORMATION].findings.spans, own_rows)
        # Only the greedy filter's drops matter here: it compares with kept records only, and counts no pairs.
        greedy_only = dataclasses.replace(options, count_pairs=False, keep_pairs=0)
        repeats = (_excluded_reasons(checks.rejected_records(checks.validate(rest, source, greedy_only, hooks,
                                                                             REPEAT_CHECKS))) if rest else {})
    reasons = {**faulty, **repeats}  # disjoint: stage 2 saw none of stage 1's
    excluded = [{"index": record.index, "line": record.line, "id": record.id, "reasons": reasons[record.index],
                 "record": record.data} for record in records if record.index in reasons]
    kept = [record for record in rest if record.index not in reasons]
    redacted = [row for row in redacted if row["index"] not in reasons]
    return CleanResult(source=source, read=len(records), kept=kept, excluded=excluded, redacted=redacted)


def _redacted(records: list[checks.Record], spans: dict, rejected: list[dict]) -> tuple[list[checks.Record], list[dict]]:
    """The records with each identifier (`spans`: index -> (field, finding)) replaced by its kind, and the list of
    those changed, with their personal-information reasons as `checks.rejected_records` wrote them."""
    reasons = {row["index"]: [reason for reason in row["reasons"] if reason["reason"] == "personal_information"]
               for row in rejected}
    changed, listed = [], []
    for record in records:
        if record.index not in spans:
            changed.append(record)
            continue
        data = dict(record.data)
        for name in {name for name, _ in spans[record.index]}:
            data[name] = redact(data[name], [finding for field_name, finding in spans[record.index] if field_name == name])
        changed.append(checks.Record(record.index, record.line, data, record.id))
        listed.append({"index": record.index, "line": record.line, "id": record.id, "reasons": reasons[record.index]})
    return changed, listed


def _excluded_reasons(rejected: list[dict], kept_reasons: frozenset = frozenset()) -> dict[int, list[dict]]:
    """Each record's reasons from `checks.rejected_records`, less those that keep the record."""
    reasons = defaultdict(list)
    for row in rejected:
        kept = [reason for reason in row["reasons"] if reason["reason"] not in KEPT_REASONS | kept_reasons]
        if kept:
            reasons[row["index"]] = kept
    return reasons


def record_with_id(record: checks.Record) -> dict:
    """The record as written to the clean file: whole, with its id as an `id` field when the id came from outside
    its fields (a JSON object keyed by id), so that it is read back with the same id."""
    if record.id is None or row_id(record.data) == record.id:
        return record.data
    if "id" in record.data:
        return record.data  # its own `id` field stays as it is; the key was another
    return {"id": record.id, **record.data}


def summary_table(result: CleanResult) -> str:
    lines = [f"{result.source}: {result.read:,} records read",
             f"  kept      {len(result.kept):>10,}  -> {result.clean_path}",
             f"  excluded  {len(result.excluded):>10,}  -> {result.excluded_path}"]
    for reason, count in result.reason_counts().items():
        lines.append(f"    {reason:<34} {count:>10,}")
    if result.redacted:
        lines.append(f"  redacted  {len(result.redacted):>10,}  kept, each personal identifier replaced by its kind")
    advice = result.advice()
    if advice:
        lines.append(f"note: {advice}")
    return "\n".join(lines)
