"""Running compiled kernels: numba's `njit` with a cache where one can be written, and their thread pool.

numba caches beside the module or in the user's cache folder; a read-only install with no writable HOME
has neither, and `njit(cache=True)` then raises at import ("no locator available"), which would stop
every command, `--version` included. Such an install compiles in memory instead, on each run.
"""

from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Iterator

import numba


def njit(**options):
    """`numba.njit(cache=True, **options)`, or without the cache when none can be written."""

    def decorate(function):
        try:
            return numba.njit(cache=True, **options)(function)
        except RuntimeError:  # "cannot cache function ...: no locator available for file ..."
            return numba.njit(cache=False, **options)(function)

    return decorate


@contextmanager
def kernel_threads(workers: int) -> Iterator[ThreadPoolExecutor]:
    """A thread pool for compiled kernels that an interruption does not wait for.

    On Ctrl-C, SIGTERM or any error, the queued chunks are cancelled and the running one is not waited
    for (a chunk can run for many seconds, holding no lock the caller needs); `bioinstruct`'s entry point
    then ends the process without joining it. A run that completes waits for its threads as usual.
    """
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
