"""The validation checks: one library behind `bioinstruct validate`, `bioinstruct build` and `bioinstruct push`.

Each check is a small function over the records that returns a `CheckResult`: pass or fail, counts per
snake_case reason code, and the offending records. Only a *gating* check that fails makes the whole
report fail; the others are reported. Records that break the schema are reported by the schema check
and left out of the checks on content, which need three strings.
"""

import functools
import os
import re
import string
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Callable, Optional

from bioinstruct_tools import contamination
from bioinstruct_tools.categories import CATEGORIES, PAPER_SHARES, categorize
from bioinstruct_tools.neardup import (
    SELF_INSTRUCT_THRESHOLD,
    NearDuplicatePair,
    load_kernels_in_background,
    scan_near_duplicates,
)
from bioinstruct_tools.records import (
    EMPTY_WORDS,
    FIELDS,
    PUBLISHED_SIZE,
    UPSTREAM_FILENAME,
    is_empty_input_placeholder,
    placeholder_core,
    read_records,
    schema_violations,
)

# Self-Instruct's post-processing filters (Wang et al. 2023, `bootstrap_instructions.py`).
MIN_INSTRUCTION_WORDS = 3  # an instruction of this many words or fewer is too short
MAX_INSTRUCTION_WORDS = 150  # more than this is too long
BLACKLISTED_WORDS = ("image", "images", "graph", "graphs", "picture", "pictures", "file", "files",
                     "map", "maps", "draw", "plot", "go to")
_BLACKLIST = re.compile(r"\b(" + "|".join(re.escape(word) for word in BLACKLISTED_WORDS) + r")\b", re.I)
# The words no other one contains ("image" for "images"): ASCII text holding none of them cannot
# match, and that substring test is ten times faster than the regex.
_BLACKLIST_STEMS = tuple(word for word in BLACKLISTED_WORDS if not any(o != word and o in word for o in BLACKLISTED_WORDS))

# Outputs that say "no output" instead of being one: "<nooutput>", "<none>", "N/A", "No output."
# A bare "None" is a legitimate answer ("Allergies mentioned: None"), so only the bracketed form fails.
_BRACKETED_EMPTY_OUTPUT = re.compile(rf"no[\s_-]*output|{EMPTY_WORDS}", re.I)
_BARE_EMPTY_OUTPUT = re.compile(r"no[\s_-]*output|n/a", re.I)


def is_placeholder_output(text: str) -> bool:
    core, bracketed = placeholder_core(text)
    return bool((_BRACKETED_EMPTY_OUTPUT if bracketed else _BARE_EMPTY_OUTPUT).fullmatch(core))

_NORMALIZE_DROP = re.compile(rf"[{re.escape(string.punctuation)}\s]+")
_ASCII_PUNCTUATION_AS_SPACE = str.maketrans(string.punctuation, " " * len(string.punctuation))


@functools.cache
def _format_characters() -> dict[int, None]:
    """A `str.translate` table deleting every format character (Unicode category Cf: U+200B, U+FEFF, ...)."""
    return {code: None for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)) == "Cf"}


def normalized_instruction(instruction: str) -> str:
    """The key `--strict` uniqueness compares: NFKC, no format characters, case-folded, punctuation as spaces."""
    if not instruction.isascii():  # ASCII is NFKC already and holds no format character
        instruction = unicodedata.normalize("NFKC", instruction).translate(_format_characters())
        return _NORMALIZE_DROP.sub(" ", instruction.casefold()).strip()
    return " ".join(instruction.lower().translate(_ASCII_PUNCTUATION_AS_SPACE).split())  # the same, faster


@dataclass
class Record:
    index: int
    line: Optional[int]
    data: dict


@dataclass
class Offender:
    reason: str
    detail: str
    index: Optional[int] = None
    line: Optional[int] = None
    pair: Optional[tuple[int, int]] = None  # near-duplicates: (earlier, later)
    score: Optional[float] = None

    def to_json(self) -> dict:
        keys = ("reason", "detail", "index", "line", "pair", "score")
        return {key: getattr(self, key) for key in keys if getattr(self, key) is not None}


@dataclass
class CheckResult:
    name: str
    gating: bool
    passed: bool
    summary: str
    counts: dict[str, int] = field(default_factory=dict)
    offenders: list[Offender] = field(default_factory=list)
    seconds: float = 0.0
    details: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        if self.passed:
            return "pass"
        return "fail" if self.gating else "warn"

    def to_json(self) -> dict:
        return {
            "status": self.status,
            "gating": self.gating,
            "summary": self.summary,
            "counts": self.counts,
            "seconds": round(self.seconds, 4),
            "offenders": [offender.to_json() for offender in self.offenders],
            **self.details,
        }


@dataclass
class Report:
    path: str
    rows: int
    checks: list[CheckResult]
    records: list[Record]

    @property
    def passed(self) -> bool:
        return all(check.passed or not check.gating for check in self.checks)

    @property
    def skipped(self) -> int:
        """Records left out of the content checks because they break the schema."""
        return len({offender.index for offender in self.check("schema").offenders})

    def check(self, name: str) -> CheckResult:
        return next(check for check in self.checks if check.name == name)

    def to_json(self) -> dict:
        return {
            "file": self.path,
            "rows": self.rows,
            "passed": self.passed,
            "checks": {check.name: check.to_json() for check in self.checks},
        }


def _located(record: Record, reason: str, detail: str) -> Offender:
    return Offender(reason=reason, detail=detail, index=record.index, line=record.line)


def _result(name: str, gating: bool, offenders: list[Offender], summary: str, **details) -> CheckResult:
    counts = Counter(offender.reason for offender in offenders)
    return CheckResult(name=name, gating=gating, passed=not offenders, summary=summary,
                       counts=dict(sorted(counts.items())), offenders=offenders, details=details)


# ---------------------------------------------------------------------------------------------------
# The checks
# ---------------------------------------------------------------------------------------------------


def check_schema(records: list[Record]) -> CheckResult:
    offenders = [
        _located(record, reason, message)
        for record in records
        for reason, message in schema_violations(record.data)
    ]
    return _result("schema", True, offenders, f"{len(offenders)} schema violations")


def check_uniqueness(records: list[Record], strict: bool = False) -> CheckResult:
    """Exact repeats of an instruction gate; instructions equal after normalisation gate with `strict`."""
    exact: dict[str, Record] = {}
    normalized: dict[str, Record] = {}
    seen_records: dict[tuple, Record] = {}
    offenders = []
    for record in records:
        instruction = record.data["instruction"]
        whole = tuple(record.data[name] for name in FIELDS)
        if whole in seen_records:
            first = seen_records[whole]
            offenders.append(_located(record, "duplicate_record", f"the whole record repeats record {first.index}"))
        elif instruction in exact:
            first = exact[instruction]
            offenders.append(_located(record, "duplicate_instruction", f"instruction repeats record {first.index}"))
        else:
            key = normalized_instruction(instruction)
            if key in normalized:
                first = normalized[key]
                offenders.append(_located(
                    record, "normalized_duplicate_instruction",
                    f"instruction equals record {first.index}'s after normalising Unicode (NFKC, format "
                    "characters), case, spaces and punctuation"))
            normalized.setdefault(key, record)
        exact.setdefault(instruction, record)
        seen_records.setdefault(whole, record)
    gating_reasons = {"duplicate_record", "duplicate_instruction"} | ({"normalized_duplicate_instruction"} if strict else set())
    result = _result("uniqueness", True, offenders,
                     f"{len(exact)} distinct instructions in {len(records)} schema-valid records")
    result.passed = not any(offender.reason in gating_reasons for offender in offenders)
    return result


def check_size(rows: int, expected_rows: Optional[int]) -> CheckResult:
    if expected_rows is None:
        return _result("size", False, [], f"{rows} rows (no expected size given)")
    offenders = [] if rows == expected_rows else [
        Offender("row_count_mismatch", f"expected {expected_rows} rows, found {rows}")]
    return _result("size", True, offenders, f"{rows} rows, expected {expected_rows}")


def check_placeholders(records: list[Record]) -> CheckResult:
    """Empty-input markers are accepted and counted; an output that is only a placeholder fails."""
    offenders = [
        _located(record, "placeholder_output", f"output is the placeholder {record.data['output'].strip()!r}")
        for record in records
        if is_placeholder_output(record.data["output"])
    ]
    input_placeholders = sum(1 for record in records if is_empty_input_placeholder(record.data["input"]))
    empty_inputs = sum(1 for record in records if not record.data["input"].strip())
    result = _result("placeholders", True, offenders,
                     f"{len(offenders)} placeholder outputs; {input_placeholders} empty-input placeholders, "
                     f"{empty_inputs} empty inputs",
                     empty_input_placeholders=input_placeholders, empty_inputs=empty_inputs)
    return result


def self_instruct_filter_findings(instruction: str) -> list[tuple[str, str]]:
    """The Self-Instruct post-processing rules that `instruction` breaks, as (reason code, detail) pairs."""
    findings = []
    words = len(instruction.split())
    if words <= MIN_INSTRUCTION_WORDS:
        findings.append(("instruction_too_short", f"{words} words (Self-Instruct needs more than {MIN_INSTRUCTION_WORDS})"))
    if words > MAX_INSTRUCTION_WORDS:
        findings.append(("instruction_too_long", f"{words} words (Self-Instruct allows {MAX_INSTRUCTION_WORDS})"))
    keyword = None
    lowered = instruction.lower()
    if not instruction.isascii() or any(stem in lowered for stem in _BLACKLIST_STEMS):
        keyword = _BLACKLIST.search(instruction)
    if keyword:
        findings.append(("blacklisted_keyword", f"mentions {keyword.group(0)!r}"))
    if instruction and instruction[0] in string.punctuation:
        findings.append(("starts_with_punctuation", f"starts with {instruction[0]!r}"))
    if instruction and not instruction[0].isascii():
        findings.append(("starts_with_non_ascii", f"starts with {instruction[0]!r}"))
    return findings


def self_instruct_filter_reasons(instruction: str) -> list[str]:
    return [reason for reason, _ in self_instruct_filter_findings(instruction)]


def check_self_instruct_filters(records: list[Record], strict: bool = False) -> CheckResult:
    offenders = [
        _located(record, reason, detail)
        for record in records
        for reason, detail in self_instruct_filter_findings(record.data["instruction"])
    ]
    return _result("self_instruct_filters", strict, offenders,
                   f"{len({o.index for o in offenders})} instructions Self-Instruct's filters would drop")


def check_near_duplicates(records: list[Record], threshold: float = SELF_INSTRUCT_THRESHOLD, gating: bool = False,
                          progress: Optional[Callable[[int], None]] = None, keep_pairs: int = 5,
                          on_pairs: Optional[Callable[[list[NearDuplicatePair]], None]] = None) -> CheckResult:
    """Pairs above `threshold`, counted exactly; the first `keep_pairs` are kept as offenders.

    Pairs are ordered by their later record, then the earlier; `on_pairs` receives every pair (as
    positions in `records`) while the search streams, so memory does not grow with the pairs.
    """
    instructions = [record.data["instruction"] for record in records]
    scan = scan_near_duplicates(instructions, threshold=threshold, keep=keep_pairs, on_pairs=on_pairs,
                                progress=progress)
    offenders = [
        Offender(
            reason="near_duplicate",
            detail=f"ROUGE-L {pair.score:.3f}: {instructions[pair.first]!r} ~ {instructions[pair.second]!r}",
            pair=(records[pair.first].index, records[pair.second].index),
            score=pair.score,
        )
        for pair in scan.first_pairs
    ]
    dropped = [records[position].index for position in scan.dropped]
    partners = [records[scan.kept_partner[position]].index for position in scan.dropped]
    result = _result("near_duplicates", gating, offenders,
                     f"{scan.pairs} pairs above ROUGE-L {threshold}; Self-Instruct's greedy filter would drop "
                     f"{len(dropped)}", threshold=threshold, pairs=scan.pairs, greedy_dropped=dropped,
                     greedy_kept_partner=partners)
    result.counts = {"near_duplicate": scan.pairs} if scan.pairs else {}
    result.passed = scan.pairs == 0
    return result


@dataclass
class Benchmarks:
    """Evaluation sets to check the records against (`--against`), and how; each is read as it is searched."""

    paths: list[str]
    split: Optional[str] = None  # of a benchmark folder
    bench_fields: tuple[str, ...] = contamination.DEFAULT_BENCH_FIELDS
    fields: tuple[str, ...] = contamination.DEFAULT_FIELDS
    ngram: int = contamination.DEFAULT_NGRAM
    gating: bool = False


def check_contamination(records: list[Record], benchmarks: Benchmarks) -> CheckResult:
    """Records that share a word n-gram (or, when short, their whole field) with a benchmark item."""
    data = [record.data for record in records]
    offenders, per_benchmark = [], {}
    for name in benchmarks.paths:
        items = contamination.iter_benchmark(name, benchmarks.split)
        found = contamination.find_contamination(data, items, name, fields=benchmarks.fields,
                                                 bench_fields=benchmarks.bench_fields, ngram=benchmarks.ngram)
        matches = []
        for position, fields in sorted(found.matches.items()):
            for match in fields:
                offenders.append(_located(records[position], "benchmark_overlap",
                                          f"{match.field}: {describe_match(match, benchmarks.ngram)} of {name}"))
                matches.append({"index": records[position].index, "line": records[position].line,
                                "field": match.field, "ngrams": match.windows, "matched": match.matched,
                                "fraction": round(match.fraction, 4), "whole_field": match.whole_field,
                                "items": match.items})
        per_benchmark[name] = {"items": found.items, "records": len(found.matches),
                               "by_field": found.records_by_field(), "matches": matches}
    contaminated = len({offender.index for offender in offenders})
    summary = (f"{contaminated} records overlap "
               + ", ".join(f"{name} ({figures['records']})" for name, figures in per_benchmark.items())
               + f" ({benchmarks.ngram}-grams of {', '.join(benchmarks.fields)})")
    return _result("contamination", benchmarks.gating, offenders, summary, ngram=benchmarks.ngram,
                   benchmarks=per_benchmark)


def describe_match(match: "contamination.FieldMatch", ngram: int) -> str:
    items = ", ".join(map(str, match.items[:10])) + (f" and {len(match.items) - 10} more" if len(match.items) > 10 else "")
    if match.whole_field:
        return f"the whole field (shorter than {ngram} words) in item{'s' if len(match.items) > 1 else ''} {items}"
    return (f"{match.matched} of its {match.windows} {ngram}-grams ({match.fraction:.0%}) in "
            f"item{'s' if len(match.items) > 1 else ''} {items}")


def check_categories(records: list[Record]) -> CheckResult:
    counts = Counter(categorize(record.data["instruction"], record.data["input"]) for record in records)
    total = max(len(records), 1)
    shares = {category: counts.get(category, 0) / total for category in CATEGORIES}
    summary = ", ".join(
        f"{category} {shares[category]:.1%} (paper {PAPER_SHARES[category]:.1%})"
        for category in CATEGORIES
    )
    result = _result("categories", False, [], summary,
                     rows={category: counts.get(category, 0) for category in CATEGORIES},
                     shares=shares, paper_shares=dict(PAPER_SHARES))
    return result


# ---------------------------------------------------------------------------------------------------
# Running them
# ---------------------------------------------------------------------------------------------------


def default_expected_rows(path: str) -> Optional[int]:
    """The published size for the upstream file (known by its name); no size gate for other files."""
    return PUBLISHED_SIZE if os.path.basename(path) == UPSTREAM_FILENAME else None


def validate_file(path: str, **options) -> Report:
    """Read `path` and run every check (options as for `validate_records`).

    Raises `records.UnreadableFileError` if the file cannot be read.
    """
    load_kernels_in_background()
    records = [Record(index, line, data) for index, line, data in read_records(path)]
    return validate_records(records, path, **options)


def validate_records(
    records: list[Record],
    path: str,
    expected_rows: Optional[int] = None,
    strict: bool = False,
    near_duplicate_threshold: float = SELF_INSTRUCT_THRESHOLD,
    gate_near_duplicates: bool = False,
    progress: Optional[Callable[[int], None]] = None,
    keep_pairs: int = 5,
    on_pairs: Optional[Callable[[list[NearDuplicatePair]], None]] = None,
    benchmarks: Optional[Benchmarks] = None,
) -> Report:
    """Run every check on records already read (`path` names where they came from in the report).

    Near-duplicate pairs are counted exactly but only the first `keep_pairs` are kept; `on_pairs` gets
    them all, as record indices, while they stream.
    """
    schema = _timed(check_schema, records)
    invalid = {offender.index for offender in schema.offenders}
    valid = [record for record in records if record.index not in invalid]
    checks = [
        schema,
        _timed(check_uniqueness, valid, strict=strict),
        _timed(check_size, len(records), expected_rows),
        _timed(check_placeholders, valid),
        _timed(check_self_instruct_filters, valid, strict=strict),
        _timed(check_near_duplicates, valid, threshold=near_duplicate_threshold, gating=gate_near_duplicates,
               progress=progress, keep_pairs=keep_pairs, on_pairs=_in_record_indices(on_pairs, valid)),
        _timed(check_categories, valid),
    ]
    if benchmarks is not None and benchmarks.paths:
        checks.append(_timed(check_contamination, valid, benchmarks))
    return Report(path=path, rows=len(records), checks=checks, records=records)


def _timed(run, *args, **kwargs) -> CheckResult:
    start = time.perf_counter()
    result = run(*args, **kwargs)
    result.seconds = time.perf_counter() - start
    return result


def _in_record_indices(on_pairs, records: list[Record]):
    """`on_pairs` fed pairs of record indices rather than positions among the schema-valid records."""
    if on_pairs is None:
        return None
    return lambda pairs: on_pairs([NearDuplicatePair(records[pair.first].index, records[pair.second].index, pair.score)
                                   for pair in pairs])


def rejected_records(report: Report) -> list[dict]:
    """Every offending record with its reason codes, for `--rejects` (near-duplicates: the ones the greedy filter drops)."""
    reasons: dict[int, list[dict]] = defaultdict(list)
    for check in report.checks:
        for offender in check.offenders:
            if offender.index is not None:
                reasons[offender.index].append({"check": check.name, "reason": offender.reason, "detail": offender.detail})
    near = report.check("near_duplicates")
    # each dropped record's earliest kept near-duplicate, the one the greedy filter met
    for index, partner in zip(near.details["greedy_dropped"], near.details["greedy_kept_partner"]):
        reasons[index].append({"check": "near_duplicates", "reason": "near_duplicate",
                               "detail": f"ROUGE-L above {near.details['threshold']} with record {partner}"})
    by_index = {record.index: record for record in report.records}
    return [
        {"index": index, "line": by_index[index].line, "reasons": reasons[index], "record": by_index[index].data}
        for index in sorted(reasons)
    ]
