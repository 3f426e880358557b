"""The one JSON Lines writer: records, rejects and excluded records, near-duplicate pairs.

Every value a source can hold becomes valid JSON that the reader takes back: a float that JSON cannot
write (NaN, Infinity, from a parquet column) becomes the text "NaN", "Infinity" or "-Infinity"; dates and
times their ISO text; bytes their base64 text; decimals their exact digits. Nothing is dropped and
nothing written is refused by `validate` afterwards.
"""

import base64
import datetime
import decimal
import json
import math
from typing import Iterable, TextIO


def json_line(value) -> str:
    """One value as a line of JSON (no trailing newline), whatever Python or Arrow value it holds."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, default=_json_default)
    except ValueError:  # a NaN or infinity somewhere inside: rare, so only then is the value walked
        return json.dumps(_finite(value), ensure_ascii=False, allow_nan=False, default=_json_default)


def write_json_lines(f: TextIO, values: Iterable) -> int:
    """Each value as a line of `f`; returns how many were written."""
    count = 0
    for count, value in enumerate(values, start=1):
        f.write(json_line(value) + "\n")
    return count


def write_json_array(f: TextIO, values: Iterable) -> int:
    """A JSON array with one value per line (a `.json` file that both readers and people can read)."""
    count = 0
    f.write("[")
    for count, value in enumerate(values, start=1):
        f.write(("\n" if count == 1 else ",\n") + json_line(value))
    f.write("\n]\n")
    return count


_PAIRS_PER_WRITE = 50_000


def write_pairs(f: TextIO, first, second, score) -> None:
    """Near-duplicate pairs (numpy arrays of record indices and scores) as JSON Lines {first, second, score},
    formatted a slice at a time: memory stays at a slice however many pairs stream through."""
    for start in range(0, len(first), _PAIRS_PER_WRITE):
        part = slice(start, start + _PAIRS_PER_WRITE)
        f.write("".join(f'{{"first": {a}, "second": {b}, "score": {c!r}}}\n'
                        for a, b, c in zip(first[part].tolist(), second[part].tolist(), score[part].tolist())))


def _json_default(value):
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, decimal.Decimal):
        return str(value)
    if hasattr(value, "tolist"):  # a numpy scalar or array
        return value.tolist()
    raise TypeError(f"a value of type {type(value).__name__} has no JSON form")


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: _finite(inner) for key, inner in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(inner) for inner in value]
    return value
