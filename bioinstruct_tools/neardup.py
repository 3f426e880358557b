"""Near-duplicate instructions by Self-Instruct's criterion: ROUGE-L F-measure above a threshold (0.7).

Self-Instruct scores each new instruction against every earlier one with `rouge_score`, which is
quadratic (hours for 25,005 instructions). This module finds exactly the same pairs in seconds:

1. tokenize with `rouge_score`'s own tokenizer (lowercase, runs of non-alphanumerics split);
2. generate candidates by prefix filtering: F = 2*LCS/(len_a + len_b), and LCS is bounded by the
   multiset overlap of the two token lists and by the shorter length, so a pair above the threshold
   must share a token among each side's rarest tokens (the prefix). Records are searched shortest
   first and in blocks, with numpy: binary search finds each prefix token's posting list, and
   PPJoin's positional filter drops pairs whose matches so far plus what is left cannot be enough;
3. drop pairs whose overlap bound from hashed token counts is too low, then compute the LCS exactly
   (bit-parallel, on Python integers) and the F-measure with `rouge_score`'s float arithmetic, so a
   pair right at the threshold is decided as `rouge_score` decides it.

The bounds are loosened by a small margin so that a pair whose float score rounds above the threshold
is never lost; `rouge_score` brute force is the oracle in tests/test_neardup.py.
"""

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Callable, Iterable, Optional, Sequence

import numpy as np
from rouge_score import tokenize as rouge_tokenize

SELF_INSTRUCT_THRESHOLD = 0.7  # Wang et al. 2023, Self-Instruct: keep an instruction only if ROUGE-L <= 0.7
_MARGIN = 1e-9  # bounds are loosened by this much so float rounding never hides a pair


@dataclass(frozen=True)
class NearDuplicatePair:
    first: int  # index of the earlier instruction
    second: int  # index of the later instruction
    score: float  # ROUGE-L F-measure, as rouge_score computes it


def rouge_tokens(text: str) -> list[str]:
    """Tokens exactly as `rouge_score.rouge_scorer.RougeScorer(["rougeL"])` (no stemmer) makes them."""
    return rouge_tokenize.tokenize(text, None)


def rouge_l_fmeasure(lcs: int, target_len: int, prediction_len: int) -> float:
    """`rouge_score`'s arithmetic for ROUGE-L F (`_score_lcs` and `scoring.fmeasure`), symmetric in its lengths."""
    if not target_len or not prediction_len:
        return 0.0
    precision = lcs / prediction_len
    recall = lcs / target_len
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def lcs_length(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common subsequence of two token-id sequences."""
    return _lcs_against(_position_masks(a), len(a), b)


def _position_masks(a: Sequence[int]) -> dict[int, int]:
    """For each token of `a`, the bit set of the positions where it occurs."""
    masks: dict[int, int] = {}
    for position, token in enumerate(a):
        masks[token] = masks.get(token, 0) | (1 << position)
    return masks


def _lcs_against(masks: dict[int, int], length_a: int, b: Sequence[int]) -> int:
    """LCS of `a` (given by its position masks) and `b`: bit-parallel, one pass over `b` (Allison-Dix / Hyyro)."""
    full = (1 << length_a) - 1
    v = full
    for token in b:
        u = v & masks.get(token, 0)
        v = ((v + u) | (v - u)) & full
    return length_a - v.bit_count()


def find_near_duplicates(
    instructions: Sequence[str],
    threshold: float = SELF_INSTRUCT_THRESHOLD,
    progress: Optional[Callable[[int], None]] = None,
) -> list[NearDuplicatePair]:
    """Every pair (i < j) whose ROUGE-L F-measure is strictly above `threshold`, sorted by (i, j).

    `progress`, if given, is called with the number of instructions processed since its last call.
    """
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must lie strictly between 0 and 1, got {threshold}")
    corpus = _Corpus([rouge_tokens(text) for text in instructions], threshold - _MARGIN)
    pairs: list[NearDuplicatePair] = []
    done = 0
    for first, last in corpus.batches():
        xs, ys = corpus.candidates(first, last)
        xs, ys = corpus.within_bucket_bound(xs, ys)
        pairs.extend(corpus.verify(xs, ys, threshold))
        if progress is not None:
            covered = int(corpus.probe_record[last - 1]) + 1 if last else 0
            progress(covered - done)
            done = covered
    if progress is not None and corpus.size > done:
        progress(corpus.size - done)
    pairs.sort(key=lambda pair: (pair.first, pair.second))
    return pairs


_BATCH_ENTRIES = 1_000_000  # posting entries expanded at once: bounds the memory of a batch
_BUCKETS = 64  # width of the hashed item-count signature used for the overlap bound


class _Corpus:
    """The tokenized instructions as arrays, in the order of the search: shortest first.

    Every record is the multiset of its tokens, written as *items* (token, occurrence number) ordered
    rarest token first. A record is indexed by its first `len - ceil(t*len) + 1` items (enough for any
    partner at least as long) and probes with its first `len - ceil(t/(2-t)*len) + 1` items (enough
    for any shorter partner), so every pair above the threshold meets in some item.
    """

    def __init__(self, token_lists: list[list[str]], loose: float):
        self.loose = loose
        frequency = Counter(token for tokens in token_lists for token in set(tokens))
        token_id = {token: rank for rank, (token, _) in
                    enumerate(sorted(frequency.items(), key=lambda kv: (kv[1], kv[0])))}
        self.size = len(token_lists)
        lengths = np.fromiter(map(len, token_lists), dtype=np.int64, count=self.size)
        self.order = np.argsort(lengths, kind="stable")  # search position -> record index
        self.lengths = lengths[self.order]
        self.starts = np.cumsum(self.lengths) - self.lengths
        total = int(self.lengths.sum())
        # All tokens of all records, in search order, as one array (`sequence` slices one record).
        self.tokens = np.fromiter((token_id[token] for record in self.order.tolist() for token in token_lists[record]),
                                  dtype=np.int64, count=total)
        rows = np.repeat(np.arange(self.size), self.lengths)

        # Items: within each record, tokens sorted (rarest first) and numbered by occurrence.
        sorted_tokens = self.tokens[np.lexsort((self.tokens, rows))]
        position = np.arange(total)
        new_group = np.ones(total, dtype=bool)
        new_group[1:] = (sorted_tokens[1:] != sorted_tokens[:-1]) | (rows[1:] != rows[:-1])
        occurrence = position - np.maximum.accumulate(np.where(new_group, position, 0))
        items = sorted_tokens * (int(occurrence.max(initial=0)) + 1) + occurrence
        offset = position - np.repeat(self.starts, self.lengths)

        probe_length = self.lengths - np.maximum(1, np.ceil(loose / (2 - loose) * self.lengths - _MARGIN)) + 1
        indexed_length = self.lengths - np.maximum(1, np.ceil(loose * self.lengths - _MARGIN)) + 1
        probe = offset < np.repeat(probe_length, self.lengths)
        indexed = offset < np.repeat(indexed_length, self.lengths)
        self.probe_item, self.probe_record, self.probe_offset = items[probe], rows[probe], offset[probe]
        # Index entries sorted by (item, search position): each item's posting list is a contiguous,
        # length-sorted run, found by binary search on one composite key.
        by_item = np.lexsort((rows[indexed], items[indexed]))
        self.index_record, self.index_offset = rows[indexed][by_item], offset[indexed][by_item]
        self.index_key = items[indexed][by_item] * self.size + self.index_record

        # Each record's item counts hashed into _BUCKETS buckets, for the overlap bound.
        buckets = (items * 2654435761) % _BUCKETS
        signatures = np.bincount(rows * _BUCKETS + buckets, minlength=self.size * _BUCKETS)
        self.signatures = signatures.reshape(self.size, _BUCKETS).astype(
            np.uint16 if signatures.max(initial=0) < 2**16 else np.int64)

    def sequence(self, position: int) -> list[int]:
        start = int(self.starts[position])
        return self.tokens[start:start + int(self.lengths[position])].tolist()

    def batches(self) -> Iterable[tuple[int, int]]:
        """Ranges of probe entries, cut between records, each expanding to about _BATCH_ENTRIES entries.

        Also computes, for every probe entry, the slice of its item's posting list it meets: partners
        that come earlier in the search (no longer than x), long enough to reach the threshold, and
        short enough that the entry's offset still lies in x's prefix for that pair. A pair of lengths
        (lx, ly) needs an overlap of ceil(t*(lx+ly)/2), so its prefix on x ends before offset
        lx - ceil(t*(lx+ly)/2) + 1: an item at offset o only needs partners with ly <= 2*(lx-o)/t - lx.
        """
        length_x = self.lengths[self.probe_record]
        shortest = np.searchsorted(self.lengths, self.loose / (2 - self.loose) * length_x - _MARGIN)
        longest = 2 * (length_x - self.probe_offset) / self.loose - length_x + _MARGIN
        last_partner = np.minimum(self.probe_record, np.searchsorted(self.lengths, longest, side="right"))
        self.low = np.searchsorted(self.index_key, self.probe_item * self.size + shortest)
        high = np.searchsorted(self.index_key, self.probe_item * self.size + last_partner)
        self.counts = np.maximum(high - self.low, 0)
        reached = np.cumsum(self.counts)
        record_ends = np.append(np.flatnonzero(np.diff(self.probe_record)) + 1, len(self.probe_record))
        first = 0
        while first < len(self.probe_record):
            budget = (reached[first - 1] if first else 0) + _BATCH_ENTRIES
            cut = int(np.searchsorted(reached, budget, side="right"))
            last = int(record_ends[min(np.searchsorted(record_ends, max(cut, first + 1)), len(record_ends) - 1)])
            yield first, last
            first = last

    def candidates(self, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
        """Pairs (x probing in entries first..last, earlier y) that share a prefix item and pass the positional filter."""
        x, offset_x = self.probe_record[first:last], self.probe_offset[first:last]
        low, counts = self.low[first:last], self.counts[first:last]
        total = int(counts.sum())
        x0 = int(x[0]) if len(x) else 0
        if not total:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        starts = np.cumsum(counts) - counts
        entry = np.repeat(low - starts, counts) + np.arange(total)
        x_rep = np.repeat(x, counts)
        y = self.index_record[entry]
        # The same bound from y's side: the item must lie in y's prefix for this pair of lengths.
        length_x, length_y = self.lengths[x_rep], self.lengths[y]
        in_prefix = self.loose * (length_x + length_y) / 2 - _MARGIN <= length_y - self.index_offset[entry]
        x_rep, y, entry = x_rep[in_prefix], y[in_prefix], entry[in_prefix]
        offset_rep = np.repeat(offset_x, counts)[in_prefix]
        # Group the matches by pair; within a pair, the last match (largest offsets) gives PPJoin's
        # positional bound: matches so far plus what is left after it on the shorter side.
        key = ((x_rep - x0) * self.size + y) * 2**16 + np.minimum(offset_rep, 2**16 - 1)
        order = np.argsort(key, kind="stable")
        key, y_offset = key[order], self.index_offset[entry][order]
        pair = key >> 16
        last_of_pair = np.flatnonzero(np.append(pair[1:] != pair[:-1], True))
        matched = np.diff(np.append(-1, last_of_pair))
        pair, offset_x, offset_y = pair[last_of_pair], key[last_of_pair] & (2**16 - 1), y_offset[last_of_pair]
        xs, ys = pair // self.size + x0, pair % self.size
        length_x, length_y = self.lengths[xs], self.lengths[ys]
        bound = matched + np.minimum(length_x - offset_x - 1, length_y - offset_y - 1)
        keep = 2 * bound >= self.loose * (length_x + length_y)
        return xs[keep], ys[keep]

    def within_bucket_bound(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Drop pairs whose overlap bound from hashed item counts cannot reach the threshold.

        Items hashed to the same bucket only add to min(count_x, count_y), so the sum over buckets is
        never below the true multiset overlap: the filter cannot lose a pair.
        """
        keep = np.empty(len(xs), dtype=bool)
        for start in range(0, len(xs), 1 << 16):
            x, y = xs[start:start + (1 << 16)], ys[start:start + (1 << 16)]
            bound = np.minimum(self.signatures[x], self.signatures[y]).sum(axis=1, dtype=np.int64)
            keep[start:start + len(x)] = 2 * bound >= self.loose * (self.lengths[x] + self.lengths[y])
        return xs[keep], ys[keep]

    def verify(self, xs: np.ndarray, ys: np.ndarray, threshold: float) -> Iterable[NearDuplicatePair]:
        """The exact ROUGE-L F of each remaining pair, with rouge_score's arithmetic."""
        masks, sequence_x, masks_of = None, None, -1
        for x, y in zip(xs.tolist(), ys.tolist()):
            if x != masks_of:
                sequence_x, masks_of = self.sequence(x), x
                masks = _position_masks(sequence_x)
            sequence_y = self.sequence(y)
            score = rouge_l_fmeasure(_lcs_against(masks, len(sequence_x), sequence_y), len(sequence_x), len(sequence_y))
            if score > threshold:
                first, second = sorted((int(self.order[x]), int(self.order[y])))
                yield NearDuplicatePair(first, second, score)


def greedy_dropped(pairs: Iterable[NearDuplicatePair]) -> list[int]:
    """Indices Self-Instruct's filter would drop: each is above the threshold with an earlier *kept* one."""
    earlier: dict[int, list[int]] = defaultdict(list)
    for pair in pairs:
        earlier[pair.second].append(pair.first)
    dropped: set[int] = set()
    for later in sorted(earlier):
        if any(first not in dropped for first in earlier[later]):
            dropped.add(later)
    return sorted(dropped)
