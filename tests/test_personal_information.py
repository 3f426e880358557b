"""The personal-information check: every Safe Harbor kind found, no clinical look-alike found, and the check acting
through every path: validate's warning and gate, --rejects and --json, clean's exclude and redact, the card."""

import json
from pathlib import Path

import pytest
from conftest import build, cli, records, write_jsonl
from hypothesis import given, settings
from hypothesis import strategies as st

from bioinstruct_tools import card, checks
from bioinstruct_tools.personal_information import KINDS, find, redact

LABELED = [json.loads(line) for line in
           (Path(__file__).resolve().parent.parent / "data" / "personal_information_eval.jsonl").read_text().splitlines()]
# The dev split: what the patterns were written against. The frozen test split is scored by bench/, never here.
DEV = [item for item in LABELED if item["split"] == "dev"]
TRAPS = [item["text"] for item in DEV if not item["kinds"]] + [
    "BP 150/95 on two readings", "Take 3/4 of a tablet", "Alzheimer's disease", "ICD-10 F32.1", "room 207",
    "Call 911.", "born in 1950", "an 89-year-old", "aged 72",
]


@pytest.mark.parametrize("text,kind", [(item["text"], item["kinds"][0]) for item in DEV if item["kinds"]])
def test_each_kind_is_found_with_its_span(text, kind):
    findings = find(text)
    assert kind in {finding.kind for finding in findings}
    for finding in findings:
        assert text[finding.start:finding.end] == finding.text and finding.text.strip()


@pytest.mark.parametrize("text,name", [
    ("Dr. José García reviewed the film.", "José García"),  # a partial match would leave "é García" behind
    ("Patient: Zoë Smith", "Zoë Smith"),
    ("Dr. İlker Yılmaz saw her.", "İlker Yılmaz"),
    ("Mrs. Anna-Lena Müller", "Anna-Lena Müller"),
    ("Mr. O'Brien was seen today.", "O'Brien"),
])
def test_names_with_accents_apostrophes_and_hyphens_are_found_whole(text, name):
    assert [(finding.kind, finding.text) for finding in find(text)] == [("NAME", name)]


def test_every_kind_has_a_dev_item():
    assert {item["kinds"][0] for item in DEV if item["kinds"]} == set(KINDS)


@pytest.mark.parametrize("text", TRAPS)
def test_clinical_look_alikes_are_not_identifiers(text):
    assert find(text) == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("aZ09 :/-.@()#,'\nMrDs") | st.characters(blacklist_categories=("Cs",)),
               max_size=80))
def test_findings_are_ordered_spans_that_redaction_replaces(text):
    findings = find(text)
    assert all(a.end <= b.start for a, b in zip(findings, findings[1:]))  # ordered, never overlapping
    assert all(text[f.start:f.end] == f.text for f in findings)
    redacted = redact(text, findings)
    assert redacted.count("[") - text.count("[") == len(findings)


def test_redaction_replaces_each_span_with_its_kind():
    text = "Mr. Robert Jones, MRN: 00482913, call (617) 555-0134."
    assert redact(text, find(text)) == "Mr. [NAME], MRN: [MRN], call [PHONE]."


@pytest.fixture
def notes(tmp_path):
    rows = records(3)
    rows[1]["input"] = "Mr. Robert Jones, MRN: 00482913, was admitted on 03/14/2021."
    return write_jsonl(tmp_path / "notes.jsonl", rows), rows


def test_validate_warns_by_default_and_gates_when_asked(notes, tmp_path):
    path, _ = notes
    warned = cli("validate", path, "--json", cwd=tmp_path)
    check = json.loads(warned.stdout)["checks"]["personal_information"]
    assert warned.returncode == 0 and check["status"] == "warn" and check["gating"] is False
    assert check["by_kind"]["NAME"] == check["by_kind"]["MRN"] == check["by_kind"]["DATE"] == 1 and check["records"] == 1
    assert check["counts"] == {"DATE": 1, "MRN": 1, "NAME": 1}
    gated = cli("validate", path, "--gate-personal-information", cwd=tmp_path)
    assert gated.returncode == 1 and "FAIL  personal_information" in gated.stdout


def test_rejects_name_the_kind_field_and_span(notes, tmp_path):
    path, rows = notes
    assert cli("validate", path, "--rejects", "r.jsonl", cwd=tmp_path).returncode == 0
    reasons = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()][0]["reasons"]
    mrn = next(reason for reason in reasons if reason.get("kind") == "MRN")
    start, end = mrn["span"]
    assert mrn["check"] == "personal_information" and mrn["field"] == "input"
    assert rows[1]["input"][start:end] == "00482913"


def test_clean_excludes_or_redacts_and_its_clean_file_passes_the_gate(notes, tmp_path):
    path, rows = notes
    assert cli("clean", path, "--out", "x.jsonl", "--gate-personal-information", cwd=tmp_path).returncode == 0
    excluded = [json.loads(line) for line in (tmp_path / "x.excluded.jsonl").read_text().splitlines()]
    assert [row["index"] for row in excluded] == [1]
    assert {r["reason"] for r in excluded[0]["reasons"]} == {"personal_information"}
    redacted = cli("clean", path, "--out", "y.jsonl", "--personal-information", "redact", "--json", cwd=tmp_path)
    summary = json.loads(redacted.stdout)
    assert summary["kept"] == 3 and summary["redacted"] == 1 and summary["redacted_records"][0]["index"] == 1
    kept = [json.loads(line) for line in (tmp_path / "y.jsonl").read_text().splitlines()]
    assert kept[1]["input"] == "Mr. [NAME], MRN: [MRN], was admitted on [DATE]."
    assert kept[0] == rows[0] and kept[2] == rows[2]
    for clean_file in ("x.jsonl", "y.jsonl"):
        assert cli("validate", clean_file, "--gate-personal-information", cwd=tmp_path).returncode == 0


def test_the_card_states_the_measured_counts_or_that_nothing_was_checked(notes, tmp_path):
    path, _ = notes
    build(path, tmp_path / "out")
    text = (tmp_path / "out" / "README.md").read_text()
    assert "**Personal information, as measured.**" in text and "1 of 3 records hold at least one" in text
    assert "MRN 1" in text and "It cannot see a bare name" in text
    clean_rows = write_jsonl(tmp_path / "clean.jsonl", records(3))
    build(clean_rows, tmp_path / "clean-out")
    assert "none of the 3 records holds one" in (tmp_path / "clean-out" / "README.md").read_text()
    assert "**Personal information: not checked.**" in card.personal_information_note(None)


def test_push_dry_run_prints_the_counts(notes, tmp_path):
    path, _ = notes
    build(path, tmp_path / "out")
    planned = cli("push", tmp_path / "out", "--repo-id", "someone/notes", "--dry-run", cwd=tmp_path)
    assert planned.returncode == 0, planned.stderr
    assert "personal_information   3 personal identifiers in 1 record of 3 (" in planned.stdout


def test_the_check_is_one_of_validates_checks():
    assert checks.PERSONAL_INFORMATION in checks.CHECKS


def test_the_reports_findings_figure_counts_them_by_kind(notes):
    from bioinstruct_tools import report

    path, _ = notes
    validation = checks.validate_file(str(path), checks.ValidationOptions(histogram_from=report.HISTOGRAM_FROM))
    assert report.collect(validation).numbers["checks"]["personal_information"] == {"DATE": 1, "MRN": 1, "NAME": 1}


def test_a_field_too_long_to_check_is_reported_gated_and_never_redacted_as_clean(tmp_path, monkeypatch):
    import bioinstruct_tools.personal_information as personal_information

    monkeypatch.setattr(personal_information, "MAX_CHECKED_CHARACTERS", 95)
    rows = records(2)
    rows[0]["input"] = "word " * 20  # 100 characters: longer than the check reads here
    path = write_jsonl(tmp_path / "long.jsonl", rows)
    warned = json.loads(cli("validate", path, "--json", cwd=tmp_path).stdout)["checks"]["personal_information"]
    assert warned["status"] == "warn" and warned["unchecked"] == 1
    assert warned["counts"] == {"too_long_to_check": 1}
    assert cli("validate", path, "--gate-personal-information", cwd=tmp_path).returncode == 1
    assert cli("clean", path, "--out", "c.jsonl", "--personal-information", "redact", cwd=tmp_path).returncode == 0
    excluded = [json.loads(line) for line in (tmp_path / "c.excluded.jsonl").read_text().splitlines()]
    assert [row["index"] for row in excluded] == [0]
    assert {reason["reason"] for reason in excluded[0]["reasons"]} == {"personal_information_unchecked"}


def test_the_gate_holds_in_build_and_push_too(notes, tmp_path):
    path, _ = notes
    refused = cli("build", "--source", path, "--out", "gated", "--gate-personal-information", cwd=tmp_path)
    assert refused.returncode == 1 and "validation failed (personal_information)" in refused.stderr
    assert not (tmp_path / "gated").exists()
    build(path, tmp_path / "out")
    pushed = cli("push", tmp_path / "out", "--repo-id", "someone/notes", "--dry-run", "--gate-personal-information",
                 cwd=tmp_path)
    assert pushed.returncode == 1 and "nothing was pushed" in pushed.stderr


def test_a_large_batch_is_searched_on_the_cores_as_one_process_searches_it(monkeypatch):
    """Over 8,192 records, forked workers read them while the earlier checks run; the findings are the same."""
    import multiprocessing
    import os
    import sys

    from bioinstruct_tools import workers

    texts = [item["text"] for item in LABELED]
    rows = [{"instruction": f"Task {i}: read the note.", "input": texts[i % len(texts)], "output": texts[-i % len(texts)]}
            for i in range(9_000)]
    rows[4_321]["input"] = "x" * 2_000_000  # too long to check, on a worker too
    subject = checks.numbered(rows)
    on_the_cores = checks.validate(subject, "many.jsonl", checks=(checks.SCHEMA, checks.PERSONAL_INFORMATION))
    assert not multiprocessing.active_children()
    if sys.platform == "linux" and len(os.sched_getaffinity(0)) > 1:
        assert checks._personal_information_search(subject).forked  # this batch takes the parallel path
        checks._personal_information_search(subject).stop()
    monkeypatch.setattr(workers, "cores", lambda: 1)
    here = checks.validate(subject, "many.jsonl", checks=(checks.SCHEMA, checks.PERSONAL_INFORMATION))
    result, expected = on_the_cores[checks.PERSONAL_INFORMATION], here[checks.PERSONAL_INFORMATION]
    assert result.offenders == expected.offenders and result.counts == expected.counts
    assert result.counts["too_long_to_check"] == 1 and len(result.offenders) > 1_000
