"""Near-duplicate search speed: the exact fast search vs rouge_score brute force (Self-Instruct's way).

    python bench/neardup_speed.py                                    # 25,005 Zipf instructions
    python bench/neardup_speed.py --corpus templated --size 100000   # short templated clinical instructions
    python bench/neardup_speed.py --python                           # where the plain-Python search stops paying
    python bench/neardup_speed.py --ell                              # one shared prefix item beside two

Prints the fast search's time and the process's peak memory, then rouge_score brute force timed on a
subset of the same corpus (its pair set compared with the fast one's) and extrapolated by pair count.
With --python: for small corpora, the plain-Python search beside the compiled one (kernels already loaded), at
Self-Instruct's 0.7 and at the report's histogram floor, and what loading the kernels costs a new process.
With --ell: the compiled search with a candidate sharing one prefix item (the scan's) and two, on templated and Zipf
corpora at 0.7 and at the report's 0.5.
With --join: the compiled search with and without a chunk's instructions reading the index together (`_join`),
templated corpora of 25,005 to 200,000 instructions at 0.7 and 100,000 at 0.5 and 0.6, and what compiling
`_join` costs a first run after install.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rouge_score import rouge_scorer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import instructions, templated_instructions  # noqa: E402

from bioinstruct_tools import neardup  # noqa: E402
from bioinstruct_tools.neardup import find_near_duplicates, scan_near_duplicates  # noqa: E402

CORPORA = {"zipf": instructions, "templated": templated_instructions}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=25_005)
    parser.add_argument("--brute-subset", type=int, default=1_000, help="instructions scored by brute force")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="zipf")
    parser.add_argument("--python", action="store_true", help="the plain-Python search beside the compiled one")
    parser.add_argument("--join", action="store_true", help="the compiled search with and without `_join`")
    parser.add_argument("--ell", action="store_true", help="the compiled search with one shared prefix item and two")
    args = parser.parse_args()
    if args.python:
        return python_beside_compiled(args.corpus, args.seed)
    if args.ell:
        return one_shared_item_beside_two(args.seed)
    if args.join:
        return joined_beside_one_at_a_time(args.seed)

    corpus = CORPORA[args.corpus](args.size, seed=args.seed)
    neardup._load_a_kernel()  # load the compiled kernels (numba's cache) before timing
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


def python_beside_compiled(corpus_name: str, seed: int) -> None:
    from bioinstruct_tools.report import HISTOGRAM_FROM

    load = ("import time; start = time.perf_counter(); from bioinstruct_tools import neardup; "
            "neardup._load_a_kernel(); print(time.perf_counter() - start)")
    loads = sorted(float(subprocess.run([sys.executable, "-c", load], check=True, capture_output=True,
                                        text=True).stdout) for _ in range(3))
    print(f"loading the compiled kernels in a new process (numba's import and cache): median {loads[1]:.2f} s")
    neardup._load_a_kernel()
    compiled = neardup._compiled()
    print(f"{corpus_name} corpus  {'size':>6} {'threshold':>9} {'Python':>8} {'compiled':>9}")
    for size in (250, 500, 1_000, 2_000, 4_000):
        corpus = CORPORA[corpus_name](size, seed=seed)
        for threshold in (0.7, HISTOGRAM_FROM):
            start = time.perf_counter()
            found = neardup._python_pairs(corpus, threshold)
            python = time.perf_counter() - start
            start = time.perf_counter()
            batches = list(compiled._Corpus(corpus, threshold, neardup._loosened(threshold)).search())
            fast = time.perf_counter() - start
            shown = f"{python:7.3f}s" if found is not None else " gave up"
            print(f"{'':17}{size:>6,} {threshold:>9} {shown:>8} {fast:8.3f}s")


def joined_beside_one_at_a_time(seed: int, runs: int = 3) -> None:
    """Where `neardup_compiled._JOIN_FROM` should lie: the search's median time each way, and the compile."""
    # In a new process with an empty numba cache: the one-at-a-time scan first (what every corpus compiles), then
    # what the joined one adds.
    compile_join = (
        "import time, numpy as np; from bioinstruct_tools import neardup; from bioinstruct_tools import "
        "neardup_compiled as c; corpus = c._Corpus(['a b c d'] * 3, 0.7, neardup._loosened(0.7)); "
        "arguments = (corpus.index(), corpus.group_entries[1:], c.Limits(c._ELL, corpus.loose, corpus.threshold), "
        "corpus.scratch()); out = c.PairsOut(np.empty(3, np.int32), np.empty(3, np.int32), np.empty(3)); "
        "c._search_chunk(0, 3, *arguments, out); start = time.perf_counter(); "
        "c._search_chunk_joined(0, 3, *arguments, c._join_arrays(3, 16), out); print(time.perf_counter() - start)")
    with tempfile.TemporaryDirectory() as cache:
        seconds = float(subprocess.run([sys.executable, "-c", compile_join], check=True, capture_output=True, text=True,
                                       env=dict(os.environ, NUMBA_CACHE_DIR=cache)).stdout)
    print(f"compiling what the joined scan adds (`_search_chunk_joined`, `_join`), empty numba cache: {seconds:.1f} s")
    neardup._load_a_kernel()
    compiled = neardup._compiled()
    print(f"{'templated':>10} {'threshold':>9} {'one at a time':>14} {'joined':>8}   (median of {runs}, 2 threads)")
    compiled._JOIN_THRESHOLD = 0
    for size, threshold in ((25_005, 0.7), (50_000, 0.7), (100_000, 0.7), (200_000, 0.7), (100_000, 0.5),
                            (100_000, 0.6)):
        corpus = compiled._Corpus(templated_instructions(size, seed=seed), threshold, neardup._loosened(threshold))
        medians = []
        for join_from in (size + 1, 0):
            compiled._JOIN_FROM = join_from
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                for _ in corpus.search():
                    pass
                times.append(time.perf_counter() - start)
            medians.append(statistics.median(times))
        print(f"{size:>10,} {threshold:>9} {medians[0]:>13.2f}s {medians[1]:>7.2f}s")


def one_shared_item_beside_two(seed: int, runs: int = 3) -> None:
    """What `neardup_compiled._ELL` buys: the search's median time with a candidate sharing one prefix item, and two
    (a prefix an item longer: bench/neardup_work.py --ell counts what each reads)."""
    neardup._load_a_kernel()
    compiled = neardup._compiled()
    print(f"{'corpus':>10} {'size':>8} {'threshold':>9} {'l = 1':>8} {'l = 2':>8}   (median of {runs}, 2 threads)")
    for name, size, threshold in (("templated", 100_000, 0.7), ("templated", 200_000, 0.7), ("templated", 100_000, 0.5),
                                  ("zipf", 25_005, 0.7), ("zipf", 100_000, 0.7), ("zipf", 25_005, 0.5),
                                  ("zipf", 100_000, 0.5)):
        texts = CORPORA[name](size, seed=seed)
        medians, pairs = [], set()
        for ell in (1, 2):
            compiled._ELL = ell  # read when the prefixes are cut and the limits made
            corpus = compiled._Corpus(texts, threshold, neardup._loosened(threshold))
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                pairs.add(sum(len(first) for first, *_ in corpus.search()))
                times.append(time.perf_counter() - start)
            medians.append(statistics.median(times))
        assert len(pairs) == 1, "one and two shared items found different pairs"
        print(f"{name:>10} {size:>8,} {threshold:>9} {medians[0]:>7.2f}s {medians[1]:>7.2f}s")


if __name__ == "__main__":
    main()
