"""`bioinstruct contamination` end to end: synthetic records against a synthetic benchmark.

    python bench/contamination_speed.py                                # 25,005 records, 100,000 items
    python bench/contamination_speed.py --records 25005 --items 100000 --ngram 8

Writes the records (the validate bench's Zipf corpus, with inputs and outputs) and a MedQA-shaped
benchmark (a question of 40-120 words, four options, an answer) into a temporary folder; into 100 of
the benchmark's questions it copies a 20-word stretch of a record's output, so the run has findings to
report. Runs the command in a child process and prints its wall time, its peak RSS and what it found.
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
from synthetic import vocabulary, write_records  # noqa: E402

PLANTED = 100


def write_benchmark(path: Path, items: int, records_path: Path, seed: int = 7) -> None:
    rng = random.Random(seed)
    words = vocabulary(8_000)
    weights = [1 / (rank + 1) for rank in range(len(words))]
    records = json.loads(records_path.read_text(encoding="utf-8"))
    planted = {rng.randrange(items): rng.randrange(len(records)) for _ in range(PLANTED)}
    with open(path, "w", encoding="utf-8") as f:
        for index in range(items):
            question = rng.choices(words, weights=weights, k=rng.randint(40, 120))
            if index in planted:
                output = records[planted[index]]["output"].split()
                start = rng.randrange(max(1, len(output) - 20))
                question[10:10] = output[start:start + 20]
            options = {letter: " ".join(rng.choices(words, k=rng.randint(1, 6))) for letter in "ABCD"}
            item = {"question": " ".join(question) + "?", "options": options, "answer": rng.choice("ABCD")}
            f.write(json.dumps(item) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=25_005)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--ngram", type=int, default=13)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        records, benchmark = Path(folder) / "records.json", Path(folder) / "benchmark.jsonl"
        write_records(records, args.records)
        write_benchmark(benchmark, args.items, records)
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "bioinstruct_tools.cli", "contamination", str(records),
                                 "--against", str(benchmark), "--ngram", str(args.ngram), "--json"],
                                capture_output=True, text=True)
        seconds = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if result.returncode not in (0, 1):
            sys.exit(f"contamination could not run (exit {result.returncode}): {result.stderr.strip()}")
        report = json.loads(result.stdout)
        [figures] = report["benchmarks"].values()
        print(f"records: {args.records:,} ({records.stat().st_size / 1e6:.1f} MB); benchmark: {args.items:,} items "
              f"({benchmark.stat().st_size / 1e6:.1f} MB), {PLANTED} with a 20-word stretch of a record's output")
        print(f"contamination end to end: {seconds:.2f} s, peak RSS {peak_mb:,.0f} MB, {args.ngram}-grams")
        print(f"found: {figures['records']} records overlap ({figures['by_field']})")


if __name__ == "__main__":
    main()
