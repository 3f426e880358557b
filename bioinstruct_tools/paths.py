"""Where the commands may write: one guard for every output path, and writes that never leave half a file.

Every command that writes calls `check_output_file` or `check_output_dir` with its inputs before it
does any work, so an output can never overwrite an input (directly, through a symlink or a hard link),
and `atomic_file` so that a failure, Ctrl-C or SIGTERM leaves either the old file or the new one.
"""

import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator, Optional, TextIO

import filelock

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
# The git checkout this package runs from, or None for an installed wheel: maintainer commands
# (`bioinstruct card`, `build --record`) write the checkout's files and need one.
CHECKOUT_ROOT = PACKAGE_ROOT if (PACKAGE_ROOT / "pyproject.toml").is_file() and (PACKAGE_ROOT / ".git").exists() else None


class UnsafeOutput(Exception):
    """An output path that would destroy an input or cannot be written; the message says which and why."""


class OutputUnavailable(Exception):
    """The output folder cannot be written now: another command is writing it, or the system refuses."""


def same_file(a, b) -> bool:
    a, b = Path(a), Path(b)
    try:
        return os.path.samefile(a, b)  # also catches hard links and symlinks
    except OSError:  # one of them does not exist
        return a.resolve() == b.resolve()


def _resolved(output: str) -> Path:
    try:
        return Path(output).resolve()
    except (RuntimeError, OSError) as e:  # a symlink loop
        raise UnsafeOutput(f"{output}: cannot be resolved ({getattr(e, 'strerror', None) or e})") from None


def check_output_file(output: str, inputs: Iterable[str]) -> Path:
    """Refuse an output file that is or lies inside an input, or is not a regular file; create its folder.

    Its folder is created as `--out` creates its own, so `--rejects out/x.jsonl` works like `--out out`.
    """
    path = Path(output)
    resolved = _resolved(output)
    for source in inputs:
        if same_file(path, source):
            raise UnsafeOutput(f"{output}: is the input {source}; refusing to overwrite it")
        if os.path.isdir(source) and resolved.is_relative_to(_resolved(source)):
            raise UnsafeOutput(f"{output}: lies inside the input folder {source}; write it somewhere else")
    if path.exists() and not path.is_file():
        raise UnsafeOutput(f"{output}: not a regular file (a folder, device or pipe); name a file to write")
    try:
        resolved.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UnsafeOutput(f"{output}: its folder cannot be created ({e.strerror})") from None
    return path


def check_output_dir(output: str, inputs: Iterable[str]) -> Path:
    """Refuse an output folder that is or holds an input, lies inside an input folder, is the current
    folder, or holds the package itself."""
    out = _resolved(output)
    for source in inputs:
        source_path = _resolved(source)
        if source_path.is_relative_to(out):
            raise UnsafeOutput(f"{output}: holds the input {source}; write the output somewhere else")
        if source_path.is_dir() and out.is_relative_to(source_path):
            raise UnsafeOutput(f"{output}: lies inside the input folder {source}; write the output somewhere else")
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


def move_into_place(staging: Path, out: Path, marker: str) -> None:
    """Replace `out` by the finished `staging` folder with renames only, so no half-written DIR is ever seen.

    A folder that is not there is created by one rename, which fails if one appeared in the meantime
    (a rename onto a folder that is not empty fails); a folder that is there is replaced only if it
    still holds `marker`, checked right before the rename that retires it.
    """
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):  # a rename replaces an empty folder
        try:
            os.rename(staging, out)
        except OSError as e:
            raise UnsafeOutput(f"{out}: appeared while this command ran ({e.strerror}); nothing was replaced") from None
        return
    if not (out / marker).is_file():
        raise UnsafeOutput(f"{out}: appeared, or changed, while this command ran (no {marker}); nothing was replaced")
    retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.replace(out, retired / "old")
    os.replace(staging, out)
    shutil.rmtree(retired, ignore_errors=True)


def _lock_for(out: Path) -> filelock.FileLock:
    """One lock per output folder, kept in the temp folder so that nothing is left beside DIR."""
    folder = Path(tempfile.gettempdir()) / f"bioinstruct-locks-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
    folder.mkdir(exist_ok=True)
    name = hashlib.sha256(str(out.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:20]
    return filelock.FileLock(str(folder / f"{name}.lock"), timeout=0)


def _remove_stale_staging(out: Path) -> None:
    """Staging and retired folders of earlier runs for `out`: under the lock, their writers are gone."""
    prefixes = (f".{out.name}.staging-", f".{out.name}.old-")
    for name in os.listdir(out.parent):
        if name.startswith(prefixes):
            shutil.rmtree(out.parent / name, ignore_errors=True)


@contextmanager
def staged_folder(out: Path, overwrite: bool, marker: str, command: str, version: str) -> Iterator[Path]:
    """A folder written in staging beside `out`, marked as `command`'s, and moved into place only if complete.

    One writer per `out` at a time (a lock); a folder `command` did not mark is never replaced, checked
    at the start and again at the moment of the move; a failure or Ctrl-C leaves no staging behind,
    and one a `kill -9` left is removed by the next run. Folders follow the umask.
    """
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        lock = _lock_for(out)
        lock.acquire()
    except filelock.Timeout:
        raise OutputUnavailable(f"{out}: another `{command}` is writing this folder; try again when it ends") from None
    except OSError as e:
        raise OutputUnavailable(f"{out}: cannot write here ({e.strerror})") from None
    try:
        _remove_stale_staging(out)
        refusal = replacement_refusal(out, overwrite, marker, command)
        if refusal:
            raise UnsafeOutput(refusal)
        try:
            staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
            os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes it private; give it the usual mode
        except OSError as e:
            raise OutputUnavailable(f"{out}: cannot write here ({e.strerror})") from None
        try:
            yield staging
            (staging / marker).write_text(json.dumps({"written_by": command, "version": version}) + "\n",
                                          encoding="utf-8")
            refusal = replacement_refusal(out, overwrite, marker, command)  # again: it may have appeared since
            if refusal:
                raise UnsafeOutput(refusal)
            move_into_place(staging, out, marker)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    finally:
        lock.release()
