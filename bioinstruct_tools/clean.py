"""`bioinstruct clean`: a raw file in, the records that pass out, every other record beside them with its reasons.

Dropped: records that break the schema; exact duplicates (the first is kept); the later record of each
near-duplicate pair, by Self-Instruct's greedy filter, as `validate` reports it; and, with benchmarks,
records that leak one, exactly as `contamination` flags them. The same check units as `validate` decide,
so the clean file passes `validate`'s schema, uniqueness, near-duplicate and contamination checks, and
cleaning it again keeps every record (the greedy filter keeps no pair above the threshold).
"""

import json
from collections import Counter
from dataclasses import dataclass
from typing import Optional

from bioinstruct_tools import checks

CLEAN_CHECKS = (checks.SCHEMA, checks.UNIQUENESS, checks.NEAR_DUPLICATES, checks.CONTAMINATION)
# Reasons that are reported but keep the record: a normalised duplicate is a warning in `validate` too.
KEPT_REASONS = {"normalized_duplicate_instruction"}


@dataclass
class CleanResult:
    validation: checks.Validation
    kept: list[checks.Record]
    excluded: list[dict]  # `validate --rejects` lines: index, line, id, reasons (with kept_partner), record

    def reason_counts(self) -> dict[str, int]:
        """Excluded records per reason (a record with two reasons counts under both)."""
        counts = Counter(reason for row in self.excluded for reason in {r["reason"] for r in row["reasons"]})
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    def to_json(self, clean_path: str, excluded_path: str) -> dict:
        return {"file": self.validation.path, "read": self.validation.rows, "kept": len(self.kept),
                "excluded": len(self.excluded), "clean_file": clean_path, "excluded_file": excluded_path,
                "reasons": self.reason_counts()}


def clean(validation: checks.Validation) -> CleanResult:
    """Split a validation's records (run with CLEAN_CHECKS) into kept and excluded, in the source's order."""
    excluded = []
    for row in checks.rejected_records(validation):
        row["reasons"] = [reason for reason in row["reasons"] if reason["reason"] not in KEPT_REASONS]
        if row["reasons"]:
            excluded.append(row)
    dropped = {row["index"] for row in excluded}
    kept = [record for record in validation.records if record.index not in dropped]
    return CleanResult(validation=validation, kept=kept, excluded=excluded)


def write_records(f, records: list[checks.Record], as_array: bool) -> None:
    """The kept records as JSON Lines, or as a JSON array (one record per line) for a `.json` file."""
    if as_array:
        f.write("[\n" + ",\n".join(json.dumps(record.data, ensure_ascii=False) for record in records) + "\n]\n")
        return
    for record in records:
        f.write(json.dumps(record.data, ensure_ascii=False) + "\n")


def write_excluded(f, excluded: list[dict]) -> None:
    for row in excluded:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")


def summary_table(result: CleanResult, clean_path: str, excluded_path: Optional[str]) -> str:
    lines = [f"{result.validation.path}: {result.validation.rows:,} records read",
             f"  kept      {len(result.kept):>10,}  -> {clean_path}",
             f"  excluded  {len(result.excluded):>10,}  -> {excluded_path}"]
    for reason, count in result.reason_counts().items():
        lines.append(f"    {reason:<34} {count:>10,}")
    return "\n".join(lines)
