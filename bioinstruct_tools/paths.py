"""Where the commands may write: one guard for every output path, and writes that never leave half a file.

Every library function that writes calls `check_output_file` or `check_output_dir` with its inputs
before it does any work, so an output can never overwrite an input (directly, through a symlink or a
hard link), replace a file without `--overwrite`, replace a symlink, or land inside the installed
package; `atomic_file` so that a failure, Ctrl-C or SIGTERM leaves either the old file or the new one;
and `output_lock` so that two commands never write the same output at once.
"""

import errno
import fcntl
import json
import os
import shutil
import tempfile
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterable, Iterator, Optional, TextIO

from bioinstruct_tools.errors import Refused, Unavailable

PACKAGE_FOLDER = Path(__file__).resolve().parent  # bioinstruct_tools/: its resources are read at run time
PACKAGE_ROOT = PACKAGE_FOLDER.parent
# The git checkout this package runs from, or None for an installed wheel: maintainer commands
# (`bioinstruct card`, `build --record`) write the checkout's files and need one.
CHECKOUT_ROOT = PACKAGE_ROOT if (PACKAGE_ROOT / "pyproject.toml").is_file() and (PACKAGE_ROOT / ".git").exists() else None


class UnsafeOutput(Refused):
    """An output path that would destroy an input or cannot be written; the message says which and why."""


class OutputUnavailable(Unavailable):
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


def _inside_package(resolved: Path) -> bool:
    """The installed package's own files (its code, its word model, its card templates) are never an output."""
    return resolved.is_relative_to(PACKAGE_FOLDER) or resolved == PACKAGE_ROOT / "bioinstruct.py"


def check_output_file(output: str, inputs: Iterable[str], overwrite: bool = False) -> Path:
    """Refuse an output file that is or lies inside an input, is not a regular file, is a symlink, lies inside
    the package, or exists without `overwrite`. Its folder is not created here (`atomic_file` does, once the
    work is done), so a refused or failed command leaves nothing behind.
    """
    path = Path(output)
    if output.endswith(("/", os.sep)):
        raise UnsafeOutput(f"{output}: names a folder; name a file to write")
    _check_name_length(path)
    resolved = _resolved(output)
    for source in inputs:
        if same_file(path, source):
            raise UnsafeOutput(f"{output}: is the input {source}; refusing to overwrite it")
        if os.path.isdir(source) and resolved.is_relative_to(_resolved(source)):
            raise UnsafeOutput(f"{output}: lies inside the input folder {source}; write it somewhere else")
    if _inside_package(resolved):
        raise UnsafeOutput(f"{output}: lies inside the bioinstruct package ({PACKAGE_FOLDER}); write it somewhere else")
    if path.is_symlink():
        raise UnsafeOutput(f"{output}: is a symbolic link; refusing to replace it (name the file it points to, or "
                           "another)")
    if not _nearest_existing(path.absolute().parent).is_dir():
        raise UnsafeOutput(f"{output}: its folder cannot be created (a file is in the way)")
    if path.exists():
        if not path.is_file():
            raise UnsafeOutput(f"{output}: not a regular file (a folder, device or pipe); name a file to write")
        if not overwrite:
            raise UnsafeOutput(f"{output}: already exists (use --overwrite to replace it)")
    return path


def check_output_files(outputs: list[str], inputs: Iterable[str], overwrite: bool = False,
                       names: str = "the outputs") -> list[Path]:
    """`check_output_file` for each output, and refuse two of them naming one file (`names` says which flags)."""
    inputs = list(inputs)
    checked = [check_output_file(output, inputs=inputs, overwrite=overwrite) for output in outputs]
    for i, first in enumerate(checked):
        for second in checked[i + 1:]:
            if same_file(first, second) or first.absolute() == second.absolute():
                raise UnsafeOutput(f"{first}: {names} name the same file")
    return checked


def _check_name_length(path: Path) -> None:
    """A name the file system cannot hold is the user's to change (exit 2), found before any work."""
    limit = 255
    longest = max((part for part in path.parts), key=lambda part: len(os.fsencode(part)), default="")
    if len(os.fsencode(longest)) <= limit:
        return  # no file system here takes fewer than 255 bytes a name
    try:
        limit = os.pathconf(_nearest_existing(path.absolute().parent), "PC_NAME_MAX")
    except (OSError, ValueError):
        pass
    for part in path.parts:
        if len(os.fsencode(part)) > limit:
            raise UnsafeOutput(f"{str(path)[:60]}...: a name of {len(os.fsencode(part))} bytes; this file system "
                               f"holds at most {limit}")


def _nearest_existing(path: Path) -> Path:
    """`path` itself if it exists, else its nearest parent that does."""
    for candidate in [path, *path.parents]:
        try:
            if candidate.exists():
                return candidate
        except OSError:  # a name too long to look up
            continue
    return Path(path.anchor or "/")


def check_output_dir(output: str, inputs: Iterable[str]) -> Path:
    """Refuse an output folder that is or holds an input, lies inside an input folder, is the current
    folder, holds the package itself or lies inside it."""
    _check_name_length(Path(output))
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
    if _inside_package(out):
        raise UnsafeOutput(f"{output}: lies inside the bioinstruct package ({PACKAGE_FOLDER}); write it somewhere else")
    if out.exists() and not out.is_dir():
        raise UnsafeOutput(f"{output}: exists and is not a folder")
    return Path(output)


def replacement_refusal(out: Path, overwrite: bool, marker: str, command: str) -> Optional[str]:
    """Why `out` may not be replaced by `command`'s output, or None: it may, being absent, empty, or marked and
    holding only what `command` wrote.

    A folder is replaced only with `overwrite`, only if `command` wrote it (it holds `marker`), and only if
    every file in it is one the command wrote (the marker's manifest, when it has one): a mistyped DIR, or
    someone's notes saved inside a build, are never deleted.
    """
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        return None
    if not overwrite:
        return f"{out}: already exists (use --overwrite to replace a folder written by `{command}`)"
    if not (out / marker).is_file():
        return f"{out}: not a folder written by `{command}` (no {marker}); refusing to replace it"
    foreign = files_not_written_by(out, marker)
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        return (f"{out}: holds files `{command}` did not write ({shown}); refusing to delete them (move them out, "
                "then run again)")
    return None


def files_not_written_by(folder: Path, marker: str) -> list[str]:
    """The files in a marked folder that its marker's manifest does not list (none, for a marker without one)."""
    try:
        written = json.loads((folder / marker).read_text(encoding="utf-8")).get("files")
    except (OSError, ValueError, AttributeError):
        written = None
    if not isinstance(written, dict):
        return []
    foreign = []
    for directory, subfolders, names in os.walk(folder):
        subfolders.sort()
        for name in sorted(names):
            relative = (Path(directory) / name).relative_to(folder).as_posix()
            if relative != marker and relative not in written:
                foreign.append(relative)
    return foreign


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_file(path: Path) -> Iterator[TextIO]:
    """A text file that appears at `path` only when the block ends without error; its folder is created as
    `--out` creates its own (`--rejects out/x.jsonl` works like `--out out`).

    Characters UTF-8 cannot encode (lone surrogates) are written as `\\uXXXX` escapes, which is valid
    JSON inside a string, so a record holding one still round-trips.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputUnavailable(f"{path}: its folder cannot be created ({e.strerror})") from None
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", errors="backslashreplace") as f:
            yield _NamedWriter(f, path)
            _named_write(path, f.flush)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes the file private; give it the usual mode
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


class _NamedWriter:
    """A text file whose write errors (a full disk, a quota) name the output file, not standard output."""

    def __init__(self, f: TextIO, path: Path):
        self._file, self._path = f, path

    def write(self, text: str) -> int:
        return _named_write(self._path, self._file.write, text)


def _named_write(path: Path, write, *args):
    try:
        return write(*args)
    except OSError as e:
        raise OutputUnavailable(f"{path}: cannot be written ({e.strerror or e})") from None


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


LOCK_SUFFIX = ".bioinstruct-lock"


@contextmanager
def output_lock(out: Path, command: str) -> Iterator[None]:
    """One writer per output path at a time, whatever TMPDIR or user: an exclusive `flock` on a hidden file
    beside the output (`.NAME.bioinstruct-lock`), removed when the command ends.

    The lock file is unlinked while still held; a second command that opened it before that finds, once it
    holds the lock, that the name no longer points at its file, and tries again on the new one. A killed
    command's lock is released by the kernel, and its file removed by the next command that takes it.
    """
    lock_path = out.parent / f".{out.name}{LOCK_SUFFIX}"
    created = _make_folder(out.parent)
    for _ in range(10):
        try:
            descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except OSError as e:
            raise OutputUnavailable(f"{out}: cannot write here ({e.strerror})") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(descriptor)
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise OutputUnavailable(f"{out}: another `{command}` is writing it; try again when it ends") from None
            raise OutputUnavailable(f"{out}: cannot be locked ({e.strerror})") from None
        try:
            same = os.path.samestat(os.fstat(descriptor), os.stat(lock_path, follow_symlinks=False))
        except OSError:
            same = False
        if same:
            break
        os.close(descriptor)  # the holder removed it as we opened it: take the new one
    else:
        raise OutputUnavailable(f"{out}: its lock {lock_path} keeps changing; try again")
    try:
        yield
    finally:
        try:
            os.unlink(lock_path)
        except OSError:
            pass
        os.close(descriptor)
        for folder in reversed(created):  # folders made for an output that was never written go again
            try:
                folder.rmdir()
            except OSError:
                break


def _make_folder(folder: Path) -> list[Path]:
    """Create `folder` and its missing parents; returns those it created, outermost first."""
    missing = [parent for parent in [folder, *folder.parents] if not parent.exists()][::-1]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputUnavailable(f"{folder}: cannot write here ({e.strerror})") from None
    return missing


def _remove_stale_staging(out: Path) -> None:
    """Staging and retired folders of earlier runs for `out`: under the lock, their writers are gone."""
    prefixes = (f".{out.name}.staging-", f".{out.name}.old-")
    for name in os.listdir(out.parent):
        if name.startswith(prefixes):
            shutil.rmtree(out.parent / name, ignore_errors=True)


@contextmanager
def staged_folder(out: Path, overwrite: bool, marker: str, command: str, version: str,
                  marker_fields: Optional[dict] = None) -> Iterator[Path]:
    """A folder written in staging beside `out`, marked as `command`'s, and moved into place only if complete.

    One writer per `out` at a time (`output_lock`); a folder `command` did not mark, or holding files it did
    not write, is never replaced, checked at the start and again at the moment of the move; a failure or
    Ctrl-C leaves no staging behind, and one a `kill -9` left is removed by the next run. Folders follow
    the umask. The marker holds `written_by`, `version` and `marker_fields`, which the caller may fill
    while the block runs (a build's manifest).
    """
    with output_lock(out, command):
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
            fields = {"written_by": command, "version": version, **(marker_fields or {})}
            (staging / marker).write_text(json.dumps(fields, indent=1) + "\n", encoding="utf-8")
            refusal = replacement_refusal(out, overwrite, marker, command)  # again: it may have appeared since
            if refusal:
                raise UnsafeOutput(refusal)
            move_into_place(staging, out, marker)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


@contextmanager
def output_files(outputs: Iterable[Path], command: str) -> Iterator[list[TextIO]]:
    """Several output files, each locked and written atomically: all appear when the block ends without error,
    and none if it fails (those already moved into place are the only window, between two renames)."""
    outputs = list(outputs)
    with ExitStack() as stack:
        for path in sorted({Path(output).absolute() for output in outputs}):
            stack.enter_context(output_lock(path, command))
        yield [stack.enter_context(atomic_file(path)) for path in outputs]

