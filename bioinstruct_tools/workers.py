"""Work spread over the cores by forked processes: the categories of a large batch, the report's figures.

Fork, not spawn: a forked worker starts with everything its parent has loaded (modules, compiled patterns, the
texts to work on), so it costs milliseconds, not a second of imports. Fork is safe on Linux only; elsewhere, and
on one core, `cores()` is 1 and callers do the work themselves.
"""

import ctypes
import multiprocessing
import multiprocessing.pool
import os
import signal
import sys

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
