"""`categorize --file`: every record of a source with its category and the rule (or word model) that decided it."""

from typing import Iterator, Optional

from bioinstruct_tools import checks
from bioinstruct_tools.categories import categorize_many
from bioinstruct_tools.sources import NO_FIELD_MAP, FieldMap


def categorize_source(path: str, field_map: FieldMap = NO_FIELD_MAP,
                      hooks: Optional[checks.Hooks] = None) -> list[dict]:
    """One row per record: index, line, id, category, reason, instruction. All are read before any is returned,
    so an unreadable record yields no partial table; a record with no instruction string has no category."""
    hooks = hooks or checks.Hooks()
    records = checks.read_records(path, field_map, hooks=hooks)
    with checks.cyclic_gc_paused(), hooks.steps("categorizing", len(records)) as update:
        texts = [(record.data.get("instruction"), record.data.get("input")) for record in records]
        categorizable = [(instruction, given if isinstance(given, str) else "") for instruction, given in texts
                         if isinstance(instruction, str)]
        decided = iter(categorize_many(categorizable, update))
    return [_categorized(record, instruction, decided) for record, (instruction, _) in zip(records, texts)]


def _categorized(record: checks.Record, instruction, decided: Iterator[tuple[str, str]]) -> dict:
    if isinstance(instruction, str):
        category, reason = next(decided)
    else:
        category, reason = None, "no instruction string (see `bioinstruct validate`)"
    return {"index": record.index, "line": record.line, "id": record.id, "category": category,
            "reason": reason, "instruction": instruction}
