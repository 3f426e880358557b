"""A BioInstruct record: its schema, the errors that name a file and a record, and empty-input placeholders.

Shared by the loading script (`bioinstruct.py`) and by the checks of `bioinstruct validate`; the JSON text
itself is read by `json_reader.py`. Nothing here imports `datasets`, so validating a file starts quickly.
"""

import functools
import re
from typing import Optional

from bioinstruct_tools.errors import Refused

from bioinstruct_tools.text import is_blank

FIELDS = ("instruction", "input", "output")

# The shape of one record, shared by the builder and the validation checks. Extra keys are allowed
# (regenerated copies carry Self-Instruct bookkeeping such as `most_similar_instructions`).
RECORD_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "BioInstruct record",
    "type": "object",
    "required": list(FIELDS),
    "properties": {
        "instruction": {"type": "string", "pattern": r"\S", "description": "the task, unique in the set"},
        "input": {"type": "string", "description": "optional context; empty when there is none"},
        "output": {"type": "string", "pattern": r"\S", "description": "the GPT-4 demonstration"},
    },
}


@functools.cache
def _record_validator():
    """jsonschema's validator of RECORD_SCHEMA, made (and jsonschema imported) when a record is not plainly valid."""
    import jsonschema

    return jsonschema.Draft202012Validator(RECORD_SCHEMA)


# Self-Instruct and Alpaca write "<noinput>" (and variants) where a task has no input.
EMPTY_WORDS = r"none|n/?a|null|nil|empty|blank"  # shared with the placeholder-output check
EMPTY_INPUT_WORDS = re.compile(rf"no[\s_-]*input|{EMPTY_WORDS}", re.I)

# JSON's "\\ud800" escapes decode to lone surrogates, which no UTF-8 file or parquet column can hold.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class BioInstructInputError(ValueError, Refused):
    """A source file or one of its records is not what BioInstruct expects; says where."""

    def __init__(self, path: str, detail: str, index: Optional[int] = None, line: Optional[int] = None,
                 reason: str = "invalid"):
        self.path, self.detail, self.index, self.line, self.reason = path, detail, index, line, reason
        where = [f"record {index}"] if index is not None else []
        where += [f"line {line}"] if line is not None else []
        super().__init__(f"{path}: {', '.join(where) + ': ' if where else ''}{detail}")


class UnreadableFileError(BioInstructInputError):
    """The file cannot be read (missing, wrong encoding, invalid or truncated JSON, not a known layout)."""


class MalformedRecordError(BioInstructInputError):
    """A record was read but does not match RECORD_SCHEMA."""


def plainly_valid(record: dict) -> bool:
    """The common case, decided without jsonschema: three strings, two of them not blank, all UTF-8."""
    instruction, input, output = record.get("instruction"), record.get("input"), record.get("output")
    return (type(instruction) is str and type(input) is str and type(output) is str
            and not is_blank(instruction) and not is_blank(output)
            and _utf8(instruction) and _utf8(input) and _utf8(output))


def _utf8(text: str) -> bool:
    """No lone surrogate: `isascii` answers at once for most texts (CPython keeps the flag), the search the rest."""
    return text.isascii() or not _LONE_SURROGATE.search(text)


def schema_violations(record: dict) -> list[tuple[str, str]]:
    """Every way `record` breaks RECORD_SCHEMA, as `(reason_code, message)` pairs; empty when it is valid.

    jsonschema judges every record that is not plainly valid (and is the oracle of the fast path in tests).
    Beyond the schema's `\\S`, an instruction or output that shows nothing (zero-width or filler characters
    only) is blank too.
    """
    if plainly_valid(record):
        return []
    violations = []
    for error in _record_validator().iter_errors(record):
        field = error.path[0] if error.path else None
        if error.validator == "required":
            missing = error.message.split("'")[1]
            violations.append(("missing_field", f"missing field '{missing}'"))
        elif error.validator == "type":
            violations.append(("not_a_string", f"field '{field}' must be a string, found {json_type(error.instance)}"))
        elif error.validator == "pattern":
            violations.append((f"blank_{field}", f"field '{field}' is empty or whitespace"))
        else:  # pragma: no cover - the schema has no other keywords
            violations.append(("schema_violation", error.message))
    for field in ("instruction", "output"):
        value = record.get(field)
        if isinstance(value, str) and re.search(r"\S", value) and is_blank(value):
            violations.append((f"blank_{field}", f"field '{field}' shows nothing: only invisible characters "
                                                 f"({', '.join(sorted({f'U+{ord(c):04X}' for c in value if not c.isspace()})[:5])})"))
    for field in FIELDS:
        value = record.get(field)
        surrogate = _LONE_SURROGATE.search(value) if isinstance(value, str) else None
        if surrogate:
            violations.append(("invalid_unicode", f"field '{field}' holds a lone surrogate "
                                                  f"U+{ord(surrogate.group()):04X}, which UTF-8 cannot encode"))
    return violations


def json_type(value) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number",
             type(None): "null"}
    return names.get(type(value), type(value).__name__)


def placeholder_core(text: str) -> tuple[str, bool]:
    """`text` without surrounding spaces, one final period and its angle brackets; and whether it had both brackets.

    Written as string operations rather than one regex: optional parts around `\\s*` made that regex
    backtrack with cubic cost on long runs of spaces.
    """
    core = text.strip()
    core = core[:-1].rstrip() if core.endswith(".") else core
    bracketed = core.startswith("<") and core.endswith(">") and len(core) > 1
    return core.removeprefix("<").removesuffix(">").strip(), bracketed


def is_empty_input_placeholder(text: str) -> bool:
    """True for "<noinput>", "None", "N/A", "<empty>." and the like: an input that says there is none."""
    return bool(EMPTY_INPUT_WORDS.fullmatch(placeholder_core(text)[0]))


def has_real_input(text: str) -> bool:
    """Whether an input gives the task something: not empty, not white space, not a placeholder."""
    return bool(text.strip()) and not is_empty_input_placeholder(text)
