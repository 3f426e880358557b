"""What the compiled near-duplicate scan reads per instruction: index entries, bitmap passes, LCS runs, pairs.

    python bench/neardup_work.py                                   # templated, 50,000 / 100,000 / 200,000
    python bench/neardup_work.py --corpus zipf --sizes 25005,200000

Times say how long; these counts say why. The scan (`neardup_compiled._probe`) is run here one instruction at a
time, single-threaded, through a copy of it that counts as it goes: the groups of the index it visits, the
entries it reads (each costs a bitmap test), those whose bitmap allows the pair, the candidates whose exact LCS
is computed, and the pairs found. The copy is made from the kernel's own source, and the run checks that it finds
the same number of pairs as the kernel, so the counts are the real scan's. When the entries read grow with the
square of the corpus, the index is what costs, not the LCS.
"""

import argparse
import inspect
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import instructions, templated_instructions  # noqa: E402

from bioinstruct_tools import neardup_compiled as compiled  # noqa: E402
from bioinstruct_tools.compiled import njit  # noqa: E402

CORPORA = {"zipf": instructions, "templated": templated_instructions}
COUNTED = ("groups visited", "entries read", "bitmap passes", "LCS runs", "pairs")
# Where each count is taken in `_probe`: (a line of its source, the count to add before it).
_COUNTERS = (
    ("            length_y = group_length[group]\n", 0),
    ("                if not _signatures_allow(", 1),
    ("                count = counts[y]\n                if count < 0:", 2),
    ("        tokens_y = tokens[starts[y]:starts[y + 1]]\n", 3),
    ("            out.first[found] = y\n", 4),
)


def counting_probe():
    """`_probe` with a `counts` argument that it adds to at each of `_COUNTERS`; fails if the source has moved."""
    source = inspect.getsource(compiled._probe).replace("@njit(nogil=True)\n", "")
    source = source.replace("earliest_only):", "earliest_only, tally):", 1)
    for line, counter in _COUNTERS:
        if line not in source:
            sys.exit(f"_probe no longer has {line.strip()!r}: update bench/neardup_work.py")
        indent = line[:len(line) - len(line.lstrip())]
        source = source.replace(line, f"{indent}tally[{counter}] += 1\n{line}", 1)
    namespace = dict(vars(compiled))
    exec(source, namespace)
    return njit(nogil=True)(namespace["_probe"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="templated")
    parser.add_argument("--sizes", default="50000,100000,200000", help="corpus sizes, comma-separated")
    args = parser.parse_args()
    probe = counting_probe()
    print(f"{'instructions':>12} {'vocabulary':>10} {'seconds':>8} " + " ".join(f"{name:>15}" for name in COUNTED)
          + f" {'read per instr.':>15}")
    for size in (int(size) for size in args.sizes.split(",")):
        texts = CORPORA[args.corpus](size)
        corpus = compiled._Corpus(texts, 0.7, 0.7 - 1e-9)
        index, limits = corpus.index(), compiled.Limits(compiled._ELL, corpus.loose, corpus.threshold)
        group_end, scratch = corpus.group_entries[1:], corpus.scratch()
        out = compiled.PairsOut(np.empty(size, dtype=np.int32), np.empty(size, dtype=np.int32),
                                np.empty(size, dtype=np.float64))
        tally = np.zeros(len(COUNTED), dtype=np.int64)
        start = time.perf_counter()
        for x in range(size):
            probe(x, np.int64(0), index, group_end, limits, scratch, out, False, tally)
        seconds = time.perf_counter() - start
        kernel_pairs = sum(len(first) for first, *_ in corpus.search())
        if kernel_pairs != tally[-1]:
            sys.exit(f"the counting copy found {tally[-1]:,} pairs, the kernel {kernel_pairs:,}")
        print(f"{size:>12,} {corpus.vocabulary_size:>10,} {seconds:>8.1f} " + " ".join(f"{n:>15,}" for n in tally)
              + f" {tally[1] / size:>15,.0f}", flush=True)


if __name__ == "__main__":
    main()
