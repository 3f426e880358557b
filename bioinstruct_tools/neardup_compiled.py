"""The compiled near-duplicate search (numba): the corpus as flat arrays, its prefix index and the scan kernels.

`neardup` imports this module only when a corpus is large enough to pay for it (`neardup._COMPILED_FROM`): a
small file never imports numba, loads a kernel or, on a first run after install, compiles one. See
`neardup`'s docstring for the method.
"""

import math
import os
import threading
from collections import namedtuple
from typing import Callable, Iterable, Optional, Sequence

import numpy as np
from numba import types
from numba.extending import intrinsic

from bioinstruct_tools.compiled import kernel_threads, njit
from bioinstruct_tools.text import ROUGE_END, rouge_tokens_of_many

_ROUNDING = 1e-9  # taken off before a ceiling, so float rounding never raises a bound
# Candidates must share this many prefix items (the l-prefix lemma). One, the plain prefix filter: the entries' bitmaps
# already rule out what a second shared item would, and each record's prefix is an item shorter, its most frequent:
# 30% fewer entries read at 100,000 templated instructions, 4% more LCS runs (bench/neardup_work.py --ell 1,2), and a
# search a fifth faster at 0.7 (bench/neardup_speed.py --ell); at 0.5, on Zipf text, up to 5% slower.
_ELL = 1
_CHUNK = 256  # instructions per task on a thread
# From this many instructions, a task's instructions read the index together (`_join`). It saves about 0.6 s a search
# at 100,000 templated instructions and 2 s at 200,000, and little below; compiling it costs a first run after install
# about 7 s, which a smaller corpus would pay for nothing (bench/neardup_speed.py --join).
_JOIN_FROM = 100_000
# And only at this threshold or above. Lower, prefixes grow long and lengths far apart can still pair, so a chunk's
# instructions mostly read different groups, and reading together costs more than it shares (100,000 templated:
# at 0.5, the report's histogram floor, 15.5 s one at a time, 20.0 s joined; at 0.6, 4.0 s and 3.0 s).
_JOIN_THRESHOLD = 0.6
_JOINED_CHUNK = 2048  # instructions per task on a thread then
_JOINED = 1 << 20  # candidates a task gathers at most at once (20 MB a thread); more: fewer instructions at once
_PAIRS_PER_TASK = 1 << 18  # a task hands its pairs over once it holds this many (4 MB): memory stays flat
_GREEDY_CHUNK = 4096  # instructions per call of the greedy scan, between progress reports
_SIGNATURE_WORDS = 2  # 64-bit words of the hashed item bitmap used for the overlap bound (`_bitmaps_allow`)
_THREADS = min(2, os.cpu_count() or 1)
_TOKENIZED_AT_ONCE = 8192  # instructions whose tokens are mapped to ids in one pass of C-level calls
_HASHED_AT_ONCE = 1 << 20  # tokens hashed into the signatures at a time


# What the kernels read and write, passed as named tuples (numba compiles them as structs) rather than as
# two dozen positional arrays, so that no call can silently swap two of them.
PrefixIndex = namedtuple("PrefixIndex", "tokens starts lengths items probe_lengths group_start group_length "
                                        "group_offset group_entries postings_record postings_signature signatures "
                                        "prefix_starts")
Limits = namedtuple("Limits", "ell loose threshold")  # prefix items a pair must share; loosened and exact thresholds
ScratchArrays = namedtuple("ScratchArrays", "counts touched masks words positions position_starts diagonals")
PairsOut = namedtuple("PairsOut", "first second score")
# `_search_chunk_joined`'s working memory, per thread: for each instruction of a chunk (probe_x ... filled), for
# each instruction reading a group (active_x ... active_signature) and for each candidate (probe ... sorted_needed).
JoinArrays = namedtuple("JoinArrays", "probe_x probe_offset done first filled active_x spare_x spare_y "
                                      "active_needed active_signature probe record needed sorted_record "
                                      "sorted_needed")


def lcs_length(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common subsequence of two token-id sequences, by the kernels."""
    a, b = np.asarray(a, dtype=np.int32), np.asarray(b, dtype=np.int32)
    scratch = _scratch(int(max(a.max(initial=0), b.max(initial=0))) + 1, 1, max(len(a), len(b)))
    return int(_lcs(a, b, 0, scratch))


class _Corpus:
    """The instructions as flat int32 arrays: tokens in text order (for the LCS) and items rarest first."""

    def __init__(self, instructions: Sequence[str], threshold: float, loose: float,
                 tokenized: Optional[Callable[[int], None]] = None):
        self.threshold = threshold
        self.loose = loose  # the threshold loosened so that float rounding never hides a pair
        vocabulary: dict[str, int] = {ROUGE_END: -1}  # token -> id, in order of first use; -1 ends an instruction
        length_chunks, id_chunks = [], []
        for start in range(0, len(instructions), _TOKENIZED_AT_ONCE):  # ids a chunk at a time: a million token
            chunk = instructions[start:start + _TOKENIZED_AT_ONCE]  # lists of str would not fit
            tokens = rouge_tokens_of_many(chunk)
            for token in dict.fromkeys(tokens):  # the chunk's distinct tokens: few, so this loop is short
                if token not in vocabulary:
                    vocabulary[token] = len(vocabulary) - 1
            ids = np.fromiter(map(vocabulary.__getitem__, tokens), dtype=np.int32, count=len(tokens))
            del tokens
            ends = np.flatnonzero(ids < 0)
            length_chunks.append(np.diff(ends, prepend=-1) - 1)
            id_chunks.append(ids[ids >= 0])
            if tokenized is not None:
                tokenized(len(chunk))
        self.vocabulary_size = len(vocabulary) - 1
        del vocabulary
        self.lengths = np.concatenate(length_chunks).astype(np.int64) if length_chunks else np.empty(0, np.int64)
        self.size = len(self.lengths)
        self.starts = np.zeros(self.size + 1, dtype=np.int64)
        np.cumsum(self.lengths, out=self.starts[1:])
        self.tokens = np.concatenate(id_chunks) if id_chunks else np.empty(0, dtype=np.int32)
        del id_chunks
        self.items, item_count = self._items()
        self.probe_lengths = self._prefix_lengths()
        record_of = np.repeat(np.arange(self.size, dtype=np.int32), self.lengths)  # each token's record
        self.signatures = self._signatures(record_of)
        self._postings(item_count, record_of)

    def _items(self) -> tuple[np.ndarray, int]:
        """Per record, its tokens as items (token rank, occurrence) in ascending order, as dense int32 ids.

        A million records hold tens of millions of tokens, and the temporaries made here set a large `validate`'s
        peak memory: they are made in place, and in int32 where the values fit (token positions do: the index
        is int32 throughout).
        """
        total = len(self.tokens)
        if not total:
            return np.empty(0, dtype=np.int32), 0
        frequency = np.bincount(self.tokens, minlength=self.vocabulary_size)
        rank = np.empty(self.vocabulary_size, dtype=np.int64)
        rank[np.lexsort((np.arange(self.vocabulary_size), frequency))] = np.arange(self.vocabulary_size)
        # One sort of (record, rank) keys puts each record's tokens rarest first; records keep their place.
        keys = rank[self.tokens]
        keys += np.repeat(np.arange(self.size, dtype=np.int64) * self.vocabulary_size, self.lengths)
        keys.sort()
        new_group = np.ones(total, dtype=bool)
        new_group[1:] = keys[1:] != keys[:-1]  # a key holds its record: a new record starts a new group too
        np.remainder(keys, self.vocabulary_size, out=keys)
        ranked = keys.astype(np.int32)
        del keys
        position = np.arange(total, dtype=np.int32)
        occurrence = np.where(new_group, position, np.int32(0))
        np.maximum.accumulate(occurrence, out=occurrence)
        np.subtract(position, occurrence, out=occurrence)
        del position, new_group
        # Item ids in (rank, occurrence) order: each rank's block is as wide as its most repeated occurrence.
        widest = np.zeros(self.vocabulary_size, dtype=np.int64)
        repeated = occurrence > 0  # most tokens are their record's only copy: `ufunc.at`, slow, over the others only
        np.maximum.at(widest, ranked[repeated], occurrence[repeated])
        del repeated
        block_start = np.zeros(self.vocabulary_size + 1, dtype=np.int64)
        np.cumsum(widest + 1, out=block_start[1:])
        items = block_start.astype(np.int32)[ranked]
        items += occurrence
        return items, int(block_start[-1])

    def _signatures(self, record_of: np.ndarray) -> np.ndarray:
        """Each record's items hashed into a bitmap of 64 * _SIGNATURE_WORDS bits, 16 bytes a record.

        Items are distinct within a record, so every bit of x that y lacks stands for at least one item of
        x that y does not share: len_x minus those bits bounds the overlap from above, and so does len_y
        minus y's bits that x lacks. The filter cannot lose a pair; the index keeps a copy in each entry.
        Hashed a slice of tokens at a time: the 64-bit temporaries of all of them at once were the peak.
        """
        bits = 64 * _SIGNATURE_WORDS
        signatures = np.zeros((self.size, _SIGNATURE_WORDS), dtype=np.uint64)
        for start in range(0, len(self.items), _HASHED_AT_ONCE):
            buckets = self.items[start:start + _HASHED_AT_ONCE].astype(np.int64) * 2654435761 % bits
            np.bitwise_or.at(signatures, (record_of[start:start + _HASHED_AT_ONCE], buckets >> 6),
                             np.left_shift(np.uint64(1), (buckets & 63).astype(np.uint64)))
        return signatures

    def _prefix_lengths(self) -> np.ndarray:
        """Items of each record that can hold a match: its l-prefix for its shortest possible partner."""
        shortest = np.ceil(self.loose / (2 - self.loose) * self.lengths - _ROUNDING)
        alpha = np.maximum(1, np.ceil(self.loose * (self.lengths + shortest) / 2 - _ROUNDING))  # its smallest
        return np.clip(self.lengths - alpha + _ELL, 0, self.lengths).astype(np.int64)

    def _postings(self, item_count: int, record_of: np.ndarray) -> None:
        """The inverted index of the prefixes, grouped by (item, record length, offset), records ascending in a group.

        A probe visits only the groups where the item can still lie in both prefixes, and stops at the
        first later record of a group: a frequent item is never scanned for partners it cannot have.
        """
        offsets = np.arange(len(self.items), dtype=np.int32)  # each token's offset in its record, in int32 as above
        offsets -= self.starts[:-1].astype(np.int32)[record_of]
        in_prefix = offsets < self.probe_lengths.astype(np.int32)[record_of]
        records = record_of[in_prefix]
        items, offsets = self.items[in_prefix], offsets[in_prefix]
        del in_prefix
        lengths = self.lengths.astype(np.int32)[records]
        order = _group_order(items, lengths, offsets)  # records ascend already: each group's stay so
        # Reordered one array at a time, each dropped once used, the largest made last: a million records' index
        # peaks here.
        self.postings_record = records[order]
        del records
        items, lengths, offsets = items[order], lengths[order], offsets[order]
        new_group = np.ones(len(items), dtype=bool)
        new_group[1:] = (items[1:] != items[:-1]) | (lengths[1:] != lengths[:-1]) | (offsets[1:] != offsets[:-1])
        group_first = np.flatnonzero(new_group)
        self.group_length = lengths[group_first].astype(np.int64)
        self.group_offset = offsets[group_first].astype(np.int64)
        del lengths, offsets
        self.group_start = np.zeros(item_count + 1, dtype=np.int64)
        np.cumsum(np.bincount(items[group_first], minlength=item_count), out=self.group_start[1:])
        self.group_entries = np.append(group_first, len(items)).astype(np.int64)  # group g: entries [g], [g + 1]
        # Each prefix entry's group, in record order (record x's entries are [prefix_starts[x], prefix_starts[x+1])):
        # the greedy scan inserts a record into exactly its groups when it keeps it.
        self.entry_group = np.empty(len(items), dtype=np.int32)
        del items
        groups = np.cumsum(new_group, dtype=np.int32)
        del new_group
        groups -= 1
        self.entry_group[order] = groups
        del order, groups
        self.prefix_starts = np.zeros(self.size + 1, dtype=np.int64)
        np.cumsum(self.probe_lengths, out=self.prefix_starts[1:])
        # Each entry carries its record's bitmap, read in sequence with the entry: a probe rules out most
        # partners there, before it counts them or reads anything of theirs at random.
        self.postings_signature = self.signatures[self.postings_record]

    def index(self) -> PrefixIndex:
        return PrefixIndex(self.tokens, self.starts, self.lengths, self.items, self.probe_lengths, self.group_start,
                           self.group_length, self.group_offset, self.group_entries, self.postings_record,
                           self.postings_signature, self.signatures, self.prefix_starts)

    def scratch(self) -> ScratchArrays:
        return _scratch(self.vocabulary_size, self.size, int(self.lengths.max(initial=0)),
                        int(self.probe_lengths.max(initial=0)))

    def search(self) -> Iterable[tuple[np.ndarray, np.ndarray, np.ndarray, int]]:
        """(first, second, score, instructions covered) per task, in index order of the later instruction.

        A task covers a chunk of instructions, or the part of one that yields _PAIRS_PER_TASK pairs: what is in
        flight stays bounded however many pairs there are (all-similar records have N^2/2 of them).
        """
        local = threading.local()
        index, limits = self.index(), Limits(_ELL, self.loose, self.threshold)
        group_end = self.group_entries[1:]  # every entry of a group: the scan reads each record's earlier ones
        capacity = max(self.size, _PAIRS_PER_TASK)

        join = self.size >= _JOIN_FROM and self.threshold >= _JOIN_THRESHOLD
        chunk = _JOINED_CHUNK if join else _CHUNK

        def scan(x: int, end: int, span: int) -> tuple[int, int, int]:
            """(pairs written to local.out, the instruction reached, the span to go on with) for a first part of
            x..end: all of it, or up to an instruction whose pairs the output might not hold."""
            if not join:
                found, resume = _search_chunk(x, end, index, group_end, limits, local.scratch, local.out)
                return found, end if resume < 0 else resume, span
            while True:
                found, reached = _search_chunk_joined(x, min(x + span, end), index, group_end, limits, local.scratch,
                                                      local.joined, local.out)
                if found >= 0:
                    return found, reached, span
                if span == 1:  # one instruction with more candidates than `joined` holds: counted as they are read
                    found, _ = _search_chunk(x, x + 1, index, group_end, limits, local.scratch, local.out)
                    return found, x + 1, span
                span //= 2  # more candidates than `joined` holds: half as many instructions at once

        def run(start: int, end: int):
            if not hasattr(local, "scratch"):
                local.scratch = self.scratch()
                local.joined = _join_arrays(chunk, _JOINED) if join else None
                local.out = PairsOut(np.empty(capacity, dtype=np.int32), np.empty(capacity, dtype=np.int32),
                                     np.empty(capacity, dtype=np.float64))
            out, parts, x, held, span = local.out, [], start, 0, end - start
            while x < end and held < _PAIRS_PER_TASK:  # a scan stops when the output may not hold x's pairs
                found, x, span = scan(x, end, span)
                parts.append((out.first[:found].copy(), out.second[:found].copy(), out.score[:found].copy()))
                held += found
            first, second, score = (np.concatenate(column) for column in zip(*parts))
            order = np.lexsort((first, second))
            return first[order], second[order], score[order], x - start, x, end

        with kernel_threads(_THREADS) as pool:
            chunks = [(start, min(start + chunk, self.size)) for start in range(0, self.size, chunk)]
            chunks.reverse()  # popped from the end: in index order
            pending = []
            while chunks or pending:
                while chunks and len(pending) < 2 * _THREADS:  # a few tasks in flight: memory stays bounded
                    pending.append(pool.submit(run, *chunks.pop()))
                first, second, score, covered, resume, end = pending.pop(0).result()
                if resume < end:  # the rest of this chunk comes before any later one
                    pending.insert(0, pool.submit(run, resume, end))
                yield first, second, score, covered

    def greedy_search(self, dropped: np.ndarray, partner: np.ndarray) -> Iterable[int]:
        """Self-Instruct's greedy filter, comparing each instruction with the *kept* earlier ones only: records
        are added to the index as they are kept, and a record stops at its earliest kept near-duplicate. Work
        grows with the kept records, not with the pairs. Yields the instructions covered, a chunk at a time."""
        index = self.index()._replace(postings_record=np.empty_like(self.postings_record),
                                      postings_signature=np.empty_like(self.postings_signature))
        group_end = self.group_entries[:-1].copy()  # every group starts empty
        limits, scratch = Limits(_ELL, self.loose, self.threshold), self.scratch()
        for start in range(0, self.size, _GREEDY_CHUNK):
            end = min(start + _GREEDY_CHUNK, self.size)
            _greedy_chunk(start, end, index, group_end, limits, scratch, self.entry_group, self.prefix_starts,
                          dropped, partner)
            yield end - start


def _group_order(items: np.ndarray, lengths: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The stable order of entries by (item, length, offset), as `np.lexsort((offsets, lengths, items))` gives it.

    By one stable sort of one int64 key where the three fit in it, as they do but for absurd corpora: at 1,000,000
    templated records (9 million entries) 1.8 s, where `lexsort` takes 3.3 s.
    """
    if not len(items):
        return np.empty(0, dtype=np.int64)
    length_span, offset_span = int(lengths.max()) + 1, int(offsets.max()) + 1
    if (int(items.max()) + 1) * length_span * offset_span >= 2**63:
        return np.lexsort((offsets, lengths, items))
    key = items.astype(np.int64)
    key *= length_span
    key += lengths
    key *= offset_span
    key += offsets
    return np.argsort(key, kind="stable")


def _join_arrays(chunk: int, candidates: int) -> JoinArrays:
    """`_search_chunk_joined`'s working memory for chunks of up to `chunk` instructions."""
    per_instruction = [np.zeros(chunk + 1, dtype=dtype) for dtype in (np.int64, np.int64, np.bool_, np.int64, np.int64)]
    per_active = [np.zeros(chunk, dtype=np.int64) for _ in range(4)] + [np.zeros((chunk, 2), dtype=np.uint64)]
    per_candidate = [np.zeros(candidates, dtype=np.int32) for _ in range(5)]
    return JoinArrays(*per_instruction, *per_active, *per_candidate)


def _scratch(vocabulary_size: int, size: int, longest: int, longest_probe: int = 2**31 - 1) -> ScratchArrays:
    """Per-thread working memory of the kernels, sized once: counts per record, masks per token, LCS buffers."""
    return ScratchArrays(
        # A count never exceeds the probe length: one byte a record when it fits, so the counts stay in cache.
        counts=np.zeros(max(size, 1), dtype=np.int8 if longest_probe < 127 else np.int32),
        touched=np.zeros(max(size, 1), dtype=np.int32),
        masks=np.zeros(max(vocabulary_size, 1), dtype=np.uint64),
        words=np.zeros((longest + 63) // 64 + 1, dtype=np.uint64),
        positions=np.zeros(longest + 1, dtype=np.int32),
        position_starts=np.zeros(max(vocabulary_size, 1) + 1, dtype=np.int32),
        diagonals=np.zeros(2 * (2 * longest + 2) + 3, dtype=np.int64),
    )


@njit(nogil=True)
def _fmeasure(lcs, target_len, prediction_len):
    if target_len == 0 or prediction_len == 0:
        return 0.0
    precision = lcs / prediction_len
    recall = lcs / target_len
    if precision + recall > 0:
        return 2 * precision * recall / (precision + recall)
    return 0.0


@njit(nogil=True)
def _alpha(loose, length_x, length_y):
    """The overlap a pair of these lengths needs to reach the (loosened) threshold; at least 1."""
    alpha = math.ceil(loose * (length_x + length_y) / 2 - 1e-9)
    return alpha if alpha > 1 else 1


@njit(nogil=True)
def _search_chunk(x, x_end, index, group_end, limits, scratch, out):
    """Pairs of instructions x..x_end with every earlier one.

    Returns (pairs written, -1) when done, or (pairs written, the instruction to resume from) when the
    output might not hold that instruction's pairs (at most one per earlier instruction).
    """
    found = np.int64(0)  # not the literal 0: with it, numba compiles `_probe` a second time, for Literal[int](0)
    capacity = out.first.shape[0]
    while x < x_end:
        if found + x > capacity:
            return found, x
        found = _probe(x, found, index, group_end, limits, scratch, out, False)
        x += 1
    return found, -1


@njit(nogil=True)
def _search_chunk_joined(x, x_end, index, group_end, limits, scratch, joined, out):
    """The pairs `_search_chunk` finds, with the index read once for the whole chunk: each item's groups are read
    for all the chunk's instructions with the item in their prefix at once (`_join`), so that an entry fetched
    from memory is tested against all of them. Each instruction's candidates are then counted in the order
    `_candidates` counts them and verified as `_probe` verifies them: the same pairs, in the same order.

    Returns (pairs written, x_end) when done; (pairs written, the instruction to resume from) when the output might
    not hold that instruction's pairs; (-1, x), writing nothing, when the candidates would overflow `joined`.
    """
    size = x_end - x
    passed = _join(x, x_end, index, group_end, limits, joined)
    if passed < 0:
        return np.int64(-1), x
    # A stable counting sort of the candidates by instruction: each one's in the order the join found them.
    first = joined.first
    first[: size + 1] = 0
    for i in range(passed):
        first[joined.probe[i] + 1] += 1
    for local in range(size):
        first[local + 1] += first[local]
    filled = joined.filled
    filled[:size] = 0
    for i in range(passed):
        local = joined.probe[i]
        slot = first[local] + filled[local]
        joined.sorted_record[slot] = joined.record[i]
        joined.sorted_needed[slot] = joined.needed[i]
        filled[local] += 1
    found = np.int64(0)
    capacity = out.first.shape[0]
    for local in range(size):
        if found + x + local > capacity:
            return found, x + local
        n_touched = 0
        for i in range(first[local], first[local + 1]):
            n_touched = _count(joined.sorted_record[i], joined.sorted_needed[i], scratch.counts, scratch.touched,
                               n_touched)
        found = _verify(x + local, found, n_touched, index, limits, scratch, out, False)
    return found, x_end


@njit(nogil=True)
def _join(x_first, x_end, index, group_end, limits, joined):
    """Every (instruction of x_first..x_end, earlier record) that `_candidates` would count, with what it would
    need, into `joined` (probe, record, needed), grouped by item; the number written, or -1 if they overflow it.

    For one instruction they come in `_candidates`' order: its items ascend (rarest first), and within an item
    the groups and their entries are read in index order.
    """
    starts, lengths, items = index.starts, index.lengths, index.items
    group_start, group_length, group_offset, group_entries = (index.group_start, index.group_length,
                                                              index.group_offset, index.group_entries)
    postings_record, postings_signature, signatures = index.postings_record, index.postings_signature, index.signatures
    ell_wanted, loose = limits.ell, limits.loose
    size = x_end - x_first
    # Every (item, instruction) of the chunk's prefixes, sorted by item: one key each.
    keys = np.empty(index.prefix_starts[x_end] - index.prefix_starts[x_first], dtype=np.int64)
    n_keys = 0
    for x in range(x_first, x_end):
        for offset_x in range(index.probe_lengths[x]):
            keys[n_keys] = np.int64(items[starts[x] + offset_x]) * size + (x - x_first)
            n_keys += 1
    _heapsort(keys, n_keys)
    probe_x, probe_offset, done = joined.probe_x, joined.probe_offset, joined.done
    active_x, spare_x, spare_y, needed = joined.active_x, joined.spare_x, joined.spare_y, joined.active_needed
    active_signature = joined.active_signature
    capacity = joined.record.shape[0]
    passed = 0
    start = 0
    while start < n_keys:
        item = keys[start] // size
        end = start
        while end < n_keys and keys[end] // size == item:
            local = keys[end] - item * size
            x = x_first + local
            probe_x[end - start] = x
            # items ascend in a record: the offset of this item in x's prefix
            low, high = starts[x], starts[x] + index.probe_lengths[x]
            while low < high:
                middle = (low + high) >> 1
                if items[middle] < item:
                    low = middle + 1
                else:
                    high = middle
            probe_offset[end - start] = low - starts[x]
            done[end - start] = False
            end += 1
        probes = end - start
        left_probes = probes
        for group in range(group_start[item], group_start[item + 1]):
            length_y = group_length[group]
            offset_y = group_offset[group]
            n_active = 0
            for p in range(probes):
                if done[p]:
                    continue
                x = probe_x[p]
                length_x = lengths[x]
                alpha = _group_alpha(loose, ell_wanted, length_x, probe_offset[p], length_y, offset_y)
                if alpha == _NO_LONGER:
                    done[p] = True  # as `_candidates` stops: the groups left are longer still
                    left_probes -= 1
                    continue
                if alpha == _NOT_THIS_GROUP:
                    continue
                active_x[n_active] = x
                active_signature[n_active, 0] = signatures[x, 0]
                active_signature[n_active, 1] = signatures[x, 1]
                spare_x[n_active] = length_x - alpha
                spare_y[n_active] = length_y - alpha
                needed[n_active] = alpha - min(length_x - probe_offset[p] - 1, length_y - offset_y - 1)
                n_active += 1
            if left_probes == 0:
                break
            last = active_x[n_active - 1] if n_active else 0  # active instructions ascend: this is the latest
            for entry in range(group_entries[group], group_end[group]):
                y = postings_record[entry]
                if y >= last:
                    break  # records ascend in a group: the rest come later than every active instruction
                word_0, word_1 = postings_signature[entry, 0], postings_signature[entry, 1]
                for a in range(n_active):
                    x = active_x[a]
                    if y >= x or not _bitmaps_allow(active_signature[a, 0], active_signature[a, 1], word_0, word_1,
                                                     spare_x[a], spare_y[a]):
                        continue
                    if passed == capacity:
                        return -1
                    joined.probe[passed] = x - x_first
                    joined.record[passed] = y
                    joined.needed[passed] = needed[a]
                    passed += 1
        start = end
    return passed


@njit(nogil=True)
def _greedy_chunk(x, x_end, index, group_end, limits, scratch, entry_group, prefix_starts, dropped, partner):
    """The greedy filter over instructions x..x_end: each is dropped if a kept earlier one is above the
    threshold (its partner is the earliest such), else kept and added to the index's groups. Records are
    added in index order, so each group's records still ascend."""
    out = PairsOut(np.empty(1, dtype=np.int32), np.empty(1, dtype=np.int32), np.empty(1, dtype=np.float64))
    postings_record, postings_signature, signatures = index.postings_record, index.postings_signature, index.signatures
    while x < x_end:
        if _probe(x, np.int64(0), index, group_end, limits, scratch, out, True):  # the signature the scan compiles
            dropped[x] = True
            partner[x] = out.first[0]
        else:
            for entry in range(prefix_starts[x], prefix_starts[x + 1]):
                group = entry_group[entry]
                slot = group_end[group]
                postings_record[slot] = x
                for word in range(_SIGNATURE_WORDS):
                    postings_signature[slot, word] = signatures[x, word]
                group_end[group] = slot + 1
        x += 1


@njit(nogil=True)
def _probe(x, found, index, group_end, limits, scratch, out, earliest_only):
    """Pairs of instruction x with the earlier ones, written from out[found]; returns the new total.

    A group's entries end at `group_end`. With `earliest_only`, candidates are verified in index order and
    only the first pair found is written.
    """
    n_touched = _candidates(x, index, group_end, limits, scratch)
    return _verify(x, found, n_touched, index, limits, scratch, out, earliest_only)


@njit(nogil=True)
def _candidates(x, index, group_end, limits, scratch):
    """x's candidates among the earlier records, read from the index: their shared prefix items are counted in
    `scratch.counts` (-1: ruled out by the positional filter), and they are listed in `scratch.touched`, whose
    length this returns."""
    starts, lengths, items = index.starts, index.lengths, index.items
    group_start, group_length, group_offset, group_entries = (index.group_start, index.group_length,
                                                              index.group_offset, index.group_entries)
    postings_record, postings_signature = index.postings_record, index.postings_signature
    ell_wanted, loose = limits.ell, limits.loose
    counts, touched = scratch.counts, scratch.touched
    length_x = lengths[x]
    if length_x == 0:
        return 0
    start_x = starts[x]
    signature_0, signature_1 = index.signatures[x, 0], index.signatures[x, 1]
    n_touched = 0
    for offset_x in range(index.probe_lengths[x]):
        item = items[start_x + offset_x]
        for group in range(group_start[item], group_start[item + 1]):
            length_y = group_length[group]
            offset_y = group_offset[group]
            alpha = _group_alpha(loose, ell_wanted, length_x, offset_x, length_y, offset_y)
            if alpha == _NO_LONGER:
                break
            if alpha == _NOT_THIS_GROUP:
                continue
            # PPJoin's positional filter: matches so far plus what is left after them on the shorter side.
            left = min(length_x - offset_x - 1, length_y - offset_y - 1)
            for entry in range(group_entries[group], group_end[group]):
                y = postings_record[entry]
                if y >= x:
                    break  # records ascend in a group: the rest come later than x
                if not _bitmaps_allow(signature_0, signature_1, postings_signature[entry, 0],
                                      postings_signature[entry, 1], length_x - alpha, length_y - alpha):
                    continue  # too few items in common: never counted
                n_touched = _count(y, alpha - left, counts, touched, n_touched)
    return n_touched


_NOT_THIS_GROUP = -1  # `_group_alpha`: no pair from this group, but maybe from the next
_NO_LONGER = -2  # no pair from this group or any later group of the item (its lengths only grow)


@njit(nogil=True)
def _group_alpha(loose, ell_wanted, length_x, offset_x, length_y, offset_y):
    """The overlap x needs with the records of a group (length_y, offset_y) of an item x holds at offset_x, or why
    none of them can pair with x: their length is out of reach, or the item lies outside x's or their l-prefix
    for this pair (groups of an item come by length, then offset)."""
    if length_y < length_x * loose / (2 - loose) - 1e-9:
        return _NOT_THIS_GROUP
    if length_y > length_x * (2 - loose) / loose + 1e-9:
        return _NO_LONGER
    alpha = _alpha(loose, length_x, length_y)
    ell = ell_wanted if alpha >= ell_wanted else alpha
    if offset_x >= length_x - alpha + ell:
        return _NO_LONGER  # outside x's l-prefix for this length, and for every longer one (alpha grows)
    if offset_y >= length_y - alpha + ell:
        return _NOT_THIS_GROUP  # outside y's l-prefix for this pair
    return alpha


@njit(nogil=True)
def _count(y, needed, counts, touched, n_touched):
    """One more shared prefix item with y: y is listed when first seen, and ruled out (-1) once its count plus what
    is left can no longer reach alpha (`needed` = alpha minus what is left). Returns the new length of `touched`."""
    count = counts[y]
    if count < 0:
        return n_touched  # already ruled out
    if count == 0:
        touched[n_touched] = y
        n_touched += 1
    count += 1
    counts[y] = count if count >= needed else -1
    return n_touched


@njit(nogil=True)
def _verify(x, found, n_touched, index, limits, scratch, out, earliest_only):
    """The exact LCS of x with each of its `n_touched` candidates that still can reach the threshold; pairs above
    it are written from out[found]. Clears the candidates' counts. Returns the new total."""
    tokens, starts, lengths, items = index.tokens, index.starts, index.lengths, index.items
    ell_wanted, loose, threshold = limits.ell, limits.loose, limits.threshold
    counts, touched, masks = scratch.counts, scratch.touched, scratch.masks
    length_x = lengths[x]
    start_x = starts[x]
    tokens_x = tokens[start_x:starts[x + 1]]
    items_x = items[start_x:starts[x + 1]]
    short_x = length_x <= 64
    if short_x:  # x's bit masks once, for every candidate
        for i in range(length_x):
            masks[tokens_x[i]] |= np.uint64(1) << np.uint64(i)
    if earliest_only:
        _heapsort(touched, n_touched)
    settled = False
    for i in range(n_touched):
        y = touched[i]
        count = counts[y]
        counts[y] = 0
        if count <= 0 or settled:
            continue
        length_y = lengths[y]
        alpha = _alpha(loose, length_x, length_y)
        if count < (ell_wanted if alpha >= ell_wanted else alpha):
            continue
        tokens_y = tokens[starts[y]:starts[y + 1]]
        if short_x:
            lcs = _lcs_one_word(tokens_y, length_x, masks)
        elif not _overlap_reaches(items_x, items[starts[y]:starts[y + 1]], alpha):
            continue  # a long pair: its bitmaps are too full to bound the overlap, so count it, once
        else:
            lcs = _lcs(tokens_y, tokens_x, alpha, scratch)
        if lcs < alpha:
            continue
        score = _fmeasure(lcs, length_x, length_y)
        if score > threshold:
            out.first[found] = y
            out.second[found] = x
            out.score[found] = score
            found += 1
            settled = earliest_only
    if short_x:
        for i in range(length_x):
            masks[tokens_x[i]] = np.uint64(0)
    return found


@njit(nogil=True)
def _heapsort(values, n):
    """values[:n] in ascending order, in place. Not `ndarray.sort`: numba's quicksort takes longer to compile
    than the rest of the greedy path, and a first run after install pays for that."""
    for start in range(n // 2 - 1, -1, -1):
        _sift_down(values, start, n)
    for end in range(n - 1, 0, -1):
        values[0], values[end] = values[end], values[0]
        _sift_down(values, 0, end)


@njit(nogil=True)
def _sift_down(values, root, end):
    while True:
        child = 2 * root + 1
        if child >= end:
            return
        if child + 1 < end and values[child + 1] > values[child]:
            child += 1
        if values[root] >= values[child]:
            return
        values[root], values[child] = values[child], values[root]
        root = child


@njit(nogil=True)
def _overlap_reaches(items_x, items_y, alpha):
    """Whether two records, as ascending item ids, share at least alpha items: a merge that stops as soon
    as what is left on the shorter side can no longer reach alpha (the LCS is at most the overlap)."""
    i = j = shared = 0
    while i < items_x.shape[0] and j < items_y.shape[0]:
        if shared + min(items_x.shape[0] - i, items_y.shape[0] - j) < alpha:
            return False
        if items_x[i] == items_y[j]:
            shared += 1
            i += 1
            j += 1
        elif items_x[i] < items_y[j]:
            i += 1
        else:
            j += 1
    return shared >= alpha


@njit(nogil=True)
def _lcs_one_word(b, n, masks):
    """LCS of `b` and a sequence of n <= 64 tokens whose position bits are set in `masks`."""
    full = np.uint64(0xFFFFFFFFFFFFFFFF) if n == 64 else (np.uint64(1) << np.uint64(n)) - np.uint64(1)
    v = full
    for j in range(b.shape[0]):
        u = v & masks[b[j]]
        v = ((v + u) | (v - u)) & full
    return n - _popcount(v)


@njit(nogil=True)
def _lcs(a, b, alpha, scratch):
    """LCS of two token-id arrays, exact whenever it is at least `alpha` (else any value below `alpha`).

    Long pairs try Myers' O(ND) algorithm first, capped at the D that `alpha` allows and at the work a
    bit-parallel run would cost; near-identical texts finish there at once. Otherwise bit-parallel
    (Allison-Dix / Hyyro) over the shorter side, on one 64-bit word or on several.
    """
    if a.shape[0] > b.shape[0]:
        a, b = b, a
    n, m = a.shape[0], b.shape[0]
    if n == 0:
        return 0
    if n > 64 and m > 4_096:
        budget = ((n + 63) // 64) * m
        d = _myers_distance(a, b, n + m - 2 * alpha, budget, scratch.diagonals)
        if d >= 0:
            return (n + m - d) // 2
        if d == -2:
            return 0  # more than the allowed D: the LCS is below alpha
    masks = scratch.masks
    if n <= 64:
        for i in range(n):
            masks[a[i]] |= np.uint64(1) << np.uint64(i)
        lcs = _lcs_one_word(b, n, masks)
        for i in range(n):
            masks[a[i]] = np.uint64(0)
        return lcs
    return _lcs_multiword(a, b, scratch.words, scratch.positions, scratch.position_starts, masks)


@intrinsic
def _popcount(typing_context, value):
    """Set bits of a uint64: LLVM's ctpop, one instruction where the CPU has it."""

    def codegen(context, builder, signature, arguments):
        return builder.ctpop(arguments[0])

    return types.int64(types.uint64), codegen


@njit(nogil=True)
def _bitmaps_allow(x_0, x_1, y_0, y_1, spare_x, spare_y):
    """False when the item bitmaps of x and y (`_Corpus._signatures`, two words each) prove that they share fewer
    than alpha items: each bit of x that y lacks stands for an item of x outside the overlap, and x has only
    `spare_x` = len_x - alpha of those to spare (and the same the other way round)."""
    if _popcount(x_0 & ~y_0) + _popcount(x_1 & ~y_1) > spare_x:
        return False
    return _popcount(y_0 & ~x_0) + _popcount(y_1 & ~x_1) <= spare_y


@njit(nogil=True)
def _lcs_multiword(a, b, words, positions, position_starts, counts):
    """Bit-parallel LCS over several words; each step builds its token's mask from a position list.

    `counts` (per token) and `position_starts` (per token, 1-based, 0 = absent) must be zero on entry
    and are zero again on return.
    """
    n, m = a.shape[0], b.shape[0]
    w = (n + 63) // 64
    # Positions of `a` grouped by token: a counting sort.
    for i in range(n):
        counts[a[i]] += np.uint64(1)
    total = 0
    for i in range(n):
        token = a[i]
        if position_starts[token] == 0:
            position_starts[token] = total + 1
            total += np.int64(counts[token])
    for i in range(n):
        counts[a[i]] = np.uint64(0)
    for i in range(n):
        token = a[i]
        positions[position_starts[token] - 1 + np.int64(counts[token])] = i
        counts[token] += np.uint64(1)
    v = words[:w]
    for k in range(w):
        v[k] = np.uint64(0xFFFFFFFFFFFFFFFF)
    last_bits = n - 64 * (w - 1)
    top = np.uint64(0xFFFFFFFFFFFFFFFF) if last_bits == 64 else (np.uint64(1) << np.uint64(last_bits)) - np.uint64(1)
    v[w - 1] = top
    mask = np.zeros(w, dtype=np.uint64)
    for j in range(m):
        token = b[j]
        start = position_starts[token]
        if start == 0:
            continue  # the token is not in `a`: v does not change
        occurrences = np.int64(counts[token])
        for p in range(occurrences):
            position = positions[start - 1 + p]
            mask[position >> 6] |= np.uint64(1) << np.uint64(position & 63)
        carry = np.uint64(0)
        borrow = np.uint64(0)
        for k in range(w):
            old = v[k]
            u = old & mask[k]
            added = old + u
            carry_out = np.uint64(1) if added < old else np.uint64(0)
            added_carry = added + carry
            if added_carry < added:
                carry_out = np.uint64(1)
            subtracted = old - u
            borrow_out = np.uint64(1) if old < u else np.uint64(0)
            subtracted_borrow = subtracted - borrow
            if subtracted < borrow:
                borrow_out = np.uint64(1)
            v[k] = added_carry | subtracted_borrow
            carry, borrow = carry_out, borrow_out
        v[w - 1] &= top
        for p in range(occurrences):
            mask[positions[start - 1 + p] >> 6] = np.uint64(0)
    ones = 0
    for k in range(w):
        ones += _popcount(v[k])
    for i in range(n):
        position_starts[a[i]] = 0
        counts[a[i]] = np.uint64(0)
    return n - ones


@njit(nogil=True)
def _myers_distance(a, b, max_d, budget, diagonals):
    """Myers' greedy O(ND) shortest edit distance (insertions and deletions) of a and b.

    Returns D when D <= max_d within `budget` steps, -2 when D > max_d, -1 when the budget ran out.
    """
    n, m = a.shape[0], b.shape[0]
    if max_d < 0:
        return -2
    limit = min(max_d, n + m)
    offset = limit + 1
    if 2 * limit + 3 > diagonals.shape[0]:
        return -1
    diagonals[offset + 1] = 0
    work = 0
    for d in range(limit + 1):
        for k in range(-d, d + 1, 2):
            if k == -d or (k != d and diagonals[offset + k - 1] < diagonals[offset + k + 1]):
                x = diagonals[offset + k + 1]
            else:
                x = diagonals[offset + k - 1] + 1
            y = x - k
            while x < n and y < m and a[x] == b[y]:
                x += 1
                y += 1
                work += 1
            diagonals[offset + k] = x
            if x >= n and y >= m:
                return d
        work += d + 1
        if work > budget:
            return -1
    return -2


@njit(nogil=True)
def _greedy_kernel(first, second, dropped, partner):
    """Self-Instruct's greedy filter over pairs sorted by (second, first): drop a later one with a kept partner."""
    for i in range(first.shape[0]):
        later = second[i]
        if dropped[later]:
            continue
        if not dropped[first[i]]:
            dropped[later] = True
            partner[later] = first[i]


def _greedy(first: np.ndarray, second: np.ndarray, dropped: np.ndarray, partner: np.ndarray) -> None:
    if len(first):
        _greedy_kernel(first, second, dropped, partner)
