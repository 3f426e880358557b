"""`bioinstruct categorize TEXT` or `--file FILE`: the category and the rule that decided it."""

import csv
import re
import sys

from bioinstruct_tools.categories import categorize_with_reason
from bioinstruct_tools.categorize import categorize_source
from bioinstruct_tools.commands.arguments import UsageError, field_map_argument
from bioinstruct_tools.commands.printing import STEP_BARS
from bioinstruct_tools.json_writer import json_line
from bioinstruct_tools.sources import FORMATS

NAME = "categorize"
# A spreadsheet runs a cell as a formula when it starts with one of these (OWASP's CSV injection list); a line
# break inside a cell can start another cell in a careless import, so the same holds after each one.
_FORMULA_START = re.compile(r"(^|[\r\n])([=+\-@\t\r])")
_FORMULA_LEADS = frozenset("=+-@\t\r")


def register(commands) -> None:
    parser = commands.add_parser(
        NAME, help="the category of an instruction, with the rule that decided it",
        description="Print the category (extraction, generation, qa, other) and the rule that fired, or the "
                    "word model's overruling with its words, for one instruction or for every record of a file "
                    "(CSV, or JSON Lines with --json).")
    parser.add_argument("text", nargs="?", metavar="TEXT", help="an instruction")
    parser.add_argument("--input", metavar="TEXT", help="the instruction's input, if any (with TEXT)")
    parser.add_argument("--file", metavar="FILE", help=f"the records: {FORMATS}")
    field_map_argument(parser)
    parser.add_argument("--json", action="store_true", help="JSON (Lines, with --file) instead of text or CSV")
    parser.set_defaults(run=run)


def spreadsheet_safe(value):
    """A CSV cell that a spreadsheet will not run as a formula: a quote before each formula lead that starts the
    cell or follows a line break in it (OWASP)."""
    # Most cells have no lead and no line break: tested first, they skip the regular expression (half the time of
    # writing 25,005 rows).
    if isinstance(value, str) and value and (value[0] in _FORMULA_LEADS or "\n" in value or "\r" in value):
        return _FORMULA_START.sub(lambda match: f"{match.group(1)}'{match.group(2)}", value)
    return value


def run(args) -> int:
    if (args.text is None) == (args.file is None):
        raise UsageError("give either TEXT or --file FILE")
    if args.text is not None:
        category, reason = categorize_with_reason(args.text, args.input or "")
        print(json_line({"category": category, "reason": reason}) if args.json else f"{category}\t{reason}")
        return 0
    if args.input is not None:
        raise UsageError("--input goes with TEXT; a file's records carry their own inputs")
    rows = categorize_source(args.file, args.field_map, STEP_BARS)
    if args.json:
        for row in rows:
            print(json_line(row))
        return 0
    # Rows end in CRLF (RFC 4180), so the writer quotes every cell that holds a CR or an LF: neither ends its row.
    writer = csv.writer(sys.stdout, lineterminator="\r\n")
    writer.writerow(list(rows[0]))
    writer.writerows([spreadsheet_safe(value) for value in row.values()] for row in rows)
    return 0
