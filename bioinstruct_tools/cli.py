"""The `bioinstruct` console command: build, validate, push, card.

Exit codes: 0 success; 1 a gate failed (or the build, push or check could not complete); 2 an input
file cannot be read or an output path is refused; 130 interrupted, 143 terminated. Errors are one line
on stderr, never a traceback: `main` is the one boundary that turns every expected failure into one.
"""

import argparse
import csv
import json
import math
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Optional

from tqdm.auto import tqdm

# The commands that need `datasets` (build, push, card, report) import what uses it when they run:
# validate, contamination and categorize start without it, a second sooner.
from bioinstruct_tools import __version__, checks, contamination, paths
from bioinstruct_tools.categories import categorize_with_reason
from bioinstruct_tools.neardup import SELF_INSTRUCT_THRESHOLD
from bioinstruct_tools.records import (
    FIELDS,
    PUBLISHED_SIZE,
    UPSTREAM_FILENAME,
    UPSTREAM_REPO_ID,
    UPSTREAM_URL,
    BioInstructInputError,
    UnreadableFileError,
    read_records,
    schema_violations,
)
from bioinstruct_tools.tokens import redact

EXIT_OK, EXIT_FAILED, EXIT_UNREADABLE, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143


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


# argparse types: a bad value ends in argparse's usage line and exit 2, before any work.
def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of 0 or more, got {value}")
    return value


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


def positive_int(text: str) -> int:
    value = non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected a number of 1 or more, got 0")
    return value


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


def _contamination_options(parser: argparse.ArgumentParser, required: bool = False) -> None:
    parser.add_argument("--against", nargs="+", required=required, default=[], metavar="BENCH",
                        help="evaluation benchmarks: JSON, JSON Lines, CSV, parquet, a save_to_disk folder or a "
                             "datasets folder")
    parser.add_argument("--bench-field", type=field_list, default=contamination.DEFAULT_BENCH_FIELDS,
                        metavar="NAME,...", help="the benchmark's text fields (default: %(default)s)")
    parser.add_argument("--field", type=record_fields, default=contamination.DEFAULT_FIELDS, metavar="NAME,...",
                        help="the record fields to check (default: instruction,input,output)")
    parser.add_argument("--ngram", type=positive_int, default=contamination.DEFAULT_NGRAM, metavar="N",
                        help="words per n-gram (default: %(default)s, GPT-3's; 8 is the other common choice)")
    parser.add_argument("--split", metavar="NAME", help="the split of a benchmark folder (default: test)")
    if not required:
        parser.add_argument("--gate-contamination", action="store_true",
                            help="fail when a record overlaps a benchmark (default: a warning)")


def load_benchmarks(args) -> Optional[checks.Benchmarks]:
    """The `--against` benchmarks; None when there are none. A missing one ends the command now (exit 2)."""
    if not args.against:
        return None
    for path in args.against:
        if not os.path.exists(path):
            raise CommandError(f"{path}: no such file", EXIT_UNREADABLE)
    return checks.Benchmarks(paths=list(args.against), split=args.split, bench_fields=args.bench_field,
                             fields=args.field, ngram=args.ngram, gating=getattr(args, "gate_contamination", False))


def _validation_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--expect-rows", type=non_negative_int, metavar="N",
                        help=f"gate on exactly N rows (default: {PUBLISHED_SIZE:,} for the upstream "
                             f"{UPSTREAM_FILENAME}, no size gate otherwise)")
    parser.add_argument("--strict", action="store_true",
                        help="make Self-Instruct's filters and normalised duplicate instructions gate too")


# ---------------------------------------------------------------------------------------------------
# validate
# ---------------------------------------------------------------------------------------------------


def run_validation(path: str, args, on_pairs=None) -> checks.Report:
    expected = args.expect_rows if args.expect_rows is not None else checks.default_expected_rows(path)
    benchmarks = load_benchmarks(args)
    bar, update = _progress_bar("near-duplicates")
    try:
        return checks.validate_file(
            path, expected_rows=expected, strict=args.strict,
            near_duplicate_threshold=getattr(args, "near_duplicate_threshold", SELF_INSTRUCT_THRESHOLD),
            gate_near_duplicates=getattr(args, "gate_near_duplicates", False), progress=update,
            keep_pairs=getattr(args, "show", 5), on_pairs=on_pairs, benchmarks=benchmarks)
    finally:
        bar.close()


def print_report(report: checks.Report, show: int, out=None) -> None:
    out = out or sys.stdout
    skipped = f" ({report.skipped} left out of the content checks for schema violations)" if report.skipped else ""
    print(f"{report.path}: {report.rows} records{skipped}", file=out)
    for check in report.checks:
        print(f"  {check.status.upper():4}  {check.name:<22} {check.summary}", file=out)
        if check.status == "pass":
            continue
        for offender in check.offenders[:show]:
            if offender.pair:
                where = f"records {offender.pair[0]} and {offender.pair[1]}"
            elif offender.index is not None:
                where = f"record {offender.index}" + (f" (line {offender.line})" if offender.line else "")
            else:
                where = "file"
            print(f"        {where}: {offender.reason}: {offender.detail}", file=out)
        total = check.details.get("pairs", len(check.offenders))  # near-duplicates keep only the first pairs
        if total > min(show, len(check.offenders)):
            print(f"        ... and {total - min(show, len(check.offenders))} more", file=out)
    print(f"result: {'PASS' if report.passed else 'FAIL'}", file=out)


def cmd_validate(args) -> int:
    for output in (args.rejects, args.pairs):
        if output:
            paths.check_output_file(output, inputs=[args.file, *args.against])
    if args.rejects and args.pairs and paths.same_file(args.rejects, args.pairs):
        raise CommandError("--rejects and --pairs name the same file", EXIT_UNREADABLE)
    if args.pairs:
        with paths.atomic_file(args.pairs) as pairs_file:
            report = run_validation(args.file, args, on_pairs=lambda pairs: pairs_file.write("".join(
                f'{{"first": {pair.first}, "second": {pair.second}, "score": {pair.score!r}}}\n' for pair in pairs)))
        print(f"{report.check('near_duplicates').details['pairs']} pairs written to {args.pairs}", file=sys.stderr)
    else:
        report = run_validation(args.file, args)
    if args.rejects:
        rejected = checks.rejected_records(report)
        with paths.atomic_file(args.rejects) as f:
            for row in rejected:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"{len(rejected)} records written to {args.rejects}", file=sys.stderr)
    if args.json:
        json.dump(report.to_json(), sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        print_report(report, args.show)
    return EXIT_OK if report.passed else EXIT_FAILED


# ---------------------------------------------------------------------------------------------------
# contamination
# ---------------------------------------------------------------------------------------------------


def cmd_contamination(args) -> int:
    if args.rejects:
        paths.check_output_file(args.rejects, inputs=[args.file, *args.against])
    records = [checks.Record(index, line, data) for index, line, data in read_records(args.file)]
    benchmarks = load_benchmarks(args)
    valid = [record for record in records if not schema_violations(record.data)]
    result = checks.check_contamination(valid, benchmarks)
    contaminated = sorted({offender.index for offender in result.offenders})
    if args.rejects:
        by_index = {record.index: record for record in records}
        with paths.atomic_file(args.rejects) as f:
            for index in contaminated:
                reasons = [offender.detail for offender in result.offenders if offender.index == index]
                f.write(json.dumps({"index": index, "line": by_index[index].line, "reasons": reasons,
                                    "record": by_index[index].data}, ensure_ascii=False) + "\n")
        print(f"{len(contaminated)} records written to {args.rejects}", file=sys.stderr)
    if args.json:
        json.dump({"file": args.file, "records": len(records), "checked": len(valid), "ngram": args.ngram,
                   "fields": list(args.field), "bench_fields": list(args.bench_field),
                   "contaminated": len(contaminated), "benchmarks": result.details["benchmarks"]},
                  sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        skipped = f", {len(records) - len(valid)} left out for schema violations" if len(valid) < len(records) else ""
        print(f"{args.file}: {len(records)} records{skipped}; {args.ngram}-grams of {', '.join(args.field)} "
              f"(a field shorter than {args.ngram} words: the whole field)")
        for name, figures in result.details["benchmarks"].items():
            by_field = ", ".join(f"{field} {count}" for field, count in figures["by_field"].items()) or "none"
            print(f"  {name} ({figures['items']:,} items): {figures['records']} records overlap ({by_field})")
        for offender in result.offenders[:args.show]:
            print(f"    record {offender.index}" + (f" (line {offender.line})" if offender.line else "")
                  + f": {offender.detail}")
        if len(result.offenders) > args.show:
            print(f"    ... and {len(result.offenders) - args.show} more")
        print(f"result: {'CONTAMINATED' if contaminated else 'CLEAN'}")
    return EXIT_FAILED if contaminated else EXIT_OK


# ---------------------------------------------------------------------------------------------------
# categorize
# ---------------------------------------------------------------------------------------------------


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
    fields = ("index", "line", "category", "reason", "instruction")
    writer = None if args.json else csv.DictWriter(sys.stdout, fieldnames=fields, lineterminator="\n")
    if writer:
        writer.writeheader()
    for index, line, record in read_records(args.file):
        instruction, given = record.get("instruction"), record.get("input")
        if not isinstance(instruction, str):
            category, reason = None, "no instruction string (see `bioinstruct validate`)"
        else:
            category, reason = categorize_with_reason(instruction, given if isinstance(given, str) else "")
        row = {"index": index, "line": line, "category": category, "reason": reason, "instruction": instruction}
        if writer:
            writer.writerow(row)
        else:
            print(json.dumps(row, ensure_ascii=False))
    return EXIT_OK


# ---------------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------------


def cmd_report(args) -> int:
    from bioinstruct_tools import hub
    from bioinstruct_tools import report as report_module  # matplotlib only for this command

    out = paths.check_output_dir(args.out, inputs=[args.source])
    refusal = paths.replacement_refusal(out, args.overwrite, "report.json", "bioinstruct report")
    if refusal:
        raise CommandError(refusal)
    bar, update = _progress_bar("near-duplicates")
    try:
        if os.path.isdir(args.source):
            validation = hub.validate_layout(args.source, progress=update)
        else:
            validation = checks.validate_file(args.source, progress=update)
    except hub.PushError as e:
        raise CommandError(str(e), EXIT_UNREADABLE) from None
    finally:
        bar.close()
    report = report_module.collect(validation)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.report-", dir=out.parent))
    try:
        report_module.write_report(report, staging)
        paths.move_into_place(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
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

    import bioinstruct
    from bioinstruct_tools import card, export

    bar, update = _progress_bar("validating")
    configs = tqdm(desc="building", unit="config", total=len(bioinstruct.CONFIG_NAMES), file=sys.stderr,
                   disable=None, leave=False)

    def config_built(name: str) -> None:
        bar.close()
        configs.set_postfix_str(name, refresh=False)
        configs.update(1)

    try:
        result = export.build(args.source, args.out, expected_rows=args.expect_rows, strict=args.strict,
                              overwrite=args.overwrite, record=args.record, progress=update,
                              config_progress=config_built, benchmarks=load_benchmarks(args))
    except export.GateFailed as e:
        bar.close()
        print_report(e.report, show=5, out=sys.stderr)
        raise CommandError(str(e)) from None
    except export.BuildError as e:
        raise CommandError(str(e)) from None
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
                   "validation": result.report.to_json()}, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return EXIT_OK
    print(f"validated {result.report.path}: {result.report.rows:,} records, every gate passed "
          f"({'; '.join(f'{check.name} {check.status}' for check in result.report.checks)})")
    print(f"built {result.out_dir} from {result.source}")
    print(f"{'config':<12} {'rows':>8} {'share':>8} {'paper':>8}")
    for row in table:
        flag = "  empty: no record of this category (a 0-row parquet)" if row["empty"] else ""
        print(f"{row['config']:<12} {row['rows']:>8,} {row['share']:>8.1%} {row['paper_share']:>8.1%}{flag}")
    if args.record:
        print(f"recorded the upstream checksum and sizes in {card.INFOS_PATH.name} and {card.CARD_PATH.name}")
    return EXIT_OK


# ---------------------------------------------------------------------------------------------------
# push
# ---------------------------------------------------------------------------------------------------


def cmd_push(args) -> int:
    from bioinstruct_tools import hub

    bar, update = _progress_bar("validating")
    try:
        expected = PUBLISHED_SIZE if args.repo_id == UPSTREAM_REPO_ID else args.expect_rows
        report = hub.validate_layout(args.dir, expected_rows=expected, progress=update,
                                     benchmarks=load_benchmarks(args))
    except hub.PushError as e:
        raise CommandError(str(e)) from None
    finally:
        bar.close()
    if not report.passed:
        print_report(report, show=5, out=sys.stderr)
        raise CommandError(f"{args.dir}: validation failed; nothing was pushed")
    try:
        plan = hub.plan_push(args.dir, repo_id=args.repo_id, revision=args.revision, message=args.message,
                             list_remote=True)
        if args.dry_run:
            print(hub.describe_plan(plan))
            return EXIT_OK
        url = hub.push(plan, create_pr=args.create_pr)
    except hub.PushError as e:
        raise CommandError(str(e)) from None
    print(f"{'opened pull request' if args.create_pr else 'pushed'}: {url}")
    return EXIT_OK


# ---------------------------------------------------------------------------------------------------
# card
# ---------------------------------------------------------------------------------------------------


def cmd_card(args) -> int:
    from bioinstruct_tools import card

    if args.check:
        stale = card.stale_repo_files()
        if stale:
            raise CommandError(f"out of date: {', '.join(p.name for p in stale)} (run `bioinstruct card`)")
        print("README.md and dataset_infos.json match the builder")
        return EXIT_OK
    written = card.write_repo_files()
    print(f"rewrote {', '.join(p.name for p in written)}" if written else "already up to date")
    return EXIT_OK


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bioinstruct", description="Build, validate and publish BioInstruct.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser("build", help="build every config into the data-only Hub layout",
                                description="Validate the source, run the loading script for every config and "
                                            "write DIR: README.md, dataset_infos.json, data/<config>/*.parquet.")
    build.add_argument("--source", metavar="FILE_OR_URL",
                       help=f"a local copy (JSON array or JSON Lines) or URL; default: the upstream {UPSTREAM_URL}")
    build.add_argument("--out", required=True, metavar="DIR",
                       help="the folder to write (must not exist, or be empty); never the source's folder")
    build.add_argument("--overwrite", action="store_true",
                       help="replace DIR if an earlier `bioinstruct build` wrote it")
    build.add_argument("--record", action="store_true",
                       help="upstream only: store the measured checksum and sizes in this repo's card and infos")
    build.add_argument("--json", action="store_true", help="print the table as JSON")
    _validation_options(build)
    _contamination_options(build)
    build.set_defaults(run=cmd_build)

    validate = commands.add_parser("validate", help="check a BioInstruct file (upstream or regenerated)",
                                   description="Run the validation checks on FILE. Exit 0 when every gating check "
                                               "passes, 1 when one fails, 2 when FILE cannot be read.")
    validate.add_argument("file", metavar="FILE", help="a JSON array or JSON Lines file")
    _validation_options(validate)
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
    _contamination_options(validate)
    validate.set_defaults(run=cmd_validate)

    contaminated = commands.add_parser(
        "contamination", help="find evaluation-benchmark items leaked into the records",
        description="Report every record whose word n-grams occur in an item of a benchmark (GPT-3's "
                    "decontamination; a field shorter than N words counts when it occurs whole). Exit 0 when no "
                    "record overlaps, 1 when some do, 2 when a file cannot be read.")
    contaminated.add_argument("file", metavar="FILE", help="a JSON array or JSON Lines file of records")
    _contamination_options(contaminated, required=True)
    contaminated.add_argument("--json", action="store_true", help="print the report as one JSON document")
    contaminated.add_argument("--rejects", metavar="PATH", help="write every overlapping record with its matches")
    contaminated.add_argument("--show", type=non_negative_int, default=10, metavar="N",
                              help="matches shown (default: %(default)s)")
    contaminated.set_defaults(run=cmd_contamination)

    push = commands.add_parser("push", help="push a built folder to the Hub in one commit",
                               description="Validate DIR's data, then commit it to the Hub in one commit that also "
                                           "deletes the repo's files the new layout no longer has.")
    push.add_argument("dir", metavar="DIR", help="a folder written by `bioinstruct build`")
    push.add_argument("--repo-id", required=True, type=hub_repo_id, metavar="ORG/NAME", help="the Hub dataset repo")
    push.add_argument("--revision", default="main", metavar="BRANCH", help="the branch to commit to (default: main)")
    push.add_argument("--create-pr", action="store_true", help="open a pull request instead of committing")
    push.add_argument("--dry-run", action="store_true", help="print the plan and touch nothing")
    push.add_argument("--message", metavar="TEXT", help="the commit message (default names the version and git commit)")
    push.add_argument("--expect-rows", type=non_negative_int, metavar="N",
                      help=f"gate on exactly N rows (always {PUBLISHED_SIZE:,} for {UPSTREAM_REPO_ID})")
    _contamination_options(push)
    push.set_defaults(run=cmd_push)

    categorize = commands.add_parser(
        "categorize", help="the category of an instruction, with the rule that decided it",
        description="Print the category the rules assign (extraction, generation, qa, other) and the rule that "
                    "fired, for one instruction or for every record of a file (CSV, or JSON Lines with --json).")
    categorize.add_argument("text", nargs="?", metavar="TEXT", help="an instruction")
    categorize.add_argument("--input", metavar="TEXT", help="the instruction's input, if any")
    categorize.add_argument("--file", metavar="FILE", help="a JSON array or JSON Lines file of records")
    categorize.add_argument("--json", action="store_true", help="JSON (Lines, with --file) instead of text or CSV")
    categorize.set_defaults(run=cmd_categorize)

    report = commands.add_parser("report", help="the dataset at a glance: figures, report.md, report.json",
                                 description="Write DIR/report.md, DIR/report.json and six figures (PNG and SVG) "
                                             "about FILE (JSON or JSON Lines) or a folder written by `bioinstruct "
                                             "build`: categories, lengths, task verbs, inputs, near-duplicates, "
                                             "validation findings.")
    report.add_argument("source", metavar="FILE_OR_BUILT_DIR")
    report.add_argument("--out", required=True, metavar="DIR", help="the folder to write (must not exist, or be empty)")
    report.add_argument("--overwrite", action="store_true", help="replace DIR if an earlier report wrote it")
    report.add_argument("--json", action="store_true", help="also print report.json")
    report.set_defaults(run=cmd_report)

    card_cmd = commands.add_parser("card", help="regenerate README.md's YAML and size table and dataset_infos.json",
                                   description="Regenerate the card's YAML, its size table and dataset_infos.json "
                                               "from the builder and the recorded measurements.")
    card_cmd.add_argument("--check", action="store_true", help="only report whether they are out of date")
    card_cmd.set_defaults(run=cmd_card)
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    args = make_parser().parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):  # a lone surrogate in a record must not break the report
        sys.stdout.reconfigure(errors="backslashreplace")
    previous_handler = signal.signal(signal.SIGTERM, _terminate)

    def fail(message: str, code: int) -> int:
        print(redact(f"bioinstruct {args.command}: {' '.join(str(message).split())}"), file=sys.stderr)
        return code

    try:
        code = args.run(args)
        sys.stdout.flush()  # a full disk or closed pipe shows here, inside the boundary
        return code
    except CommandError as e:
        return fail(str(e), e.code)
    except (UnreadableFileError, paths.UnsafeOutput, contamination.BenchmarkError) as e:
        return fail(str(e), EXIT_UNREADABLE)
    except BrokenPipeError:  # `bioinstruct validate ... | head`: the reader left, nothing to say
        _silence_stdout()
        return EXIT_FAILED
    except OSError as e:  # writing an output or stdout failed: disk full, read-only, permissions
        _silence_stdout()
        where = e.filename or "standard output"
        return fail(f"{where}: cannot be written ({e.strerror or e})", EXIT_FAILED)
    except KeyboardInterrupt:
        return fail("interrupted", EXIT_INTERRUPTED)
    except Terminated:
        return fail("terminated", EXIT_TERMINATED)
    finally:
        signal.signal(signal.SIGTERM, previous_handler)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's last flush cannot fail again at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
