"""The streaming JSON reader: a JSON array, JSON Lines or a JSON object keyed by id, UTF-8 with or without a BOM.

Strict JSON (a key twice, NaN/Infinity, numbers of over 100 digits and deep nesting are errors), read a
block at a time so that memory holds the records taken and one block, never the file's text. Every
error names the file and the record (index and line). The loading script and `sources.read_source`
both read JSON through here.
"""

import codecs
import contextlib
import contextvars
import json
import math
import os
import re
import stat
from typing import Callable, Iterator, NamedTuple, Optional

from bioinstruct_tools.records import BioInstructInputError, UnreadableFileError, json_type

_JSON_WHITESPACE = re.compile(r"[ \t\n\r]*")
_MEMBER_SEPARATOR = re.compile(r"[ \t\n\r]*,[ \t\n\r]*")
_MAX_NUMBER_DIGITS = 100  # a longer number is an attack or corruption; int() of 4,300+ digits raises anyway


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list) -> dict:
    record = dict(pairs)
    if len(record) < len(pairs):
        seen = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise _DuplicateKey(f"key {duplicate!r} appears twice in one object")
    return record


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _parse_int(digits: str) -> int:
    if len(digits) > _MAX_NUMBER_DIGITS:
        raise ValueError(f"a number of {len(digits):,} digits (at most {_MAX_NUMBER_DIGITS} are read)")
    return int(digits)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400: JSON's grammar allows it, no float holds it, and writing it back fails
        raise ValueError(f"the number {text[:40]} is too large for a float")
    return value


# Strict JSON: duplicate keys, NaN/Infinity and absurd numbers are errors, not silently accepted.
_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_constant=_reject_constant, parse_int=_parse_int,
                            parse_float=_parse_float)
_SCAN = _DECODER.scan_once  # what `raw_decode` calls, with the same hooks, minus a Python frame per record


class JsonRecord(NamedTuple):
    index: int  # counts records from 0
    line: int  # where the record starts, from 1
    key: Optional[str]  # its key, in a JSON object keyed by id; None in an array or JSON Lines
    data: dict


def read_records(path: str, display: Optional[str] = None,
                 max_record_chars: Optional[int] = None) -> Iterator[tuple[int, int, dict]]:
    """Yield `(index, line, record)` for every record of `path`; see `read_json_records`."""
    for index, line, _, record in read_json_records(path, display, max_record_chars):
        yield index, line, record


def read_json_records(path: str, display: Optional[str] = None,
                      max_record_chars: Optional[int] = None) -> Iterator[JsonRecord]:
    """Every record of `path`: a JSON array of objects, JSON Lines, or one JSON object whose values are the
    records and whose keys are their ids (`{"12345": {...}, ...}`, as PubMedQA and many QA sets publish).

    The file is read a block at a time, so memory holds the records taken and one block, not the file's
    text. Raises `UnreadableFileError`, naming the file (as `display`, when the path read is a copy) and
    the record, for anything that is not a non-empty sequence of JSON objects, and for a record longer
    than `max_record_chars` when a cap is given.
    """
    try:
        yield from _records(path, _BLOCK_CHARS, max_record_chars)
    except BioInstructInputError as e:
        if display is None:
            raise
        raise type(e)(display, e.detail, index=e.index, line=e.line, reason=e.reason) from None


def _records(path: str, block: int, max_record_chars: Optional[int] = None) -> Iterator[JsonRecord]:
    check_regular_file(path)
    try:
        with open(path, "rb") as f:
            stream = _TextStream(path, f, block, max_record_chars)
            stream.skip_whitespace()
            if stream.peek() == "[":
                layout = _array_records
            elif _starts_keyed_object(stream):
                layout = _keyed_records
            else:
                layout = _json_lines_records
            count = 0
            for count, record in enumerate(layout(stream), start=1):
                yield record
    except OSError as e:
        raise UnreadableFileError(path, f"cannot be read ({e.strerror})", reason="unreadable") from None
    if count == 0:
        raise UnreadableFileError(path, "holds no records (expected a JSON array, JSON Lines or a JSON object of "
                                  "objects keyed by id)", reason="empty_file")


def check_regular_file(path: str) -> None:
    """Refuse, before opening it, anything but a regular file: opening a FIFO blocks forever, and
    reading /dev/zero never ends."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise UnreadableFileError(path, "no such file", reason="missing_file") from None
    except (OSError, ValueError) as e:  # a symlink loop, a name the system refuses
        raise UnreadableFileError(path, f"cannot be read ({getattr(e, 'strerror', None) or e})",
                                  reason="unreadable") from None
    if not stat.S_ISREG(mode):
        raise UnreadableFileError(path, "not a regular file (a folder, device or pipe); expected a JSON file",
                                  reason="not_a_regular_file")


# Told the bytes of each block as it is read, while a `reading_progress` block runs (a progress bar): a context
# variable rather than a parameter threaded through every reader of every shape a source can take.
_on_bytes_read: contextvars.ContextVar[Optional[Callable[[int], None]]] = contextvars.ContextVar("on_bytes_read",
                                                                                                 default=None)


@contextlib.contextmanager
def reading_progress(on_bytes_read: Callable[[int], None]) -> Iterator[None]:
    """Within the block, every JSON file read reports its bytes to `on_bytes_read` as it goes."""
    token = _on_bytes_read.set(on_bytes_read)
    try:
        yield
    finally:
        _on_bytes_read.reset(token)


_BLOCK_CHARS = 1 << 24  # characters read at a time (16 M); a record longer than a block grows it
_LONGEST_TOKEN = 8  # of the JSON tokens that can be cut and still fail before the end: "\\uXXXX", "false"


class _TextStream:
    """A UTF-8 file's text (BOM stripped, newlines as `\\n`), read a block at a time.

    `text[position:]` is what has not been consumed yet and `line` is the line at `position`; `more()`
    drops what was consumed and appends the next block.
    """

    def __init__(self, path: str, f, block: int, max_record_chars: Optional[int]):
        self.path, self.f, self.block, self.max_record_chars = path, f, block, max_record_chars
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.text, self.position, self.line = "", 0, 1
        self.bytes_read, self.eof, self.held_cr = 0, False, False
        self.on_bytes_read = _on_bytes_read.get()

    def more(self, at_least: int = 0) -> bool:
        """Read another block (at least `at_least` characters more when the file has them); False at the end."""
        if self.eof:
            return False
        self.text, self.position = self.text[self.position:], 0
        wanted = len(self.text) + max(self.block, at_least)
        while len(self.text) < wanted and not self.eof:
            chunk = self.f.read(self.block)
            self.eof = not chunk
            try:
                decoded = self.decoder.decode(chunk, final=self.eof)
            except UnicodeDecodeError as e:
                raise UnreadableFileError(self.path, f"not UTF-8 text (byte {self.bytes_read + e.start}: {e.reason})",
                                          reason="bad_encoding") from None
            self.bytes_read += len(chunk)
            if self.on_bytes_read is not None:
                self.on_bytes_read(len(chunk))
            decoded = ("\r" if self.held_cr else "") + decoded
            self.held_cr = decoded.endswith("\r") and not self.eof  # "\r\n" may straddle two blocks
            if self.held_cr:
                decoded = decoded[:-1]
            self.text += decoded.replace("\r\n", "\n").replace("\r", "\n")  # universal newlines
        return True

    def skip_whitespace(self) -> None:
        while True:
            end = _JSON_WHITESPACE.match(self.text, self.position).end()
            self.line += self.text.count("\n", self.position, end)
            self.position = end
            if end < len(self.text) or not self.more():
                return

    def peek(self) -> str:
        return self.text[self.position:self.position + 1]

    def at_end(self) -> bool:
        self.skip_whitespace()
        return self.position == len(self.text)

    def decode(self, index: int, what: str = "the record") -> dict:
        """The JSON object at the position; errors say which record and line."""
        value = self._plain_object()
        if value is None:  # not the common case: decoded again, carefully, to read on or to say what is wrong
            value = self._value(index)
        if not isinstance(value, dict):
            raise UnreadableFileError(self.path, f"expected a JSON object as {what}, found {json_type(value)}",
                                      index=index, line=self.line, reason="not_an_object")
        return value

    def decode_key(self, index: int) -> str:
        """A keyed object's key and its colon."""
        if self.peek() != '"':
            raise UnreadableFileError(self.path, "invalid JSON: expected a quoted key in the keyed object",
                                      index=index, line=self.line, reason="invalid_json")
        key = self._value(index)
        self.skip_whitespace()
        if self.peek() != ":":
            raise UnreadableFileError(self.path, f"invalid JSON: expected ':' after the key {key!r}", index=index,
                                      line=self.line, reason="invalid_json")
        self.position += 1
        self.skip_whitespace()
        return key

    def skip_separator(self) -> bool:
        """Consume a member separator (`,` and white space) that lies wholly in the block; False if there is none."""
        match = _MEMBER_SEPARATOR.match(self.text, self.position)
        if match is None or match.end() == len(self.text):  # not there, or the white space may go on past the block
            return False
        self.line += self.text.count("\n", self.position, match.end())
        self.position = match.end()
        return True

    def _plain_object(self) -> Optional[dict]:
        """The common case, consumed: a whole plain object at the position (`object_at`). Else None, and nothing is
        consumed. An object cut by the block's end cannot decode: its closing brace is missing."""
        found = self.object_at(self.position)
        if found is None:
            return None
        value, end = found
        self.line += self.text.count("\n", self.position, end)
        self.position = end
        return value

    def object_at(self, start: int) -> Optional[tuple[dict, int]]:
        """The object that starts at `start` and where it ends, when it decodes without error and within the record
        limit; else None (the careful path then says why)."""
        try:
            value, end = _SCAN(self.text, start)
        except (StopIteration, ValueError, RecursionError):
            return None
        if type(value) is not dict or (self.max_record_chars is not None and end - start > self.max_record_chars):
            return None
        return value, end

    def _value(self, index: int):
        """The JSON value at the position, consumed."""
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, self.position)
                break
            except json.JSONDecodeError as e:
                # An object cut by the end of the block fails at that end (an unterminated string, from its
                # quote): read on. An error before it is the file's own.
                cut = e.msg.startswith("Unterminated string") or e.pos >= len(self.text) - _LONGEST_TOKEN
                if cut and self.more(at_least=len(self.text) - self.position):
                    if self.max_record_chars is not None and len(self.text) > 2 * self.max_record_chars:
                        raise UnreadableFileError(self.path, f"a record longer than {self.max_record_chars:,} "
                                                  "characters", index=index, line=self.line,
                                                  reason="record_too_long") from None
                    continue
                error_line = self.line + self.text.count("\n", self.position, e.pos)
                raise UnreadableFileError(self.path, f"invalid JSON at column {e.colno}: {e.msg}", index=index,
                                          line=error_line, reason="invalid_json") from None
            except _DuplicateKey as e:
                raise UnreadableFileError(self.path, str(e), index=index, line=self.line,
                                          reason="duplicate_key") from None
            except ValueError as e:  # NaN, Infinity, huge numbers
                raise UnreadableFileError(self.path, f"invalid JSON: {e}", index=index, line=self.line,
                                          reason="invalid_json") from None
            except RecursionError:
                raise UnreadableFileError(self.path, "invalid JSON: nested too deeply", index=index, line=self.line,
                                          reason="invalid_json") from None
        if self.max_record_chars is not None and end - self.position > self.max_record_chars:
            raise UnreadableFileError(self.path, f"a record longer than {self.max_record_chars:,} characters",
                                      index=index, line=self.line, reason="record_too_long")
        self.line += self.text.count("\n", self.position, end)
        self.position = end
        return value


def _array_records(stream: _TextStream) -> Iterator[JsonRecord]:
    """A JSON array, decoded one element at a time so that every error names its record."""
    stream.position += 1  # "["
    stream.skip_whitespace()
    index = 0
    if stream.peek() == "]":
        stream.position += 1
    else:
        while True:
            line = stream.line
            record = stream.decode(index)
            yield JsonRecord(index, line, None, record)
            index += 1
            if stream.skip_separator():  # the common case: on to the next record
                continue
            if _closed_after_member(stream, "]", index - 1):
                break
            stream.skip_whitespace()
    if not stream.at_end():
        raise UnreadableFileError(stream.path, "invalid JSON: data after the closing ']'", line=stream.line,
                                  reason="invalid_json")


def _closed_after_member(stream: _TextStream, closing: str, index: int) -> bool:
    """After an array's or object's member: consume ',' (False) or the closing bracket (True), else fail."""
    stream.skip_whitespace()
    following = stream.peek()
    if following in (",", closing):
        stream.position += 1
        return following == closing
    found = repr(following) if following else "the end of the file"
    raise UnreadableFileError(stream.path, f"invalid JSON: expected ',' or '{closing}' after the record, found {found}",
                              index=index, line=stream.line, reason="invalid_json")


def _starts_keyed_object(stream: _TextStream) -> bool:
    """Whether the text opens an object whose first value is an object: `{"id": {...`, a keyed object.

    A JSON Lines record opens with `{"field": "a string"`; only a record whose first field holds an object
    looks the same, and it is then read as a keyed object whose later values are not objects (an error that
    says so).
    """
    if len(stream.text) - stream.position < _KEY_LOOKAHEAD:
        stream.more(at_least=_KEY_LOOKAHEAD)  # the first key, in the common case a short id
    start = _JSON_WHITESPACE.match(stream.text, stream.position + 1).end()
    if stream.text[start:start + 1] != '"':
        return False
    try:
        _, after_key = json.decoder.scanstring(stream.text, start + 1)
    except json.JSONDecodeError:
        return False
    colon = _JSON_WHITESPACE.match(stream.text, after_key).end()
    if stream.text[colon:colon + 1] != ":":
        return False
    value = _JSON_WHITESPACE.match(stream.text, colon + 1).end()
    return stream.text[value:value + 1] == "{"


_KEY_LOOKAHEAD = 1 << 16


def _keyed_records(stream: _TextStream) -> Iterator[JsonRecord]:
    """`{"key": {record}, ...}`, decoded one value at a time; the keys are the records' ids."""
    stream.position += 1  # "{"
    index, keys = 0, set()
    while True:
        stream.skip_whitespace()
        if stream.peek() == "}" and index == 0:
            stream.position += 1
            break
        line = stream.line
        key = stream.decode_key(index)
        if key in keys:
            raise UnreadableFileError(stream.path, f"key {key!r} appears twice in the keyed object", index=index,
                                      line=line, reason="duplicate_key")
        keys.add(key)
        record = stream.decode(index, what=f"the value of key {key!r} (a JSON object keyed by id holds objects)")
        yield JsonRecord(index, line, key, record)
        index += 1
        if _closed_after_member(stream, "}", index - 1):
            break
    if not stream.at_end():
        raise UnreadableFileError(stream.path, "invalid JSON: data after the keyed object's closing '}' (JSON Lines "
                                  "whose first field holds an object are not read; put a string field first)",
                                  line=stream.line, reason="invalid_json")


def _json_lines_records(stream: _TextStream) -> Iterator[JsonRecord]:
    # Lines end at "\n" only: str.splitlines() also splits at U+2028, U+2029 and U+0085, which JSON allows
    # raw inside strings (json.dumps(..., ensure_ascii=False) writes them so).
    index = 0
    while True:
        newline = stream.text.find("\n", stream.position)
        while newline < 0 and stream.more(at_least=len(stream.text) - stream.position):
            newline = stream.text.find("\n", stream.position)
        end = newline if newline >= 0 else len(stream.text)
        start = _JSON_WHITESPACE.match(stream.text, stream.position, end).end()
        record = _plain_line(stream, start, end)
        if record is not None:  # the common case, decided in place; anything else is read again below, to say why
            yield JsonRecord(index, stream.line, None, record)
            index += 1
        elif start < end:
            line_text = stream.text[stream.position:end]
            record_stream = _TextStream(stream.path, None, 0, stream.max_record_chars)
            record_stream.text, record_stream.position, record_stream.line, record_stream.eof = (
                line_text, start - stream.position, stream.line, True)
            record = record_stream.decode(index)
            if _JSON_WHITESPACE.match(line_text, record_stream.position).end() != len(line_text):
                raise UnreadableFileError(stream.path, f"invalid JSON at column {record_stream.position + 1}: extra "
                                          "data after the record (JSON Lines holds one object per line)", index=index,
                                          line=stream.line, reason="invalid_json")
            yield JsonRecord(index, stream.line, None, record)
            index += 1
        if newline < 0:
            return
        stream.position = newline + 1
        stream.line += 1


def _plain_line(stream: _TextStream, start: int, end: int) -> Optional[dict]:
    """The line's object when it is one plain object and nothing else, decoded where it lies; else None."""
    if start >= end or stream.text[start] != "{":
        return None
    found = stream.object_at(start)  # invalid JSON, a key twice, NaN...: None, and the careful path says which
    if found is None or found[1] > end or _JSON_WHITESPACE.match(stream.text, found[1], end).end() != end:
        return None
    return found[0]
