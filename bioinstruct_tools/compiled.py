"""numba's `njit`, caching compiled kernels where a cache can be written and compiling in memory where not.

numba caches beside the module or in the user's cache folder; a read-only install with no writable HOME
has neither, and `njit(cache=True)` then raises at import ("no locator available"), which would stop
every command, `--version` included. Such an install compiles in memory instead, on each run.
"""

import numba


def njit(**options):
    """`numba.njit(cache=True, **options)`, or without the cache when none can be written."""

    def decorate(function):
        try:
            return numba.njit(cache=True, **options)(function)
        except RuntimeError:  # "cannot cache function ...: no locator available for file ..."
            return numba.njit(cache=False, **options)(function)

    return decorate
