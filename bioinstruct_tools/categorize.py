"""`categorize --file`: every record of a source with its category and the rule (or word model) that decided it."""

from dataclasses import replace
from typing import Optional

from bioinstruct_tools import checks
from bioinstruct_tools.categories import categorize_with_reason
from bioinstruct_tools.sources import NO_FIELD_MAP, FieldMap


def categorize_source(path: str, field_map: FieldMap = NO_FIELD_MAP,
                      hooks: Optional[checks.Hooks] = None) -> list[dict]:
    """One row per record: index, line, id, category, reason, instruction. All are read before any is returned,
    so an unreadable record yields no partial table; a record with no instruction string has no category."""
    hooks = hooks or checks.Hooks()
    records = checks.read_records(path, field_map, hooks=hooks)
    with hooks.steps("categorizing", len(records)) as update:
        return [_categorized(record) for record in checks.each(records, replace(hooks, progress=update))]


def _categorized(record: checks.Record) -> dict:
    instruction, given = record.data.get("instruction"), record.data.get("input")
    if not isinstance(instruction, str):
        category, reason = None, "no instruction string (see `bioinstruct validate`)"
    else:
        category, reason = categorize_with_reason(instruction, given if isinstance(given, str) else "")
    return {"index": record.index, "line": record.line, "id": record.id, "category": category,
            "reason": reason, "instruction": instruction}
