"""`bioinstruct report FILE --out DIR`: figures, report.md and report.json about the records."""

from bioinstruct_tools.commands.arguments import records_argument
from bioinstruct_tools.commands.printing import print_json
from bioinstruct_tools.published import FIGURE_NAMES
from bioinstruct_tools.sources import FORMATS

NAME = "report"


def register(commands) -> None:
    parser = commands.add_parser(NAME, help="the dataset at a glance: figures, report.md, report.json",
                                 description=f"Write DIR/report.md, DIR/report.json and {len(FIGURE_NAMES)} figures "
                                             f"(PNG and SVG) about FILE ({FORMATS}): categories, lengths, task "
                                             "verbs, inputs, near-duplicates, validation findings.")
    records_argument(parser, dest="source")
    parser.add_argument("--out", required=True, metavar="DIR", help="the folder to write (must not exist, or be empty)")
    parser.add_argument("--overwrite", action="store_true", help="replace DIR if an earlier report wrote it")
    parser.add_argument("--json", action="store_true", help="also print report.json")
    parser.set_defaults(run=run)


def run(args) -> int:
    from bioinstruct_tools import report  # matplotlib only for this command

    written = report.report_file(report.ReportOptions(source=args.source, out=args.out, overwrite=args.overwrite,
                                                      field_map=args.field_map))
    if args.json:
        print_json(written.numbers)
    else:
        print(f"wrote {written.out}/report.md, report.json and {len(FIGURE_NAMES)} figures (PNG and SVG) in "
              f"{written.out}/figures for {written.numbers['rows']:,} records")
    return 0
