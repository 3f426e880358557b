"""`bioinstruct clean` end to end on a synthetic raw file: time, peak memory, and what it kept.

    python bench/clean_speed.py                      # 25,005 records (the upstream size)
    python bench/clean_speed.py --size 1000000

Writes a JSON array of `--size` records (the validate bench's corpus: 1% exact copies and 3% one-word
edits planted) to a temporary folder, runs `bioinstruct clean FILE --out CLEAN --json` in a child
process and prints its wall time, its peak RSS and the summary it printed.
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import run_measured  # noqa: E402
from synthetic import write_records  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=25_005)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        raw, clean = Path(folder) / "raw.json", Path(folder) / "clean.jsonl"
        write_records(raw, args.size)
        seconds, peak_mb, code, stderr = run_measured(
            [sys.executable, "-m", "bioinstruct_tools.cli", "clean", str(raw), "--out", str(clean), "--json"])
        if code != 0:
            sys.exit(f"clean could not run (exit {code}): {stderr.strip()}")
        kept = sum(1 for _ in open(clean, encoding="utf-8"))
        excluded = sum(1 for _ in open(Path(folder) / "clean.excluded.jsonl", encoding="utf-8"))
        print(f"raw file: {args.size:,} records, {os.path.getsize(raw) / 1e6:,.1f} MB")
        print(f"clean end to end: {seconds:.1f} s, peak RSS {peak_mb:,.0f} MB")
        print(f"kept {kept:,}, excluded {excluded:,} (every record in one of the two: {kept + excluded == args.size})")


if __name__ == "__main__":
    main()
