"""Where the commands may write: one guard for every output path, and writes that never leave half a file.

Every command that writes calls `check_output_file` or `check_output_dir` with its inputs before it
does any work, so an output can never overwrite an input (directly, through a symlink or a hard link),
and `atomic_file` so that a failure, Ctrl-C or SIGTERM leaves either the old file or the new one.
"""

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator, Optional, TextIO

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


class UnsafeOutput(Exception):
    """An output path that would destroy an input or cannot be written; the message says which and why."""


def same_file(a, b) -> bool:
    a, b = Path(a), Path(b)
    try:
        return os.path.samefile(a, b)  # also catches hard links and symlinks
    except OSError:  # one of them does not exist
        return a.resolve() == b.resolve()


def check_output_file(output: str, inputs: Iterable[str]) -> Path:
    """Refuse an output file that is an input, is not a regular file, or has no folder to go in."""
    path = Path(output)
    for source in inputs:
        if same_file(path, source):
            raise UnsafeOutput(f"{output}: is the input {source}; refusing to overwrite it")
    if path.exists() and not path.is_file():
        raise UnsafeOutput(f"{output}: not a regular file (a folder, device or pipe); name a file to write")
    if not path.resolve().parent.is_dir():
        raise UnsafeOutput(f"{output}: the folder {path.parent} does not exist")
    return path


def check_output_dir(output: str, inputs: Iterable[str]) -> Path:
    """Refuse an output folder that is or holds an input, the current folder, or the package itself."""
    out = Path(output).resolve()
    for source in inputs:
        if Path(source).resolve().is_relative_to(out):
            raise UnsafeOutput(f"{output}: holds the input {source}; write the output somewhere else")
    if Path.cwd().resolve().is_relative_to(out):
        raise UnsafeOutput(f"{output}: is the current folder or one of its parents; name a new folder")
    if PACKAGE_ROOT.is_relative_to(out):
        raise UnsafeOutput(f"{output}: is this package's folder or one of its parents; name a new folder")
    if out.exists() and not out.is_dir():
        raise UnsafeOutput(f"{output}: exists and is not a folder")
    return Path(output)


def replacement_refusal(out: Path, overwrite: bool, marker: str, command: str) -> Optional[str]:
    """Why `out` may not be replaced by `command`'s output, or None: it may, being absent, empty, or marked.

    A folder is replaced only with `overwrite` and only if `command` wrote it (it holds `marker`), so a
    mistyped DIR never deletes someone's work.
    """
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        return None
    if not overwrite:
        return f"{out}: already exists (use --overwrite to replace a folder written by `{command}`)"
    if not (out / marker).is_file():
        return f"{out}: not a folder written by `{command}` (no {marker}); refusing to replace it"
    return None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_file(path: Path) -> Iterator[TextIO]:
    """A text file that appears at `path` only when the block ends without error.

    Characters UTF-8 cannot encode (lone surrogates) are written as `\\uXXXX` escapes, which is valid
    JSON inside a string, so a record holding one still round-trips.
    """
    path = Path(path)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", errors="backslashreplace") as f:
            yield f
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes the file private; give it the usual mode
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def move_into_place(staging: Path, out: Path) -> None:
    """Replace `out` by the finished `staging` folder with renames only, so no half-written DIR is ever seen."""
    if not out.exists():
        os.replace(staging, out)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.replace(out, retired / "old")
    os.replace(staging, out)
    shutil.rmtree(retired, ignore_errors=True)
