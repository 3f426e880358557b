"""`bioinstruct build --out DIR`: validate the source, build every config, write the data-only Hub layout."""

import sys

from bioinstruct_tools.commands.arguments import contamination_arguments, field_map_argument, validation_arguments
from bioinstruct_tools.commands.arguments import validation_options
from bioinstruct_tools.commands.printing import STEP_BARS, print_json, print_validation, print_warnings
from bioinstruct_tools.published import UPSTREAM_URL
from bioinstruct_tools.sources import FORMATS
from bioinstruct_tools.text import plural, terminal_safe

NAME = "build"


def register(commands) -> None:
    parser = commands.add_parser(NAME, help="build every config into the data-only Hub layout",
                                 description="Validate the source, run the loading script for every config and "
                                             "write DIR: README.md, dataset_infos.json, data/<config>/*.parquet, "
                                             "assets/*.png.")
    parser.add_argument("--source", metavar="FILE",
                        help=f"a local copy ({FORMATS}); default: download the upstream {UPSTREAM_URL}")
    field_map_argument(parser)
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="the folder to write (must not exist, or be empty); never the source's folder")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace DIR if an earlier `bioinstruct build` wrote it and it holds nothing else")
    parser.add_argument("--record", action="store_true",
                        help="upstream only, from a checkout: store the measured checksum and sizes")
    parser.add_argument("--card-meta", metavar="META.yaml",
                        help="what the card states about a copy (pretty_name, license, summary, source, "
                             "personal_information, citation, language, tags, ...: see META.example.yaml in the "
                             "package); without it, a copy's card says these are unknown")
    parser.add_argument("--json", action="store_true", help="print the table as JSON")
    validation_arguments(parser, near_duplicate_gate=False)
    contamination_arguments(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    from bioinstruct_tools import export  # datasets, only for the commands that build
    from bioinstruct_tools.card_meta import CardMeta  # YAML, likewise

    card_meta = CardMeta.read(args.card_meta) if args.card_meta else None
    options = export.BuildOptions(out_dir=args.out, source=args.source, overwrite=args.overwrite, record=args.record,
                                  validation=validation_options(args), field_map=args.field_map, card_meta=card_meta)
    try:
        result = export.build(options, STEP_BARS)
    except export.GateFailed as e:
        print_validation(e.validation, show=args.show, out=sys.stderr)
        raise
    if args.json:
        print_json({"out_dir": str(result.out_dir), "source": result.source, "configs": result.table(),
                    "empty_categories": result.empty_categories, "validation": result.validation.to_json()})
        return 0
    statuses = "; ".join(f"{check.name} {check.status}" for check in result.validation.checks)
    print(f"validated {terminal_safe(result.validation.path)}: {plural(result.validation.rows, 'record')}, every "
          f"gate passed ({statuses})")
    print_warnings(result.validation, args.show)
    print(f"built {terminal_safe(str(result.out_dir))} from {terminal_safe(result.source)}")
    print(f"{'config':<17} {'rows':>8} {'share':>8} {'paper':>8}")
    for row in result.table():
        flag = "  empty: no record of this category; no config (the card says so)" if row["empty"] else ""
        print(f"{row['config']:<17} {row['rows']:>8,} {row['share']:>8.1%} {row['paper_share']:>8.1%}{flag}")
    if args.record:
        print("recorded the upstream checksum and sizes in the package's dataset_infos.json and its copy")
    return 0
