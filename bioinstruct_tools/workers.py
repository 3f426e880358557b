"""Work spread over the cores by forked processes: the categories and personal information of a large batch, the
report's figures.

Fork, not spawn: a forked worker starts with everything its parent has loaded (modules, compiled patterns, the
texts to work on), so it costs milliseconds, not a second of imports. Fork is safe on Linux only; elsewhere, and
on one core, `cores()` is 1 and callers do the work themselves.
"""

import ctypes
import itertools
import multiprocessing
import multiprocessing.pool
import os
import signal
import sys
from typing import Any, Callable, Sequence

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def cores() -> int:
    """The processors this process may run on, where forking is safe; else 1."""
    return len(os.sched_getaffinity(0)) if sys.platform == "linux" else 1


def forked_pool(workers: int) -> multiprocessing.pool.Pool:
    """A pool of `workers` forked processes that leave signals to their parent and die with it."""
    return multiprocessing.get_context("fork").Pool(workers, initializer=_quiet_worker, initargs=(os.getpid(),))


def _quiet_worker(parent: int) -> None:
    """A worker leaves Ctrl-C to its parent, which stops the pool, and ends quietly when the pool stops it with
    SIGTERM: it drops the handlers it inherited (the command's would raise, and print a traceback per worker)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # and it dies with its parent (SIGKILL, an OOM kill), instead of living on to fail writing to nobody
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before that call
        os._exit(1)


class ForkedMap:
    """`function` over consecutive chunks of `items` in forked workers, started at once; `results` collects them.

    The workers inherit `items` (nothing is pickled to them but a chunk's bounds) and send back one result per
    item. With fewer than `parallel_from` items, or one core, the caller's process does the work when
    `results` is asked for. `stop` ends the workers; call it however the run ends (a `with` block does).
    """

    def __init__(self, function: Callable[[Any], Any], items: Sequence, parallel_from: int, chunk: int):
        self.function, self.items, self._chunk, self._pool = function, items, chunk, None
        processes = 1 if len(items) < parallel_from else min(cores(), len(items) // chunk)
        if processes > 1:
            token = next(_tokens)
            _forked[token] = (function, items)  # what a worker forked from here on reads, by its token
            self._token = token
            self._bounds = [(start, min(start + chunk, len(items))) for start in range(0, len(items), chunk)]
            self._pool = forked_pool(processes)
            self._answers = self._pool.imap(_run_chunk, [(token, start, end) for start, end in self._bounds])

    @property
    def forked(self) -> bool:
        return self._pool is not None

    def results(self, progress: Callable[[int], None] = lambda done: None) -> list:
        """Every item's result, in order, with `progress(done)` after each chunk."""
        if self._pool is None:
            found = []
            for start in range(0, len(self.items), self._chunk):
                found += [self.function(item) for item in self.items[start:start + self._chunk]]
                progress(min(self._chunk, len(self.items) - start))
            return found
        found = []
        for (start, end), answers in zip(self._bounds, self._answers):
            found += answers
            progress(end - start)
        self.stop()
        return found

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
            _forked.pop(self._token, None)

    def __enter__(self) -> "ForkedMap":
        return self

    def __exit__(self, *exception) -> None:
        self.stop()


_forked: dict[int, tuple[Callable, Sequence]] = {}  # the maps running, as their workers find them
_tokens = itertools.count()


def _run_chunk(bounds: tuple[int, int, int]) -> list:
    token, start, end = bounds
    function, items = _forked[token]
    return [function(item) for item in items[start:end]]
