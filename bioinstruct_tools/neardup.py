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
    # Each record as its multiset of (token, occurrence) items in the global order, packed in one int.
    items = [sorted(token * 1024 + k for token, count in Counter(seq).items() for k in range(min(count, 1024)))
             for seq in sequences]

    token_sets = [frozenset(seq) for seq in sequences]
    loose = threshold - _MARGIN
    shorter_ratio = loose / (2 - loose)  # a partner is at least this share of the longer one's length
    postings: dict[int, list[tuple[int, int]]] = defaultdict(list)  # item -> [(record, position)], by length
    posting_start: dict[int, int] = defaultdict(int)  # entries before this are too short for what comes next
    pairs: list[NearDuplicatePair] = []
    # Shorter records first: every partner found for x is no longer than x, which lets the index keep
    # only the short "mid-prefix" of each record and drop entries that became too short.
    for done, x in enumerate(sorted(range(len(sequences)), key=lambda k: len(sequences[k])), start=1):
        if progress is not None and done % 1000 == 0:
            progress(1000)
        length_x = len(sequences[x])
        if length_x == 0:  # rouge_score scores an empty side 0
            continue
        min_length = shorter_ratio * length_x - _MARGIN
        probe = length_x - max(1, math.ceil(shorter_ratio * length_x - _MARGIN)) + 1
        matches: dict[int, int] = {}
        for position_x, item in enumerate(items[x][:probe]):
            entries = postings.get(item)
            if not entries:
                continue
            first = posting_start[item]
            while first < len(entries) and len(sequences[entries[first][0]]) < min_length:
                first += 1
            posting_start[item] = first
            for y, position_y in entries[first:]:
                seen = matches.get(y, 0)
                if seen < 0:
                    continue
                length_y = len(sequences[y])
                # Positional filter: the overlap cannot exceed what is matched plus what is left on either side.
                bound = seen + 1 + min(length_x - position_x - 1, length_y - position_y - 1)
                matches[y] = seen + 1 if 2 * bound >= loose * (length_x + length_y) else -1
        indexed = length_x - max(1, math.ceil(loose * length_x - _MARGIN)) + 1
        for position_x, item in enumerate(items[x][:indexed]):
            postings[item].append((x, position_x))
        if not matches:
            continue
        masks: dict[int, int] = {}
        for position, token in enumerate(sequences[x]):
            masks[token] = masks.get(token, 0) | (1 << position)
        full = (1 << length_x) - 1
        distinct_x, repeats_x = token_sets[x], length_x - len(token_sets[x])
        for y, seen in matches.items():
            if seen < 0:
                continue
            length_y = len(sequences[y])
            # Overlap bound from a set intersection (done in C): shared distinct tokens plus repeats.
            shared = len(distinct_x & token_sets[y]) + min(repeats_x, length_y - len(token_sets[y]))
            if 2 * shared < loose * (length_x + length_y):
                continue
            v = full
            for token in sequences[y]:
                u = v & masks.get(token, 0)
                v = ((v + u) | (v - u)) & full
            score = rouge_l_fmeasure(length_x - v.bit_count(), length_x, length_y)
            if score > threshold:
                pairs.append(NearDuplicatePair(min(x, y), max(x, y), score))
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
