"""What the commands print: the validation table, record locations, JSON documents and progress bars.

Everything that came from a file (names, record text, ids) is made terminal-safe before it is printed.
Progress bars go to stderr, only when it is a terminal (tqdm's `disable=None`), and never into `--json`.
"""

import json
import sys
from contextlib import contextmanager
from typing import Iterator, Optional

from tqdm.auto import tqdm

from bioinstruct_tools import checks
from bioinstruct_tools.text import plural, terminal_safe


@contextmanager
def progress_bar(description: str, unit: str = "instr", total: Optional[int] = None) -> Iterator:
    """A tqdm bar on stderr while the block runs; yields its `update`."""
    bar = tqdm(desc=description, unit=unit, total=total, file=sys.stderr, disable=None, leave=False)
    try:
        yield bar.update
    finally:
        bar.close()


def print_merged_files(path: str) -> None:
    """Say on stderr when a folder's records come from several data files read as one."""
    from bioinstruct_tools.sources import merged_files

    files = merged_files(path)
    if files:
        shown = ", ".join(terminal_safe(name) for name in files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
        print(f"note: {terminal_safe(path)}: read {len(files)} data files as one source ({shown}); name one file "
              "to read it alone", file=sys.stderr)


def print_json(document) -> None:
    json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
    print()


def where(offender: checks.Offender) -> str:
    if offender.pair:
        return f"records {offender.pair[0]} and {offender.pair[1]}"
    if offender.index is None:
        return "file"
    details = ([f"line {offender.line}"] if offender.line else []) + ([f"id {offender.id!r}"] if offender.id else [])
    return f"record {offender.index}" + (f" ({', '.join(details)})" if details else "")


def print_validation(validation: checks.Validation, show: int, out=None) -> None:
    """The checks' table: status, name and summary, then up to `show` offenders of each check that found any."""
    out = out or sys.stdout
    skipped = f" ({validation.skipped} left out of the content checks for schema violations)" if validation.skipped else ""
    print(f"{terminal_safe(validation.path)}: {plural(validation.rows, 'record')}{skipped}", file=out)
    for check in validation.checks:
        print(f"  {check.status.upper():4}  {check.name:<22} {terminal_safe(check.summary)}", file=out)
        if check.status in ("pass", "skip", "info"):
            continue
        for offender in check.offenders[:show]:
            print(f"        {where(offender)}: {offender.reason}: {terminal_safe(offender.detail)}", file=out)
        unshown = _unshown(check, show)
        if unshown:
            print(f"        ... and {unshown}", file=out)
    print(f"result: {'PASS' if validation.passed else 'FAIL'}", file=out)


def print_warnings(validation: checks.Validation, show: int, out=None) -> None:
    """What the checks found that did not gate (contamination without --gate-contamination, near-duplicates):
    a build or a push that passes still says it."""
    out = out or sys.stdout
    for check in validation.checks:
        if check.status != "warn":
            continue
        print(f"  WARN  {check.name:<22} {terminal_safe(check.summary)}", file=out)
        for offender in check.offenders[:show]:
            print(f"        {where(offender)}: {offender.reason}: {terminal_safe(offender.detail)}", file=out)
        unshown = _unshown(check, show)
        if unshown:
            print(f"        ... and {unshown}", file=out)


def _unshown(check: checks.CheckResult, show: int) -> Optional[str]:
    """What the shown offenders leave out, counted in the unit of the summary: pairs for near-duplicates,
    instructions for Self-Instruct's filters, findings otherwise."""
    shown = min(show, len(check.offenders))
    if isinstance(check.findings, checks.NearDuplicateFindings):
        rest = check.findings.pairs - shown
        return f"{rest:,} more {'pair' if rest == 1 else 'pairs'}" if rest > 0 else None
    rest = len(check.offenders) - shown
    if rest <= 0:
        return None
    if check.name == checks.SELF_INSTRUCT_FILTERS.name:
        instructions = len({o.index for o in check.offenders}) - len({o.index for o in check.offenders[:shown]})
        return f"{plural(rest, 'more finding')} ({plural(instructions, 'more instruction')})"
    return plural(rest, "more finding")
