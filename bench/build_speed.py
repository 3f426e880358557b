"""`bioinstruct build` end to end on many tiny records: time and peak memory.

    python bench/build_speed.py                    # 1,000,000 tiny records
    python bench/build_speed.py --size 100000

Each record is a short instruction of three random words and a number (from a 12,000-word vocabulary,
so records are rarely near-duplicates of each other), an empty input and a one-word output, written as
JSON Lines to a temporary folder. Runs the command in a child process and prints its wall time, its
peak RSS and the build table.
"""

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import tiny_instructions, vocabulary  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    args = parser.parse_args()
    rng = random.Random(4)
    words = vocabulary()
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "tiny.jsonl"
        with open(source, "w", encoding="utf-8") as f:
            for instruction in tiny_instructions(args.size):
                f.write(json.dumps({"instruction": instruction, "input": "", "output": rng.choice(words)}) + "\n")
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "bioinstruct_tools.cli", "build", "--source", str(source),
                                 "--out", str(Path(folder) / "out")], capture_output=True, text=True)
        seconds = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"records: {args.size:,} tiny ({source.stat().st_size / 1e6:.1f} MB); exit code {result.returncode}")
        print(f"build end to end: {seconds:.1f} s, peak RSS {peak_mb:,.0f} MB")
        print(result.stdout.strip() or result.stderr.strip())


if __name__ == "__main__":
    main()
