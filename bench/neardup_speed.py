"""Near-duplicate search speed: the exact fast search vs rouge_score brute force (Self-Instruct's way).

    python bench/neardup_speed.py                 # 25,005 instructions
    python bench/neardup_speed.py --size 1000000  # regenerated copies grow

Prints the fast search's time and the process's peak memory, then rouge_score brute force timed on a
subset of the same corpus (its pair set compared with the fast one's) and extrapolated by pair count.
"""

import argparse
import resource
import sys
import time
from pathlib import Path

from rouge_score import rouge_scorer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import instructions  # noqa: E402

from bioinstruct_tools.neardup import find_near_duplicates, greedy_dropped  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=25_005)
    parser.add_argument("--brute-subset", type=int, default=1_000, help="instructions scored by brute force")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    corpus = instructions(args.size, seed=args.seed)
    start = time.perf_counter()
    pairs = find_near_duplicates(corpus)
    fast_seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"corpus: {args.size:,} synthetic instructions (seed {args.seed})")
    print(f"fast search: {fast_seconds:.2f} s, {len(pairs):,} pairs above 0.7, "
          f"greedy filter drops {len(greedy_dropped(pairs)):,}; peak RSS of this process {peak_mb:,.0f} MB")

    subset = corpus[: args.brute_subset]
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    start = time.perf_counter()
    brute = {
        (i, j)
        for j in range(len(subset))
        for i in range(j)
        if scorer.score(subset[j], subset[i])["rougeL"].fmeasure > 0.7
    }
    brute_seconds = time.perf_counter() - start
    subset_pairs = len(subset) * (len(subset) - 1) // 2
    per_pair = brute_seconds / subset_pairs
    fast_subset = {(p.first, p.second) for p in find_near_duplicates(subset)}
    total_pairs = args.size * (args.size - 1) // 2
    print(f"rouge_score brute force on the first {len(subset):,}: {brute_seconds:.1f} s for {subset_pairs:,} pairs "
          f"({per_pair * 1e6:.1f} us a pair); same pair set as the fast search: {brute == fast_subset} "
          f"({len(brute)} pairs)")
    print(f"brute force on all {args.size:,} (extrapolated by pair count): {per_pair * total_pairs / 3600:,.1f} h "
          f"= {per_pair * total_pairs / fast_seconds:,.0f} x the fast search")


if __name__ == "__main__":
    main()
