"""Running compiled kernels: numba's `njit` with a cache where one can be written, and their thread pool.

numba caches beside the module or in the user's cache folder; a read-only install with no writable HOME
has neither, and `njit(cache=True)` then raises at import ("no locator available"), which would stop
every command, `--version` included. Such an install caches in a private folder of the user's in the
temporary folder instead, and compiles in memory, on each run, only when even that cannot be had.
"""

import os
import stat
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional


def njit(**options):
    """`numba.njit(cache=True, **options)`, caching in a private temporary folder when numba has no place of its
    own, or without a cache when none can be written. numba is imported here, by the kernel modules
    (`neardup_compiled`, `contamination_kernels`), which are imported only when a search needs them."""
    import numba

    def decorate(function):
        try:
            return numba.njit(cache=True, **options)(function)
        except RuntimeError:  # "cannot cache function ...: no locator available for file ..."
            pass
        folder = private_cache_folder()
        if folder is not None and not numba.config.CACHE_DIR:
            numba.config.CACHE_DIR = folder
            try:
                return numba.njit(cache=True, **options)(function)
            except RuntimeError:
                pass
        return numba.njit(cache=False, **options)(function)

    return decorate


def private_cache_folder() -> Optional[str]:
    """`$TMPDIR/bioinstruct-numba-UID`, made private, or None when it cannot be had safely: a folder someone
    else made there (or a link) could serve another user's compiled code."""
    folder = Path(tempfile.gettempdir()) / f"bioinstruct-numba-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None
    return str(folder)


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
