"""Properties of the reader, the schema, the categorizer, its CSV cells and validate on any input; linear-time regexes.

The hypothesis tests assert that nothing but the documented error escapes and that every valid record
survives a write and read round trip in both layouts. The adversarial tests feed 100 KB strings built
to make backtracking regexes explode to every function that applies a regex, under a hang guard.
"""

import json
import os
import tempfile
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from regex_worst_case import ADVERSARIAL, REGEX_USERS

from bioinstruct_tools import checks
from bioinstruct_tools import text as text_module
from bioinstruct_tools.text import _INVISIBLE_FILLERS
from bioinstruct_tools.categories import (
    _NEWLINES,
    _SPACES,
    CATEGORIES,
    _normalize_whitespace,
    categorize,
)
from bioinstruct_tools.commands.categorize import _FORMULA_START, spreadsheet_safe
from bioinstruct_tools.records import (
    _LONE_SURROGATE,
    _record_validator,
    FIELDS,
    UnreadableFileError,
    schema_violations,
)
from bioinstruct_tools.json_reader import read_records

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Any text UTF-8 can hold, with the characters that used to split JSON Lines and astral ones mixed in.
SPECIAL = st.sampled_from(["\u2028", "\u2029", "\x85", "\r", "\t", "\ufeff", "\U0001F489", "\U00010348", '"', "\\"])
TEXT = st.lists(st.one_of(st.characters(blacklist_categories=("Cs",)), SPECIAL), max_size=40).map("".join)
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), TEXT)
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                           max_leaves=8)
RECORD_LIKE = st.dictionaries(st.sampled_from(["instruction", "input", "output", "extra"]) | TEXT, JSON_VALUES, max_size=5)
SURROGATE_TEXT = st.lists(st.characters(), max_size=6).map("".join)  # lone surrogates included
RECORD_LIKE = RECORD_LIKE | st.fixed_dictionaries(
    {"instruction": SURROGATE_TEXT | st.just(" "), "input": SURROGATE_TEXT, "output": SURROGATE_TEXT | st.just("")})
VALID_RECORD = st.fixed_dictionaries({"instruction": TEXT, "input": TEXT, "output": TEXT}).filter(
    lambda record: not schema_violations(record))

SCHEMA_REASONS = {"missing_field", "not_a_string", "blank_instruction", "blank_output", "invalid_unicode"}


def _read(text: str) -> list:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "records.json")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return [record for _, _, record in read_records(path)]


@SETTINGS
@given(st.lists(VALID_RECORD, min_size=1, max_size=6), st.sampled_from([None, 0, 2]))
def test_valid_records_round_trip_in_both_layouts(rows, indent):
    lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    assert _read(lines) == rows
    assert _read(json.dumps(rows, ensure_ascii=False, indent=indent)) == rows
    assert _read("\ufeff" + json.dumps(rows)) == rows


@SETTINGS
@given(st.text(max_size=200))
def test_reading_any_text_raises_only_the_documented_error(text):
    try:
        _read(text)
    except UnreadableFileError as e:
        assert e.reason in {"invalid_json", "not_an_object", "empty_file", "duplicate_key"}


@SETTINGS
@given(RECORD_LIKE)
def test_schema_violations_name_known_reasons_and_agree_with_jsonschema(record):
    violations = schema_violations(record)
    assert {reason for reason, _ in violations} <= SCHEMA_REASONS
    unicode_ok = not any(isinstance(record.get(name), str) and _LONE_SURROGATE.search(record[name])
                         for name in FIELDS)
    visible = not any(isinstance(record.get(name), str) and _shows_nothing(record[name])
                      for name in ("instruction", "output"))
    # Both ways: no violation exactly when jsonschema accepts the record, it holds no lone surrogate, and its
    # instruction and output show something (the schema's `\S` takes a lone soft hyphen, U+00AD, for text).
    assert (violations == []) == (_record_validator().is_valid(record) and unicode_ok and visible)


def _shows_nothing(value: str) -> bool:
    """Every character is white space, a format character (Unicode category Cf) or one of the invisible fillers."""
    return all(c.isspace() or unicodedata.category(c) == "Cf" or c in _INVISIBLE_FILLERS for c in value)


@SETTINGS
@given(st.text(max_size=300), st.text(max_size=100))
def test_categorize_always_returns_a_category(instruction, input):
    assert categorize(instruction, input) in CATEGORIES


# Text where the fast paths and their regexes could part: words, case, white space of every kind, punctuation.
SHAPED_TEXT = st.lists(st.one_of(st.sampled_from(["image", "Images", "go to", "go  to", "MAP", "Files", "plot", "a"]),
                                 st.sampled_from([" ", "  ", "\n", "\t", "\r", "\x1c", "\x85", "\u2028", "\xa0", "-", "'", ".", "_"]),
                                 TEXT), max_size=12).map("".join)


@SETTINGS
@given(SHAPED_TEXT)
def test_fast_paths_equal_their_regexes(text):
    """String-method fast paths for white space, `--strict` keys and the blacklist; the regexes are the oracle."""
    assert _normalize_whitespace(text) == _NEWLINES.sub(
        "\n", _SPACES.sub(" ", text)).strip()
    if text.isascii():
        slow = unicodedata.normalize("NFKC", text).translate(text_module._format_characters()).casefold()
        assert text_module.normalized_text(text) == " ".join(text_module._WORD.findall(slow))
    keyword = checks._BLACKLIST.search(text)
    expected = [("blacklisted_keyword", f"mentions {keyword.group(0)!r}")] if keyword else []
    assert [finding for finding in checks.self_instruct_filter_findings(text) if finding[0] == "blacklisted_keyword"] == expected


@SETTINGS
@given(st.lists(RECORD_LIKE | VALID_RECORD, max_size=12))
def test_validate_never_raises_on_records_of_any_shape(rows):
    records = [checks.Record(index, index + 1, row) for index, row in enumerate(rows)]
    report = checks.validate(records, "any.jsonl")
    assert report.rows == len(rows)
    assert json.loads(json.dumps(report.to_json(), ensure_ascii=True))["rows"] == len(rows)
    checks.rejected_records(report)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("shape", ADVERSARIAL)
def test_every_regex_user_is_fast_on_adversarial_text(shape):
    """Each of these took from seconds to minutes before the regexes were made linear."""
    for function in REGEX_USERS.values():
        function(ADVERSARIAL[shape])


def _read_in_blocks(path: str, block: int):
    from bioinstruct_tools.json_reader import _records

    try:
        return list(_records(path, block))
    except UnreadableFileError as e:
        return str(e)


@SETTINGS
@given(st.lists(VALID_RECORD, min_size=1, max_size=6), st.sampled_from([None, 0, 2]),
       st.sampled_from(["", "\r\n", "garbage"]), st.integers(1, 40))
def test_reading_in_small_blocks_equals_reading_the_whole_file(rows, indent, tail, block):
    """The reader streams a block at a time: any block size gives the same records, lines and errors."""
    with tempfile.TemporaryDirectory() as folder:
        for layout in ("array", "lines"):
            text = (json.dumps(rows, indent=indent, ensure_ascii=False) if layout == "array"
                    else "\r\n".join(json.dumps(row, ensure_ascii=False) for row in rows)) + tail
            path = os.path.join(folder, f"{layout}.json")
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            assert _read_in_blocks(path, block) == _read_in_blocks(path, 1 << 24)


@pytest.mark.parametrize("cell, safe", [
    ("=SUM(A1)", "'=SUM(A1)"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("a\n=b", "a\n'=b"), ("a\r+b", "a\r'+b"), ("a = b", "a = b"), ("", ""), ("plain", "plain"), (3, 3), (None, None),
])
def test_spreadsheet_safe_quotes_each_formula_lead(cell, safe):
    assert spreadsheet_safe(cell) == safe


@SETTINGS
@given(st.text(alphabet=st.sampled_from("=+-@\t\r\nab ")) | st.text())
def test_spreadsheet_safe_agrees_with_its_regex_on_every_cell(cell):
    """The quick test before the regex skips only cells it would leave alone: the regex alone is the oracle."""
    assert spreadsheet_safe(cell) == _FORMULA_START.sub(lambda match: f"{match.group(1)}'{match.group(2)}", cell)
