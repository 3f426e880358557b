"""`bioinstruct contamination`: planted copies are found, clean records are not, every benchmark format loads."""

import itertools
import json

import datasets
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bioinstruct_tools import contamination
from bioinstruct_tools.benchmarks import open_benchmarks
from bioinstruct_tools.cli import main
from conftest import REPO, SAMPLE, records, write_array, write_jsonl

BENCH_SAMPLE = REPO / "data" / "bench_sample.jsonl"
QUESTION = ("A 35-year-old man with epilepsy has a rash. Two weeks after starting carbamazepine the patient "
            "developed a widespread blistering rash and mucosal ulcers. Which HLA allele is associated?")
ITEMS = [
    {"question": QUESTION, "options": {"A": "HLA-B*15:02", "B": "HLA-B27"}, "answer": "A"},
    {"question": "Which enzyme is deficient in children born with classic phenylketonuria?",
     "answer": "Phenylalanine hydroxylase"},
    {"question": "Do statins lower mortality in older adults?", "context": "We pooled twelve trials.", "answer": "yes"},
]


def run(records_rows, items, **options):
    return contamination.find_contamination(records_rows, items, "bench", **options)


def test_the_shipped_sample_has_exactly_its_three_planted_overlaps(capsys):
    assert main(["contamination", str(SAMPLE), "--against", str(BENCH_SAMPLE), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    [bench] = report["benchmarks"].values()
    found = [(match["index"], match["field"], match["whole_field"], match["items"]) for match in bench["matches"]]
    assert found == [  # items named by their own ids
        (3, "input", False, ["medqa-2"]),  # a record's input copied verbatim into a MedQA vignette
        (88, "instruction", True, ["bioasq-3"]),  # a short instruction inside a question: the whole-field rule
        (88, "output", False, ["pubmedqa-1"]),  # a light paraphrase that keeps 14 words in a row
    ]
    assert report["contaminated"] == 2 and bench["by_field"] == {"instruction": 1, "input": 1, "output": 1}


def test_verbatim_and_lightly_paraphrased_copies_are_found_and_clean_records_are_not():
    rows = records(4)
    rows[0]["input"] = "Two weeks after starting carbamazepine, the patient developed a widespread blistering rash!"
    rows[1]["output"] = ("after starting CARBAMAZEPINE the patient developed a widespread blistering rash and mucosal "
                         "ulcers over days")  # case, punctuation and a different ending
    rows[2]["output"] = "Consult a healthcare professional before starting carbamazepine for epilepsy in adults."
    found = run(rows, ITEMS)
    assert sorted(found.matches) == [0, 1]
    assert [match.field for match in found.matches[1]] == ["output"] and found.matches[1][0].items == [0]


def test_a_field_shorter_than_n_counts_when_it_occurs_whole():
    rows = [dict(records(1)[0], instruction="Which enzyme is deficient in children born with classic phenylketonuria?",
                 output="x"),
            dict(records(2)[1], instruction="Which enzyme is deficient in phenylketonuria?",
                 output="Phenylalanine hydroxylase"),
            dict(records(3)[2], instruction="Summarize it.", output="yes")]
    found = run(rows, ITEMS, fields=("instruction", "output"))
    assert {position: [m.field for m in matches] for position, matches in found.matches.items()} == {0: ["instruction"]}
    assert found.matches[0][0].whole_field and found.matches[0][0].fraction == 1.0
    # Fields below MIN_WHOLE_FIELD_WORDS ("Phenylalanine hydroxylase", a 6-word question) are phrases that
    # occur anywhere: the whole-field rule leaves them alone.
    assert contamination.MIN_WHOLE_FIELD_WORDS == 8


def test_n_grams_do_not_cross_benchmark_fields_and_n_is_configurable():
    rows = [dict(records(1)[0], output="do statins lower mortality in older adults we pooled twelve trials")]
    assert run(rows, ITEMS).matches == {}  # the 13 words exist only across question and context
    assert sorted(run(rows, ITEMS, ngram=5).matches) == [0]  # 5 words within the 7-word question match


def _formats(tmp_path):
    write_jsonl(tmp_path / "b.jsonl", ITEMS)
    write_array(tmp_path / "b.json", ITEMS)
    flat = [{"question": item["question"], "answer": item["answer"]} for item in ITEMS]
    with open(tmp_path / "b.csv", "w", encoding="utf-8", newline="") as f:
        f.write("question,answer\n" + "".join(f'"{row["question"]}",{row["answer"]}\n' for row in flat))
    datasets.Dataset.from_list(flat).to_parquet(str(tmp_path / "b.parquet"))
    datasets.DatasetDict({"test": datasets.Dataset.from_list(flat)}).save_to_disk(str(tmp_path / "saved"))
    (tmp_path / "folder").mkdir()
    write_jsonl(tmp_path / "folder" / "test.jsonl", flat)
    return ["b.jsonl", "b.json", "b.csv", "b.parquet", "saved", "folder"]


@pytest.mark.uses_datasets
def test_every_benchmark_format_loads_and_finds_the_same(tmp_path):
    rows = records(2)
    rows[0]["input"] = QUESTION
    for name in _formats(tmp_path):
        [benchmark] = open_benchmarks([str(tmp_path / name)])
        items = list(benchmark.items())
        assert len(items) == 3, name
        assert sorted(run(rows, items).matches) == [0], name


@pytest.mark.parametrize("make,message", [
    (lambda d: d / "missing.jsonl", "no such file"),
    (lambda d: (d / "bad.jsonl").write_text('{"question": "x"\n') and d / "bad.jsonl", "invalid JSON"),
    (lambda d: (d / "bad.parquet").write_bytes(b"not parquet") and d / "bad.parquet", "cannot be read as PARQUET"),
    (lambda d: (d / "empty").mkdir() or d / "empty", "holds no JSON, JSON Lines, CSV or parquet file"),
    (lambda d: write_jsonl(d / "other.jsonl", [{"prompt": "What is sepsis and how is it treated today?"}]),
     "no item has any of the fields"),
])
def test_a_bad_benchmark_is_one_line_and_exit_2(make, message, tmp_path, capsys):
    bench = make(tmp_path)
    assert main(["contamination", str(SAMPLE), "--against", str(bench)]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("bioinstruct contamination: ") and str(bench) in line and message in line


def test_validate_warns_or_gates_and_build_names_it_on_the_card(tmp_path, capsys):
    assert main(["validate", str(SAMPLE), "--against", str(BENCH_SAMPLE), "--json"]) == 0
    check = json.loads(capsys.readouterr().out)["checks"]["contamination"]
    assert check["status"] == "warn" and check["counts"] == {"benchmark_overlap": 3}
    assert main(["validate", str(SAMPLE), "--against", str(BENCH_SAMPLE), "--gate-contamination"]) == 1
    capsys.readouterr()
    assert main(["build", "--source", str(SAMPLE), "--out", str(tmp_path / "with"), "--against",
                 str(BENCH_SAMPLE)]) == 0
    assert main(["build", "--source", str(SAMPLE), "--out", str(tmp_path / "without")]) == 0
    line = ("**Contamination.** The build checked every record against bench\\_sample.jsonl (16 items: 2 records), "
            "with 13-grams")
    assert line in (tmp_path / "with" / "README.md").read_text()
    assert "**Contamination.**" not in (tmp_path / "without" / "README.md").read_text()


def test_rejects_hold_each_overlapping_record_once(tmp_path, capsys):
    rejects = tmp_path / "leaked.jsonl"
    assert main(["contamination", str(SAMPLE), "--against", str(BENCH_SAMPLE), "--rejects", str(rejects)]) == 1
    rows = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [row["index"] for row in rows] == [3, 88] and len(rows[1]["reasons"]) == 2
    assert "2 records written to" in capsys.readouterr().err


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=80))
def test_the_ascii_fast_path_splits_as_the_unicode_rule_does(text):
    import unicodedata

    from bioinstruct_tools import text as text_module

    assert text_module.normalized_words(text) == text_module._WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def test_the_readme_example_is_what_the_command_prints(capsys, monkeypatch):
    text = (REPO / "README.md").read_text(encoding="utf-8")
    command = "$ bioinstruct contamination data/sample.jsonl --against data/pubmedqa_sample.json\n"
    shown = text[text.index(command) + len(command):].split("```")[0]
    monkeypatch.chdir(REPO)
    assert main(["contamination", "data/sample.jsonl", "--against", "data/pubmedqa_sample.json"]) == 1
    assert capsys.readouterr().out == shown


# ---------------------------------------------------------------------------------------------------
# Real benchmark shapes: PubMedQA as published, ids, case, boilerplate
# ---------------------------------------------------------------------------------------------------

PUBMEDQA = REPO / "data" / "pubmedqa_sample.json"


def test_a_pubmedqa_shaped_keyed_file_reads_as_published_and_names_items_by_their_keys(capsys):
    assert main(["contamination", str(SAMPLE), "--against", str(PUBMEDQA), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    [bench] = report["benchmarks"].values()
    assert bench["items"] == 8 and bench["split"] is None
    found = [(match["index"], match["field"], match["items"]) for match in bench["matches"]]
    assert found == [
        (44, "output", ["39000107"]),  # an output copied into the second of an item's CONTEXTS
        (70, "instruction", ["39000106"]),  # a question copied whole
        (78, "output", ["39000104"]),  # an output that is a reference answer (LONG_ANSWER): checked by default
    ]


PATIENT_QUESTIONS = [
    {"qid": "p1", "Question": "Doctor, I have a headache. It started after I began a new blood pressure pill last "
                              "week and gets worse in the morning. Should I stop taking it?"},
    {"qid": "p2", "Question": "Hi doctor. My son is six and has had a fever and a barking cough for three nights. "
                              "When should I take him to the emergency room?"},
]


def test_a_generic_opener_is_not_a_leak_while_a_question_copied_whole_is(tmp_path):
    rows = records(3)
    rows[0]["input"] = "Doctor, I have a headache."  # 5 words, in an unrelated patient question
    rows[1]["input"] = "My son is six and has had a fever and a barking cough for three nights."  # 17 words
    rows[2]["instruction"] = "When should I take him to the emergency room?"  # 9 words, whole
    found = run(rows, PATIENT_QUESTIONS)
    assert sorted(found.matches) == [1, 2]
    assert found.matches[2][0].whole_field and found.matches[1][0].item_ids == ["1"]  # no SourceRecord: the index


def test_n_grams_in_more_than_max_items_are_boilerplate(tmp_path):
    template = "which of the following is the most likely diagnosis in this patient with"
    items = [{"question": f"A {age}-year-old has a cough. {template} a cough?"} for age in range(20, 40)]
    items.append({"question": "Only one item holds this sentence about lithium toxicity and tremor in the elderly "
                              "patients seen in our clinic."})
    rows = [dict(records(1)[0], output=f"{template} fever and weight loss"),
            dict(records(2)[1], output="lithium toxicity and tremor in the elderly patients seen in our clinic")]
    found = run(rows, items)
    assert sorted(found.matches) == [1] and found.boilerplate > 0
    assert sorted(run(rows, items, max_items=100).matches) == [0, 1]  # a higher limit: the template counts


def test_min_overlap_asks_for_a_share_of_a_fields_n_grams():
    rows = [dict(records(1)[0], output="after starting carbamazepine the patient developed a widespread blistering "
                                       "rash and mucosal ulcers " + " ".join(f"word{i}" for i in range(30)))]
    assert sorted(run(rows, ITEMS).matches) == [0]
    assert run(rows, ITEMS, min_overlap=0.5).matches == {}


def test_field_names_match_in_any_case_and_an_unknown_bench_field_is_refused(tmp_path, capsys):
    bench = write_jsonl(tmp_path / "upper.jsonl", [{"QUESTION": QUESTION, "ANSWER": "A"}])
    rows = write_jsonl(tmp_path / "rows.jsonl", [dict(records(1)[0], output=QUESTION)])
    assert main(["contamination", str(rows), "--against", str(bench)]) == 1
    capsys.readouterr()
    assert main(["contamination", str(rows), "--against", str(bench), "--bench-field", "question,context"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"bioinstruct contamination: {bench}: no item has the field context (its items have ANSWER, QUESTION); "
        "name its text fields with --bench-field")


_WORDY = st.text(st.sampled_from(list("abcXYZ019 \t\n.,;-_'\"\x00") + ["é", "ß", "ﬁ", "Σ", "\u200b", "İ", "½"]),
                 max_size=40)


@settings(max_examples=200, deadline=None)
@given(st.lists(_WORDY, min_size=1, max_size=6), st.lists(_WORDY, max_size=8))
def test_the_bulk_compiled_tokenizer_gives_normalized_words_ids(record_texts, bench_texts):
    """`normalized_words` is the oracle of the bulk path (one translate, a compiled split and lookup)."""
    from bioinstruct_tools.text import normalized_words

    index = contamination._RecordIndex([{"instruction": text} for text in record_texts], ["instruction"], 13)
    vocabulary = {}
    for text in record_texts:
        for word in normalized_words(text):
            vocabulary.setdefault(word, len(vocabulary))
    ids, starts = index.ids_of(bench_texts)
    words = [normalized_words(text) for text in bench_texts]
    assert ids.tolist() == [vocabulary.get(word, -1) for text in words for word in text]
    assert starts.tolist() == [0] + list(itertools.accumulate(map(len, words)))
