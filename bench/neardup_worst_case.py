"""Near-duplicate search on pathological inputs: time and peak memory, each in a process of its own.

    python bench/neardup_worst_case.py

- 5,000 instructions that are all near-duplicates of each other (12.5 million pairs);
- threshold 0.3 on 10,000 templated instructions;
- two near-identical instructions of 10 MB each;
- 30,000 long instructions (150-300 Zipf words), whose 128-bit item bitmaps are too full to rule out pairs.

Memory must stay bounded by the instructions, not the pairs, and no single pair may dominate.
"""

import random
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CASES = ("all-similar", "threshold-0.3", "two-10MB", "long")


def corpus(case: str) -> tuple[list[str], float]:
    from synthetic import instructions, templated_instructions

    rng = random.Random(0)
    if case == "all-similar":
        base = ("Summarize the discharge summary of an elderly patient with severe heart failure on furosemide "
                "and note red flags").split()
        texts = []
        for index in range(5_000):
            words = list(base)
            words[rng.randrange(len(words))] = f"w{index}"
            texts.append(" ".join(words))
        return texts, 0.7
    if case == "threshold-0.3":
        return templated_instructions(10_000), 0.3
    if case == "long":
        return instructions(30_000, lengths=(150, 300)), 0.7
    text = " ".join(instructions(300_000))[:10_000_000]
    words = text.split()
    words[len(words) // 2] = "changed"
    words.insert(len(words) // 3, "inserted")
    return [text, " ".join(words)], 0.7


def run_one(case: str) -> None:
    from bioinstruct_tools.neardup import scan_near_duplicates

    texts, threshold = corpus(case)
    scan_near_duplicates(["warm up the compiled kernels", "warm up the compiled kernel"])
    start = time.perf_counter()
    scan = scan_near_duplicates(texts, threshold=threshold, keep=5)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{case:<14} {len(texts):>6,} instructions, threshold {threshold}: {scan.pairs:>12,} pairs, "
          f"greedy drops {len(scan.dropped):,}; {seconds:6.1f} s, peak RSS {peak:,.0f} MB")


def main() -> None:
    if len(sys.argv) > 1:
        run_one(sys.argv[1])
        return
    for case in CASES:
        subprocess.run([sys.executable, __file__, case], check=True)


if __name__ == "__main__":
    main()
