"""Decisions remembered across runs, on disk: a source validated, cleaned, built and reported is categorized once.

The category rules take most of a `validate`'s time and answer the same for the same text every time, so their
answers are kept in one SQLite file per *version* of what decides (the rules, the word model and its weights: the
caller names the files), keyed by a hash of each (instruction, input). A changed rule makes a new version and
never reads an old answer. The file holds hashes and answers (a category and its reason), not the texts.

It is only ever a shortcut: a folder that cannot be written, a locked, damaged or foreign file, an answer that is
not a category, each means "not remembered" and never an error. `BIOINSTRUCT_NO_CACHE=1` turns it off.

Where: `$BIOINSTRUCT_CACHE`, else `$XDG_CACHE_HOME/bioinstruct`, else `~/.cache/bioinstruct` (as `huggingface_hub`
keeps its own under `~/.cache/huggingface`).
"""

import contextlib
import hashlib
import json
import os
import re
import sqlite3
import stat
import sys
import unicodedata
from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence

_KEPT_VERSIONS = 4  # answers of older versions of the rules are dropped past this many files
_LARGEST_FILE = 512 << 20  # bytes; a file grown past this starts again empty (about 10M remembered answers)
_BUSY_SECONDS = 0.5  # another run writing: wait this long, then go on without remembering
_LOOKED_UP_AT_ONCE = 16_384  # keys per query: what a look-up holds at once stays small
KEY_BYTES = 16  # `key_of`'s digest size


def key_of(instruction: str, input: str) -> bytes:
    """A 16-byte hash of one (instruction, input); the length prefix keeps ("a", "bc") apart from ("ab", "c")."""
    text = f"{len(instruction)}:{instruction}\0{input}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=KEY_BYTES).digest()


def version_of(files: Sequence[Path]) -> str:
    """A digest of the files that decide and of what reads them (Python's version and its Unicode tables, which
    regular expressions and case folding follow): any change to any of them is a new version."""
    digest = hashlib.blake2b(f"{sys.version_info[:2]} {unicodedata.unidata_version}".encode(), digest_size=12)
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def cache_folder() -> Optional[Path]:
    """Where the answers are kept, or None when the cache is off."""
    if os.environ.get("BIOINSTRUCT_NO_CACHE", "") not in ("", "0"):
        return None
    if os.environ.get("BIOINSTRUCT_CACHE"):
        return Path(os.environ["BIOINSTRUCT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "bioinstruct"


@contextlib.contextmanager
def opened(name: str, version: str) -> Iterator[Optional["DecisionCache"]]:
    """The cache of `name` at `version`, or None when there is none to be had; closed on leaving."""
    connection = _connect(name, version)
    try:
        yield DecisionCache(connection) if connection is not None else None
    finally:
        if connection is not None:
            connection.close()


class DecisionCache:
    """Answers (two strings) by key. Every failure is a miss or a skipped write."""

    def __init__(self, connection: sqlite3.Connection):
        self._connection = connection

    def look_up(self, keys: Sequence[bytes]) -> list[Optional[tuple[str, str]]]:
        """The remembered answer of each key (`key_of`), None where there is none, in the keys' order. Keys are
        looked up a chunk at a time, and a decision or reason many texts share is one string in memory."""
        answers: list[Optional[tuple[str, str]]] = [None] * len(keys)
        wanted = [index for index, key in enumerate(keys) if len(key) == KEY_BYTES]  # any other is no key of ours
        strings: dict[str, str] = {}
        try:
            for start in range(0, len(wanted), _LOOKED_UP_AT_ONCE):
                chunk = wanted[start:start + _LOOKED_UP_AT_ONCE]
                (found,) = self._connection.execute(_LOOK_UP, (b"".join(keys[index] for index in chunk),
                                                               len(chunk))).fetchone()
                for position, decision, reason in json.loads(found):
                    if isinstance(decision, str) and isinstance(reason, str):
                        answers[chunk[position]] = (strings.setdefault(decision, decision),
                                                    strings.setdefault(reason, reason))
        except (sqlite3.Error, ValueError):
            return [None] * len(keys)
        return answers

    def store(self, answers: Iterable[tuple[bytes, tuple[str, str]]]) -> None:
        """Remember `answers` (key, (decision, reason)); a reason shared by many texts is stored once."""
        answers = [(key, answer) for key, answer in answers
                   if len(key) == KEY_BYTES and _storable(answer[0]) and _storable(answer[1])]
        if not answers:
            return
        keys = b"".join(key for key, _ in answers)
        reasons = json.dumps(sorted({reason for _, (_, reason) in answers}))
        rows = json.dumps([answer for _, answer in answers])
        try:
            with self._connection:
                self._connection.execute(_STORE_REASONS, (reasons,))
                self._connection.execute(_STORE_ANSWERS, (keys, rows))
        except sqlite3.Error:
            pass


def _storable(text: str) -> bool:
    """Whether `text` comes back from SQLite's JSON functions as it went in: not with a NUL (it would come back cut
    there) or a lone surrogate (it would not go in). Such an answer is not remembered, and is decided again."""
    if "\0" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# Each chunk is one statement, whatever its size. Python's sqlite3 lets other threads run during every step of a
# statement, one step per row (`executemany`, a fetch), and takes the GIL back after each: with a busy thread beside
# it (numba loading its kernels), a look-up of 25,005 keys one row at a time took over two minutes instead of 0.2 s.
# So the keys go in as one blob, cut into 16-byte keys by a recursive count, and the answers come back as one JSON
# array of [position, decision, reason].
_LOOK_UP = f"""
    WITH RECURSIVE position(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM position WHERE n + 1 < ?2)
    SELECT json_group_array(json_array(position.n, a.decision, r.text))
    FROM position
    CROSS JOIN answers a ON a.key = substr(?1, position.n * {KEY_BYTES} + 1, {KEY_BYTES})
    JOIN reasons r ON r.id = a.reason
"""
_STORE_REASONS = "INSERT OR IGNORE INTO reasons(text) SELECT value FROM json_each(?1)"
# ?1 the keys as one blob, ?2 [decision, reason] for each, in the keys' order
_STORE_ANSWERS = f"""
    INSERT OR REPLACE INTO answers(key, decision, reason)
    SELECT substr(?1, answer.key * {KEY_BYTES} + 1, {KEY_BYTES}), json_extract(answer.value, '$[0]'), reason.id
    FROM json_each(?2) answer
    JOIN reasons reason ON reason.text = json_extract(answer.value, '$[1]')
"""


def _connect(name: str, version: str) -> Optional[sqlite3.Connection]:
    folder = cache_folder()
    if folder is None:
        return None
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _own_folder(folder):
            return None
        path = folder / f"{name}-{version}.sqlite"
        if path.is_symlink() or (path.exists() and path.stat().st_size > _LARGEST_FILE):
            path.unlink()
        fresh = not path.exists()
        connection = sqlite3.connect(path, timeout=_BUSY_SECONDS, isolation_level="DEFERRED")
        connection.execute("CREATE TABLE IF NOT EXISTS reasons(id INTEGER PRIMARY KEY, text TEXT UNIQUE NOT NULL)")
        connection.execute("CREATE TABLE IF NOT EXISTS answers(key BLOB PRIMARY KEY, decision TEXT NOT NULL, "
                           "reason INTEGER NOT NULL) WITHOUT ROWID")
        connection.commit()
    except (OSError, sqlite3.Error):
        return None
    if fresh:
        _drop_old_versions(folder, name)
    return connection


def _own_folder(folder: Path) -> bool:
    """A folder of the user's own that nobody else can write: answers planted by another user are never read."""
    info = folder.lstat()
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o022


def _drop_old_versions(folder: Path, name: str) -> None:
    with contextlib.suppress(OSError):  # another run may be dropping the same files
        ours = re.compile(rf"{re.escape(name)}-[0-9a-f]{{24}}\.sqlite")  # never a file of the user's own naming
        files = sorted((path for path in folder.iterdir() if ours.fullmatch(path.name)),
                       key=lambda path: path.stat().st_mtime, reverse=True)
        for old in files[_KEPT_VERSIONS:]:
            old.unlink()
