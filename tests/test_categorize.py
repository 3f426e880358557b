"""The category rules: deterministic, total, and right on the cases the card documents."""

import json
from pathlib import Path

import pytest

import bioinstruct

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
    ],
)
def test_documented_rules(instruction, input, expected):
    assert bioinstruct.categorize(instruction, input) == expected


def test_empty_input_placeholder_counts_as_no_input():
    assert bioinstruct.categorize("Identify the risk factors for stroke.", "<noinput>") == "qa"


def test_every_result_is_a_category_and_deterministic():
    rows = [json.loads(line) for line in EVAL_FILE.read_text(encoding="utf-8").splitlines()]
    first = [bioinstruct.categorize(row["instruction"], row["input"]) for row in rows]
    assert set(first) == set(bioinstruct.CATEGORIES)
    assert first == [bioinstruct.categorize(row["instruction"], row["input"]) for row in rows]


def test_labeled_file_is_large_and_balanced_and_rules_stay_accurate_on_it():
    rows = [json.loads(line) for line in EVAL_FILE.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 300 and {row["category"] for row in rows} == set(bioinstruct.CATEGORIES)
    assert sum(1 for row in rows if row["input"]) > 100 and sum(1 for row in rows if not row["input"]) > 100
    correct = sum(bioinstruct.categorize(row["instruction"], row["input"]) == row["category"] for row in rows)
    assert correct / len(rows) >= 0.95  # a floor under the figure bench/categorize_accuracy.py prints
