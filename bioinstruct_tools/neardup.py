"""Near-duplicate instructions by Self-Instruct's criterion: ROUGE-L F-measure above a threshold (0.7).

Self-Instruct scores each new instruction against every earlier one with `rouge_score`, which is
quadratic (hours for 25,005 instructions). This module finds exactly the same pairs in seconds:

1. tokenize with `rouge_score`'s own tokenizer (lowercase, runs of non-alphanumerics split);
2. generate candidates by prefix filtering: F = 2*LCS/(len_a + len_b), and LCS is bounded by the
   multiset overlap of the two token lists and by the shorter length, so a pair above the threshold
   must share a token among each side's rarest `len - min_overlap + 1` tokens;
3. keep candidates that pass the length and overlap bounds, then compute the LCS exactly (a
   bit-parallel LCS on Python integers) and the F-measure with `rouge_score`'s float arithmetic, so a
   pair right at the threshold is decided as `rouge_score` decides it.

The bounds are loosened by a small margin so that a pair whose float score rounds above the threshold
is never lost; `rouge_score` brute force is the oracle in tests/test_neardup.py.
"""

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Callable, Iterable, Optional, Sequence

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
    """Length of the longest common subsequence, bit-parallel (Allison-Dix / Hyyro) over `a`."""
    if len(a) < len(b):
        a, b = b, a
    masks: dict[int, int] = {}
    for position, token in enumerate(a):
        masks[token] = masks.get(token, 0) | (1 << position)
    full = (1 << len(a)) - 1
    v = full
    for token in b:
        u = v & masks.get(token, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


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
    token_lists = [rouge_tokens(text) for text in instructions]

    # Integer ids, rarest token first, so prefixes hold rare tokens and posting lists stay short.
    frequency = Counter(token for tokens in token_lists for token in set(tokens))
    token_id = {token: rank for rank, (token, _) in enumerate(sorted(frequency.items(), key=lambda kv: (kv[1], kv[0])))}
    sequences = [[token_id[token] for token in tokens] for tokens in token_lists]

    loose = threshold - _MARGIN
    min_partner_ratio = loose / (2 - loose)  # len_b >= ratio * len_a, and overlap >= ratio * len_a
    postings: dict[tuple[int, int], list[int]] = defaultdict(list)
    occurrences: list[Counter] = []
    pairs: list[NearDuplicatePair] = []
    for j, sequence in enumerate(sequences):
        counts = Counter(sequence)
        occurrences.append(counts)
        length = len(sequence)
        if length == 0:  # rouge_score scores an empty side 0
            _tick(progress, j)
            continue
        # The multiset as (token, occurrence number) items, rarest first; its prefix is what must meet.
        items = sorted((token, k) for token, count in counts.items() for k in range(count))
        min_overlap = max(1, math.ceil(min_partner_ratio * length - _MARGIN))
        prefix = items[: length - min_overlap + 1]

        candidates = set()
        for item in prefix:
            candidates.update(postings[item])
            postings[item].append(j)
        for i in sorted(candidates):
            other = sequences[i]
            total = length + len(other)
            if 2 * min(length, len(other)) < loose * total:
                continue
            overlap = sum(min(count, occurrences[i].get(token, 0)) for token, count in counts.items())
            if 2 * overlap < loose * total:
                continue
            score = rouge_l_fmeasure(lcs_length(sequence, other), length, len(other))
            if score > threshold:
                pairs.append(NearDuplicatePair(i, j, score))
        _tick(progress, j)
    if progress is not None and len(sequences) % 1000:
        progress(len(sequences) % 1000)
    pairs.sort(key=lambda pair: (pair.first, pair.second))
    return pairs


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


def _tick(progress, j):
    if progress is not None and (j + 1) % 1000 == 0:
        progress(1000)
