"""A whole `bioinstruct validate` run, end to end, on a synthetic file in the upstream shape.

    python bench/validate_speed.py                                     # 25,005 records (the upstream size)
    python bench/validate_speed.py --corpus templated --size 1000000
    python bench/validate_speed.py --corpus tiny --size 1000000 --output-words 1

Writes a JSON array of `--size` records to a temporary folder, runs `bioinstruct validate FILE --json`
in a child process `--repeat` times and prints the median wall time, the peak RSS and each check's own
seconds in the median run.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import instructions, templated_instructions, tiny_instructions, write_records  # noqa: E402

CORPORA = {"zipf": instructions, "templated": templated_instructions, "tiny": tiny_instructions}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=25_005)
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="zipf")
    parser.add_argument("--output-words", type=int, default=80, help="mean words of each output")
    parser.add_argument("--repeat", type=int, default=5, help="runs of validate; the median is reported")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "synthetic.json"
        write_records(path, args.size, output_words=args.output_words, make=CORPORA[args.corpus])
        runs = []
        for _ in range(args.repeat):  # the median run is reported: one run on a busy machine says little
            start = time.perf_counter()
            result = subprocess.run([sys.executable, "-m", "bioinstruct_tools.cli", "validate", str(path), "--json"],
                                    capture_output=True, text=True)
            runs.append((time.perf_counter() - start, result))
            if result.returncode not in (0, 1):
                sys.exit(f"validate could not run (exit {result.returncode}): {result.stderr.strip()}")
        runs.sort(key=lambda run: run[0])
        seconds, result = runs[len(runs) // 2]
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        report = json.loads(result.stdout)
        gates = ("exit code 1, as expected: the corpus plants exact copies on purpose, so the uniqueness gate fails"
                 if result.returncode == 1 else "exit code 0")
        print(f"file: {args.size:,} records, {os.path.getsize(path) / 1e6:.1f} MB; {gates}")
        print(f"validate end to end: {seconds:.2f} s (median of {args.repeat} runs: "
              f"{', '.join(f'{run[0]:.2f}' for run in runs)}), peak RSS {peak_mb:,.0f} MB")
        for name, check in report["checks"].items():
            print(f"  {name:<22} {check['seconds']:>8.3f} s  {check['status']:<4} {check['summary']}")


if __name__ == "__main__":
    main()
