"""The category rules: deterministic, total, and right on the cases the card documents."""

import functools
import json
import multiprocessing
import os
import sys
from pathlib import Path

import pytest

from bioinstruct_tools import categories, category_model, checks
from bioinstruct_tools.categories import CATEGORIES, categorize, categorize_with_reason, rule_category, task_verb

EVAL_FILE = Path(__file__).resolve().parent.parent / "data" / "category_eval.jsonl"


@pytest.mark.parametrize(
    "instruction,input,expected",
    [
        ("Extract the medications from the note.", "Aspirin 81 mg daily.", "extraction"),
        ("List the symptoms of sepsis.", "", "qa"),  # nothing to extract from: a knowledge question
        ("List the symptoms mentioned in the following message.", "", "extraction"),
        ("What drugs are mentioned in the passage?", "Rifampin and isoniazid.", "extraction"),
        ("What is the antidote for heparin?", "", "qa"),
        ("Explain how statins work.", "", "qa"),
        ("Explain how statins work in simple terms for a patient.", "", "generation"),
        ("Summarize the report.", "CT: no acute findings.", "generation"),
        ("Given the discharge note, write a letter to the GP.", "...", "generation"),
        ("Please read the passage and then extract the gene names.", "BRCA1 binds PALB2.", "extraction"),
        ("You are a nurse. Answer the patient's question.", "Can I shower after surgery?", "qa"),
        ("Can you summarize this abstract?", "Statins lowered LDL by 40%.", "generation"),
        ("Classify the note as urgent or routine.", "Mild rash.", "other"),
        ("Determine whether the patient is eligible.", "Age 70; limit 65.", "other"),
        ("Determine the dose prescribed in the order.", "Amoxicillin 500 mg TID", "extraction"),
        ("Convert 150 lb to kilograms.", "", "other"),
        ("Convert the note into plain language.", "Pt has HTN.", "generation"),
        ("Provide a summary of the findings.", "Mild cardiomegaly.", "generation"),
        ("Provide an explanation of the Krebs cycle.", "", "qa"),
        ("Choose the correct answer.", "A) B1 B) B12", "qa"),
        ("Calculate the BMI.", "70 kg, 1.75 m", "other"),
        ("Hmm.", "", "other"),  # no task verb and no question
        ("Sepsis treatment?", "", "qa"),
        # The labelling guideline's boundary cases (README.md, Categories).
        ("Based on the vignette, what is the most likely diagnosis?", "Fever, malar rash, arthritis.", "qa"),
        ("Identify the most likely organism causing the diarrhea.", "Reheated rice, vomiting in 4 hours.", "qa"),
        ("Infer the cause of the hyponatremia.", "Euvolemic, high urine sodium.", "qa"),
        ("Draw a conclusion from the spirometry.", "FEV1/FVC 0.6", "qa"),
        ("my feet swell every evening, why", "", "qa"),  # patient voice, no question mark
        ("List questions to ask your doctor about insulin.", "", "generation"),
        ("Prescribe a bowel regimen for a patient starting opioids.", "", "generation"),
        ("Act as a health educator and write a talk on sun safety.", "", "generation"),
        ("Describe asthma in words a child can understand.", "", "generation"),
        ("According to the note, what diet is the patient on?", "2 g sodium diet.", "extraction"),
        ("Is this kidney injury prerenal or intrinsic?", "FENa 0.5%.", "other"),
        ("Determine the NYHA class.", "Symptoms with ordinary activity.", "other"),
        ("Convert the weight from pounds to kilograms.", "176 lb", "other"),
        # The four styles the guideline files under generation whatever the verb, and their look-alikes.
        ("Describe the pathophysiology of type 2 diabetes in layman's terms.", "", "generation"),
        ("What is sepsis? Answer for someone with no medical training.", "", "generation"),
        ("Describe the benefits of exercise in a 300-word essay.", "", "generation"),
        ("Explain the DASH diet as a practical guide.", "", "generation"),
        ("Engage the user in a conversation about their sleep.", "", "generation"),
        ("Conduct a consultation with me; I have a headache.", "", "generation"),
        ("You are a patient with chest pain. Answer the doctor's questions.", "Doctor: When did it start?", "generation"),
        ("Quiz me on the cranial nerves.", "", "generation"),
        ("Test my knowledge of antibiotics.", "", "generation"),
        ("As my doctor, is it safe for me to take ibuprofen?", "", "qa"),
        ("Talk me through what happens in an MRI.", "", "qa"),
        ("Test your knowledge: which vitamin deficiency causes scurvy?", "", "qa"),
        ("According to the guide, how often is the dressing changed?", "Every 48 hours.", "extraction"),
        ("Have a discussion of the causes of gout.", "", "qa"),
    ],
)
def test_documented_rules(instruction, input, expected):
    assert categorize(instruction, input) == expected  # categorize itself: a retrained word model cannot break it


def test_the_word_model_decides_only_where_the_rules_fall_back():
    rows = [json.loads(line) for line in EVAL_FILE.read_text(encoding="utf-8").splitlines()]
    decided = 0
    for row in rows:
        category, reason = categorize_with_reason(row["instruction"], row["input"])
        by_rules = rule_category(row["instruction"], row["input"])
        if reason.startswith("the word model decides"):
            decided += 1
            assert isinstance(by_rules, categories.Fallback)
            assert category != by_rules[0] and f"fall back on '{by_rules[0]}' ({by_rules[1]})" in reason
        else:
            assert (category, reason) == by_rules
    assert 0 < decided < len(rows) // 10


@pytest.mark.parametrize("instruction", [
    "Describe the pathophysiology of type 2 diabetes in layman's terms.",  # the two examples
    "Explain the pathophysiology of atherosclerosis in simple terms.",
])
def test_the_word_model_never_overrules_a_documented_cue(instruction):
    assert category_model.predict(instruction).category == "qa"  # the model still disagrees ...
    category, reason = categorize_with_reason(instruction)
    assert category == "generation" and reason.endswith("in plain language or for a lay audience")  # ... and loses


def test_stop_words_alone_are_no_evidence(monkeypatch):
    """A model whose only words for its category are "the" and "of" does not overrule even a default."""
    weights = {"the": [0.0, 0.0, 3.0, 0.0], "of": [0.0, 0.0, 3.0, 0.0], "^the": [0.0, 0.0, 3.0, 0.0]}
    monkeypatch.setattr(category_model, "_model", lambda: (weights, [0.0, 0.0, 0.0, 0.0]))
    categories.forget()
    instruction = "The of."  # no task verb, no question, no topic: the rules fall back on other
    by_rules = rule_category(instruction)
    assert isinstance(by_rules, categories.Fallback) and by_rules[0] != "qa"
    prediction = category_model.predict(instruction)
    assert prediction.category == "qa" and category_model.overrules(prediction, by_rules[0])
    assert category_model.evidence(instruction, "", "qa", by_rules[0]) == ()
    assert categorize_with_reason(instruction) == by_rules
    categories.forget()


def test_empty_input_placeholder_counts_as_no_input():
    assert categorize("Identify the risk factors for stroke.", "<noinput>") == "qa"


def test_every_result_is_a_category_and_deterministic():
    rows = [json.loads(line) for line in EVAL_FILE.read_text(encoding="utf-8").splitlines()]
    first = [categorize(row["instruction"], row["input"]) for row in rows]
    assert set(first) == set(CATEGORIES)
    assert first == [categorize(row["instruction"], row["input"]) for row in rows]


def test_labeled_file_has_1000_items_in_five_splits_and_the_categories_stay_above_their_floors():
    rows = [json.loads(line) for line in EVAL_FILE.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 1000 and len({row["instruction"].lower() for row in rows}) == len(rows)
    assert {row["split"] for row in rows} == {"dev", "test", "test_new", "test_dec", "test_styles"}
    assert {row["category"] for row in rows} == set(CATEGORIES)
    # floors under what bench/categorize_accuracy.py prints
    for split, floor, least in (("dev", 0.98, 100), ("test", 0.90, 100), ("test_new", 0.88, 40),
                                ("test_dec", 0.88, 40), ("test_styles", 0.9, 20)):
        part = [row for row in rows if row["split"] == split]
        assert sum(1 for row in part if row["input"]) > least and sum(1 for row in part if not row["input"]) > least
        correct = sum(categorize(row["instruction"], row["input"]) == row["category"] for row in part)
        assert correct / len(part) >= floor, split


def test_patient_messages_are_questions_not_other():
    """The guideline files a patient's message under qa, with or without a question mark (issue 21)."""
    for message in ("I have had a cough for three weeks and now I am coughing up blood. please help",
                    "my son is 2 and has a fever of 39.5 since last night", "Hello doctor, I am 45 with a tight chest "
                    "when I walk uphill. kindly advise", "28 F, missed period, negative test, cramps",
                    "Thank you doctor, my son has had a fever for 3 days."):
        assert categorize(message) == "qa", message


def test_thanks_to_the_reader_is_no_task_but_thanking_someone_is():
    assert task_verb("Thank you doctor, my son has had a fever for 3 days.") is None
    assert task_verb("Thanks, summarize this note.") == "summarize"
    assert task_verb("Thank the patient for attending and summarize the plan.") == "thank"


def test_every_category_comes_with_the_rule_that_decided_it():
    assert categorize_with_reason("Extract the drugs.", "Aspirin.") == (
        "extraction", "extraction verb 'extract', a given text")
    assert categorize_with_reason("Extract the drugs.") == ("qa", "extraction verb 'extract', no text given")
    assert categorize_with_reason("What is sepsis?") == ("qa", "question 'what'")


def test_the_categorize_command_audits_one_text_or_a_file(tmp_path, capsys):
    from conftest import write_jsonl

    from bioinstruct_tools.cli import main

    assert main(["categorize", "Classify the rash as viral or bacterial.", "--input", "Vesicles."]) == 0
    assert capsys.readouterr().out == "other\tverb 'classify' (classify, rate, rank, calculate and the like)\n"
    assert main(["categorize", "What is sepsis?", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"category": "qa", "reason": "question 'what'"}
    source = write_jsonl(tmp_path / "r.jsonl", [{"instruction": "Summarize the note.", "input": "x", "output": "y"},
                                                {"instruction": 5, "input": "", "output": "z"}])
    assert main(["categorize", "--file", str(source)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "index,line,id,category,reason,instruction"
    assert lines[1] == "0,1,,generation,generation verb 'summarize',Summarize the note."
    assert lines[2].startswith("1,2,,,no instruction string")
    assert main(["categorize"]) == 2


@functools.cache
def _many_texts() -> list[tuple[str, str]]:
    """Over 8,192 (instruction, input) pairs: every labeled and sample instruction, each in several phrasings."""
    rows = [json.loads(line) for line in EVAL_FILE.read_text(encoding="utf-8").splitlines()]
    sample = EVAL_FILE.parent / "sample.jsonl"
    rows += [json.loads(line) for line in sample.read_text(encoding="utf-8").splitlines()]
    leads = ("", "Please, ", "Now: ", "Based on the note, ", "As a nurse, ")
    return [(lead + row["instruction"], input) for row in rows for lead in leads for input in (row["input"], "")]


def test_categorize_many_spreads_over_workers_and_decides_as_one_process_does():
    texts = _many_texts()
    assert len(texts) > categories._PARALLEL_FROM
    categories.forget()
    pending = categories.Categorizing(texts)
    try:
        if sys.platform == "linux" and len(os.sched_getaffinity(0)) > 1:
            assert pending._deciding.forked  # workers were forked: this batch is the parallel path
        reported = []
        decided = pending.result(reported.append)
    finally:
        pending.stop()
    assert sum(reported) == len(texts)
    assert not multiprocessing.active_children()  # the workers are gone once the result is in
    assert decided == _decided_one_by_one()
    assert categories._remembered[texts[-1]] == decided[-1]  # remembered, as the sequential path remembers


@functools.cache
def _decided_one_by_one() -> list[tuple[str, str]]:
    return [categories._decide(instruction, input) for instruction, input in _many_texts()]


def test_validate_categorizes_a_large_file_in_the_background_as_one_process_does():
    records = checks.numbered([{"instruction": instruction, "input": input, "output": "x"}
                               for instruction, input in _many_texts()])
    categories.forget()
    validation = checks.validate(records, "many.jsonl", checks=(checks.SCHEMA, checks.UNIQUENESS, checks.CATEGORIES_CHECK))
    assert not multiprocessing.active_children()
    assert validation.category_labels() == [category for category, _ in _decided_one_by_one()]


def test_a_run_that_fails_stops_its_categorizing_workers():
    texts = _many_texts()
    with pytest.raises(KeyboardInterrupt):
        with categories.categorizing(texts):
            raise KeyboardInterrupt
    assert not multiprocessing.active_children()
