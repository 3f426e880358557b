"""`bioinstruct contamination FILE --against BENCH`: the records that share n-grams with evaluation benchmarks."""

import sys

from bioinstruct_tools import checks, contamination, validate
from bioinstruct_tools.commands.arguments import contamination_arguments, contamination_options, records_argument
from bioinstruct_tools.commands.arguments import shown_count
from bioinstruct_tools.commands.printing import STEP_BARS, print_json, where
from bioinstruct_tools.text import plural, terminal_safe

NAME = "contamination"


def register(commands) -> None:
    parser = commands.add_parser(
        NAME, help="find evaluation-benchmark items leaked into the records",
        description="Report every record whose word n-grams occur in an item of a benchmark (GPT-3's "
                    "decontamination; a field shorter than N words counts when it occurs whole). Exit 0 when no "
                    "record overlaps, 1 when some do, 2 when a file cannot be read or an output is refused.")
    records_argument(parser)
    contamination_arguments(parser, required=True)
    parser.add_argument("--json", action="store_true", help="print the report as one JSON document")
    parser.add_argument("--rejects", metavar="PATH", help="write every overlapping record with its matches")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --rejects file")
    parser.add_argument("--show", type=shown_count, default=10, metavar="N", help="matches shown (default: %(default)s)")
    parser.set_defaults(run=run)


def run(args) -> int:
    options = validate.ValidateOptions(source=args.file, field_map=args.field_map, rejects=args.rejects,
                                       overwrite=args.overwrite,
                                       validation=checks.ValidationOptions(contamination=contamination_options(args)))
    result = validate.validate_source(options, STEP_BARS, check_list=(checks.SCHEMA, checks.CONTAMINATION))
    validation = result.validation
    check = validation[checks.CONTAMINATION]
    found = check.findings
    contaminated = len({offender.index for offender in check.offenders})
    checked = len(validation.valid)
    against = options.validation.contamination
    if args.rejects:
        print(f"{plural(result.rejects_written, 'record')} written to {args.rejects}", file=sys.stderr)
    if args.json:
        print_json({"file": args.file, "records": validation.rows, "checked": checked, "ngram": against.ngram,
                    "fields": list(against.fields), "bench_fields": list(against.bench_fields),
                    "max_items": against.max_items, "min_overlap": against.min_overlap,
                    "min_whole_field_words": contamination.MIN_WHOLE_FIELD_WORDS, "contaminated": contaminated,
                    "benchmarks": found.to_json()["benchmarks"]})
        return 1 if contaminated else 0
    skipped = f", {validation.rows - checked:,} left out for schema violations" if checked < validation.rows else ""
    print(f"{terminal_safe(args.file)}: {plural(validation.rows, 'record')}{skipped}; {against.ngram}-grams of "
          f"{', '.join(against.fields)} (a field of {contamination.MIN_WHOLE_FIELD_WORDS} to {against.ngram - 1} "
          f"words: the whole field; n-grams in more than {plural(against.max_items, 'item')} ignored as boilerplate)")
    for name, overlap in found.benchmarks.items():
        by_field = ", ".join(f"{field} {count:,}" for field, count in overlap.by_field.items()) or "none"
        split = f", split {overlap.split}" if overlap.split else ""
        print(f"  {terminal_safe(name)} ({plural(overlap.items, 'item')}{split}): "
              f"{plural(overlap.records, 'record')} overlap ({by_field})")
    for offender in check.offenders[:args.show]:
        print(f"    {where(offender)}: {terminal_safe(offender.detail)}")
    if len(check.offenders) > args.show:
        print(f"    ... and {plural(len(check.offenders) - args.show, 'more match', 'more matches')}")
    print(f"result: {'CONTAMINATED' if contaminated else 'CLEAN'}")
    return 1 if contaminated else 0
