"""What the compiled near-duplicate scan reads per instruction: index entries, bitmap passes, LCS runs, pairs.

    python bench/neardup_work.py                                   # templated, 50,000 / 100,000 / 200,000
    python bench/neardup_work.py --corpus zipf --sizes 25005,200000
    python bench/neardup_work.py --ell 1,2                         # the l-prefix lemma's l, each way

Times say how long; these counts say why. The scan (`neardup_compiled._probe`) is run here one instruction at a
time, single-threaded, through a copy of it that counts as it goes: the groups of the index it visits, the
entries it reads (each costs a bitmap test), those whose bitmap allows the pair, the candidates whose exact LCS
is computed, and the pairs found. The copy is made from the kernel's own source, and the run checks that it finds
the same number of pairs as the kernel, so the counts are the real scan's. When the entries read grow with the
square of the corpus, the index is what costs, not the LCS.
"""

import argparse
import inspect
import itertools
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
# Where each count is taken: (the kernel, a line of its source, the count to add before it).
_COUNTERS = (
    ("_candidates", "            length_y = group_length[group]\n", 0),
    ("_candidates", "                if not _bitmaps_allow(", 1),
    ("_candidates", "                n_touched = _count(", 2),
    ("_verify", "        tokens_y = tokens[starts[y]:starts[y + 1]]\n", 3),
    ("_verify", "            out.first[found] = y\n", 4),
)


def counting_probe():
    """`_probe` (`_candidates`, then `_verify`) with a `tally` argument that they add to at each of `_COUNTERS`;
    fails if the source has moved. The scan reads a chunk's entries together (`_join`), but tests each entry
    against each instruction exactly as `_candidates` does: these counts are the scan's."""
    namespace = dict(vars(compiled))
    for kernel in ("_candidates", "_verify"):
        source = inspect.getsource(getattr(compiled, kernel)).replace("@njit(nogil=True)\n", "")
        head = source.index("):\n")
        source = source[:head] + ", tally" + source[head:]
        for name, line, counter in _COUNTERS:
            if name != kernel:
                continue
            if line not in source:
                sys.exit(f"{kernel} no longer has {line.strip()!r}: update bench/neardup_work.py")
            indent = line[:len(line) - len(line.lstrip())]
            source = source.replace(line, f"{indent}tally[{counter}] += 1\n{line}", 1)
        exec(source, namespace)
        namespace[kernel] = njit(nogil=True)(namespace[kernel])
    candidates, verify = namespace["_candidates"], namespace["_verify"]

    @njit(nogil=True)
    def probe(x, found, index, group_end, limits, scratch, out, earliest_only, tally):
        return verify(x, found, candidates(x, index, group_end, limits, scratch, tally), index, limits, scratch, out,
                      earliest_only, tally)

    return probe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="templated")
    parser.add_argument("--sizes", default="50000,100000,200000", help="corpus sizes, comma-separated")
    parser.add_argument("--ell", default=str(compiled._ELL),
                        help="prefix items a candidate must share (the scan's own by default), comma-separated")
    args = parser.parse_args()
    probe = counting_probe()
    print(f"{'instructions':>12} {'l':>2} {'vocabulary':>10} {'seconds':>8} "
          + " ".join(f"{name:>15}" for name in COUNTED) + f" {'read per instr.':>15}")
    for size, ell in itertools.product((int(size) for size in args.sizes.split(",")),
                                       [int(ell) for ell in args.ell.split(",")]):
        compiled._ELL = ell  # read when the prefixes are cut and the limits made
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
        print(f"{size:>12,} {ell:>2} {corpus.vocabulary_size:>10,} {seconds:>8.1f} "
              + " ".join(f"{n:>15,}" for n in tally)
              + f" {tally[1] / size:>15,.0f}", flush=True)


if __name__ == "__main__":
    main()
