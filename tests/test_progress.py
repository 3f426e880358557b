"""Progress: the library enters a step around each long piece of work, with its total, and tells it how far
it is; the commands draw those steps as tqdm bars on a terminal only, and never when told not to."""

import contextlib
import io
import os
import pty
import sys
import time

import pytest
from conftest import SAMPLE

from bioinstruct_tools import checks
from bioinstruct_tools.categorize import categorize_source
from bioinstruct_tools.commands import printing


class RecordedSteps:
    """A `Hooks.steps` that remembers each step's name, total and the updates it was told."""

    def __init__(self):
        self.steps: dict[str, tuple] = {}

    @contextlib.contextmanager
    def __call__(self, name, total=None, unit="record"):
        done = []
        yield done.append
        self.steps[name] = (total, unit, sum(done))


def test_validate_steps_through_reading_and_every_check_with_totals_that_add_up():
    recorded = RecordedSteps()
    validation = checks.validate_file(str(SAMPLE), hooks=checks.Hooks(steps=recorded))
    rows = validation.rows
    assert recorded.steps["reading"] == (os.path.getsize(SAMPLE), "B", os.path.getsize(SAMPLE))
    for name in ("schema", "uniqueness", "near duplicates", "near duplicates: tokenizing", "personal information",
                 "categories"):
        assert recorded.steps[name] == (rows, "record", rows), name  # each reaches its total


def test_a_large_corpus_is_tokenized_and_scanned_with_progress_that_reaches_its_totals():
    """Past `neardup._COMPILED_FROM` instructions the compiled search tokenizes a chunk at a time, reporting each."""
    from synthetic import templated_instructions

    from bioinstruct_tools import neardup

    size = neardup._COMPILED_FROM + 500
    records = checks.numbered([{"instruction": text, "input": "", "output": "x"}
                               for text in templated_instructions(size)])
    recorded = RecordedSteps()
    checks.validate(records, "large.jsonl", hooks=checks.Hooks(steps=recorded),
                    checks=(checks.SCHEMA, checks.NEAR_DUPLICATES))
    assert recorded.steps["near duplicates: tokenizing"] == (size, "record", size)
    assert recorded.steps["near duplicates"] == (size, "record", size)


def test_categorize_file_steps_through_reading_and_categorizing():
    recorded = RecordedSteps()
    rows = categorize_source(str(SAMPLE), hooks=checks.Hooks(steps=recorded))
    assert recorded.steps["categorizing"] == (len(rows), "record", len(rows))


def test_clean_steps_through_the_greedy_filter():
    from bioinstruct_tools.clean import clean

    recorded = RecordedSteps()
    records = checks.read_records(str(SAMPLE))
    clean(records, str(SAMPLE), hooks=checks.Hooks(steps=recorded))
    assert recorded.steps["near duplicates"][0] == recorded.steps["near duplicates"][2] > 0


class Terminal(io.StringIO):
    def isatty(self):
        return True


def draw_a_step(monkeypatch, stream) -> str:
    monkeypatch.setattr(sys, "stderr", stream)
    with printing.step_bar("categories", 10) as update:
        for _ in range(2):
            time.sleep(0.6)  # bars appear only once a step has run half a second
            update(5)
    return stream.getvalue()


def test_a_step_on_a_terminal_is_a_bar_with_its_total_and_rate(monkeypatch):
    for name in ("HF_DATASETS_DISABLE_PROGRESS_BARS", "TQDM_DISABLE"):
        monkeypatch.delenv(name, raising=False)
    drawn = draw_a_step(monkeypatch, Terminal())
    assert "categories" in drawn and "10/10" in drawn and "record/s" in drawn


@pytest.mark.parametrize("switch", ["HF_DATASETS_DISABLE_PROGRESS_BARS", "TQDM_DISABLE"])
def test_the_switches_of_datasets_and_tqdm_turn_the_bars_off(monkeypatch, switch):
    monkeypatch.setenv(switch, "1")
    assert draw_a_step(monkeypatch, Terminal()) == ""


def test_no_bar_reaches_a_pipe_or_a_file(monkeypatch):
    assert draw_a_step(monkeypatch, io.StringIO()) == ""


def test_a_terminal_that_reports_no_size_still_shows_the_bar():
    """A pseudo-terminal of 0 by 0 (as some consoles report): tqdm alone draws nothing there."""
    code = ("import time\nfrom bioinstruct_tools.commands.printing import step_bar\n"
            "with step_bar('categories', 4) as update:\n"
            "    for _ in range(4):\n        time.sleep(0.2)\n        update(1)\n")
    pid, fd = pty.fork()
    if pid == 0:  # the child: stdin, stdout and stderr are the pseudo-terminal, whose size is 0 by 0
        env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES", "TQDM_DISABLE",
                                                                             "HF_DATASETS_DISABLE_PROGRESS_BARS")}
        os.execve(sys.executable, [sys.executable, "-c", code], env)
    drawn = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child has closed the terminal
            break
        if not chunk:
            break
        drawn += chunk
    os.waitpid(pid, 0)
    assert b"categories:" in drawn and b"/4 [" in drawn  # its total, at the width of 80 columns
