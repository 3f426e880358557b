"""The subcommands, one module each: `register(subparsers)` defines its arguments and `run(args)` calls one
library function and prints its result. Adding a command is a module here and a line in `COMMANDS`."""

from bioinstruct_tools.commands import build, card, categorize, clean, contamination, push, report, validate

COMMANDS = (build, validate, contamination, clean, push, categorize, report, card)
