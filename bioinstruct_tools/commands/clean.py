"""`bioinstruct clean FILE --out CLEAN`: the records that pass, and every other record with its reasons."""

from bioinstruct_tools import clean
from bioinstruct_tools.commands.arguments import contamination_arguments, records_argument, validation_arguments
from bioinstruct_tools.commands.arguments import validation_options
from bioinstruct_tools.commands.printing import STEP_BARS, print_json, print_merged_files

NAME = "clean"


def register(commands) -> None:
    parser = commands.add_parser(
        NAME, help="write the records that pass, and every other record with its reasons",
        description="Read FILE and write CLEAN with the records that pass: schema-valid, no placeholder output, "
                    "and, with --against, no benchmark leak; then, among those, one per instruction (the first "
                    "kept) and Self-Instruct's greedy near-duplicate filter applied. Every other record goes to "
                    "EXCLUDED with its reasons (validate --rejects' format) and the kept record it repeats. CLEAN "
                    "is JSON Lines, or a JSON array when its name ends in .json. Exit 0 when written, 1 when no "
                    "record would be kept (nothing is written), 2 when FILE cannot be read or an output is refused.")
    records_argument(parser)
    parser.add_argument("--out", required=True, metavar="CLEAN", help="the clean file to write (never FILE)")
    parser.add_argument("--excluded", metavar="EXCLUDED",
                        help="the excluded records' file (default: CLEAN's name with .excluded.jsonl)")
    parser.add_argument("--overwrite", action="store_true", help="replace CLEAN and EXCLUDED if they exist")
    parser.add_argument("--personal-information", choices=clean.PERSONAL_INFORMATION_ACTIONS, default="keep",
                        help="what to do with a record that holds a personal identifier (HIPAA's Safe Harbor kinds): "
                             "keep it (default), exclude it, or redact it, keeping it with each identifier replaced "
                             "by its kind in brackets ([PHONE], [NAME])")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    validation_arguments(parser, size=False, strict=False, near_duplicate_gate=False, show=None)
    contamination_arguments(parser, gate=False)
    parser.set_defaults(run=run)


def run(args) -> int:
    options = clean.CleanOptions(source=args.file, out=args.out, excluded=args.excluded, overwrite=args.overwrite,
                                 field_map=args.field_map, validation=validation_options(args),
                                 personal_information=args.personal_information)
    result = clean.clean_file(options, STEP_BARS)
    print_merged_files(args.file)
    if args.json:
        print_json(result.to_json())
    else:
        print(clean.summary_table(result))
    return 0
