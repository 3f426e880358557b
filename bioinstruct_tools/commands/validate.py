"""`bioinstruct validate FILE`: run the checks and print them (or --json), with the offenders and pairs written."""

import sys

from bioinstruct_tools import validate
from bioinstruct_tools.commands.arguments import contamination_arguments, records_argument, validation_arguments
from bioinstruct_tools.commands.arguments import validation_options
from bioinstruct_tools.commands.printing import STEP_BARS, print_json, print_merged_files, print_validation
from bioinstruct_tools.text import plural

NAME = "validate"


def register(commands) -> None:
    parser = commands.add_parser(NAME, help="check a BioInstruct file or built folder",
                                 description="Run the validation checks on FILE (or a folder written by `bioinstruct "
                                             "build`). Exit 0 when every gating check passes, 1 when one fails, 2 "
                                             "when FILE cannot be read or an output is refused.")
    records_argument(parser)
    validation_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the report as one JSON document")
    parser.add_argument("--rejects", metavar="PATH", help="write every offending record with its reasons (JSON Lines)")
    parser.add_argument("--pairs", metavar="PATH",
                        help="write every near-duplicate pair as JSON Lines {first, second, score}, streamed")
    parser.add_argument("--overwrite", action="store_true", help="replace existing --rejects and --pairs files")
    contamination_arguments(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    options = validate.ValidateOptions(source=args.file, field_map=args.field_map,
                                       validation=validation_options(args), rejects=args.rejects,
                                       pairs=args.pairs, overwrite=args.overwrite)
    result = validate.validate_source(options, STEP_BARS)
    print_merged_files(args.file)
    if args.pairs:
        print(f"{plural(result.pairs_written, 'pair')} written to {args.pairs}", file=sys.stderr)
    if args.rejects:
        print(f"{plural(result.rejects_written, 'record')} written to {args.rejects}", file=sys.stderr)
    if args.json:
        print_json(result.validation.to_json())
    else:
        print_validation(result.validation, args.show)
    return 0 if result.validation.passed else 1
