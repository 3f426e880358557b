"""Categories remembered on disk (`decision_cache`): the same answers, read back; never an error; never stale."""

import json
import os
import sqlite3
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from bioinstruct_tools import categories, decision_cache
from conftest import SAMPLE

TEXTS = [(row["instruction"], row["input"]) for row in map(json.loads, SAMPLE.read_text(encoding="utf-8").splitlines())]


def _decided_afresh() -> list[tuple[str, str]]:
    return [categories._decide(instruction, input) for instruction, input in TEXTS]


def _cache_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("categories-*.sqlite"))


def _rules_broken(monkeypatch) -> None:
    """From here on, deciding anything fails: an answer can only come from memory."""
    categories.forget()

    def refuse(instruction, input):
        raise AssertionError(f"decided again: {instruction!r}")

    monkeypatch.setattr(categories, "_decide", refuse)


def test_a_second_run_reads_every_answer_back_from_disk(own_decision_cache, monkeypatch):
    categories.forget()
    first = categories.categorize_many(TEXTS)
    assert first == _decided_afresh()
    assert len(_cache_files(own_decision_cache)) == 1
    _rules_broken(monkeypatch)
    progress = []
    assert categories.categorize_many(TEXTS, progress.append) == first
    assert sum(progress) == len(TEXTS)


def test_only_the_texts_not_remembered_are_decided(own_decision_cache, monkeypatch):
    categories.forget()
    categories.categorize_many(TEXTS[:50])
    categories.forget()
    expected, decided = _decided_afresh(), []
    real = categories._decide
    monkeypatch.setattr(categories, "_decide", lambda *pair: decided.append(pair) or real(*pair))
    assert categories.categorize_many(TEXTS) == expected
    assert decided == TEXTS[50:]


def test_a_changed_rule_never_reads_the_old_answers(own_decision_cache, monkeypatch, tmp_path):
    categories.forget()
    categories.categorize_many(TEXTS)
    changed = tmp_path / "categories.py"
    changed.write_text(Path(categories.__file__).read_text(encoding="utf-8") + "\n# a changed rule\n")
    monkeypatch.setattr(categories, "_deciding_version", lambda: decision_cache.version_of([changed]))
    _rules_broken(monkeypatch)
    with pytest.raises(AssertionError, match="decided again"):
        categories.categorize_many(TEXTS)


def test_a_changed_cache_code_is_a_new_version(monkeypatch, tmp_path):
    """Answers a different cache code wrote (another layout, another escaping) are never read back."""
    changed = tmp_path / "decision_cache.py"
    changed.write_text(Path(decision_cache.__file__).read_text(encoding="utf-8") + "\n# another way to store\n")
    before = categories._deciding_version()
    monkeypatch.setattr(decision_cache, "__file__", str(changed))
    categories._deciding_version.cache_clear()
    try:
        assert categories._deciding_version() != before
    finally:
        monkeypatch.undo()
        categories._deciding_version.cache_clear()
    assert categories._deciding_version() == before


@pytest.mark.parametrize("damage", ["not a database", "answers not ours", "reasons gone", "reasons not text",
                                    "folder others may write", "cache off"])
def test_a_cache_that_cannot_be_trusted_is_not_read_and_no_run_fails(own_decision_cache, monkeypatch, damage):
    categories.forget()
    expected = categories.categorize_many(TEXTS)
    [path] = _cache_files(own_decision_cache)
    if damage == "not a database":
        path.write_bytes(b"this is not SQLite" * 100)
    elif damage.startswith("reasons"):  # an answer whose reason cannot be read is no answer
        with sqlite3.connect(path) as connection:
            connection.execute("DELETE FROM reasons" if damage == "reasons gone" else "UPDATE reasons SET text = randomblob(16)")
    else:  # every remembered answer made wrong: read, it would show
        planted = "'planted'" if damage == "answers not ours" else "CASE decision WHEN 'qa' THEN 'other' ELSE 'qa' END"
        with sqlite3.connect(path) as connection:
            connection.execute(f"UPDATE answers SET decision = {planted}")
    if damage == "folder others may write":
        os.chmod(own_decision_cache, 0o777)
    elif damage == "cache off":
        monkeypatch.setenv("BIOINSTRUCT_NO_CACHE", "1")
    categories.forget()
    decided = []
    monkeypatch.setattr(categories, "_decide", lambda *pair, decide=categories._decide: decided.append(pair) or
                        decide(*pair))
    assert categories.categorize_many(TEXTS) == expected
    assert len(decided) == len(set(TEXTS))  # nothing was read back: every text was decided again


def test_the_cache_off_writes_nothing(own_decision_cache, monkeypatch):
    monkeypatch.setenv("BIOINSTRUCT_NO_CACHE", "1")
    categories.forget()
    categories.categorize_many(TEXTS)
    assert list(own_decision_cache.iterdir()) == []


def test_a_cache_folder_that_cannot_be_made_only_means_nothing_is_remembered(tmp_path, monkeypatch):
    (tmp_path / "a file").write_text("in the way")
    monkeypatch.setenv("BIOINSTRUCT_CACHE", str(tmp_path / "a file" / "cache"))  # refused even to root
    categories.forget()
    assert categories.categorize_many(TEXTS) == _decided_afresh()


def test_the_file_keeps_hashes_and_answers_not_texts(own_decision_cache):
    categories.forget()
    categories.categorize_many(TEXTS)
    [path] = _cache_files(own_decision_cache)
    with sqlite3.connect(path) as connection:
        keys = [key for (key,) in connection.execute("SELECT key FROM answers")]
    assert sorted(keys) == sorted({decision_cache.key_of(*pair) for pair in TEXTS})
    assert all(len(key) == 16 for key in keys)


def test_older_versions_are_dropped_past_a_few_and_no_file_of_the_users(own_decision_cache):
    users = own_decision_cache / "categories-mine.sqlite"
    users.write_text("the user's own")
    for version in range(decision_cache._KEPT_VERSIONS + 3):
        with decision_cache.opened("categories", f"{version:024x}") as cache:
            cache.store([(b"k" * 16, ("qa", "a reason"))])
    assert len(_cache_files(own_decision_cache)) == decision_cache._KEPT_VERSIONS + 1 and users.exists()


@given(st.text(max_size=6), st.text(max_size=6), st.text(max_size=6), st.text(max_size=6))
def test_keys_differ_whenever_the_pairs_do(a, b, c, d):
    assert (decision_cache.key_of(a, b) == decision_cache.key_of(c, d)) == ((a, b) == (c, d))


@pytest.mark.timeout(60)
def test_a_busy_thread_beside_it_does_not_stall_a_large_look_up_or_store(own_decision_cache):
    """Each chunk is one SQL statement: a statement stepped row by row hands the GIL to the other thread at every
    row and waits for it back, and 25,005 keys took minutes beside a busy thread (numba loading its kernels)."""
    rows = [(decision_cache.key_of(str(number), ""), ("qa", f"reason {number % 7}")) for number in range(40_000)]
    rows.append((b"short", ("qa", "a key that is not a key_of digest is neither stored nor looked up")))
    busy, done = threading.Event(), threading.Event()

    def spin():
        busy.set()
        while not done.is_set():
            pass

    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        busy.wait()
        with decision_cache.opened("categories", "0" * 24) as cache:
            cache.store(rows)
            found = cache.look_up([key for key, _ in rows] + [decision_cache.key_of("never", "stored")])
    finally:
        done.set()
        spinner.join()
    assert found == [answer for _, answer in rows[:-1]] + [None, None]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["extraction", "qa", "a\0b", "\ud800"]), st.text(max_size=30)),
                min_size=1, max_size=20))
def test_an_answer_comes_back_as_it_was_stored_or_not_at_all(tmp_path_factory, answers):
    """Whatever its characters (NUL, lone surrogates, line separators, emoji): remembered exactly, or not at all."""
    os.environ["BIOINSTRUCT_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    try:
        keys = [decision_cache.key_of(str(number), "") for number in range(len(answers))]
        with decision_cache.opened("categories", "0" * 24) as cache:
            cache.store(list(zip(keys, answers)))
            found = cache.look_up(keys)
    finally:
        del os.environ["BIOINSTRUCT_CACHE"]
    for back, answer in zip(found, answers):
        plain = answer[0] in ("extraction", "qa") and "\0" not in answer[1]  # st.text draws no lone surrogate
        assert back == answer if plain else back in (answer, None)
