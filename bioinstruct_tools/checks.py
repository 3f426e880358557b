"""The validation checks: one library behind `validate`, `build`, `report`, `push` and `contamination`.

Each check is a unit, as datatrove's filters are: a name, whether it gates under the options given, and
a `run` over the records that returns a `CheckResult` (pass, fail, warn or skip, counts per snake_case
reason code, and the offending records). `CHECKS` is the registry; a `Validation` holds each check's
result, looked up by the check itself (`validation[NEAR_DUPLICATES]`), so every command reads what
validation computed instead of computing it again. Only a gating check that fails makes a validation
fail. Records that break the schema are reported by the schema check and left out of the checks on
content, which need three strings.
"""

import contextlib
import gc
import os
import re
import string
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from typing import Any, Callable, ContextManager, Iterator, Optional, Sequence

import numpy as np

from bioinstruct_tools import contamination, personal_information, workers
from bioinstruct_tools.benchmarks import Benchmark
from bioinstruct_tools.categories import CATEGORIES, PAPER_SHARES, categorize_many, categorizing
from bioinstruct_tools.neardup import SELF_INSTRUCT_THRESHOLD, greedy_filter, load_kernels_in_background
from bioinstruct_tools.neardup import scan_near_duplicates
from bioinstruct_tools.published import expected_rows
from bioinstruct_tools.records import EMPTY_WORDS, FIELDS, is_empty_input_placeholder, placeholder_core, schema_violations
from bioinstruct_tools.json_reader import reading_progress
from bioinstruct_tools.sources import NO_FIELD_MAP, FieldMap, SourceRecord, read_source
from bioinstruct_tools.text import normalized_text, plural

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


# ---------------------------------------------------------------------------------------------------
# Options and results
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContaminationOptions:
    """The evaluation sets to check the records against (`--against`), and how."""

    benchmarks: tuple[Benchmark, ...]
    bench_fields: tuple[str, ...] = contamination.DEFAULT_BENCH_FIELDS
    fields: tuple[str, ...] = contamination.DEFAULT_FIELDS
    ngram: int = contamination.DEFAULT_NGRAM
    gating: bool = False
    max_items: int = contamination.DEFAULT_MAX_ITEMS  # n-grams in more benchmark items are boilerplate
    min_overlap: float = contamination.DEFAULT_MIN_OVERLAP  # the share of a field's n-grams that must be found
    bench_fields_named: bool = False  # given on the command line: each must be a field of the benchmark


@dataclass(frozen=True)
class ValidationOptions:
    """Everything a validation run can be told; one object from the command line to every check."""

    expected_rows: Optional[int] = None  # None: no size gate
    strict: bool = False  # Self-Instruct's filters and normalised duplicates gate too
    near_duplicate_threshold: float = SELF_INSTRUCT_THRESHOLD
    gate_near_duplicates: bool = False
    keep_pairs: int = 5  # near-duplicate pairs kept in the result (all are counted)
    count_pairs: bool = True  # False: only Self-Instruct's greedy filter runs (what `clean` needs), pairs uncounted
    contamination: Optional[ContaminationOptions] = None
    histogram_from: Optional[float] = None  # also histogram pair scores from here, in the same scan (figures)
    gate_personal_information: bool = False  # a record holding a personal identifier fails the run

    @property
    def benchmark_paths(self) -> list[str]:
        """The `--against` files and folders: inputs that no output may overwrite."""
        return [benchmark.path for benchmark in self.contamination.benchmarks] if self.contamination else []


@contextlib.contextmanager
def no_steps(name: str, total: Optional[int] = None, unit: str = "record") -> Iterator[Callable[[int], None]]:
    yield lambda done: None


@dataclass
class Hooks:
    """What a run reports while it goes.

    `steps(name, total, unit)` is entered around each long step (reading, each check) and yields the step's
    `update(done)`; a command draws it as a progress bar. `progress` is the running step's update, which
    `validate` sets for each check. `on_pairs(first, second, score)` receives every near-duplicate pair as it
    streams: arrays of record indices and scores, a batch at a time.
    """

    steps: Callable[..., ContextManager[Callable[[int], None]]] = no_steps
    progress: Callable[[int], None] = lambda done: None
    on_pairs: Optional[Callable[[np.ndarray, np.ndarray, np.ndarray], None]] = None


def each(records: Sequence, hooks: Hooks, every: int = 4096) -> Iterator:
    """The records, telling `hooks.progress` every `every` of them."""
    for start in range(0, len(records), every):
        yield from records[start:start + every]
        hooks.progress(min(every, len(records) - start))


Record = SourceRecord  # index, line, data and the source's own id (a keyed object's key, an `id` field)


def numbered(rows: list[dict]) -> list[Record]:
    """Rows that have no lines (a parquet table, a built folder) as records numbered from 0."""
    return [Record(index, None, row) for index, row in enumerate(rows)]


@dataclass
class Offender:
    reason: str
    detail: str
    index: Optional[int] = None
    line: Optional[int] = None
    pair: Optional[tuple[int, int]] = None  # near-duplicates: (earlier, later)
    score: Optional[float] = None
    id: Optional[str] = None  # the record's own id, when the source has one
    partner: Optional[int] = None  # the earlier record this one repeats, which is kept
    evidence: Optional[dict] = None  # personal information: {"kind", "field", "span": [start, end]}

    def to_json(self) -> dict:
        keys = ("reason", "detail", "index", "line", "id", "pair", "score", "partner")
        return {key: getattr(self, key) for key in keys if getattr(self, key) is not None} | (self.evidence or {})


# What a check found beyond its offenders, in fields: one type per check that has more to say. The report,
# the card, `clean`, the rejects writer and `--json` read these fields, never a dict by string key.


@dataclass
class PlaceholderFindings:
    empty_input_placeholders: int  # "<noinput>" and the like, read as no input
    empty_inputs: int

    def to_json(self) -> dict:
        return {"empty_input_placeholders": self.empty_input_placeholders, "empty_inputs": self.empty_inputs}


@dataclass
class NearDuplicateFindings:
    threshold: float
    pairs: Optional[int]  # every pair above the threshold, counted exactly (the offenders keep only the first); None: not counted
    greedy_dropped: list[int]  # record indices Self-Instruct's greedy filter drops, ascending
    greedy_kept_partner: list[int]  # for each, the earliest kept record it repeats
    histogram: Optional[np.ndarray] = None  # pair scores in bins of 0.01 from `histogram_from`; never printed

    def to_json(self) -> dict:
        return {"threshold": self.threshold, "pairs": self.pairs, "greedy_dropped": self.greedy_dropped,
                "greedy_kept_partner": self.greedy_kept_partner}


@dataclass
class PersonalInformationFindings:
    by_kind: dict[str, int]  # findings per kind, every kind listed (0 when none)
    records: int  # records holding any
    checked: int  # records read
    spans: dict[int, list[tuple[str, personal_information.Finding]]]  # record index -> (field, finding); never printed
    unchecked: int = 0  # records with a field too long to read (personal_information.MAX_CHECKED_CHARACTERS)

    def to_json(self) -> dict:
        return {"by_kind": self.by_kind, "records": self.records, "checked": self.checked, "unchecked": self.unchecked}


@dataclass
class CategoryFindings:
    labels: list[str]  # every schema-valid record's category, in order; never printed
    rows: dict[str, int]
    shares: dict[str, float]
    paper_shares: dict[str, float]

    def to_json(self) -> dict:
        return {"rows": self.rows, "shares": self.shares, "paper_shares": self.paper_shares}


@dataclass
class BenchmarkOverlap:
    """What one benchmark shares with the records."""

    items: int
    split: Optional[str]
    records: int  # records that overlap it
    by_field: dict[str, int]  # records per field that overlaps
    boilerplate_ngrams: int  # n-grams ignored for being in more than `max_items` items
    matches: list[dict]  # each overlapping field: index, line, id, field, ngrams, matched, fraction, whole_field, items

    def to_json(self) -> dict:
        return {"items": self.items, "split": self.split, "records": self.records, "by_field": self.by_field,
                "boilerplate_ngrams": self.boilerplate_ngrams, "matches": self.matches}


@dataclass
class ContaminationFindings:
    ngram: int
    fields: tuple[str, ...]
    benchmarks: dict[str, BenchmarkOverlap]  # by the benchmark's path

    def to_json(self) -> dict:
        return {"ngram": self.ngram, "benchmarks": {path: overlap.to_json() for path, overlap in self.benchmarks.items()}}


@dataclass
class CheckResult:
    name: str
    gating: bool
    passed: bool
    summary: str
    counts: dict[str, int] = field(default_factory=dict)
    offenders: list[Offender] = field(default_factory=list)
    seconds: float = 0.0
    findings: Optional[object] = None  # the check's own result type, when it has more to say than offenders
    skipped: bool = False  # nothing to look at: neither passed nor failed
    informational: bool = False  # never gates and never fails: it reports (the category shares)

    @property
    def status(self) -> str:
        if self.skipped:
            return "skip"
        if self.informational:
            return "info"
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
            **(self.findings.to_json() if self.findings is not None else {}),
        }


@dataclass
class Subject:
    """What the checks look at: every record read, and those that passed the schema."""

    records: list[Record]
    valid: list[Record]
    started: dict[str, Any] = field(default_factory=dict)  # each check's work begun in the background, by name


def _located(record: Record, reason: str, detail: str, partner: Optional[Record] = None) -> Offender:
    return Offender(reason=reason, detail=detail, index=record.index, line=record.line, id=record.id,
                    partner=partner.index if partner is not None else None)


def _result(name: str, gating: bool, offenders: list[Offender], summary: str, findings=None) -> CheckResult:
    counts = Counter(offender.reason for offender in offenders)
    return CheckResult(name=name, gating=gating, passed=not offenders, summary=summary,
                       counts=dict(sorted(counts.items())), offenders=offenders, findings=findings)


def _nothing_to_check(name: str, gating: bool, what: str) -> CheckResult:
    return CheckResult(name=name, gating=gating, passed=True, summary=f"nothing to check: {what}", skipped=True)


# ---------------------------------------------------------------------------------------------------
# The checks
# ---------------------------------------------------------------------------------------------------


class Check:
    """One validation rule: its name, whether it gates under the options, and its run over the records."""

    name = ""
    reads_content = True  # looks at the schema-valid records: skipped, said once in `validate`, when there are none

    def gates(self, options: ValidationOptions) -> bool:
        return True

    def applies(self, options: ValidationOptions) -> bool:
        return True

    def start(self, subject: Subject, options: ValidationOptions, background: contextlib.ExitStack) -> None:
        """Begin work in the background once the schema-valid records are known, while the checks before this one
        run; `background` stops it when the run ends. Most checks have none."""

    def run(self, subject: Subject, options: ValidationOptions, hooks: Hooks) -> CheckResult:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<check {self.name}>"


class SchemaCheck(Check):
    name = "schema"
    reads_content = False

    def run(self, subject, options, hooks):
        if not subject.records:
            return _nothing_to_check(self.name, True, "no records")
        offenders = [_located(record, reason, _with_hint(reason, message, record.data))
                     for record in each(subject.records, hooks) for reason, message in schema_violations(record.data)]
        return _result(self.name, True, offenders, plural(len(offenders), "schema violation"))


def _with_hint(reason: str, message: str, data: dict) -> str:
    """A missing field's message says which fields the record has and how to map one."""
    if reason != "missing_field":
        return message
    field = message.split("'")[1]
    has = ", ".join(repr(name) for name in list(data)[:12]) or "no field"
    absent = " (or input= when the file has none)" if field == "input" else ""
    return f"{message}; the record has {has}: name the file's field with --field-map {field}=NAME{absent}"


class UniquenessCheck(Check):
    """Exact repeats of an instruction gate; instructions equal after normalisation gate with `strict`."""

    name = "uniqueness"

    def run(self, subject, options, hooks):
        exact: dict[str, Record] = {}
        normalized: dict[str, Record] = {}
        seen_records: dict[tuple, Record] = {}
        offenders = []
        for record in each(subject.valid, hooks):
            instruction = record.data["instruction"]
            whole = tuple(record.data[name] for name in FIELDS)
            if whole in seen_records:
                first = seen_records[whole]
                offenders.append(_located(record, "duplicate_record", f"the whole record repeats record {first.index}",
                                          first))
            elif instruction in exact:
                first = exact[instruction]
                offenders.append(_located(record, "duplicate_instruction", f"instruction repeats record {first.index}",
                                          first))
            else:
                key = normalized_text(instruction)
                if key in normalized:
                    first = normalized[key]
                    offenders.append(_located(
                        record, "normalized_duplicate_instruction",
                        f"instruction equals record {first.index}'s after normalising Unicode (NFKC, format "
                        "characters), case, spaces and punctuation", first))
                normalized.setdefault(key, record)
            exact.setdefault(instruction, record)
            seen_records.setdefault(whole, record)
        gating = {"duplicate_record", "duplicate_instruction"} | ({"normalized_duplicate_instruction"} if options.strict else set())
        result = _result(self.name, True, offenders,
                         f"{plural(len(exact), 'distinct instruction')} in "
                         f"{plural(len(subject.valid), 'schema-valid record')}")
        result.passed = not any(offender.reason in gating for offender in offenders)
        return result


class SizeCheck(Check):
    name = "size"
    reads_content = False

    def gates(self, options):
        return options.expected_rows is not None

    def run(self, subject, options, hooks):
        rows, expected = len(subject.records), options.expected_rows
        if expected is None:
            return CheckResult(self.name, False, True, f"{plural(rows, 'row')} (no expected size given)", skipped=True)
        offenders = [] if rows == expected else [Offender("row_count_mismatch", f"expected {expected} rows, found {rows}")]
        return _result(self.name, True, offenders, f"{plural(rows, 'row')}, expected {expected:,}")


class PlaceholdersCheck(Check):
    """Empty-input markers are accepted and counted; an output that is only a placeholder fails."""

    name = "placeholders"

    def run(self, subject, options, hooks):
        records = subject.valid
        offenders = [_located(record, "placeholder_output", f"output is the placeholder {record.data['output'].strip()!r}")
                     for record in records if is_placeholder_output(record.data["output"])]
        input_placeholders = sum(1 for record in records if is_empty_input_placeholder(record.data["input"]))
        empty_inputs = sum(1 for record in records if not record.data["input"].strip())
        return _result(self.name, True, offenders,
                       f"{plural(len(offenders), 'placeholder output')}; "
                       f"{plural(input_placeholders, 'empty-input placeholder')}, {plural(empty_inputs, 'empty input')}",
                       PlaceholderFindings(input_placeholders, empty_inputs))


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


class SelfInstructFiltersCheck(Check):
    name = "self_instruct_filters"

    def gates(self, options):
        return options.strict

    def run(self, subject, options, hooks):
        offenders = [_located(record, reason, detail)
                     for record in subject.valid
                     for reason, detail in self_instruct_filter_findings(record.data["instruction"])]
        return _result(self.name, self.gates(options), offenders,
                       f"{plural(len({o.index for o in offenders}), 'instruction')} Self-Instruct's filters "
                       "would drop")


class NearDuplicatesCheck(Check):
    """Pairs above the threshold, counted exactly; the first `keep_pairs` are kept as offenders.

    Pairs are ordered by their later record, then the earlier; `hooks.on_pairs` receives every pair
    (as record indices) while the search streams, so memory does not grow with the pairs. With
    `histogram_from`, the same scan also counts the scores of every pair above that lower threshold.
    """

    name = "near_duplicates"

    def gates(self, options):
        return options.gate_near_duplicates

    def run(self, subject, options, hooks):
        threshold, records = options.near_duplicate_threshold, subject.valid
        instructions = [record.data["instruction"] for record in records]
        on_pairs = None
        if hooks.on_pairs is not None:
            index_of = np.fromiter((record.index for record in records), dtype=np.int64, count=len(records))
            on_pairs = lambda first, second, score: hooks.on_pairs(index_of[first], index_of[second], score)  # noqa: E731
        # Tokenizing a large corpus comes before the first instruction is scanned (seconds at 100,000): its own bar.
        with hooks.steps("near duplicates: tokenizing", len(instructions), "record") as tokenized:
            if options.count_pairs:
                scan = scan_near_duplicates(instructions, threshold=threshold, keep=options.keep_pairs,
                                            on_pairs=on_pairs, progress=hooks.progress,
                                            histogram_from=options.histogram_from, tokenized=tokenized)
            else:  # compares with kept records only: all-similar records cost N comparisons, not N^2/2
                scan = greedy_filter(instructions, threshold=threshold, progress=hooks.progress, tokenized=tokenized)
        offenders = [
            Offender(reason="near_duplicate",
                     detail=f"ROUGE-L {pair.score:.3f}: {instructions[pair.first]!r} ~ {instructions[pair.second]!r}",
                     pair=(records[pair.first].index, records[pair.second].index), score=pair.score)
            for pair in scan.first_pairs
        ]
        dropped = [records[position].index for position in scan.dropped]
        partners = [records[scan.kept_partner[position]].index for position in scan.dropped]
        pairs = f"{plural(scan.pairs, 'pair')}" if scan.pairs is not None else "pairs not counted"
        result = _result(self.name, self.gates(options), offenders,
                         f"{pairs} above ROUGE-L {threshold}; Self-Instruct's greedy filter would drop {len(dropped):,}",
                         NearDuplicateFindings(threshold, scan.pairs, dropped, partners, scan.scores))
        found = scan.pairs if scan.pairs is not None else len(dropped)
        result.counts = {"near_duplicate": found} if found else {}
        result.passed = found == 0
        return result


class PersonalInformationCheck(Check):
    """The identifiers of HIPAA's Safe Harbor list in instruction, input and output (`personal_information`):
    a warning, or a gate with `gate_personal_information`. One offender per identifier, with its kind, field
    and span; the counts are by kind."""

    name = "personal_information"

    def gates(self, options):
        return options.gate_personal_information

    def start(self, subject, options, background):
        # a large batch is read by forked workers while the checks before this one run here
        subject.started[self.name] = background.enter_context(_personal_information_search(subject.valid))

    def run(self, subject, options, hooks):
        offenders, spans, unchecked = [], {}, set()
        searching = subject.started.get(self.name) or _personal_information_search(subject.valid)
        for record, fields in zip(subject.valid, searching.results(hooks.progress)):
            for name, findings in fields:
                if findings is None:  # too long: reported, never passed as clean
                    unchecked.add(record.index)
                    offenders.append(_located(record, "personal_information_unchecked",
                                              f"{name}: {len(record.data[name]):,} characters, more than the "
                                              f"{personal_information.MAX_CHECKED_CHARACTERS:,} the check reads"))
                    continue
                for finding in findings:
                    spans.setdefault(record.index, []).append((name, finding))
                    offenders.append(Offender(
                        reason="personal_information", detail=f"{finding.kind} in {name}: {finding.text!r}",
                        index=record.index, line=record.line, id=record.id,
                        evidence={"kind": finding.kind, "field": name, "span": [finding.start, finding.end]}))
        by_kind = Counter(offender.evidence["kind"] for offender in offenders if offender.evidence)
        found = ", ".join(f"{kind} {count:,}" for kind, count in by_kind.most_common())
        identifiers = sum(by_kind.values())
        result = _result(self.name, self.gates(options), offenders,
                         f"{plural(identifiers, 'personal identifier')} in {plural(len(spans), 'record')} of "
                         f"{len(subject.valid):,}" + (f" ({found})" if found else "")
                         + (f"; {plural(len(unchecked), 'record')} too long to check" if unchecked else ""),
                         PersonalInformationFindings({kind: by_kind.get(kind, 0) for kind in personal_information.KINDS},
                                                     len(spans), len(subject.valid), spans, len(unchecked)))
        result.counts = dict(sorted(by_kind.items())) | ({"too_long_to_check": len(unchecked)} if unchecked else {})
        return result


def _personal_information_search(records: list[Record]) -> workers.ForkedMap:
    """Each record's identifiers, field by field; on the cores for a large batch."""
    return workers.ForkedMap(_personal_information_in, records, parallel_from=8192, chunk=2048)


def _personal_information_in(record: Record) -> tuple[tuple[str, Optional[list]], ...]:
    """(field, its findings) for each field with any, and (field, None) for one too long to check; the empty tuple
    (one object, shared) for most records, which have neither."""
    found = []
    for name in FIELDS:
        text = record.data[name]
        if len(text) > personal_information.MAX_CHECKED_CHARACTERS:
            found.append((name, None))
        else:
            findings = personal_information.find(text)
            if findings:
                found.append((name, findings))
    return tuple(found)


class CategoriesCheck(Check):
    """Each category's share beside the paper's; keeps every record's category for the build and the report."""

    name = "categories"

    def gates(self, options):
        return False

    def start(self, subject, options, background):
        # the last check to run, and the longest: its workers decide while the other checks run here
        subject.started[self.name] = background.enter_context(categorizing(_texts(subject.valid)))

    def run(self, subject, options, hooks):
        pending = subject.started.get(self.name)
        decided = pending.result(hooks.progress) if pending else categorize_many(_texts(subject.valid), hooks.progress)
        labels = [category for category, _ in decided]
        counts = Counter(labels)
        shares = {category: counts.get(category, 0) / len(labels) for category in CATEGORIES}
        summary = ", ".join(f"{category} {shares[category]:.1%} (paper {PAPER_SHARES[category]:.1%})"
                            for category in CATEGORIES)
        result = _result(self.name, False, [], summary, CategoryFindings(
            labels, {category: counts.get(category, 0) for category in CATEGORIES}, shares, dict(PAPER_SHARES)))
        result.informational = True  # the shares are information: no share is wrong
        return result


def _texts(records: list[Record]) -> list[tuple[str, str]]:
    return [(record.data["instruction"], record.data["input"]) for record in records]


class ContaminationCheck(Check):
    """Records that share a word n-gram (or, when long enough, their whole field) with a benchmark item."""

    name = "contamination"

    def applies(self, options):
        return options.contamination is not None and bool(options.contamination.benchmarks)

    def gates(self, options):
        return options.contamination is not None and options.contamination.gating

    def run(self, subject, options, hooks):
        against = options.contamination
        records = subject.valid
        data = [record.data for record in records]
        offenders, per_benchmark = [], {}
        for benchmark in against.benchmarks:
            # a step of its own: the benchmark's items stream from its file, so their number is not known before
            with hooks.steps(f"against {os.path.basename(benchmark.path.rstrip('/'))}", None, "item") as update:
                found = contamination.find_contamination(
                    data, benchmark.items(), benchmark.path, fields=against.fields, bench_fields=against.bench_fields,
                    ngram=against.ngram, max_items=against.max_items, min_overlap=against.min_overlap,
                    every_field_named=against.bench_fields_named, progress=update)
            matches = []
            for position, fields in sorted(found.matches.items()):
                for match in fields:
                    offenders.append(_located(records[position], "benchmark_overlap",
                                              f"{match.field}: {describe_match(match, against.ngram)} of {benchmark.path}"))
                    matches.append({"index": records[position].index, "line": records[position].line,
                                    "id": records[position].id, "field": match.field, "ngrams": match.windows,
                                    "matched": match.matched, "fraction": round(match.fraction, 4),
                                    "whole_field": match.whole_field, "items": match.item_ids})
            per_benchmark[benchmark.path] = BenchmarkOverlap(found.items, benchmark.split, len(found.matches),
                                                             found.records_by_field(), found.boilerplate, matches)
        contaminated = len({offender.index for offender in offenders})
        summary = (f"{plural(contaminated, 'record')} overlap "
                   + ", ".join(f"{name} ({overlap.records})" for name, overlap in per_benchmark.items())
                   + f" ({against.ngram}-grams of {', '.join(against.fields)})")
        return _result(self.name, against.gating, offenders, summary,
                       ContaminationFindings(against.ngram, against.fields, per_benchmark))


def describe_match(match: "contamination.FieldMatch", ngram: int) -> str:
    items = ", ".join(match.item_ids[:10]) + (f" and {len(match.items) - 10} more" if len(match.items) > 10 else "")
    if match.whole_field:
        return f"the whole field (shorter than {ngram} words) in item{'s' if len(match.items) > 1 else ''} {items}"
    return (f"{match.matched} of its {match.windows} {ngram}-grams ({match.fraction:.0%}) in "
            f"item{'s' if len(match.items) > 1 else ''} {items}")


# The registry, in the order they run and print.
SCHEMA, UNIQUENESS, SIZE = SchemaCheck(), UniquenessCheck(), SizeCheck()
PLACEHOLDERS, SELF_INSTRUCT_FILTERS = PlaceholdersCheck(), SelfInstructFiltersCheck()
NEAR_DUPLICATES, CATEGORIES_CHECK, CONTAMINATION = NearDuplicatesCheck(), CategoriesCheck(), ContaminationCheck()
PERSONAL_INFORMATION = PersonalInformationCheck()
CHECKS: tuple[Check, ...] = (SCHEMA, UNIQUENESS, SIZE, PLACEHOLDERS, SELF_INSTRUCT_FILTERS, NEAR_DUPLICATES,
                             PERSONAL_INFORMATION, CATEGORIES_CHECK, CONTAMINATION)


# ---------------------------------------------------------------------------------------------------
# Running them
# ---------------------------------------------------------------------------------------------------


@dataclass
class Validation:
    """Every check's result on one source, and the records they looked at."""

    path: str
    rows: int
    results: dict[str, CheckResult]  # by check name, in the registry's order
    records: list[Record]
    valid: list[Record]

    def __getitem__(self, check: Check) -> CheckResult:
        return self.results[check.name]

    def get(self, check: Check) -> Optional[CheckResult]:
        return self.results.get(check.name)

    @property
    def checks(self) -> list[CheckResult]:
        return list(self.results.values())

    @property
    def passed(self) -> bool:
        return all(check.passed or not check.gating for check in self.checks)

    @property
    def skipped(self) -> int:
        """Records left out of the content checks because they break the schema."""
        return len(self.records) - len(self.valid)

    def category_labels(self) -> list[str]:
        """The category of every schema-valid record, as the categories check assigned it."""
        findings = self[CATEGORIES_CHECK].findings
        return findings.labels if findings is not None else []

    def to_json(self) -> dict:
        return {"file": self.path, "rows": self.rows, "passed": self.passed,
                "checks": {check.name: check.to_json() for check in self.checks}}


def validate_file(path: str, options: ValidationOptions = ValidationOptions(), hooks: Optional[Hooks] = None,
                  checks: Sequence[Check] = CHECKS, display: Optional[str] = None,
                  field_map: FieldMap = NO_FIELD_MAP) -> Validation:
    """Read `path`, any shape `sources` reads (a built folder only once its layout is checked), and run the
    checks; raises `records.UnreadableFileError` if it cannot be read.

    The size gate follows `published.expected_rows`: the upstream file (by URL or name) is expected to hold
    the published size unless `options.expected_rows` says otherwise.
    """
    options = replace(options, expected_rows=expected_rows(options.expected_rows, source=display or path))
    records = read_records(path, field_map, display, hooks, for_checks=True)
    with cyclic_gc_paused():
        return validate(records, display or path, options, hooks, checks)


def read_records(path: str, field_map: FieldMap = NO_FIELD_MAP, display: Optional[str] = None,
                 hooks: Optional[Hooks] = None, for_checks: bool = False) -> list[Record]:
    """Every record of `path`, any shape `sources` reads. A JSON file's reading is a step of `hooks`, in bytes.
    `for_checks`: the near-duplicate kernels load meanwhile on another thread, if a file this size needs them."""
    hooks = hooks or Hooks()
    total = os.path.getsize(path) if os.path.isfile(path) else None
    if for_checks:
        load_kernels_in_background(total)
    with cyclic_gc_paused(), hooks.steps("reading", total, "B") as update, reading_progress(update):
        return list(read_source(path, field_map=field_map, display=display))


@contextlib.contextmanager
def cyclic_gc_paused():
    """Reading and checking make millions of small lists and dicts that live until the end and form no
    cycle; Python's cyclic collector would walk all of them again at every generation-2 pass, for
    nothing (it tripled the contamination scan's tokenizing). Reference counting still frees memory."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def validate(records: list[Record], path: str, options: ValidationOptions = ValidationOptions(),
             hooks: Optional[Hooks] = None, checks: Sequence[Check] = CHECKS) -> Validation:
    """Run `checks` (every one, by default) on records already read; `path` names their source."""
    hooks = hooks or Hooks()
    results: dict[str, CheckResult] = {}
    subject = Subject(records=records, valid=[] if SCHEMA in checks else records)
    applying = [check for check in checks if check.applies(options)]
    background_started = False
    with contextlib.ExitStack() as background:  # what a check started early stops with the run, however it ends
        for check in applying:
            if check is not SCHEMA and not background_started and subject.valid:
                for later in applying:  # the schema-valid records are known: background work may begin
                    later.start(subject, options, background)
                background_started = True
            start = time.perf_counter()
            if check.reads_content and not subject.valid:
                results[check.name] = _nothing_to_check(check.name, check.gates(options), "no schema-valid record")
            else:
                total = len(subject.records if check is SCHEMA else subject.valid)
                with hooks.steps(check.name.replace("_", " "), total, "record") as update:
                    results[check.name] = check.run(subject, options, replace(hooks, progress=update))
            results[check.name].seconds = time.perf_counter() - start
            if check is SCHEMA:
                invalid = {offender.index for offender in results[check.name].offenders}
                subject.valid = [record for record in records if record.index not in invalid]
    return Validation(path=path, rows=len(records), results=results, records=records, valid=subject.valid)


def rejected_records(validation: Validation) -> list[dict]:
    """Every offending record with its reasons, for `--rejects` (near-duplicates: the ones the greedy filter drops).

    One format for every command: {"index", "line", "id", "reasons": [{"check", "reason", "detail"}], "record"};
    a near-duplicate's reason also names its `kept_partner`.
    """
    reasons: dict[int, list[dict]] = defaultdict(list)
    for check in validation.checks:
        for offender in check.offenders:
            if offender.index is not None:
                reason = {"check": check.name, "reason": offender.reason, "detail": offender.detail,
                          **(offender.evidence or {})}
                if offender.partner is not None:
                    reason["kept_partner"] = offender.partner
                reasons[offender.index].append(reason)
    near = validation.get(NEAR_DUPLICATES)
    if near is not None and near.findings is not None:
        # each dropped record's earliest kept near-duplicate, the one the greedy filter met
        for index, partner in zip(near.findings.greedy_dropped, near.findings.greedy_kept_partner):
            reasons[index].append({"check": NEAR_DUPLICATES.name, "reason": "near_duplicate",
                                   "detail": f"ROUGE-L above {near.findings.threshold} with record {partner}",
                                   "kept_partner": partner})
    by_index = {record.index: record for record in validation.records}
    return [{"index": index, "line": by_index[index].line, "id": by_index[index].id, "reasons": reasons[index],
             "record": by_index[index].data} for index in sorted(reasons)]

