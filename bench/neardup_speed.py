"""Near-duplicate search speed: the exact fast search vs rouge_score brute force (Self-Instruct's way).

    python bench/neardup_speed.py                                    # 25,005 Zipf instructions
    python bench/neardup_speed.py --corpus templated --size 100000   # short templated clinical instructions

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
from synthetic import instructions, templated_instructions  # noqa: E402

from bioinstruct_tools.neardup import find_near_duplicates, scan_near_duplicates  # noqa: E402

CORPORA = {"zipf": instructions, "templated": templated_instructions}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=25_005)
    parser.add_argument("--brute-subset", type=int, default=1_000, help="instructions scored by brute force")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="zipf")
    args = parser.parse_args()

    corpus = CORPORA[args.corpus](args.size, seed=args.seed)
    scan_near_duplicates(corpus[:200])  # load the compiled kernels (numba's cache) before timing
    start = time.perf_counter()
    scan = scan_near_duplicates(corpus)
    fast_seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"corpus: {args.size:,} {args.corpus} instructions (seed {args.seed})")
    print(f"fast search: {fast_seconds:.2f} s, {scan.pairs:,} pairs above 0.7, "
          f"greedy filter drops {len(scan.dropped):,}; peak RSS of this process {peak_mb:,.0f} MB")
    if args.brute_subset <= 0:
        return

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
