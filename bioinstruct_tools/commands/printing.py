"""What the commands print: the validation table, record locations, JSON documents and progress bars.

Everything that came from a file (names, record text, ids) is made terminal-safe before it is printed.
Progress bars go to stderr, only when it is a terminal (tqdm's `disable=None`), and never into `--json`.
"""

import json
import os
import shutil
import sys
from contextlib import contextmanager
from typing import Iterator, Optional

from tqdm import tqdm

from bioinstruct_tools import checks
from bioinstruct_tools.text import plural, terminal_safe


_TRUE = {"1", "ON", "YES", "TRUE"}  # as `datasets` and `huggingface_hub` read their switches


def bars_disabled() -> Optional[bool]:
    """True when HF_DATASETS_DISABLE_PROGRESS_BARS or TQDM_DISABLE says so; else None: tqdm shows bars only when
    stderr is a terminal, so nothing reaches a pipe or a --json document."""
    switches = (os.environ.get(name, "").upper() for name in ("HF_DATASETS_DISABLE_PROGRESS_BARS", "TQDM_DISABLE"))
    return True if any(value in _TRUE for value in switches) else None


@contextmanager
def step_bar(name: str, total: Optional[int] = None, unit: str = "record") -> Iterator:
    """A run's step as a tqdm bar on stderr, with its total and rate: `checks.Hooks(steps=step_bar)`.

    It appears once the step has run half a second (short steps never flicker) and is removed when done. Its
    size is the terminal's, or 80 by 24 where the terminal reports none (0 by 0, as some consoles and
    pseudo-terminals do: tqdm would draw nothing there).
    """
    columns, lines = shutil.get_terminal_size(fallback=(80, 24))
    bar = tqdm(desc=name, total=total, unit=unit, unit_scale=unit == "B", file=sys.stderr, disable=bars_disabled(),
               leave=False, delay=0.5, mininterval=0.5, ncols=columns, nrows=lines)
    try:
        yield bar.update
    finally:
        bar.close()


STEP_BARS = checks.Hooks(steps=step_bar)  # what every command reports while it works


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
