"""The contamination scan's compiled kernels (numba): word look-up, n-gram hashing, the hash table and the scan.

`contamination` imports this module only when a benchmark is scanned, so a command without `--against` never
imports numba for it. See `contamination`'s docstring for the method.
"""

import numpy as np

from bioinstruct_tools.compiled import njit


@njit(nogil=True)
def _fnv1a(data, start, end):
    value = np.uint64(0xCBF29CE484222325)
    for i in range(start, end):
        value = (value ^ np.uint64(data[i])) * np.uint64(0x100000001B3)
    return value


@njit()
def _fill_word_table(text, starts, ids, keys, slots):
    mask = np.uint64(keys.shape[0] - 1)
    for word in range(starts.shape[0] - 1):
        key = _fnv1a(text, starts[word], starts[word + 1])
        slot = key & mask
        while slots[slot] != -1:
            slot = (slot + np.uint64(1)) & mask
        keys[slot] = key
        slots[slot] = ids[word]  # the vocabulary's id; the word is found again by its bytes through `starts`


@njit(nogil=True)
def _lookup_words(data, words, out, counts):
    """Split `data` at spaces into words and at NULs into texts; write each word's id (-1: unknown)."""
    keys, ids, text, starts = words.keys, words.ids, words.text, words.starts
    mask = np.uint64(keys.shape[0] - 1)
    found, current, i, n = 0, 0, 0, data.shape[0]
    while i < n:
        byte = data[i]
        if byte == 0:
            current += 1
            i += 1
            continue
        if byte == 32:
            i += 1
            continue
        start = i
        while i < n and data[i] != 32 and data[i] != 0:
            i += 1
        key = _fnv1a(data, start, i)
        slot = key & mask
        word_id = -1
        while ids[slot] != -1:
            if keys[slot] == key:
                candidate = ids[slot]
                begin, end = starts[candidate], starts[candidate + 1]
                if end - begin == i - start:
                    same = True
                    for k in range(i - start):
                        if text[begin + k] != data[start + k]:
                            same = False
                            break
                    if same:
                        word_id = candidate
                        break
            slot = (slot + np.uint64(1)) & mask
        out[found] = word_id
        found += 1
        counts[current] += 1
    return found


@njit()
def _prefix_kernel(values):
    prefix = np.zeros(values.shape[0] + 1, dtype=np.uint64)
    for i in range(values.shape[0]):
        prefix[i + 1] = prefix[i] * np.uint64(0x100000001B3) + values[i] + np.uint64(1)
    return prefix


@njit()
def _powers(longest):
    powers = np.ones(longest + 1, dtype=np.uint64)
    for i in range(1, longest + 1):
        powers[i] = powers[i - 1] * np.uint64(0x100000001B3)
    return powers


@njit(nogil=True)
def _mix(hash_value, length):
    """A window's table key: its hash and its length together (same words, other length: other key)."""
    key = (hash_value ^ (np.uint64(length) * np.uint64(0x9E3779B97F4A7C15))) * np.uint64(0xBF58476D1CE4E5B9)
    return key ^ (key >> np.uint64(31))


@njit()
def _keyed(hashes, lengths):
    keys = np.empty(hashes.shape[0], dtype=np.uint64)
    for i in range(hashes.shape[0]):
        keys[i] = _mix(hashes[i], lengths[i])
    return keys


@njit()
def _build_table(keys):
    """Open addressing with linear probing: slot -> window number (-1 empty); equal keys take several slots."""
    size = 1
    while size < 2 * keys.shape[0] + 2:
        size *= 2
    table_keys = np.zeros(size, dtype=np.uint64)
    table_window = np.full(size, -1, dtype=np.int64)
    mask = np.uint64(size - 1)
    for window in range(keys.shape[0]):
        slot = keys[window] & mask
        while table_window[slot] != -1:
            slot = (slot + np.uint64(1)) & mask
        table_keys[slot] = keys[window]
        table_window[slot] = window
    return table_keys, table_window


@njit()
def _build_filter(keys):
    bits = np.zeros((1 << 24) // 64, dtype=np.uint64)
    for key in keys:
        low = key & np.uint64((1 << 24) - 1)
        bits[low >> np.uint64(6)] |= np.uint64(1) << (low & np.uint64(63))
    return bits


@njit(nogil=True)
def _scan_kernel(texts, table, hits):
    """Look every window of every benchmark text up in the table; confirm hits word by word.

    Returns the number of hits; only the first len(hits.window) are written.
    """
    ids, starts, item_of, prefix = texts.ids, texts.starts, texts.item_of, texts.prefix
    powers, lengths_present, key_filter = table.powers, table.lengths_present, table.key_filter
    table_keys, table_window, record_ids, record_starts = table.keys, table.window, table.ids, table.starts
    window_sequence, window_offset, window_length = table.window_sequence, table.window_offset, table.window_length
    out_window, out_item = hits.window, hits.item
    mask = np.uint64(table_keys.shape[0] - 1)
    found = 0
    capacity = out_window.shape[0]
    for text in range(starts.shape[0] - 1):
        begin, end = starts[text], starts[text + 1]
        for i in range(begin, end):
            for length in lengths_present:
                if i + length > end:
                    break
                hash_value = prefix[i + length] - prefix[i] * powers[length]
                key = _mix(hash_value, length)
                low = key & np.uint64((1 << 24) - 1)
                if not (key_filter[low >> np.uint64(6)] >> (low & np.uint64(63))) & np.uint64(1):
                    continue  # no record window has this key
                slot = key & mask
                while table_window[slot] != -1:
                    if table_keys[slot] == key:
                        window = table_window[slot]
                        if window_length[window] == length:
                            start = record_starts[window_sequence[window]] + window_offset[window]
                            same = True
                            for k in range(length):
                                if ids[i + k] != record_ids[start + k]:
                                    same = False
                                    break
                            if same:
                                if found < capacity:
                                    out_window[found] = window
                                    out_item[found] = item_of[text]
                                found += 1
                    slot = (slot + np.uint64(1)) & mask
    return found
