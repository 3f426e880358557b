"""The fast near-duplicate search must equal rouge_score brute force, pair for pair and score for score."""

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rouge_score import rouge_scorer
from rouge_score import tokenize as rouge_tokenize

import numpy as np

from bioinstruct_tools import neardup
from bioinstruct_tools.neardup import (
    NearDuplicatePair,
    find_near_duplicates,
    greedy_dropped,
    greedy_filter,
    rouge_tokens,
    scan_near_duplicates,
)
from bioinstruct_tools.neardup_compiled import _Corpus, _group_order, _myers_distance, lcs_length
from bioinstruct_tools.text import ROUGE_END, rouge_tokens_of_many

def pytest_generate_tests(metafunc):
    """Every test runs on both searches (the plain-Python one for small corpora, and the compiled one), but those
    marked `no_search`, which run once: of the kernels alone, or running both searches in turn themselves."""
    if "search_path" in metafunc.fixturenames:
        once = metafunc.definition.get_closest_marker("no_search") is not None
        metafunc.parametrize("search_path", ["compiled"] if once else ["python", "compiled"], indirect=True)


@pytest.fixture(autouse=True)
def search_path(request, monkeypatch):
    """Python still hands a corpus over to the compiled search once its pairs are too many to verify
    (`_PYTHON_VERIFIES`)."""
    monkeypatch.setattr(neardup, "_COMPILED_FROM", COMPILED_FROM[request.param])
    return request.param


COMPILED_FROM = {"python": 10**9, "compiled": 0}  # the corpus size from which the compiled search runs


def each_search(monkeypatch):
    """Both searches in turn, inside one test: for an oracle too dear to compute on each worker (pytest-xdist's
    `loadgroup` no longer groups tests on pytest 9.2: pytest-dev/pytest-xdist#1386)."""
    for name, compiled_from in COMPILED_FROM.items():
        monkeypatch.setattr(neardup, "_COMPILED_FROM", compiled_from)
        yield name


SCORER = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)  # Self-Instruct's scorer
VOCABULARY = (
    "the a of in for with and to patient patients list extract summarize identify explain describe "
    "medication medications dose doses symptom symptoms diagnosis note notes report clinical discharge "
    "following given adverse event events drug drugs interaction lab value values treatment trial "
    "hypertension diabetes sepsis kidney heart failure pneumonia x-ray MRI 5 mg 10 IV q6h"
).split()


def brute_force(instructions, threshold=0.7):
    """Self-Instruct's way: score each instruction against every earlier one with rouge_score.

    `SCORER.score(later, earlier)` tokenizes both texts and calls `_score_lcs` on the tokens; each text
    is tokenized once here, by the scorer's own tokenizer, and `_score_lcs` is called as `score` calls it.
    A pair is not scored when it cannot pass: F = 2*LCS/(len_a + len_b), and the LCS is at most the tokens
    the two share (a multiset intersection), so pairs sharing too few are below the threshold whatever
    rouge_score would say (loosened by a margin for float rounding). This bound is all the oracle takes on trust.
    """
    tokens = [SCORER._tokenizer.tokenize(text) for text in instructions]
    bags = [Counter(text) for text in tokens]
    pairs = set()
    for j, later in enumerate(tokens):
        for i in range(j):
            total = len(later) + len(tokens[i])
            # loosened by a margin: rouge_score's float arithmetic puts some pairs exactly at t a hair above it
            if 2 * min(len(later), len(tokens[i])) < (threshold - 1e-9) * total:
                continue
            if 2 * sum((bags[j] & bags[i]).values()) < (threshold - 1e-9) * total:
                continue
            score = rouge_scorer._score_lcs(later, tokens[i]).fmeasure
            if score > threshold:
                pairs.add((i, j, score))
    return pairs


@pytest.mark.no_search
def test_the_brute_force_oracle_scores_as_rouge_scorer_does():
    corpus = synthetic_corpus(120, seed=3)
    every_pair = {(i, j, SCORER.score(corpus[j], corpus[i])["rougeL"].fmeasure)
                  for j in range(len(corpus)) for i in range(j)}
    assert brute_force(corpus, threshold=0.0) == {pair for pair in every_pair if pair[2] > 0.0}


def fast(instructions, threshold=0.7):
    return {(p.first, p.second, p.score) for p in find_near_duplicates(instructions, threshold)}


def synthetic_corpus(size, seed):
    """Random instructions, a third of them edits (insert, delete, substitute, reorder) of earlier ones."""
    rng = random.Random(seed)
    corpus = []
    for _ in range(size):
        if corpus and rng.random() < 0.35:
            words = rng.choice(corpus).split()
            for _ in range(rng.randint(0, 4)):
                edit = rng.random()
                if edit < 0.3 and words:
                    words.pop(rng.randrange(len(words)))
                elif edit < 0.6:
                    words.insert(rng.randrange(len(words) + 1), rng.choice(VOCABULARY))
                elif edit < 0.85 and words:
                    words[rng.randrange(len(words))] = rng.choice(VOCABULARY)
                elif len(words) > 1:
                    a, b = rng.sample(range(len(words)), 2)
                    words[a], words[b] = words[b], words[a]
            corpus.append(" ".join(words))
        else:
            corpus.append(" ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(0, 16))))
    return corpus


@pytest.mark.no_search
def test_equals_rouge_score_brute_force_on_a_corpus_with_near_duplicates(monkeypatch):
    corpus = synthetic_corpus(2000, seed=1)
    expected = brute_force(corpus)
    assert len(expected) > 300  # the corpus really holds near-duplicates
    for search in each_search(monkeypatch):
        assert fast(corpus) == expected, search


@pytest.mark.no_search
def test_long_instructions_with_repeated_tokens_and_other_thresholds(monkeypatch):
    """Longer than a 64-bit word, with heavy repetition (occurrence numbering), at several thresholds."""
    rng = random.Random(5)
    base = [" ".join(rng.choice(VOCABULARY[:12]) for _ in range(rng.randint(40, 90))) for _ in range(30)]
    corpus = base + [" ".join(text.split()[rng.randint(0, 8):]) for text in base]
    rng.shuffle(corpus)
    scores = {(i, j): SCORER.score(corpus[j], corpus[i])["rougeL"].fmeasure
              for j in range(len(corpus)) for i in range(j)}
    for threshold in (0.5, 0.7, 0.9):
        expected = {(i, j, score) for (i, j), score in scores.items() if score > threshold}
        assert expected  # every threshold has pairs to find
        for search in each_search(monkeypatch):
            assert fast(corpus, threshold) == expected, search


def test_the_kernel_stops_when_its_output_is_full_and_resumes():
    """Every pair matches: each call's output (one slot per instruction) fills, and the kernel resumes."""
    similar = [f"list the drugs and doses in the note {'today ' * (i % 3)}" for i in range(60)]
    expected = brute_force(similar)
    assert len(expected) > len(similar)  # more pairs than instructions: the output fills up
    assert fast(similar) == expected


def test_a_long_pair_that_shares_exactly_the_items_it_needs():
    """Longer than one word, sharing 70 tokens in order: LCS = overlap = alpha = 70, F = 140/199 > 0.7.
    A bound on the overlap that is one too strict loses this pair."""
    shared = [f"w{k}" for k in range(70)]
    longer = " ".join(shared + [f"a{k}" for k in range(30)])
    shorter = " ".join(shared + [f"b{k}" for k in range(29)])
    expected = brute_force([longer, shorter])
    assert {(i, j) for i, j, _ in expected} == {(0, 1)}
    assert fast([longer, shorter]) == expected


def test_prefixes_too_long_for_one_byte_counts():
    """Prefixes of 127 items or more need wide counts: the search must still equal brute force there."""
    rng = random.Random(11)
    base = [" ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(300, 340))) for _ in range(3)]
    corpus = base + [" ".join(text.split()[rng.randint(0, 60):]) for text in base] + [text + " x-ray" for text in base]
    assert _Corpus(corpus, 0.5, neardup._loosened(0.5)).probe_lengths.max() >= 127
    expected = brute_force(corpus, 0.5)
    assert len(expected) >= 6
    assert fast(corpus, 0.5) == expected


def test_pairs_right_at_the_threshold_are_decided_as_rouge_score_decides():
    """Two pairs score exactly 0.7 on paper (LCS 7): in floats rouge_score gives 0.7 for lengths 10 and 10
    (not above the threshold) but 0.7000000000000001 for lengths 9 and 11 (above it)."""
    base = [f"w{k}" for k in range(10)]
    ten = [*base[:7], "x1", "x2", "x3"]  # LCS 7 with base, lengths 10 and 10
    nine = [*base[:7], "y1", "y2"]
    eleven = [*nine[:7], "z1", "z2", "z3", "z4"]  # LCS 7 with `nine`, lengths 9 and 11
    corpus = [" ".join(words) for words in (base, ten, nine, eleven)]
    expected = brute_force(corpus)
    assert fast(corpus) == expected
    found = {(i, j) for i, j, _ in expected}
    assert (0, 1) not in found and (2, 3) in found
    for threshold in (0.5, 0.6, 0.615, 0.65, 0.75):
        assert fast(corpus, threshold) == brute_force(corpus, threshold)


@pytest.mark.parametrize(
    "a,b",
    [
        ("", ""),  # no tokens: rouge_score scores 0
        ("!!!", "???"),
        ("List the drugs.", "list THE drugs!!"),  # same tokens after rouge_score's tokenizer
        ("Explain sepsis.", "Explain sepsis to a patient in simple words today."),
        ("a b c d", "d c b a"),
        ("café au lait spots", "cafe au lait spots"),  # non-ASCII letters are separators
    ],
    ids=["empty", "punctuation", "case-and-punctuation", "lengths", "reversed", "non-ascii"],
)
def test_edge_cases_match_rouge_score(a, b):
    assert fast([a, b]) == brute_force([a, b])


@pytest.mark.no_search
def test_lcs_matches_rouge_score_dynamic_programming():
    from rouge_score.rouge_scorer import _lcs_table

    rng = random.Random(0)
    for _ in range(300):
        a = [rng.randrange(6) for _ in range(rng.randint(1, 70))]
        b = [rng.randrange(6) for _ in range(rng.randint(1, 70))]
        assert lcs_length(a, b) == _lcs_table(a, b)[-1][-1]


@pytest.mark.no_search
def test_tokens_are_rouge_scores():
    assert rouge_tokens("Give the IV dose (5 mg/kg) q6h.") == ["give", "the", "iv", "dose", "5", "mg", "kg", "q6h"]
    # letters that lowercase into ASCII (the Kelvin sign, a dotted capital I), and ones that do not
    for text in ("\u212aelvin xİy", "Straße naïve ٣ ＡＢ", "a\ud800b", "tab\tnew\nline\x00nul"):
        assert rouge_tokens(text) == rouge_tokenize.tokenize(text, None)


@pytest.mark.no_search
@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)) | st.sampled_from("aZ9 _-\n\tİß\u212a"),
               max_size=60))
def test_tokens_equal_rouge_scores_tokenizer_on_any_text(text):
    assert rouge_tokens(text) == rouge_tokenize.tokenize(text, None)


@pytest.mark.no_search
@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",))
                                 | st.sampled_from("aZ9 _-\n\tİß\u212a\x00"), max_size=30), max_size=6))
def test_many_texts_tokenized_at_once_are_each_tokenized_as_rouge_score_does(texts):
    """The near-duplicate search tokenizes its instructions all at once (a text holding the end mark itself alone)."""
    expected = [token for text in texts for token in (*rouge_tokenize.tokenize(text, None), ROUGE_END)]
    assert rouge_tokens_of_many(texts) == expected


@pytest.mark.no_search
@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 4), st.integers(0, 3)), max_size=40),
       st.sampled_from([1, 2**31 - 1]))
def test_index_entries_are_grouped_in_lexsorts_order(entries, scale):
    """The index's groups by one key where it fits in int64, by `np.lexsort` where it does not (scale 2**31 - 1)."""
    items, lengths, offsets = (np.array([entry[column] * scale for entry in entries], dtype=np.int64).reshape(-1)
                               for column in range(3))
    expected = np.lexsort((offsets, lengths, items))
    assert _group_order(items, lengths, offsets).tolist() == expected.tolist()


def self_instructs_loop(corpus, threshold=0.7):
    """Self-Instruct's filter as written: each instruction against the kept ones, with rouge_score."""
    kept, partner = [], {}
    for j, instruction in enumerate(corpus):
        near = [i for i in kept if SCORER.score(instruction, corpus[i])["rougeL"].fmeasure > threshold]
        if near:
            partner[j] = near[0]
        else:
            kept.append(j)
    return partner  # dropped -> its earliest kept near-duplicate


@pytest.mark.no_search
def test_greedy_filter_equals_self_instructs_loop(monkeypatch):
    corpus = synthetic_corpus(600, 3)
    partner = self_instructs_loop(corpus)
    dropped = sorted(partner)
    assert dropped  # the corpus exercises the filter
    for search in each_search(monkeypatch):
        assert greedy_dropped(find_near_duplicates(corpus)) == dropped, search
        assert scan_near_duplicates(corpus).dropped == dropped, search  # computed while the pairs stream
        greedy = greedy_filter(corpus)  # compared with kept records only
        assert greedy.dropped == dropped and greedy.kept_partner == partner and greedy.pairs is None, search


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.sampled_from(VOCABULARY[:10]), max_size=9).map(" ".join), max_size=40),
       st.sampled_from([0.3, 0.5, 0.7, 0.9]))
def test_the_kept_only_filter_drops_what_the_full_scan_drops(corpus, threshold):
    full = scan_near_duplicates(corpus, threshold)
    greedy = greedy_filter(corpus, threshold)
    assert greedy.dropped == full.dropped and greedy.kept_partner == full.kept_partner


def test_the_kept_only_filter_on_all_similar_records_keeps_the_first():
    """Every record is a near-duplicate of every other: one is kept, and every other names it as its partner,
    past the chunk the filter works in."""
    corpus = [f"Do task {i} now" for i in range(10_000)]
    greedy = greedy_filter(corpus)
    assert greedy.dropped == list(range(1, 10_000)) and set(greedy.kept_partner.values()) == {0}


def test_a_scan_with_more_pairs_than_a_task_holds_counts_them_all(monkeypatch):
    """All-similar records: each chunk's pairs are handed over in several tasks, in order, and counted exactly."""
    import bioinstruct_tools.neardup_compiled as neardup_compiled
    monkeypatch.setattr(neardup_compiled, "_PAIRS_PER_TASK", 500)
    corpus = [f"Do task {i} now" for i in range(700)]
    seen = []
    scan = scan_near_duplicates(corpus, on_pairs=lambda first, second, score: seen.append(second.copy()))
    assert scan.pairs == 700 * 699 // 2 and len(seen) > 2 * (700 // neardup_compiled._CHUNK + 1)  # more batches
    later = np.concatenate(seen)
    assert (np.diff(later) >= 0).all()  # still ordered by the later record
    assert scan.dropped == list(range(1, 700))


def test_the_streaming_scan_counts_every_pair_and_keeps_the_first_ones():
    corpus = synthetic_corpus(1500, seed=7)
    pairs = find_near_duplicates(corpus)
    streamed = []
    scan = scan_near_duplicates(corpus, keep=10, on_pairs=lambda *batch: streamed.extend(
        NearDuplicatePair(*pair) for pair in zip(*(column.tolist() for column in batch))))
    assert scan.pairs == len(pairs) == len(streamed) > 100
    assert sorted(streamed, key=lambda p: (p.first, p.second)) == pairs
    by_later = sorted(pairs, key=lambda p: (p.second, p.first))
    assert streamed == by_later and scan.first_pairs == by_later[:10]
    # Each dropped instruction's partner is its earliest near-duplicate that the filter kept.
    dropped = set(scan.dropped)
    for index, partner in scan.kept_partner.items():
        assert partner == min(p.first for p in pairs if p.second == index and p.first not in dropped)


def test_tiny_thresholds_find_every_pair_that_shares_a_token():
    corpus = ["alpha beta", "beta gamma", "delta epsilon", "epsilon alpha zeta eta theta"]
    assert fast(corpus, 1e-12) == brute_force(corpus, 1e-12) and len(brute_force(corpus, 1e-12)) == 3


def _lcs_dp(a, b):
    """The textbook LCS table, a row at a time: row[j] = max(above[j], above[j-1] + match, row[j-1]), the last
    term a running maximum (numpy, so that the 5,000 x 5,000 table below takes a second, not fifteen)."""
    b = np.asarray(b)
    previous = np.zeros(len(b) + 1, dtype=np.int64)
    for x in a:
        current = previous.copy()
        np.maximum(current[1:], previous[:-1] + (b == x), out=current[1:])
        previous = np.maximum.accumulate(current)
    return int(previous[-1])


@pytest.mark.no_search
def test_lcs_of_long_sequences_over_several_words_and_by_myers():
    rng = random.Random(11)
    for n, m in [(65, 65), (128, 300), (200, 5_000), (70, 4_500)]:
        a = [rng.randrange(8) for _ in range(n)]
        b = [rng.randrange(8) for _ in range(m)]
        assert lcs_length(a, b) == _lcs_dp(a, b)
    # Near-identical long texts: Myers' distance is exact and is what keeps them fast.
    a = [rng.randrange(50) for _ in range(5_000)]
    b = list(a)
    del b[100:103]
    b[2_000:2_000] = [7, 7]
    diagonals = np.zeros(40_000, dtype=np.int64)
    distance = _myers_distance(np.array(a, np.int32), np.array(b, np.int32), 100, 10**9, diagonals)
    assert distance == 5 and lcs_length(a, b) == len(a) - 3 == _lcs_dp(a, b)
    assert _myers_distance(np.array(a, np.int32), np.array(b, np.int32), 4, 10**9, diagonals) == -2


def test_threshold_must_be_a_fraction():
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        find_near_duplicates(["a b"], threshold=1.0)


@pytest.mark.no_search
@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(VOCABULARY[:14]), max_size=12).map(" ".join), max_size=60),
       st.sampled_from([1e-9, 0.3, 0.5, 0.6, 0.7, 0.9]))
def test_the_python_search_finds_what_the_compiled_one_finds(corpus, threshold):
    python = neardup._python_pairs(corpus, threshold)
    compiled = neardup._compiled()
    batches = list(compiled._Corpus(corpus, threshold, neardup._loosened(threshold)).search())
    expected = [np.concatenate([batch[column] for batch in batches]) if batches else np.empty(0)
                for column in range(3)]
    for found, wanted in zip(python, expected):
        assert found.tolist() == wanted.tolist()  # same pairs, same order, same float scores


@pytest.mark.no_search
@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.sampled_from(VOCABULARY[:12]), max_size=12).map(" ".join), max_size=80),
       st.sampled_from([1e-9, 0.5, 0.7, 0.9]), st.sampled_from([0, 5, 1 << 20]), st.sampled_from([1, 7, 2048]),
       st.sampled_from([1, 2]))
def test_reading_the_index_for_a_chunk_at_once_finds_what_reading_it_per_instruction_finds(corpus, threshold,
                                                                                           joined, chunk, ell):
    """A large corpus's search reads the index for a chunk of instructions at once (`_search_chunk_joined`, from
    `_JOIN_FROM` instructions and `_JOIN_THRESHOLD`: 0 here); with few candidate slots (`_JOINED`) it reads it for fewer at once, down to
    one instruction at a time (`_search_chunk`, which the slots 0 force). Every way finds the same pairs, in the
    same order, with the same scores, whether a candidate must share one prefix item (`_ELL`, the scan's) or two."""
    compiled = neardup._compiled()
    corpus_ = compiled._Corpus(corpus, threshold, neardup._loosened(threshold))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(compiled, "_JOIN_FROM", 0)
        patch.setattr(compiled, "_JOIN_THRESHOLD", 0)
        patch.setattr(compiled, "_JOINED", joined)
        patch.setattr(compiled, "_JOINED_CHUNK", chunk)
        patch.setattr(compiled, "_ELL", ell)  # read when the prefixes are cut and the limits made
        batches = list(compiled._Corpus(corpus, threshold, neardup._loosened(threshold)).search())
    found = [np.concatenate([batch[column] for batch in batches]).tolist() if batches else [] for column in range(3)]
    index, limits = corpus_.index(), compiled.Limits(compiled._ELL, corpus_.loose, corpus_.threshold)
    out = compiled.PairsOut(*(np.empty(max(len(corpus), 1), dtype=dtype) for dtype in (np.int32, np.int32, float)))
    expected, scratch = [[], [], []], corpus_.scratch()
    for x in range(len(corpus)):  # one instruction at a time, its candidates counted as the index is read
        pairs, _ = compiled._search_chunk(x, x + 1, index, corpus_.group_entries[1:], limits, scratch, out)
        order = np.argsort(out.first[:pairs], kind="stable")
        for column, values in zip(expected, out):
            column += values[:pairs][order].tolist()
    assert found == expected


@pytest.mark.no_search  # sets its own thresholds
def test_the_python_search_hands_a_corpus_with_too_many_pairs_to_the_compiled_one(monkeypatch):
    corpus = [f"Do task {i} now" for i in range(300)]  # every pair: 44,850 of them
    monkeypatch.setattr(neardup, "_COMPILED_FROM", 10**9)
    monkeypatch.setattr(neardup, "_PYTHON_VERIFIES", 1_000)
    assert neardup._python_pairs(corpus, 0.7) is None
    scan = scan_near_duplicates(corpus)
    assert scan.pairs == 300 * 299 // 2 and scan.dropped == list(range(1, 300))


@pytest.mark.no_search
def test_a_small_file_is_validated_without_numba(tmp_path):
    """Below `_COMPILED_FROM` instructions nothing imports numba: no kernel is loaded, or compiled on a first run."""
    import subprocess
    import sys

    from conftest import SAMPLE

    script = ("import sys\n"
              "from bioinstruct_tools import checks\n"
              f"validation = checks.validate_file({str(SAMPLE)!r})\n"
              "assert validation.passed and validation[checks.NEAR_DUPLICATES].status == 'pass'\n"
              "print(sorted(name for name in sys.modules if name.split('.')[0] == 'numba'"
              " or name.endswith(('_compiled', '_kernels'))))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert done.stdout.strip() == "[]"


@pytest.mark.no_search  # sets its own thresholds
def test_much_text_goes_to_the_compiled_search_however_few_its_instructions(monkeypatch):
    """Python holds a tuple per token: one huge instruction would not fit, so the text's size decides too."""
    monkeypatch.setattr(neardup, "_COMPILED_FROM", 10**9)
    monkeypatch.setattr(neardup, "_PYTHON_CHARACTERS", 1_000)
    long = ["list the drugs " * 60, "list the drugs " * 59 + "now"]
    assert not neardup._small(long) and neardup._small(["list the drugs"] * 2)
    searched = []
    monkeypatch.setattr(neardup, "_python_pairs", lambda *args: searched.append(args) or None)
    scan = scan_near_duplicates(long)
    assert searched == [] and scan.pairs == 1
