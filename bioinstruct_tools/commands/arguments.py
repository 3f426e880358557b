"""Arguments that several commands share, each defined once, and the options objects they become.

A bad value ends in argparse's usage line and exit 2, before any work. A group a command does not take
still sets its defaults on that command's parser, so every command's `args` has every field its options
object reads: no `getattr` guesses which flags a command has.
"""

import argparse
import math
from typing import Optional

from bioinstruct_tools import checks, contamination
from bioinstruct_tools.benchmarks import open_benchmarks
from bioinstruct_tools.errors import Refused
from bioinstruct_tools.neardup import SELF_INSTRUCT_THRESHOLD
from bioinstruct_tools.published import PUBLISHED_SIZE, UPSTREAM_FILENAME
from bioinstruct_tools.records import FIELDS
from bioinstruct_tools.sources import FORMATS, NO_FIELD_MAP, FieldMap

class UsageError(Refused):
    """Arguments that do not go together: one line, exit 2, as argparse's own errors."""


MIN_NGRAM = 5  # shorter n-grams are common phrases ("the patient has a"), not evidence of a leak
MAX_SHOWN = 10_000  # offenders printed per check and near-duplicate pairs kept: more is a file, --rejects or --pairs


# ---------------------------------------------------------------------------------------------------
# Value types
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


def shown_count(text: str) -> int:
    return _whole_number(text, 0, MAX_SHOWN)


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


def share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and 0 <= value <= 1):
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text}")
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


# ---------------------------------------------------------------------------------------------------
# Groups
# ---------------------------------------------------------------------------------------------------


def records_argument(parser: argparse.ArgumentParser, dest: str = "file") -> None:
    """The records a command reads, and how to read the source's field names."""
    parser.add_argument(dest, metavar="FILE", help=f"the records: {FORMATS}")
    field_map_argument(parser)


def field_map_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--field-map", type=field_map, default=NO_FIELD_MAP, metavar="NEW=OLD,...",
                        help="read the record field NEW from the source's key OLD, e.g. output=gpt-4-answer,input= "
                             "(an empty OLD: the source has no such field, read as empty); refused when the first "
                             "record lacks OLD or has a field the map would drop")


def overwrite_argument(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--overwrite", action="store_true", help=f"replace {what}")


def contamination_arguments(parser: argparse.ArgumentParser, required: bool = False, gate: bool = True) -> None:
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
    else:
        parser.set_defaults(gate_contamination=False)  # `contamination` exits 1 on any overlap; `clean` excludes it


def contamination_options(args) -> Optional[checks.ContaminationOptions]:
    """The `--against` benchmarks, opened and checked now (exit 2 for a bad one); None when there are none."""
    if not args.against:
        if args.split is not None:
            raise UsageError(f"--split {args.split} picks a benchmark folder's split; it goes with --against")
        return None
    return checks.ContaminationOptions(
        benchmarks=tuple(open_benchmarks(args.against, args.split)),
        bench_fields=args.bench_field or contamination.DEFAULT_BENCH_FIELDS, bench_fields_named=bool(args.bench_field),
        fields=args.field, ngram=args.ngram, gating=args.gate_contamination, max_items=args.max_items,
        min_overlap=args.min_overlap)


def validation_arguments(parser: argparse.ArgumentParser, size: bool = True, strict: bool = True,
                         near_duplicate_gate: bool = True, show: Optional[int] = 5) -> None:
    """The gates and what a report keeps; a flag left out sets its default."""
    if size:
        parser.add_argument("--expect-rows", type=non_negative_int, metavar="N",
                            help=f"gate on exactly N rows (default: {PUBLISHED_SIZE:,} for the upstream "
                                 f"{UPSTREAM_FILENAME} and the published repo, no size gate otherwise)")
    else:
        parser.set_defaults(expect_rows=None)
    if strict:
        parser.add_argument("--strict", action="store_true",
                            help="make Self-Instruct's filters and normalised duplicate instructions gate too")
    else:
        parser.set_defaults(strict=False)
    parser.add_argument("--near-duplicate-threshold", type=open_unit_interval, default=SELF_INSTRUCT_THRESHOLD,
                        metavar="T", help="ROUGE-L F-measure above which two instructions are near-duplicates, the "
                                          "later one dropped by Self-Instruct's filter (default: %(default)s)")
    if near_duplicate_gate:
        parser.add_argument("--gate-near-duplicates", action="store_true", help="fail when near-duplicates are found")
    else:
        parser.set_defaults(gate_near_duplicates=False)
    parser.add_argument("--gate-personal-information", action="store_true",
                        help="fail when a record holds a personal identifier of HIPAA's Safe Harbor list (a name with "
                             "a title, a phone number, a date of birth ...; default: a warning)" if near_duplicate_gate
                        else "exclude every record that holds a personal identifier (as --personal-information exclude)")
    if show is not None:
        parser.add_argument("--show", type=shown_count, default=show, metavar="N",
                            help=f"offenders shown per check, and near-duplicate pairs kept in the report (default: "
                                 f"%(default)s, at most {MAX_SHOWN:,}; --rejects and --pairs write them all)")
    else:
        parser.set_defaults(show=0)


def validation_options(args) -> checks.ValidationOptions:
    """One options object from the command line, for every stage that validates."""
    return checks.ValidationOptions(
        expected_rows=args.expect_rows, strict=args.strict, near_duplicate_threshold=args.near_duplicate_threshold,
        gate_near_duplicates=args.gate_near_duplicates, keep_pairs=args.show, contamination=contamination_options(args),
        gate_personal_information=args.gate_personal_information)
