"""`validate --pairs` on the worst case for pairs: every record shares one instruction.

    python bench/pairs_memory.py                 # 5,452 records: 14.9 M pairs
    python bench/pairs_memory.py --records 2000

Runs `bioinstruct validate FILE` without and with `--pairs` in child processes and prints each run's
wall time and peak RSS, the ratio of the two peaks, and the size of the pairs file. The goal: `--pairs`
stays within 1.2 times the memory of the run without it.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import run_measured  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5_452)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "one_instruction.jsonl"
        with open(source, "w", encoding="utf-8") as f:
            for index in range(args.records):
                f.write(json.dumps({"instruction": "Summarize the patient's symptoms and suggest next steps.",
                                    "input": f"Patient {index} reports a cough and fever.", "output": f"Answer {index}."})
                        + "\n")
        command = [sys.executable, "-m", "bioinstruct_tools.cli", "validate", str(source), "--json"]
        pairs = Path(folder) / "pairs.jsonl"
        plain = run_measured(command)
        streamed = run_measured(command + ["--pairs", str(pairs)])
        for result in (plain, streamed):
            if result[2] not in (0, 1):
                sys.exit(f"validate could not run (exit {result[2]}): {result[3].strip()}")
        lines = sum(1 for _ in open(pairs, encoding="utf-8"))
        print(f"{args.records:,} records sharing one instruction: {lines:,} pairs written "
              f"({pairs.stat().st_size / 1e6:,.0f} MB)")
        print(f"without --pairs: {plain[0]:.1f} s, peak RSS {plain[1]:,.0f} MB")
        print(f"with --pairs:    {streamed[0]:.1f} s, peak RSS {streamed[1]:,.0f} MB "
              f"({streamed[1] / plain[1]:.2f} x the run without)")


if __name__ == "__main__":
    main()
