"""Near-duplicate instructions by Self-Instruct's criterion: ROUGE-L F-measure above a threshold (0.7).

Self-Instruct scores each new instruction against every earlier one with `rouge_score`, which is
quadratic (hours for 25,005 instructions). This module finds exactly the same pairs, with the same
scores, in seconds, and in memory bounded by the number of instructions, not of pairs:

1. tokenize with `rouge_score`'s own tokenizer and map tokens to ids;
2. write every instruction as its multiset of *items* (token, occurrence number), rarest token first.
   ROUGE-L F = 2*LCS/(len_a + len_b) and LCS is at most the multiset overlap, so a pair above the
   threshold overlaps in at least alpha = ceil(t*(len_a+len_b)/2) items, and then (the l-prefix lemma
   of AdaptJoin) the first len - alpha + l items of each side share at least l items (l = 1 in the
   compiled search, whose bitmaps below do what a larger l would; l = 2 in the plain-Python one, which
   drops the many pairs that share a single rare token before it counts them);
3. scan the instructions in index order in compiled code (numba), each against the earlier ones: an
   inverted index of the prefixes, grouped by item, length and position, gives the candidates. Each
   entry of the index carries a 128-bit bitmap of its record's items, which bounds the overlap of the
   pair as the entry is read, so that most candidates are ruled out in sequential reads; the few left
   are counted, in a byte array, with PPJoin's positional filter pruning as they are counted. A chunk of
   instructions reads the index together, item by item: each entry fetched from memory is tested against
   every instruction of the chunk with that item in its prefix;
4. verify each candidate with an exact LCS: bit-parallel, or, for long pairs, Myers' O(ND) difference
   algorithm capped at the largest D that can still reach the threshold, so that two near-identical
   10 MB instructions cost O(n*D) rather than O(n^2); then F with rouge_score's float arithmetic, so a
   pair right at the threshold is decided as `rouge_score` decides it.

The pairs come out grouped by their later instruction, in index order, so Self-Instruct's greedy
filter, the exact counts and any stream of pairs run alongside in one pass. The search runs on two
threads (the kernel releases the GIL). `rouge_score` brute force is the oracle in tests/test_neardup.py.

Steps 1-4 live in `neardup_compiled`, imported only for a corpus of `_COMPILED_FROM` instructions or more, or of
more text than `_PYTHON_CHARACTERS`. A smaller one is searched here in plain Python by the same bounds (a prefix
filter on the same items, then an exact bit-parallel LCS on Python integers and the same F arithmetic), so a small
file never imports numba or compiles a kernel; should its pairs prove too many to verify in Python
(`_PYTHON_VERIFIES`), it goes to the compiled search after all. Both paths find the same pairs with the same scores; the tests hold them to it.
"""

import math
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional, Sequence

import numpy as np

from bioinstruct_tools.text import rouge_tokens

SELF_INSTRUCT_THRESHOLD = 0.7  # Wang et al. 2023, Self-Instruct: keep an instruction only if ROUGE-L <= 0.7
_MARGIN = 1e-9  # bounds are loosened by this much so float rounding never hides a pair
_ELL = 2  # candidates must share this many prefix items (the l-prefix lemma); the compiled search (bitmaps) takes 1
_COMPILED_FROM = 1_000  # instructions: past this, the compiled search pays for loading its kernels (bench/neardup_speed.py --python)
_PYTHON_CHARACTERS = 1_000_000  # and past this much text (one huge instruction), Python's lists of items would not fit
_PYTHON_VERIFIES = 50_000  # exact LCS runs the Python search may make before it hands over to the compiled one
_BYTES_PER_INSTRUCTION = 400  # a low guess (BioInstruct: 13.2 MB for 25,005 records): when to load kernels early


@dataclass(frozen=True)
class NearDuplicatePair:
    first: int  # index of the earlier instruction
    second: int  # index of the later instruction
    score: float  # ROUGE-L F-measure, as rouge_score computes it


@dataclass
class NearDuplicateScan:
    """What one pass finds: exact counts, the first pairs, Self-Instruct's greedy drops and their partners."""

    threshold: float
    pairs: Optional[int] = 0  # every pair above the threshold, counted exactly; None: not counted (`greedy_filter`)
    first_pairs: list[NearDuplicatePair] = field(default_factory=list)  # the first `keep`, by later record
    dropped: list[int] = field(default_factory=list)  # what the greedy filter drops, ascending
    kept_partner: dict[int, int] = field(default_factory=dict)  # dropped -> its earliest kept near-duplicate
    scores: Optional[np.ndarray] = None  # a histogram of pair scores in bins of 0.01, when asked for


def find_near_duplicates(
    instructions: Sequence[str],
    threshold: float = SELF_INSTRUCT_THRESHOLD,
    progress: Optional[Callable[[int], None]] = None,
) -> list[NearDuplicatePair]:
    """Every pair (i < j) whose ROUGE-L F-measure is strictly above `threshold`, sorted by (i, j).

    Holds every pair in memory: for large corpora use `scan_near_duplicates`, which streams them.
    """
    pairs: list[NearDuplicatePair] = []
    scan_near_duplicates(instructions, threshold, on_pairs=lambda *batch: pairs.extend(_pairs(*batch)),
                         progress=progress)
    pairs.sort(key=lambda pair: (pair.first, pair.second))
    return pairs


def scan_near_duplicates(
    instructions: Sequence[str],
    threshold: float = SELF_INSTRUCT_THRESHOLD,
    keep: int = 0,
    on_pairs: Optional[Callable[[np.ndarray, np.ndarray, np.ndarray], None]] = None,
    progress: Optional[Callable[[int], None]] = None,
    histogram_from: Optional[float] = None,
    tokenized: Optional[Callable[[int], None]] = None,
) -> NearDuplicateScan:
    """Find every pair above `threshold` in one streaming pass.

    `keep` pairs are kept in the result (the first ones, ordered by later then earlier instruction);
    `on_pairs`, if given, receives every pair in batches in that order, as arrays (first, second, score):
    never as one object a pair, so that millions of pairs stream in bounded memory; `progress` is called with the
    number of instructions scanned since its last call, and `tokenized`, before the scan, with the number tokenized.
    Memory grows with the instructions, not the pairs.
    With `histogram_from` (below `threshold`), the same pass searches down to it and `scores` counts every
    pair above it in bins of 0.01; everything else still speaks of the pairs above `threshold`.
    """
    for value in (threshold, histogram_from if histogram_from is not None else threshold):
        if not 0 < value < 1:
            raise ValueError(f"threshold must lie strictly between 0 and 1, got {value}")
    search_from = min(threshold, histogram_from) if histogram_from is not None else threshold
    batches, greedy = _search(instructions, search_from, tokenized)
    scan = NearDuplicateScan(threshold=threshold)
    dropped = np.zeros(len(instructions), dtype=np.bool_)
    partner = np.full(len(instructions), -1, dtype=np.int64)
    bins = np.zeros(101, dtype=np.int64) if histogram_from is not None else None
    for first, second, score, covered in batches:
        if bins is not None:
            bins += np.bincount(np.minimum((score * 100).astype(np.int64), 100), minlength=101)
            if search_from < threshold:  # the kernel decided `score > search_from`; the same test at threshold
                above = score > threshold
                first, second, score = first[above], second[above], score[above]
        greedy(first, second, dropped, partner)
        scan.pairs += len(first)
        if len(scan.first_pairs) < keep:
            scan.first_pairs += _pairs(first[: keep - len(scan.first_pairs)], second, score)
        if on_pairs is not None and len(first):
            on_pairs(first, second, score)
        if progress is not None:
            progress(covered)
    scan.dropped = np.flatnonzero(dropped).tolist()
    scan.kept_partner = dict(zip(scan.dropped, partner[dropped].tolist()))
    scan.scores = bins
    return scan


def greedy_filter(
    instructions: Sequence[str],
    threshold: float = SELF_INSTRUCT_THRESHOLD,
    progress: Optional[Callable[[int], None]] = None,
    tokenized: Optional[Callable[[int], None]] = None,
) -> NearDuplicateScan:
    """Self-Instruct's greedy filter alone: what it drops, and each dropped one's earliest kept partner.

    The same drops and partners as `scan_near_duplicates`, without counting pairs: each instruction is
    compared with the kept earlier ones only, as Self-Instruct does, so records that are all near-duplicates
    of one another cost about one comparison each rather than N^2/2. Runs on one thread.
    """
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must lie strictly between 0 and 1, got {threshold}")
    dropped = np.zeros(len(instructions), dtype=np.bool_)
    partner = np.full(len(instructions), -1, dtype=np.int64)
    found = _python_pairs(instructions, threshold) if _small(instructions) else None
    if found is not None:
        _greedy_in_python(*found[:2], dropped, partner)
        for report in (tokenized, progress):
            if report is not None:
                report(len(instructions))
    else:
        corpus = _compiled()._Corpus(instructions, threshold, _loosened(threshold), tokenized)
        for covered in corpus.greedy_search(dropped, partner):
            if progress is not None:
                progress(covered)
    scan = NearDuplicateScan(threshold=threshold, pairs=None)
    scan.dropped = np.flatnonzero(dropped).tolist()
    scan.kept_partner = dict(zip(scan.dropped, partner[dropped].tolist()))
    return scan


def load_kernels_in_background(source_bytes: Optional[int] = None) -> Optional[threading.Thread]:
    """Start numba (half a second, once a process) on another thread, to overlap reading a file of `source_bytes`
    (None: unknown); nothing for a file likely too small to hold `_COMPILED_FROM` instructions (a smaller one that
    does holds them loads the kernels when its search starts).

    LLVM runs through ctypes, which releases the GIL. The thread is not a daemon: a process that ends
    early waits for it rather than tearing LLVM down under it.
    """
    if source_bytes is not None and source_bytes < _COMPILED_FROM * _BYTES_PER_INSTRUCTION:
        return None
    thread = threading.Thread(target=_load_a_kernel, name="numba-start")
    thread.start()
    return thread


def _load_a_kernel() -> None:
    # The first kernel pays numba's start-up; no thread pool here, which a process shutting down refuses.
    try:
        _compiled()._greedy(np.zeros(1, dtype=np.int32), np.ones(1, dtype=np.int32), np.zeros(2, dtype=np.bool_),
                            np.full(2, -1, dtype=np.int64))
    except Exception:  # only a head start: the search itself loads the kernels and reports any failure
        pass


def _compiled():
    from bioinstruct_tools import neardup_compiled  # numba: only for a corpus that needs it

    return neardup_compiled


def _loosened(threshold: float) -> float:
    """The threshold the bounds use: loosened so that float rounding never hides a pair."""
    return threshold * (1 - _MARGIN)


def _search(instructions: Sequence[str], threshold: float, tokenized: Optional[Callable[[int], None]] = None):
    """(batches of (first, second, score, instructions covered) in order of the later instruction, the greedy
    filter that reads them): in Python for a small corpus, else compiled."""
    if _small(instructions):
        found = _python_pairs(instructions, threshold)
        if found is not None:
            if tokenized is not None:
                tokenized(len(instructions))
            return [(*found, len(instructions))], _greedy_in_python
    compiled = _compiled()
    return compiled._Corpus(instructions, threshold, _loosened(threshold), tokenized).search(), compiled._greedy


def _small(instructions: Sequence[str]) -> bool:
    """Few and short enough instructions for the search in Python."""
    return len(instructions) < _COMPILED_FROM and sum(map(len, instructions)) < _PYTHON_CHARACTERS


def _python_pairs(instructions: Sequence[str], threshold: float) -> Optional[tuple[np.ndarray, ...]]:
    """Every pair above `threshold` as arrays (first, second, score), ordered by (second, first); None once it
    would run more than `_PYTHON_VERIFIES` exact LCS.

    Each instruction is a multiset of items (token, occurrence), rarest first. A pair above the threshold
    shares at least alpha = ceil(loose * (len_x + len_y) / 2) items, so (the l-prefix lemma) the first
    len - alpha + l items of each side share l of them (l = 2, or alpha if smaller); each side's prefix is
    taken for the smallest alpha any partner can need, which only lengthens it. Then the item overlap must
    reach alpha before the exact LCS is run.
    """
    loose = _loosened(threshold)
    vocabulary: dict[str, int] = {}
    sequences = [[vocabulary.setdefault(token, len(vocabulary)) for token in rouge_tokens(text)]
                 for text in instructions]
    frequency = Counter(token for sequence in sequences for token in sequence)
    item_sets: list[frozenset] = []  # each instruction's items: their overlap bounds the LCS before it is run
    holders: dict[tuple[int, int], list[int]] = defaultdict(list)  # item -> earlier instructions with it in front
    first: list[int] = []
    second: list[int] = []
    score: list[float] = []
    verifies = 0
    for x, tokens_x in enumerate(sequences):
        length_x = len(tokens_x)
        seen: Counter = Counter()
        items = []
        for token in tokens_x:
            items.append((frequency[token], token, seen[token]))
            seen[token] += 1
        items.sort()
        item_sets.append(frozenset(item[1:] for item in items))
        if not length_x:
            continue
        shortest = math.ceil(loose / (2 - loose) * length_x - _MARGIN)
        prefix = [item[1:] for item in items[:length_x - _alpha(loose, length_x, shortest) + _ELL]]
        shared: Counter = Counter()
        for item in prefix:
            shared.update(holders.get(item, ()))
        masks: dict[int, int] = {}
        for position, token in enumerate(tokens_x):
            masks[token] = masks.get(token, 0) | 1 << position
        for y in sorted(shared):
            length_y = len(sequences[y])
            alpha = _alpha(loose, length_x, length_y)
            if (min(length_x, length_y) < alpha or shared[y] < min(_ELL, alpha)
                    or len(item_sets[x] & item_sets[y]) < alpha):
                continue
            verifies += 1
            if verifies > _PYTHON_VERIFIES:
                return None
            lcs = _lcs_in_python(masks, length_x, sequences[y])
            if lcs < alpha:
                continue
            value = _fmeasure(lcs, length_x, length_y)
            if value > threshold:
                first.append(y)
                second.append(x)
                score.append(value)
        for item in prefix:
            holders[item].append(x)
    return (np.array(first, dtype=np.int32), np.array(second, dtype=np.int32), np.array(score, dtype=np.float64))


def _alpha(loose: float, length_x: int, length_y: int) -> int:
    """The overlap a pair of these lengths needs to reach the loosened threshold; at least 1 (as the kernel's)."""
    return max(1, math.ceil(loose * (length_x + length_y) / 2 - _MARGIN))


def _lcs_in_python(masks: dict[int, int], length_x: int, tokens_y: list[int]) -> int:
    """LCS of x (its tokens' position bits in `masks`) and y: Allison-Dix / Hyyro on one Python integer."""
    full = (1 << length_x) - 1
    v = full
    for token in tokens_y:
        u = v & masks.get(token, 0)
        v = ((v + u) | (v - u)) & full
    return length_x - v.bit_count()


def _fmeasure(lcs: int, target_len: int, prediction_len: int) -> float:
    """rouge_score's F-measure, in its float arithmetic (as the kernel's `_fmeasure`)."""
    precision = lcs / prediction_len
    recall = lcs / target_len
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def _greedy_in_python(first: np.ndarray, second: np.ndarray, dropped: np.ndarray, partner: np.ndarray) -> None:
    """Self-Instruct's greedy filter over pairs sorted by (second, first), as the kernel's `_greedy_kernel`."""
    for earlier, later in zip(first.tolist(), second.tolist()):
        if not dropped[later] and not dropped[earlier]:
            dropped[later] = True
            partner[later] = earlier


def _pairs(first: np.ndarray, second: np.ndarray, score: np.ndarray) -> list[NearDuplicatePair]:
    return [NearDuplicatePair(*values) for values in zip(first.tolist(), second.tolist(), score.tolist())]


def greedy_dropped(pairs: Iterable[NearDuplicatePair]) -> list[int]:
    """Indices Self-Instruct's filter would drop: each is above the threshold with an earlier *kept* one.

    The plain reading of the rule, for any iterable of pairs; `scan_near_duplicates` computes the same
    while it streams (tests compare the two).
    """
    earlier: dict[int, list[int]] = defaultdict(list)
    for pair in pairs:
        earlier[pair.second].append(pair.first)
    dropped: set[int] = set()
    for later in sorted(earlier):
        if any(first not in dropped for first in earlier[later]):
            dropped.add(later)
    return sorted(dropped)


