"""The `bioinstruct` console command: validate, clean, contamination, categorize, report, build, push, card.

Exit codes: 0 done; 1 a gate failed (or the data is contaminated); 2 an input cannot be read, an output
path is refused, or an argument is wrong; 3 the environment stopped the command (network, disk,
permissions, another run writing the same folder); 130 interrupted, 143 terminated. Errors are one line
on stderr, never a traceback: `main` is the one boundary that turns every expected failure into one.
"""

import argparse
import csv
import json
import math
import os
import signal
import sys
from typing import Optional

from tqdm.auto import tqdm

# The commands that need `datasets` (build, push, card, report) import what uses it when they run:
# validate, contamination and categorize start without it, a second sooner.
from bioinstruct_tools import __version__, checks, contamination, paths
from bioinstruct_tools.benchmarks import BenchmarkError, open_benchmarks
from bioinstruct_tools.categories import categorize_with_reason
from bioinstruct_tools.neardup import SELF_INSTRUCT_THRESHOLD
from bioinstruct_tools.published import (
    PUBLISHED_SIZE,
    UPSTREAM_FILENAME,
    UPSTREAM_REPO_ID,
    UPSTREAM_URL,
    LayoutError,
    expected_rows,
)
from bioinstruct_tools.records import FIELDS, BioInstructInputError, UnreadableFileError
from bioinstruct_tools.redaction import redact_tokens
from bioinstruct_tools.text import plural
from bioinstruct_tools.sources import FORMATS, NO_FIELD_MAP, FieldMap, is_built_folder, read_source

EXIT_OK, EXIT_FAILED, EXIT_UNREADABLE, EXIT_ENVIRONMENT = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143
MIN_NGRAM = 5  # shorter n-grams are common phrases ("the patient has a"), not evidence of a leak


class CommandError(Exception):
    """Ends the command with a one-line message and an exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILED):
        super().__init__(message)
        self.code = code


class Terminated(BaseException):
    """SIGTERM, raised like Ctrl-C so that every `finally` and staging clean-up runs."""


def _terminate(signum, frame):
    raise Terminated()


def _progress_bar(description: str, unit: str = "instr", total: Optional[int] = None):
    bar = tqdm(desc=description, unit=unit, total=total, file=sys.stderr, disable=None, leave=False)
    return bar, bar.update


# ---------------------------------------------------------------------------------------------------
# Arguments: a bad value ends in argparse's usage line and exit 2, before any work
# ---------------------------------------------------------------------------------------------------


def _whole_number(text: str, least: int, most: int = 2**62) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not least <= value <= most:
        raise argparse.ArgumentTypeError(f"expected a number from {least:,} to {most:,}, got {text}")
    return value


def non_negative_int(text: str) -> int:
    return _whole_number(text, 0)


def ngram_size(text: str) -> int:
    return _whole_number(text, MIN_NGRAM, 1000)


def open_unit_interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and 0 < value < 1):
        raise argparse.ArgumentTypeError(f"expected a number strictly between 0 and 1, got {text}")
    return value


def hub_repo_id(text: str) -> str:
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(text)
    except HFValidationError as e:
        raise argparse.ArgumentTypeError(f"not a Hub repo id ({' '.join(str(e).split())[:200]})") from None
    if text.count("/") != 1:
        raise argparse.ArgumentTypeError(f"expected ORG/NAME, got {text!r}")
    return text


def field_list(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated field names, got {text!r}")
    return names


def record_fields(text: str) -> tuple[str, ...]:
    names = field_list(text)
    unknown = [name for name in names if name not in FIELDS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown field {unknown[0]!r}: choose from {', '.join(FIELDS)}")
    return names


def field_map(text: str) -> FieldMap:
    try:
        return FieldMap.parse(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and 0 <= value <= 1):
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text}")
    return value


def _field_map_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--field-map", type=field_map, default=NO_FIELD_MAP, metavar="NEW=OLD,...",
                        help="read the record field NEW from the source's key OLD, e.g. output=gpt-4-answer,input= "
                             "(an empty OLD: the source has no such field, read as empty)")


def _contamination_arguments(parser: argparse.ArgumentParser, required: bool = False, gate: bool = True) -> None:
    parser.add_argument("--against", action="append", required=required, default=[], metavar="BENCH",
                        help="an evaluation benchmark, repeatable: JSON, JSON Lines, a JSON object keyed by id, CSV, "
                             "parquet, a save_to_disk folder or a datasets folder")
    parser.add_argument("--bench-field", type=field_list, default=None, metavar="NAME,...",
                        help="the benchmark's text fields, in any case; each must be a field of the benchmark "
                             f"(default: those of {', '.join(contamination.DEFAULT_BENCH_FIELDS)} it has)")
    parser.add_argument("--field", type=record_fields, default=contamination.DEFAULT_FIELDS, metavar="NAME,...",
                        help="the record fields to check (default: instruction,input,output)")
    parser.add_argument("--ngram", type=ngram_size, default=contamination.DEFAULT_NGRAM, metavar="N",
                        help=f"words per n-gram, {MIN_NGRAM} or more (default: %(default)s, GPT-3's; 8 is the other "
                             "common choice)")
    parser.add_argument("--split", metavar="NAME", help="the split of a benchmark folder (default: test, or its only "
                                                        "split; never another)")
    parser.add_argument("--max-items", type=non_negative_int, default=contamination.DEFAULT_MAX_ITEMS, metavar="K",
                        help="ignore n-grams found in more than K benchmark items: boilerplate (default: %(default)s)")
    parser.add_argument("--min-overlap", type=share, default=contamination.DEFAULT_MIN_OVERLAP, metavar="SHARE",
                        help="a field counts when this share of its n-grams is found (default: %(default)s: any one)")
    if gate and not required:
        parser.add_argument("--gate-contamination", action="store_true",
                            help="fail when a record overlaps a benchmark (default: a warning)")


def _validation_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--expect-rows", type=non_negative_int, metavar="N",
                        help=f"gate on exactly N rows (default: {PUBLISHED_SIZE:,} for the upstream "
                             f"{UPSTREAM_FILENAME}, no size gate otherwise)")
    parser.add_argument("--strict", action="store_true",
                        help="make Self-Instruct's filters and normalised duplicate instructions gate too")


def contamination_options(args) -> Optional[checks.ContaminationOptions]:
    """The `--against` benchmarks, opened and checked now (exit 2 for a bad one); None when there are none."""
    if not args.against:
        return None
    return checks.ContaminationOptions(
        benchmarks=tuple(open_benchmarks(args.against, args.split)),
        bench_fields=args.bench_field or contamination.DEFAULT_BENCH_FIELDS, bench_fields_named=bool(args.bench_field),
        fields=args.field, ngram=args.ngram, gating=getattr(args, "gate_contamination", False),
        max_items=args.max_items, min_overlap=args.min_overlap)


def validation_options(args, source: Optional[str] = None, source_is_known: bool = True) -> checks.ValidationOptions:
    """One options object from the command line, for every stage that validates."""
    return checks.ValidationOptions(
        expected_rows=expected_rows(getattr(args, "expect_rows", None), source=source,
                                    repo_id=getattr(args, "repo_id", None), source_is_known=source_is_known),
        strict=getattr(args, "strict", False),
        near_duplicate_threshold=getattr(args, "near_duplicate_threshold", SELF_INSTRUCT_THRESHOLD),
        gate_near_duplicates=getattr(args, "gate_near_duplicates", False),
        keep_pairs=getattr(args, "show", 5),
        contamination=contamination_options(args))


# ---------------------------------------------------------------------------------------------------
# Reading a source: every shape `sources` reads; a built folder's layout is checked first
# ---------------------------------------------------------------------------------------------------


def validate_source(path: str, options: checks.ValidationOptions, on_pairs=None, check_list=checks.CHECKS,
                    field_map: FieldMap = NO_FIELD_MAP) -> checks.Validation:
    """Validate any source `sources.read_source` reads; a folder written by `bioinstruct build` gives its
    `default` rows once its layout is checked."""
    check_built_layout(path)
    bar, update = _progress_bar("near-duplicates")
    hooks = checks.Hooks(progress=update, on_pairs=on_pairs)
    try:
        return checks.validate_file(path, options, hooks, check_list, field_map=field_map)
    finally:
        bar.close()


def check_built_layout(path: str) -> None:
    """A folder written by `bioinstruct build` is read only when it is exactly the layout it claims."""
    if is_built_folder(path):
        from bioinstruct_tools.built_folder import read_built_folder

        read_built_folder(path)


def _where(offender: checks.Offender) -> str:
    if offender.pair:
        return f"records {offender.pair[0]} and {offender.pair[1]}"
    if offender.index is None:
        return "file"
    details = ([f"line {offender.line}"] if offender.line else []) + ([f"id {offender.id!r}"] if offender.id else [])
    return f"record {offender.index}" + (f" ({', '.join(details)})" if details else "")


def print_validation(validation: checks.Validation, show: int, out=None) -> None:
    out = out or sys.stdout
    skipped = f" ({validation.skipped} left out of the content checks for schema violations)" if validation.skipped else ""
    print(f"{validation.path}: {validation.rows} records{skipped}", file=out)
    for check in validation.checks:
        print(f"  {check.status.upper():4}  {check.name:<22} {check.summary}", file=out)
        if check.status in ("pass", "skip"):
            continue
        for offender in check.offenders[:show]:
            print(f"        {_where(offender)}: {offender.reason}: {offender.detail}", file=out)
        total = check.details.get("pairs", len(check.offenders))  # near-duplicates keep only the first pairs
        if total > min(show, len(check.offenders)):
            print(f"        ... and {total - min(show, len(check.offenders))} more", file=out)
    print(f"result: {'PASS' if validation.passed else 'FAIL'}", file=out)


def write_pairs(f, first, second, score) -> None:
    """Near-duplicate pairs as JSON Lines, formatted a slice at a time: memory stays at a slice."""
    for start in range(0, len(first), _PAIRS_PER_WRITE):
        part = slice(start, start + _PAIRS_PER_WRITE)
        f.write("".join(f'{{"first": {a}, "second": {b}, "score": {c!r}}}\n'
                        for a, b, c in zip(first[part].tolist(), second[part].tolist(), score[part].tolist())))


_PAIRS_PER_WRITE = 50_000


def write_rejects(path: str, validation: checks.Validation) -> None:
    rejected = checks.rejected_records(validation)
    with paths.atomic_file(path) as f:
        for row in rejected:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{plural(len(rejected), 'record')} written to {path}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------------
# validate
# ---------------------------------------------------------------------------------------------------


def cmd_validate(args) -> int:
    for output in (args.rejects, args.pairs):
        if output:
            paths.check_output_file(output, inputs=[args.file, *args.against])
    if args.rejects and args.pairs and paths.same_file(args.rejects, args.pairs):
        raise CommandError("--rejects and --pairs name the same file", EXIT_UNREADABLE)
    options = validation_options(args, source=args.file)
    if args.pairs:
        with paths.atomic_file(args.pairs) as pairs_file:
            validation = validate_source(args.file, options, field_map=args.field_map,
                                         on_pairs=lambda *batch: write_pairs(pairs_file, *batch))
        print(f"{plural(validation[checks.NEAR_DUPLICATES].details.get('pairs', 0), 'pair')} written to "
              f"{args.pairs}", file=sys.stderr)
    else:
        validation = validate_source(args.file, options, field_map=args.field_map)
    if args.rejects:
        write_rejects(args.rejects, validation)
    if args.json:
        json.dump(validation.to_json(), sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        print_validation(validation, args.show)
    return EXIT_OK if validation.passed else EXIT_FAILED


# ---------------------------------------------------------------------------------------------------
# clean
# ---------------------------------------------------------------------------------------------------


def cmd_clean(args) -> int:
    from bioinstruct_tools import clean

    excluded_path = args.excluded or excluded_beside(args.out)
    for output in (args.out, excluded_path):
        paths.check_output_file(output, inputs=[args.file, *args.against])
    if paths.same_file(args.out, excluded_path) or os.path.abspath(args.out) == os.path.abspath(excluded_path):
        raise CommandError("--out and --excluded name the same file", EXIT_UNREADABLE)
    options = checks.ValidationOptions(near_duplicate_threshold=args.near_duplicate_threshold, keep_pairs=0,
                                       contamination=contamination_options(args))
    validation = validate_source(args.file, options, check_list=clean.CLEAN_CHECKS, field_map=args.field_map)
    result = clean.clean(validation)
    with paths.atomic_file(args.out) as kept_file, paths.atomic_file(excluded_path) as excluded_file:
        clean.write_records(kept_file, result.kept, as_array=args.out.lower().endswith(".json"))
        clean.write_excluded(excluded_file, result.excluded)
    if args.json:
        json.dump(result.to_json(args.out, excluded_path), sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        print(clean.summary_table(result, args.out, excluded_path))
    return EXIT_OK


def excluded_beside(clean_path: str) -> str:
    """`out/clean.jsonl` -> `out/clean.excluded.jsonl`: every record lands in one of the two files."""
    stem, _ = os.path.splitext(clean_path)
    return f"{stem}.excluded.jsonl"


# ---------------------------------------------------------------------------------------------------
# contamination
# ---------------------------------------------------------------------------------------------------


def cmd_contamination(args) -> int:
    if args.rejects:
        paths.check_output_file(args.rejects, inputs=[args.file, *args.against])
    options = checks.ValidationOptions(contamination=contamination_options(args))
    validation = validate_source(args.file, options, check_list=(checks.SCHEMA, checks.CONTAMINATION),
                                 field_map=args.field_map)
    result = validation[checks.CONTAMINATION]
    contaminated = sorted({offender.index for offender in result.offenders})
    if args.rejects:
        write_rejects(args.rejects, checks.Validation(validation.path, validation.rows,
                                                      {checks.CONTAMINATION.name: result}, validation.records,
                                                      validation.valid))
    checked = len(validation.valid)
    against = options.contamination
    if args.json:
        json.dump({"file": args.file, "records": validation.rows, "checked": checked, "ngram": args.ngram,
                   "fields": list(args.field), "bench_fields": list(against.bench_fields),
                   "max_items": against.max_items, "min_overlap": against.min_overlap,
                   "min_whole_field_words": contamination.MIN_WHOLE_FIELD_WORDS,
                   "contaminated": len(contaminated), "benchmarks": result.details["benchmarks"]},
                  sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        skipped = f", {validation.rows - checked:,} left out for schema violations" if checked < validation.rows else ""
        print(f"{args.file}: {plural(validation.rows, 'record')}{skipped}; {args.ngram}-grams of "
              f"{', '.join(args.field)} (a field of {contamination.MIN_WHOLE_FIELD_WORDS} to {args.ngram - 1} words: "
              f"the whole field; n-grams in more than {plural(against.max_items, 'item')} ignored as boilerplate)")
        for name, figures in result.details["benchmarks"].items():
            by_field = ", ".join(f"{field} {count:,}" for field, count in figures["by_field"].items()) or "none"
            split = f", split {figures['split']}" if figures["split"] else ""
            print(f"  {name} ({plural(figures['items'], 'item')}{split}): {plural(figures['records'], 'record')} "
                  f"overlap ({by_field})")
        for offender in result.offenders[:args.show]:
            print(f"    {_where(offender)}: {offender.detail}")
        if len(result.offenders) > args.show:
            print(f"    ... and {len(result.offenders) - args.show} more")
        print(f"result: {'CONTAMINATED' if contaminated else 'CLEAN'}")
    return EXIT_FAILED if contaminated else EXIT_OK


# ---------------------------------------------------------------------------------------------------
# categorize
# ---------------------------------------------------------------------------------------------------


def spreadsheet_safe(value):
    """A CSV cell that a spreadsheet will not run as a formula (OWASP: prefix such cells with a quote)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def cmd_categorize(args) -> int:
    if (args.text is None) == (args.file is None):
        raise CommandError("give either TEXT or --file FILE", EXIT_UNREADABLE)
    if args.text is not None:
        category, reason = categorize_with_reason(args.text, args.input or "")
        if args.json:
            print(json.dumps({"category": category, "reason": reason}, ensure_ascii=False))
        else:
            print(f"{category}\t{reason}")
        return EXIT_OK
    if args.input is not None:
        raise CommandError("--input goes with TEXT; a file's records carry their own inputs", EXIT_UNREADABLE)
    check_built_layout(args.file)
    rows = []  # all read before anything is printed: an unreadable record prints no partial table
    for record in read_source(args.file, field_map=args.field_map):
        instruction, given = record.data.get("instruction"), record.data.get("input")
        if not isinstance(instruction, str):
            category, reason = None, "no instruction string (see `bioinstruct validate`)"
        else:
            category, reason = categorize_with_reason(instruction, given if isinstance(given, str) else "")
        rows.append({"index": record.index, "line": record.line, "id": record.id, "category": category,
                     "reason": reason, "instruction": instruction})
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return EXIT_OK
    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: spreadsheet_safe(value) for name, value in row.items()})
    return EXIT_OK


# ---------------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------------


def cmd_report(args) -> int:
    from bioinstruct_tools import report as report_module  # matplotlib only for this command
    from bioinstruct_tools.published import REPORT_MARKER

    out = paths.check_output_dir(args.out, inputs=[args.source])
    options = checks.ValidationOptions(histogram_from=report_module.HISTOGRAM_FROM)
    with paths.staged_folder(out, args.overwrite, REPORT_MARKER, "bioinstruct report", __version__) as staging:
        validation = validate_source(args.source, options, field_map=args.field_map)
        if not validation.valid:
            raise CommandError(f"{args.source}: no schema-valid record to report on (run `bioinstruct validate "
                               f"{args.source}`)")
        report = report_module.collect(validation)
        report_module.write_report(report, staging)
    if args.json:
        json.dump(report.numbers, sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        print(f"wrote {out}/report.md, report.json and {len(report_module.FIGURE_NAMES)} figures "
              f"(PNG and SVG) in {out}/figures for {validation.rows:,} records")
    return EXIT_OK


# ---------------------------------------------------------------------------------------------------
# build
# ---------------------------------------------------------------------------------------------------


def cmd_build(args) -> int:
    from datasets.exceptions import DatasetGenerationError

    from bioinstruct_tools import card, export
    from bioinstruct_tools.published import CONFIG_NAMES

    bar, update = _progress_bar("validating")
    configs = tqdm(desc="building", unit="config", total=len(CONFIG_NAMES), file=sys.stderr,
                   disable=None, leave=False)

    def config_built(name: str) -> None:
        bar.close()
        configs.set_postfix_str(name, refresh=False)
        configs.update(1)

    try:
        card_meta = card.CardMeta.read(args.card_meta) if args.card_meta else None
    except card.CardMetaError as e:
        raise CommandError(str(e), EXIT_UNREADABLE) from None
    options = export.BuildOptions(out_dir=args.out, source=args.source, overwrite=args.overwrite, record=args.record,
                                  validation=validation_options(args, source=args.source or UPSTREAM_URL),
                                  field_map=args.field_map, card_meta=card_meta)
    if args.record and args.source:
        raise CommandError("--record stores the upstream file's checksum and sizes: build without --source",
                           EXIT_UNREADABLE)
    if args.record and paths.CHECKOUT_ROOT is None:
        raise CommandError("--record writes the recorded measurements of a git checkout of this package; "
                           "this is an installed copy", EXIT_UNREADABLE)
    try:
        result = export.build(options, progress=update, config_progress=config_built)
    except export.GateFailed as e:
        bar.close()
        print_validation(e.validation, show=5, out=sys.stderr)
        raise CommandError(str(e)) from None
    except export.BuildError as e:
        raise CommandError(str(e), EXIT_ENVIRONMENT) from None
    except DatasetGenerationError as e:
        cause = e.__cause__ or e
        raise CommandError(str(cause), EXIT_UNREADABLE if isinstance(cause, BioInstructInputError)
                           else EXIT_FAILED) from None
    finally:
        bar.close()
        configs.close()
    table = result.table()
    if args.json:
        json.dump({"out_dir": str(result.out_dir), "source": result.source, "configs": table,
                   "empty_categories": result.empty_categories, "validation": result.validation.to_json()},
                  sys.stdout, indent=2, ensure_ascii=False)
        print()
        return EXIT_OK
    print(f"validated {result.validation.path}: {plural(result.validation.rows, 'record')}, every gate passed "
          f"({'; '.join(f'{check.name} {check.status}' for check in result.validation.checks)})")
    print(f"built {result.out_dir} from {result.source}")
    print(f"{'config':<17} {'rows':>8} {'share':>8} {'paper':>8}")
    for row in table:
        flag = "  empty: no record of this category; no config (the card says so)" if row["empty"] else ""
        print(f"{row['config']:<17} {row['rows']:>8,} {row['share']:>8.1%} {row['paper_share']:>8.1%}{flag}")
    if args.record:
        print("recorded the upstream checksum and sizes in the package's dataset_infos.json and its copy")
    return EXIT_OK


# ---------------------------------------------------------------------------------------------------
# push
# ---------------------------------------------------------------------------------------------------


def cmd_push(args) -> int:
    from bioinstruct_tools import hub
    from bioinstruct_tools.built_folder import read_built_folder

    built = read_built_folder(args.dir)  # the layout, every config and the card, before any network call
    bar, update = _progress_bar("validating")
    try:
        validation = checks.validate(checks.numbered(built.default_rows()), args.dir,
                                     validation_options(args, source_is_known=False), checks.Hooks(progress=update))
    finally:
        bar.close()
    if not validation.passed:
        print_validation(validation, show=5, out=sys.stderr)
        raise CommandError(f"{args.dir}: validation failed; nothing was pushed")
    plan = hub.plan_push(built, repo_id=args.repo_id, revision=args.revision, message=args.message)
    if args.dry_run:
        if args.json:
            json.dump(plan.to_json(), sys.stdout, indent=2, ensure_ascii=False)
            print()
        else:
            print(hub.describe_plan(plan))
        return EXIT_OK
    try:
        url = hub.push(plan, create_pr=args.create_pr)
    except hub.PushError as e:
        raise CommandError(str(e), EXIT_ENVIRONMENT) from None
    print(f"{'opened pull request' if args.create_pr else 'pushed'}: {url}")
    return EXIT_OK


# ---------------------------------------------------------------------------------------------------
# card
# ---------------------------------------------------------------------------------------------------


def cmd_card(args) -> int:
    if paths.CHECKOUT_ROOT is None:
        raise CommandError("maintains the dataset_infos.json of a git checkout of this package; this is an "
                           "installed copy (a build writes its own card)", EXIT_UNREADABLE)
    from bioinstruct_tools import card

    if args.check:
        stale = card.stale_repo_files()
        if stale:
            raise CommandError(f"out of date: {', '.join(str(p) for p in stale)} (run `bioinstruct card`)")
        print("dataset_infos.json matches the builder")
        return EXIT_OK
    written = card.write_repo_files()
    print(f"rewrote {', '.join(str(p) for p in written)}" if written else "already up to date")
    return EXIT_OK


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bioinstruct", description="Validate, build and publish BioInstruct.",
                                     epilog="Exit codes: 0 done, 1 a gate failed, 2 unreadable input or refused "
                                            "output, 3 the environment stopped the command (network, disk).")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser("build", help="build every config into the data-only Hub layout",
                                description="Validate the source, run the loading script for every config and "
                                            "write DIR: README.md, dataset_infos.json, data/<config>/*.parquet.")
    build.add_argument("--source", metavar="FILE",
                       help=f"a local copy ({FORMATS}); default: download the upstream {UPSTREAM_URL}")
    _field_map_argument(build)
    build.add_argument("--out", required=True, metavar="DIR",
                       help="the folder to write (must not exist, or be empty); never the source's folder")
    build.add_argument("--overwrite", action="store_true",
                       help="replace DIR if an earlier `bioinstruct build` wrote it")
    build.add_argument("--record", action="store_true",
                       help="upstream only, from a checkout: store the measured checksum and sizes")
    build.add_argument("--card-meta", metavar="META.yaml",
                       help="what the card states about a copy: pretty_name, license, summary, source (how it was "
                            "made) and personal_information; without it, a copy's card says these are unknown")
    build.add_argument("--json", action="store_true", help="print the table as JSON")
    _validation_arguments(build)
    _contamination_arguments(build)
    build.set_defaults(run=cmd_build)

    validate = commands.add_parser("validate", help="check a BioInstruct file or built folder",
                                   description="Run the validation checks on FILE (or a folder written by `bioinstruct "
                                               "build`). Exit 0 when every gating check passes, 1 when one fails, 2 "
                                               "when FILE cannot be read.")
    validate.add_argument("file", metavar="FILE", help=f"the records: {FORMATS}")
    _field_map_argument(validate)
    _validation_arguments(validate)
    validate.add_argument("--json", action="store_true", help="print the report as one JSON document")
    validate.add_argument("--rejects", metavar="PATH", help="write every offending record with its reasons (JSON Lines)")
    validate.add_argument("--near-duplicate-threshold", type=open_unit_interval, default=SELF_INSTRUCT_THRESHOLD,
                          metavar="T",
                          help="ROUGE-L F-measure above which two instructions are near-duplicates (default: %(default)s)")
    validate.add_argument("--gate-near-duplicates", action="store_true", help="fail when near-duplicates are found")
    validate.add_argument("--pairs", metavar="PATH",
                          help="write every near-duplicate pair as JSON Lines {first, second, score}, streamed")
    validate.add_argument("--show", type=non_negative_int, default=5, metavar="N",
                          help="offenders shown per check, and near-duplicate pairs kept in the report (default: 5)")
    _contamination_arguments(validate)
    validate.set_defaults(run=cmd_validate)

    contaminated = commands.add_parser(
        "contamination", help="find evaluation-benchmark items leaked into the records",
        description="Report every record whose word n-grams occur in an item of a benchmark (GPT-3's "
                    "decontamination; a field shorter than N words counts when it occurs whole). Exit 0 when no "
                    "record overlaps, 1 when some do, 2 when a file cannot be read.")
    contaminated.add_argument("file", metavar="FILE", help=f"the records: {FORMATS}")
    _field_map_argument(contaminated)
    _contamination_arguments(contaminated, required=True)
    contaminated.add_argument("--json", action="store_true", help="print the report as one JSON document")
    contaminated.add_argument("--rejects", metavar="PATH", help="write every overlapping record with its matches")
    contaminated.add_argument("--show", type=non_negative_int, default=10, metavar="N",
                              help="matches shown (default: %(default)s)")
    contaminated.set_defaults(run=cmd_contamination)

    clean_cmd = commands.add_parser(
        "clean", help="write the records that pass, and every other record with its reasons",
        description="Read FILE and write CLEAN with the records that pass: schema-valid, one per instruction (the "
                    "first kept), Self-Instruct's greedy near-duplicate filter applied, and, with --against, no "
                    "benchmark leak. Every other record goes to EXCLUDED with its reasons (validate --rejects' "
                    "format) and the kept record it repeats. CLEAN is JSON Lines, or a JSON array when its name ends "
                    "in .json. Exit 0 when written, 2 when FILE cannot be read or an output is refused.")
    clean_cmd.add_argument("file", metavar="FILE", help=f"the raw records: {FORMATS}")
    clean_cmd.add_argument("--out", required=True, metavar="CLEAN", help="the clean file to write (never FILE)")
    clean_cmd.add_argument("--excluded", metavar="EXCLUDED",
                           help="the excluded records' file (default: CLEAN's name with .excluded.jsonl)")
    clean_cmd.add_argument("--near-duplicate-threshold", type=open_unit_interval, default=SELF_INSTRUCT_THRESHOLD,
                           metavar="T", help="ROUGE-L F-measure above which the later instruction is dropped "
                                             "(default: %(default)s, Self-Instruct's)")
    clean_cmd.add_argument("--json", action="store_true", help="print the summary as JSON")
    _field_map_argument(clean_cmd)
    _contamination_arguments(clean_cmd, gate=False)
    clean_cmd.set_defaults(run=cmd_clean)

    push = commands.add_parser("push", help="push a built folder to the Hub in one commit",
                               description="Check DIR's layout and validate its data, then commit the layout's files "
                                           "to the Hub in one commit that also deletes the repo's files of the layout "
                                           "that the build no longer has.")
    push.add_argument("dir", metavar="DIR", help="a folder written by `bioinstruct build`")
    push.add_argument("--repo-id", required=True, type=hub_repo_id, metavar="ORG/NAME", help="the Hub dataset repo")
    push.add_argument("--revision", default="main", metavar="BRANCH", help="the branch to commit to (default: main)")
    push.add_argument("--create-pr", action="store_true", help="open a pull request instead of committing")
    push.add_argument("--dry-run", action="store_true", help="print the plan and touch nothing")
    push.add_argument("--json", action="store_true", help="with --dry-run: print the plan as JSON")
    push.add_argument("--message", metavar="TEXT", help="the commit message (default names the version and git commit)")
    push.add_argument("--expect-rows", type=non_negative_int, metavar="N",
                      help=f"gate on exactly N rows (always {PUBLISHED_SIZE:,} for {UPSTREAM_REPO_ID})")
    _contamination_arguments(push)
    push.set_defaults(run=cmd_push)

    categorize = commands.add_parser(
        "categorize", help="the category of an instruction, with the rule that decided it",
        description="Print the category (extraction, generation, qa, other) and the rule that fired, or the "
                    "word model's overruling with its words, for one instruction or for every record of a file (CSV, or JSON Lines with --json).")
    categorize.add_argument("text", nargs="?", metavar="TEXT", help="an instruction")
    categorize.add_argument("--input", metavar="TEXT", help="the instruction's input, if any (with TEXT)")
    categorize.add_argument("--file", metavar="FILE", help=f"the records: {FORMATS}")
    _field_map_argument(categorize)
    categorize.add_argument("--json", action="store_true", help="JSON (Lines, with --file) instead of text or CSV")
    categorize.set_defaults(run=cmd_categorize)

    report = commands.add_parser("report", help="the dataset at a glance: figures, report.md, report.json",
                                 description="Write DIR/report.md, DIR/report.json and six figures (PNG and SVG) "
                                             "about FILE (JSON or JSON Lines) or a folder written by `bioinstruct "
                                             "build`: categories, lengths, task verbs, inputs, near-duplicates, "
                                             "validation findings.")
    report.add_argument("source", metavar="FILE", help=f"the records: {FORMATS}")
    _field_map_argument(report)
    report.add_argument("--out", required=True, metavar="DIR", help="the folder to write (must not exist, or be empty)")
    report.add_argument("--overwrite", action="store_true", help="replace DIR if an earlier report wrote it")
    report.add_argument("--json", action="store_true", help="also print report.json")
    report.set_defaults(run=cmd_report)

    card_cmd = commands.add_parser("card", help="maintainers: regenerate the checkout's dataset_infos.json",
                                   description="Regenerate the package's recorded dataset_infos.json and the loading "
                                               "script's copy of it from the builder (in a git checkout only).")
    card_cmd.add_argument("--check", action="store_true", help="only report whether they are out of date")
    card_cmd.set_defaults(run=cmd_card)
    return parser


# Errors the user can act on: an input that cannot be read or an output that is refused.
_UNREADABLE = (UnreadableFileError, paths.UnsafeOutput, BenchmarkError, LayoutError)


def main(argv: Optional[list[str]] = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a lone surrogate or an undecodable file name must not break output
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="backslashreplace")
    args = make_parser().parse_args(argv)
    previous_handler = signal.signal(signal.SIGTERM, _terminate)

    def fail(message: str, code: int) -> int:
        print(redact_tokens(f"bioinstruct {args.command}: {' '.join(str(message).split())}"), file=sys.stderr)
        return code

    try:
        code = args.run(args)
        sys.stdout.flush()  # a full disk or closed pipe shows here, inside the boundary
        return code
    except CommandError as e:
        return fail(str(e), e.code)
    except _UNREADABLE as e:
        return fail(str(e), EXIT_UNREADABLE)
    except paths.OutputUnavailable as e:
        return fail(str(e), EXIT_ENVIRONMENT)
    except BrokenPipeError:  # `bioinstruct validate ... | head`: the reader left, nothing to say
        _silence_stdout()
        return EXIT_FAILED
    except OSError as e:  # the environment: disk full, read-only, permissions, no temporary folder
        _silence_stdout()
        return fail(_environment_message(e), EXIT_ENVIRONMENT)
    except KeyboardInterrupt:
        return fail("interrupted", EXIT_INTERRUPTED)
    except Terminated:
        return fail("terminated", EXIT_TERMINATED)
    finally:
        signal.signal(signal.SIGTERM, previous_handler)


def _environment_message(error: OSError) -> str:
    if error.filename:
        return f"{error.filename}: cannot be written ({error.strerror or error})"
    if "temporary directory" in str(error):
        return "no writable temporary folder (set TMPDIR to one)"
    return f"standard output: cannot be written ({error.strerror or error})"


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's last flush cannot fail again at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
