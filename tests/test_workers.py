"""Forked workers (`workers.ForkedMap`): results in order, errors raised in the parent, and a stop that never
hangs, however the workers were signalled."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from bioinstruct_tools import workers
from bioinstruct_tools.errors import Unavailable

pytestmark = pytest.mark.skipif(workers.cores() < 2, reason="the map forks only with two cores or more")


def _double(item: int) -> int:
    return 2 * item


def _slow(item: int) -> int:
    time.sleep(30)
    return item


def _fails_on_seven(item: int) -> int:
    if item == 7:
        raise ValueError("seven")
    return item


class _Unpicklable(Exception):
    def __reduce__(self):
        raise TypeError("not picklable")


def _fails_unpicklably(item: int) -> int:
    raise _Unpicklable("odd")


def _stops_within(mapping: workers.ForkedMap, seconds: float) -> bool:
    stopper = threading.Thread(target=mapping.stop, daemon=True)
    stopper.start()
    stopper.join(seconds)
    return not stopper.is_alive()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_map_gives_every_result_in_order_from_its_workers_and_leaves_none():
    mapping = workers.ForkedMap(_double, list(range(1000)), parallel_from=10, chunk=7)
    pids = [pid for pid, _ in mapping._workers]
    done = []
    assert mapping.forked and len(pids) == 2
    assert mapping.results(done.append) == [2 * item for item in range(1000)]
    assert sum(done) == 1000 and not mapping.forked
    assert not any(_alive(pid) for pid in pids)


def _large_result_noted(item: tuple[str, int]) -> str:
    """A result of 64 KB, far more than a pipe holds, and a file that says the item is done."""
    folder, number = item
    with open(os.path.join(folder, str(number)), "w"):
        pass
    return str(number) * 65536


def test_the_workers_finish_while_the_parent_is_busy_elsewhere(tmp_path):
    """The parent reads the results only when it asks for them (`validate` runs other checks meanwhile): the
    workers must not wait for it with a pipe full of results, or the work done "in the background" would begin
    only once it is asked for."""
    items = [(str(tmp_path), number) for number in range(40)]
    with workers.ForkedMap(_large_result_noted, items, parallel_from=10, chunk=4) as mapping:
        deadline = time.monotonic() + 20
        while len(os.listdir(tmp_path)) < len(items) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(os.listdir(tmp_path)) == len(items)  # every item done, none of the results read yet
        assert mapping.results() == [_large_result_noted(item) for item in items]


def test_a_small_batch_is_worked_in_this_process():
    mapping = workers.ForkedMap(_double, list(range(5)), parallel_from=10, chunk=2)
    assert not mapping.forked and mapping.results() == [0, 2, 4, 6, 8]


def test_a_workers_exception_is_raised_in_the_parent():
    with workers.ForkedMap(_fails_on_seven, list(range(40)), parallel_from=10, chunk=5) as mapping:
        with pytest.raises(ValueError, match="seven"):
            mapping.results()
    with workers.ForkedMap(_fails_unpicklably, list(range(40)), parallel_from=10, chunk=5) as mapping:
        with pytest.raises(RuntimeError, match="odd"):
            mapping.results()


def test_a_sigterm_to_the_workers_never_hangs_the_stop_or_the_results():
    """A SIGTERM to the process group (a terminal closing, `kill -TERM -PGID`) reaches every worker. Under
    `multiprocessing.Pool`, a worker killed while holding the task queue's lock left the parent's terminate
    waiting forever. Here the results say a worker ended, and the stop returns at once."""
    mapping = workers.ForkedMap(_slow, list(range(40)), parallel_from=10, chunk=20)
    pids = [pid for pid, _ in mapping._workers]
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
    with pytest.raises(Unavailable, match="signal 15"):
        mapping.results()
    assert _stops_within(mapping, 10)
    assert not any(_alive(pid) for pid in pids)


def test_stopping_busy_workers_is_immediate():
    mapping = workers.ForkedMap(_slow, list(range(40)), parallel_from=10, chunk=20)
    pids = [pid for pid, _ in mapping._workers]
    started = time.monotonic()
    assert _stops_within(mapping, 10) and time.monotonic() - started < 5
    assert not any(_alive(pid) for pid in pids)


@pytest.mark.timeout(120)
def test_a_process_group_sigterm_halfway_through_validate_ends_it_in_one_line(tmp_path):
    """The run that hung before: `validate` of a file large enough for forked workers, its whole process group
    sent SIGTERM while they work. One line, exit 143, no worker left, no rejects file."""
    rows = [{"instruction": f"Summarize the note of patient number {i} seen on 03/04/2021, MRN 12345{i:05d}.",
             "input": "The patient reports chest pain " * 40, "output": "A summary."} for i in range(20_000)]
    (tmp_path / "big.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    env = dict(os.environ, BIOINSTRUCT_NO_CACHE="1")
    process = subprocess.Popen([sys.executable, "-c", "import sys, bioinstruct_tools.console as c; sys.exit(c.console())",
                                "validate", "big.jsonl", "--rejects", "rejects.jsonl"], cwd=tmp_path, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    for _ in range(600):  # until forked workers run: the process group has more than one member
        time.sleep(0.05)
        members = subprocess.run(["pgrep", "-g", str(process.pid)], capture_output=True, text=True).stdout.split()
        if len(members) > 1 or process.poll() is not None:
            break
    assert len(members) > 1, "no worker was forked"
    os.killpg(process.pid, signal.SIGTERM)
    stderr = process.communicate(timeout=60)[1]
    assert process.returncode == 143 and stderr.strip().splitlines() == ["bioinstruct validate: terminated"]
    time.sleep(0.5)
    assert not subprocess.run(["pgrep", "-g", str(process.pid)], capture_output=True, text=True).stdout.split()
    assert not (tmp_path / "rejects.jsonl").exists()



_SIGNALLED_AT_FORK = """
import os, signal, sys
from bioinstruct_tools import workers
from bioinstruct_tools.errors import Unavailable
parent = os.getpid()

def command_handler(signum, frame):  # what the command installs: it raises, and says where it ran
    print("handler ran in", "the parent" if os.getpid() == parent else "a worker", flush=True)
    raise KeyboardInterrupt

signal.signal(signal.SIGTERM, command_handler)
os.register_at_fork(**{sys.argv[1]: lambda: os.kill(os.getpid(), signal.SIGTERM)})  # a signal as the fork ends
try:
    workers.ForkedMap(abs, list(range(100)), parallel_from=10, chunk=10).results()
except Unavailable as error:
    print("parent:", error, flush=True)
except KeyboardInterrupt:
    try:
        os.waitpid(-1, os.WNOHANG)
        print("parent: interrupted, a worker is left", flush=True)
    except ChildProcessError:  # no child at all: every worker was stopped and reaped
        print("parent: interrupted, no worker left", flush=True)
"""


@pytest.mark.parametrize("hook, expected", [
    # in the worker, the signal waits for the worker's own handlers, which die at once
    ("after_in_child", ["parent: a worker process ended before it answered (signal 15; out of memory?)"]),
    # in the parent, it reaches the command's handler once the workers are listed, and they are stopped
    ("after_in_parent", ["handler ran in the parent", "parent: interrupted, no worker left"]),
])
def test_a_sigterm_that_lands_as_a_worker_is_forked_acts_once_in_the_right_process(hook, expected):
    """The window that hung a process-group SIGTERM: Python's at-fork hooks run there, and drop what a handler
    raises in them. The command's handler must never run in a worker, and never be lost in the parent."""
    run = subprocess.run([sys.executable, "-c", _SIGNALLED_AT_FORK, hook], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == expected
    assert "Traceback" not in run.stderr
