"""Each check's exact reason codes on tiny inline corpora, and `bioinstruct validate` end to end."""

import json
import subprocess
import sys

import jsonschema
import pytest
from conftest import SAMPLE, records, run_check, write_array, write_jsonl

from bioinstruct_tools import checks
from bioinstruct_tools.cli import main
from bioinstruct_tools.records import RECORD_SCHEMA, schema_violations


def as_records(rows):
    return [checks.Record(index, index + 1, row) for index, row in enumerate(rows)]


def reasons(result):
    return [(offender.index, offender.reason) for offender in result.offenders]


def test_schema_is_a_valid_json_schema_and_matches_jsonschema():
    jsonschema.Draft202012Validator.check_schema(RECORD_SCHEMA)
    rows = [*records(2), {"instruction": "x y z w", "input": None, "output": "ok"}, {"input": "", "output": "ok"},
            {"instruction": " ", "input": "", "output": ""}]
    validator = jsonschema.Draft202012Validator(RECORD_SCHEMA)
    for row in rows:
        assert bool(schema_violations(row)) == (not validator.is_valid(row))


def test_schema_reason_codes():
    rows = [records(1)[0], {"instruction": "List drugs here.", "input": 1, "output": "a"},
            {"input": "", "output": "a"}, {"instruction": "\t", "input": "", "output": ""}]
    records_ = as_records(rows)
    result = checks.SCHEMA.run(checks.Subject(records_, []), checks.ValidationOptions(), checks.Hooks())
    assert reasons(result) == [(1, "not_a_string"), (2, "missing_field"), (3, "blank_instruction"), (3, "blank_output")]
    assert not result.passed and result.gating


def test_uniqueness_reason_codes():
    a, b, c = records(3)
    near = dict(b, instruction=b["instruction"].upper().replace(".", " !"))
    rows = [a, b, dict(a), dict(b, output="different"), near, c]
    result = run_check(checks.UNIQUENESS, rows)
    assert reasons(result) == [(2, "duplicate_record"), (3, "duplicate_instruction"), (4, "normalized_duplicate_instruction")]
    assert not result.passed


def test_normalized_duplicates_gate_only_when_strict():
    a = records(1)[0]
    rows = [a, dict(a, instruction=a["instruction"].lower().rstrip("."))]
    assert run_check(checks.UNIQUENESS, rows).passed
    assert not run_check(checks.UNIQUENESS, rows, strict=True).passed


def test_size_gate():
    rows = records(3)
    unknown = run_check(checks.SIZE, rows)
    assert unknown.status == "skip" and not unknown.gating
    assert run_check(checks.SIZE, rows, expected_rows=3).status == "pass"
    result = run_check(checks.SIZE, rows, expected_rows=25005)
    assert reasons(result) == [(None, "row_count_mismatch")] and result.gating


def test_placeholder_outputs_fail_and_input_placeholders_are_counted():
    rows = records(5)
    rows[0]["input"] = "<noinput>"
    rows[1]["output"] = "<nooutput>"
    rows[2]["output"] = "N/A"
    rows[3]["output"] = "None"  # a legitimate answer ("no allergies mentioned")
    result = run_check(checks.PLACEHOLDERS, rows)
    assert reasons(result) == [(1, "placeholder_output"), (2, "placeholder_output")]
    assert result.findings.empty_input_placeholders == 1


@pytest.mark.parametrize(
    "instruction,expected",
    [
        ("Summarize it.", ["instruction_too_short"]),
        ("Explain " + "very " * 150 + "much.", ["instruction_too_long"]),
        ("Describe the chest X-ray image of the patient.", ["blacklisted_keyword"]),
        ("Plot the patient's glucose values over time.", ["blacklisted_keyword"]),
        ("Go to the pharmacy website and list the prices.", ["blacklisted_keyword"]),
        ("- List the side effects of metformin.", ["starts_with_punctuation"]),
        ("\u00bfQu\u00e9 es la diabetes tipo 2 y c\u00f3mo se trata?", ["starts_with_non_ascii"]),
        ("List the side effects of metformin in adults.", []),
        ("Write a mapping of drugs to classes for the note.", []),  # "mapping" is not the word "map"
    ],
)
def test_self_instruct_filter_reasons(instruction, expected):
    assert checks.self_instruct_filter_reasons(instruction) == expected


def test_self_instruct_filters_gate_only_when_strict():
    rows = [dict(records(1)[0], instruction="Summarize it.")]
    assert run_check(checks.SELF_INSTRUCT_FILTERS, rows).status == "warn"
    assert run_check(checks.SELF_INSTRUCT_FILTERS, rows, strict=True).status == "fail"


def test_near_duplicates_report_pairs_and_greedy_drops():
    rows = records(4)
    rows[0]["instruction"] = "List all the medications mentioned in the discharge summary of the patient."
    rows[1]["instruction"] = "List all the medications mentioned in the discharge summary for this patient."
    rows[2]["instruction"] = "List all medications mentioned in the discharge summary for this patient."
    result = run_check(checks.NEAR_DUPLICATES, rows)
    assert [offender.pair for offender in result.offenders] == [(0, 1), (0, 2), (1, 2)]
    assert result.findings.greedy_dropped == [1, 2]
    assert result.status == "warn"
    assert run_check(checks.NEAR_DUPLICATES, rows, gate_near_duplicates=True).status == "fail"
    assert run_check(checks.NEAR_DUPLICATES, rows, near_duplicate_threshold=0.95).findings.greedy_dropped == [2]


def test_category_distribution_sits_next_to_the_paper():
    result = run_check(checks.CATEGORIES_CHECK, records(4))
    assert result.findings.rows == {"extraction": 1, "generation": 1, "qa": 1, "other": 1}
    assert result.findings.paper_shares["extraction"] == 0.338
    assert result.status == "info"  # the shares inform; no share passes or fails


def test_schema_invalid_records_are_left_out_of_content_checks(tmp_path):
    rows = records(3)
    rows[1] = {"instruction": "List the drugs.", "input": ["a"], "output": "x"}
    report = checks.validate_file(str(write_jsonl(tmp_path / "x.jsonl", rows)))
    assert reasons(report[checks.SCHEMA]) == [(1, "not_a_string")]
    assert sum(report[checks.CATEGORIES_CHECK].findings.rows.values()) == 2
    assert not report.passed


# ---------------------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------------------


def call(capsys, *args):
    """`bioinstruct ARGS` in this process: (exit code, stdout, stderr)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_sample_passes(capsys):
    code, out, _ = call(capsys, "validate", str(SAMPLE))
    assert code == 0
    assert "result: PASS" in out and "101 records" in out


def test_validate_bad_file_names_each_record_and_exits_1(tmp_path, capsys):
    rows = records(5)
    rows[1] = dict(rows[0])  # duplicate
    del rows[2]["output"]  # missing field
    rows[3]["input"] = 7  # non-string
    rows[4]["output"] = "   "  # empty output
    path = write_jsonl(tmp_path / "bad.jsonl", rows)
    code, out, err = call(capsys, "validate", str(path))
    assert code == 1 and "Traceback" not in err
    assert "record 1 (line 2): duplicate_record" in out
    assert "record 2 (line 3): missing_field: missing field 'output'" in out
    assert "record 3 (line 4): not_a_string" in out
    assert "record 4 (line 5): blank_output" in out
    assert "result: FAIL" in out


@pytest.mark.parametrize(
    "content,message",
    [
        (None, "no such file"),
        (b"this is not json\n", "invalid JSON"),
        ('[{"instruction": "caf\u00e9"}]'.encode("utf-16"), "not UTF-8"),
        (b"", "holds no records"),
    ],
    ids=["missing", "not-json", "utf-16", "empty"],
)
def test_unreadable_files_exit_2_with_one_line(content, message, tmp_path):
    path = tmp_path / "input.json"
    if content is not None:
        path.write_bytes(content)
    result = subprocess.run([sys.executable, "-m", "bioinstruct_tools.cli", "validate", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr and "Traceback" not in result.stderr
    assert str(path) in result.stderr


def test_validate_json_document_shape(tmp_path, capsys):
    rows = records(3)
    rows[2] = dict(rows[0])
    path = write_array(tmp_path / "regen.json", rows)
    code, out, _ = call(capsys, "validate", str(path), "--json")
    document = json.loads(out)
    assert code == 1 and document["passed"] is False and document["rows"] == 3
    assert set(document["checks"]) == {"schema", "uniqueness", "size", "placeholders", "self_instruct_filters",
                                       "near_duplicates", "personal_information", "categories"}
    uniqueness = document["checks"]["uniqueness"]
    assert uniqueness["status"] == "fail" and uniqueness["counts"] == {"duplicate_record": 1}
    assert uniqueness["offenders"][0]["index"] == 2 and isinstance(uniqueness["seconds"], float)
    near = document["checks"]["near_duplicates"]
    assert near["offenders"][0]["pair"] == [0, 2] and near["offenders"][0]["score"] == 1.0
    assert near["greedy_dropped"] == [2]


def test_expect_rows_and_upstream_name_gate_size(tmp_path, capsys):
    path = write_jsonl(tmp_path / "copy.jsonl", records(3))
    assert call(capsys, "validate", str(path), "--expect-rows", "3")[0] == 0
    code, out, _ = call(capsys, "validate", str(path), "--expect-rows", "4")
    assert code == 1 and "row_count_mismatch: expected 4 rows, found 3" in out
    upstream = write_array(tmp_path / "biomed_instruct_25k.json", records(3))
    code, out, _ = call(capsys, "validate", str(upstream))
    assert code == 1 and "expected 25005 rows, found 3" in out


def test_rejects_file_lists_every_offender_with_its_reason(tmp_path, capsys):
    rows = records(4)
    rows[1]["output"] = "<nooutput>"
    rows[3] = dict(rows[0], output="other")
    path = write_jsonl(tmp_path / "x.jsonl", rows)
    rejects = tmp_path / "rejects.jsonl"
    call(capsys, "validate", str(path), "--rejects", str(rejects))
    rejected = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [row["index"] for row in rejected] == [1, 3]
    assert [r["reason"] for r in rejected[0]["reasons"]] == ["placeholder_output"]
    assert {r["reason"] for r in rejected[1]["reasons"]} == {"duplicate_instruction", "near_duplicate"}
    assert rejected[1]["record"] == rows[3] and rejected[1]["line"] == 4


def test_every_subcommand_has_help(capsys):
    from bioinstruct_tools.commands import COMMANDS

    names = [command.NAME for command in COMMANDS]
    assert sorted(names) == ["build", "card", "categorize", "clean", "contamination", "push", "report", "validate"]
    for command in ([], *([name] for name in names)):
        with pytest.raises(SystemExit) as exited:
            main([*command, "--help"])
        out = capsys.readouterr().out
        assert exited.value.code == 0 and out.startswith("usage: bioinstruct"), command
        assert out.count("\n") > 3, command
    result = subprocess.run([sys.executable, "-m", "bioinstruct_tools.cli", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "COMMAND" in result.stdout  # and as a process


@pytest.mark.parametrize("variant", [
    "Cafe\u0301 list the drugs.",  # NFD against NFC
    "Café \u200blist the drugs.",  # a zero-width space
    "\ufeffCafé list the drugs.",  # a leading byte-order mark
    "ＣＡＦÉ list the drugs.",  # full-width letters (NFKC)
])
def test_strict_uniqueness_normalises_unicode(variant):
    rows = [dict(records(1)[0], instruction="Café list the drugs."), dict(records(2)[1], instruction=variant)]
    result = run_check(checks.UNIQUENESS, rows, strict=True)
    assert reasons(result) == [(1, "normalized_duplicate_instruction")] and not result.passed


def test_records_left_out_for_schema_violations_are_counted():
    rows = [*records(3), {"instruction": "List drugs here.", "input": 1, "output": "a"}]
    report = checks.validate(as_records(rows), "f.jsonl")
    assert report.skipped == 1
    assert report[checks.UNIQUENESS].summary == "3 distinct instructions in 3 schema-valid records"


def test_validate_streams_every_pair_to_pairs_and_keeps_show_in_the_report(tmp_path, capsys):
    base = "Summarize the discharge note of the patient with sepsis in two sentences"
    rows = [dict(records(1)[0], instruction=f"{base} variant {k}") for k in range(6)]
    path = write_jsonl(tmp_path / "near.jsonl", rows)
    assert main(["validate", str(path), "--json", "--show", "2", "--pairs", str(tmp_path / "pairs.jsonl")]) == 0
    captured = capsys.readouterr()
    near = json.loads(captured.out)["checks"]["near_duplicates"]
    streamed = [json.loads(line) for line in (tmp_path / "pairs.jsonl").read_text().splitlines()]
    assert near["pairs"] == near["counts"]["near_duplicate"] == len(streamed) == 15  # every pair of six
    assert [offender["pair"] for offender in near["offenders"]] == [[0, 1], [0, 2]]
    assert streamed[0] == {"first": 0, "second": 1, "score": near["offenders"][0]["score"]}
    assert near["greedy_dropped"] == [1, 2, 3, 4, 5] and near["greedy_kept_partner"] == [0] * 5
    assert "15 pairs written to" in captured.err
