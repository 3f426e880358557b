"""Benchmark contamination: records whose word n-grams occur in evaluation-benchmark items.

The method is GPT-3's decontamination (Brown et al. 2020, appendix C): text is normalised (NFKC,
case-folded, punctuation and white space collapsed to single separators) and split into words; a
record's field is contaminated by a benchmark when one of its word n-grams (n = 13 by default; 8 is
the other common choice) occurs in a benchmark item. A field shorter than n words is contaminated when
the whole field occurs, word for word, inside a benchmark item, so short questions are not missed;
fields of fewer than MIN_WHOLE_FIELD_WORDS words ("Yes.", "Doctor, I have a headache.") are not checked
by that rule, since they occur in any benchmark. Two more rules keep boilerplate out, as the
established decontamination tools do: an n-gram found in more than `max_items` benchmark items is the
benchmark's template ("which of the following is the most likely diagnosis"), not a leak, and is
ignored; and with `min_overlap`, a field counts only when that share of its n-grams is found.

How: the records' n-grams (and whole short fields) go into a hash table; the benchmark items are read
in chunks and every window of each item is looked up in compiled code (numba), its hash from prefix
hashes in O(1). A hash hit counts only after the words themselves are compared, so the result is exact
n-gram equality; memory holds the records and one chunk of benchmark items. The kernels are in
`contamination_kernels`, imported at the first scan.
"""

from collections import namedtuple
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Optional, Sequence

import numpy as np

from bioinstruct_tools.benchmarks import BenchmarkError, item_texts
from bioinstruct_tools.compiled import kernel_threads
from bioinstruct_tools.records import FIELDS
from bioinstruct_tools.text import normalized_words

DEFAULT_NGRAM = 13  # GPT-3's decontamination
DEFAULT_FIELDS = FIELDS
# Questions, contexts, options and answers under their common names; matched without regard to case.
DEFAULT_BENCH_FIELDS = ("question", "context", "contexts", "options", "choices", "answer", "long_answer", "output",
                        "response", "text", "input", "instruction")
MIN_WHOLE_FIELD_WORDS = 8  # a whole field shorter than this is a phrase any benchmark holds
DEFAULT_MAX_ITEMS = 10  # an n-gram in more benchmark items than this is boilerplate (lm-eval's too_dirty_cutoff is 10)
DEFAULT_MIN_OVERLAP = 0.0  # any one n-gram counts, as in GPT-3 and lm-eval
_CHUNK_ITEMS = 5_000  # benchmark items tokenized and scanned at a time


# ---------------------------------------------------------------------------------------------------
# The search
# ---------------------------------------------------------------------------------------------------


@dataclass
class FieldMatch:
    """One record field found in a benchmark."""

    field: str
    windows: int  # the field's n-grams, or 1 when the whole-field rule applies
    matched: int  # how many of them occur in some benchmark item
    items: list[int]  # the benchmark items they occur in, ascending
    whole_field: bool
    item_ids: list[str] = field(default_factory=list)  # those items' own ids (their key, id field or index)

    @property
    def fraction(self) -> float:
        return self.matched / self.windows if self.windows else 0.0


@dataclass
class BenchmarkResult:
    name: str
    items: int
    matches: dict[int, list[FieldMatch]] = field(default_factory=dict)  # record position -> its fields found
    boilerplate: int = 0  # record n-grams ignored because they occur in more than max_items items

    def records_by_field(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for fields in self.matches.values():
            for match in fields:
                counts[match.field] = counts.get(match.field, 0) + 1
        return {name: counts[name] for name in FIELDS if name in counts}


# What the scan kernel reads and writes, as named tuples (structs to numba) rather than sixteen positional arrays.
BenchmarkTexts = namedtuple("BenchmarkTexts", "ids starts item_of prefix")  # a chunk's texts as record word ids
RecordTable = namedtuple("RecordTable", "powers lengths_present key_filter keys window ids starts window_sequence "
                                        "window_offset window_length")
Hits = namedtuple("Hits", "window item")


class _RecordIndex:
    """The records' fields as word ids, and a hash table of their n-grams and whole short fields."""

    def __init__(self, records: Sequence[dict], fields: Sequence[str], ngram: int):
        self.fields, self.ngram = list(fields), ngram
        texts, owners = [], []
        for position, record in enumerate(records):
            for field_number, name in enumerate(self.fields):
                value = record.get(name)
                if isinstance(value, str):
                    texts.append(value)
                    owners.append((position, field_number))
        # Every field's words at once (see `_bulk_bytes`); the vocabulary in order of first use, as UTF-8 bytes.
        data = _bulk_bytes(texts)
        vocabulary = {word: number for number, word in enumerate(dict.fromkeys(data.replace(b"\x00", b" ").split()))}
        self._words = _WordTable(vocabulary)
        token_ids, lengths = self._word_ids(data, len(texts))
        keep = lengths >= min(ngram, MIN_WHOLE_FIELD_WORDS)
        ids, lengths = token_ids[np.repeat(keep, lengths)], lengths[keep]
        owners = np.array(owners, dtype=np.int64).reshape(-1, 2)[keep]
        self.owners, self.lengths, self.ids = owners, lengths.astype(np.int64), ids
        self.starts = np.zeros(len(self.lengths) + 1, dtype=np.int64)
        np.cumsum(self.lengths, out=self.starts[1:])
        # Windows to look for: every n-gram of a long field, the whole of a short one.
        sizes = np.minimum(self.lengths, ngram)
        counts = self.lengths - sizes + 1
        self.window_sequence = np.repeat(np.arange(len(self.lengths), dtype=np.int64), counts)
        first_window = np.cumsum(counts) - counts
        self.window_offset = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(first_window, counts)
        self.window_length = np.repeat(sizes, counts)
        prefix = _prefix_hashes(self.ids.astype(np.uint64))
        starts = self.starts[self.window_sequence] + self.window_offset
        hashes = _window_hashes(prefix, starts, self.window_length)
        kernels = _kernels()
        keys = kernels._keyed(hashes, self.window_length)
        self.table_keys, self.table_window = kernels._build_table(keys)
        self.key_filter = kernels._build_filter(keys)
        self.window_lengths_present = np.unique(self.window_length)
        longest = int(self.window_lengths_present.max(initial=1))
        self.table = RecordTable(kernels._powers(longest), self.window_lengths_present, self.key_filter, self.table_keys, self.table_window, self.ids, self.starts,
                                 self.window_sequence, self.window_offset, self.window_length)

    def ids_of(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The texts' words as the records' word ids (-1: a word no record has), flat, with their starts.

        The words are `normalized_words`' (the oracle in tests), made in bulk by `_bulk_bytes`; a compiled
        pass splits them at spaces and at the texts' NULs and looks each word's bytes up in the vocabulary.
        """
        ids, counts = self._word_ids(_bulk_bytes(texts), len(texts))
        starts = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(counts, out=starts[1:])
        return ids, starts

    def _word_ids(self, data: bytes, texts: int) -> tuple[np.ndarray, np.ndarray]:
        """`_bulk_bytes` output as word ids (-1: not in the vocabulary), and each text's number of words."""
        out = np.empty(len(data) // 2 + 1, dtype=np.int64)  # a word takes at least one byte and one separator
        counts = np.zeros(texts, dtype=np.int64)
        found = _kernels()._lookup_words(np.frombuffer(data, dtype=np.uint8), self._words.arrays, out, counts)
        return out[:found].copy(), counts


def _bulk_bytes(texts: list[str]) -> bytes:
    """The texts' `normalized_words` as UTF-8, words split by spaces, each text ended by a NUL.

    ASCII texts are lowered and their separators turned into spaces by one `bytes.translate` over them all;
    any other text (or one holding a NUL) is normalised alone and joined back as its words.
    """
    parts = [text if text.isascii() and "\x00" not in text else " ".join(normalized_words(text)) for text in texts]
    return "\x00".join(parts).encode("utf-8").translate(_BULK_SEPARATORS) + b"\x00"


# Lower-case ASCII letters, keep digits, NUL (a text's end) and UTF-8's non-ASCII bytes (only normalised words
# hold them); every other ASCII byte separates words, as in `text.normalized_words`.
_BULK_SEPARATORS = bytes(
    byte + 32 if 65 <= byte <= 90 else byte if (97 <= byte <= 122 or 48 <= byte <= 57 or byte == 0 or byte >= 128)
    else 32 for byte in range(256))

WordArrays = namedtuple("WordArrays", "keys ids text starts")  # the vocabulary as an open-addressing table


class _WordTable:
    """The records' vocabulary for the compiled lookup: UTF-8 bytes, their FNV-1a hashes in a table."""

    def __init__(self, vocabulary: dict[bytes, int]):
        encoded = list(vocabulary)  # in id order: ids are 0..n-1
        starts = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)), out=starts[1:])
        text = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        ids = np.fromiter(vocabulary.values(), dtype=np.int64, count=len(vocabulary))
        size = 1
        while size < 2 * len(encoded) + 2:
            size *= 2
        keys, slots = np.zeros(size, dtype=np.uint64), np.full(size, -1, dtype=np.int64)
        _kernels()._fill_word_table(text, starts, ids, keys, slots)
        self.arrays = WordArrays(keys, slots, text, starts)


def find_contamination(
    records: Sequence[dict],
    benchmark_items: Iterable,
    name: str,
    fields: Sequence[str] = DEFAULT_FIELDS,
    bench_fields: Sequence[str] = DEFAULT_BENCH_FIELDS,
    ngram: int = DEFAULT_NGRAM,
    progress: Optional[Callable[[int], None]] = None,
    max_items: int = DEFAULT_MAX_ITEMS,
    min_overlap: float = DEFAULT_MIN_OVERLAP,
    every_field_named: bool = False,
) -> BenchmarkResult:
    """Every record field that shares an n-gram (or, when short, its whole text) with a benchmark item.

    `benchmark_items` are dicts or `sources.SourceRecord`s (whose ids then name the items found).
    `bench_fields` match the items' keys without regard to case; with `every_field_named`, each must be a
    key of some item (a field given on the command line), else BenchmarkError lists the keys there are.
    """
    if ngram < 1:
        raise ValueError(f"ngram must be at least 1, got {ngram}")
    index = _RecordIndex(records, fields, ngram)
    hits = _Hits(len(index.window_length), max_items)
    scans: list = []
    item_ids: list[Optional[str]] = []
    keys_seen: dict[str, str] = {}  # lower-case key -> as spelled
    raw_keys: set = set()
    wanted = {name.lower() for name in bench_fields}
    # The compiled scan of one chunk runs on a worker thread while this one tokenizes the next.
    with kernel_threads(1) as pool:
        for chunk in _chunks(benchmark_items, _CHUNK_ITEMS):
            texts, item_of = [], []
            for item in chunk:
                data = getattr(item, "data", item)
                if not raw_keys.issuperset(data):  # items share their keys: look at new ones only
                    for key in data:
                        raw_keys.add(key)
                        keys_seen.setdefault(str(key).lower(), str(key))
                found = item_texts(data, wanted)
                texts += found
                item_of += [len(item_ids)] * len(found)
                item_ids.append(getattr(item, "id", None))
            if texts and len(index.table_window):
                ids, starts = index.ids_of(texts)
                while len(scans) >= 2:  # at most two chunks waiting: memory stays at a chunk's size
                    hits.add(*scans.pop(0).result())
                scans.append(pool.submit(_scan, ids, starts, np.array(item_of, dtype=np.int64), index))
            if progress is not None:
                progress(len(chunk))
        for scan in scans:
            hits.add(*scan.result())
    missing = sorted(name for name in wanted if name not in keys_seen)
    if item_ids and (len(missing) == len(wanted) or every_field_named and missing):
        available = ", ".join(sorted(keys_seen.values())[:30])
        which = "any of the fields" if len(missing) == len(wanted) and len(wanted) > 1 else "the field"
        raise BenchmarkError(f"{name}: no item has {which} {', '.join(missing)} (its items have {available}); name "
                             "its text fields with --bench-field")
    result = BenchmarkResult(name=name, items=len(item_ids))
    windows, items, result.boilerplate = hits.kept()
    if len(windows):
        _collect(result, index, windows, items, min_overlap)
    for found_fields in result.matches.values():
        for match in found_fields:
            match.item_ids = [item_ids[item] if item_ids[item] is not None else str(item) for item in match.items]
    return result


class _Hits:
    """The (record window, benchmark item) hits, each pair once, less the windows found in > max_items items.

    A boilerplate window can hit every item; its hits are dropped as soon as it passes the limit, so
    memory holds at most max_items + 1 items per window.
    """

    def __init__(self, windows: int, max_items: int):
        self.max_items = max_items
        self.items_per_window = np.zeros(windows, dtype=np.int64)
        self.windows: list[np.ndarray] = []
        self.items: list[np.ndarray] = []

    def add(self, windows: np.ndarray, items: np.ndarray) -> None:
        if not len(windows):
            return
        pairs = np.unique(np.stack([windows, items], axis=1), axis=0)  # an item can repeat a window
        self.items_per_window += np.bincount(pairs[:, 0], minlength=len(self.items_per_window))
        self.windows.append(pairs[:, 0])
        self.items.append(pairs[:, 1])
        if sum(map(len, self.windows)) > 4 * (len(self.items_per_window) + 1_000_000):
            self.windows, self.items = [np.concatenate(self.windows)], [np.concatenate(self.items)]
            self._drop_boilerplate()

    def _drop_boilerplate(self) -> None:
        keep = self.items_per_window[self.windows[0]] <= self.max_items
        self.windows, self.items = [self.windows[0][keep]], [self.items[0][keep]]

    def kept(self) -> tuple[np.ndarray, np.ndarray, int]:
        """The hits of windows in at most max_items items, and how many windows were boilerplate."""
        if not self.windows:
            return np.empty(0, np.int64), np.empty(0, np.int64), 0
        self.windows, self.items = [np.concatenate(self.windows)], [np.concatenate(self.items)]
        self._drop_boilerplate()
        return self.windows[0], self.items[0], int(np.count_nonzero(self.items_per_window > self.max_items))


def _chunks(items: Iterable[dict], size: int) -> Iterator[list[dict]]:
    chunk: list[dict] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _scan(ids: np.ndarray, starts: np.ndarray, item_of: np.ndarray, index: _RecordIndex):
    """(record window, benchmark item) for every window of the records found in these benchmark texts."""
    prefix = _prefix_hashes(np.where(ids < 0, np.uint64(0xFFFFFFFFFFFFFFFF), ids.astype(np.uint64)))
    capacity = max(1 << 16, len(ids))
    while True:
        out_window = np.empty(capacity, dtype=np.int64)
        out_item = np.empty(capacity, dtype=np.int64)
        texts = BenchmarkTexts(ids, starts, item_of, prefix)
        found = _kernels()._scan_kernel(texts, index.table, Hits(out_window, out_item))
        if found <= capacity:
            return out_window[:found].copy(), out_item[:found].copy()  # not views: they would keep the buffers
        capacity = found  # the buffer was too small: the kernel counted what it needs


def _collect(result: BenchmarkResult, index: _RecordIndex, windows: np.ndarray, items: np.ndarray,
             min_overlap: float) -> None:
    """Group hits by record field: matched windows, benchmark items."""
    sequence = index.window_sequence[windows]
    order = np.lexsort((items, windows, sequence))
    sequence, windows, items = sequence[order], windows[order], items[order]
    boundaries = np.flatnonzero(np.diff(sequence)) + 1
    for group in np.split(np.arange(len(sequence)), boundaries):
        if not len(group):
            continue
        number = int(sequence[group[0]])
        position, field_number = (int(value) for value in index.owners[number])
        length = int(index.lengths[number])
        whole = length < index.ngram
        match = FieldMatch(field=index.fields[field_number], windows=1 if whole else length - index.ngram + 1,
                           matched=len(np.unique(windows[group])), items=np.unique(items[group]).tolist(),
                           whole_field=whole)
        if match.fraction >= min_overlap:
            result.matches.setdefault(position, []).append(match)
    for fields in result.matches.values():
        fields.sort(key=lambda match: index.fields.index(match.field))


# ---------------------------------------------------------------------------------------------------
# Hashing and the compiled scan
# ---------------------------------------------------------------------------------------------------


def _prefix_hashes(values: np.ndarray) -> np.ndarray:
    """prefix[i] = hash of values[:i]: h(s + [v]) = h(s) * BASE + v + 1 (mod 2**64)."""
    return _kernels()._prefix_kernel(values)


def _window_hashes(prefix: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    powers = _kernels()._powers(int(lengths.max(initial=0)))
    return prefix[starts + lengths] - prefix[starts] * powers[lengths]


def _kernels():
    from bioinstruct_tools import contamination_kernels  # numba: only when a benchmark is scanned

    return contamination_kernels
