"""`bioinstruct clean`: every record in exactly one of two files, the clean one passing `validate`, idempotent."""

import json

import pytest

from bioinstruct_tools.cli import main
from conftest import SAMPLE, records

BENCH = [{"id": "pmid-1", "QUESTION": "Does early mobilisation after hip fracture surgery reduce delirium in adults "
                                      "over seventy years of age?", "final_decision": "yes"}]


def raw_rows() -> list[dict]:
    rows = [dict(row, id=f"r{index}") for index, row in enumerate(records(8))]
    rows.append(dict(rows[1], id="dup-of-r1"))  # an exact duplicate
    rows.append(dict(rows[2], id="edit-of-r2", instruction=rows[2]["instruction"].replace("the", "a", 1)))  # one word
    rows.append(dict(rows[3], id="empty-output", instruction="Describe the adverse effects of lithium therapy.",
                     output=""))
    rows.append(dict(rows[4], id="leak", instruction="Answer: " + BENCH[0]["QUESTION"]))
    rows.append({"id": "no-output", "instruction": "Name the vitamin deficient in scurvy patients today.", "input": ""})
    return rows


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def cleaned(tmp_path, capsys):
    raw = tmp_path / "raw.jsonl"
    raw.write_text("".join(json.dumps(row) + "\n" for row in raw_rows()), encoding="utf-8")
    bench = tmp_path / "pubmedqa.json"
    bench.write_text(json.dumps({item["id"]: {k: v for k, v in item.items() if k != "id"} for item in BENCH}))
    assert main(["clean", str(raw), "--against", str(bench), "--out", str(tmp_path / "out" / "clean.jsonl"),
                 "--excluded", str(tmp_path / "other" / "excluded.jsonl"), "--json"]) == 0
    return tmp_path, json.loads(capsys.readouterr().out)


def test_each_planted_record_is_excluded_for_its_reason_with_its_kept_partner(cleaned):
    folder, summary = cleaned
    excluded = {row["id"]: row for row in lines(folder / "other" / "excluded.jsonl")}
    reasons = {key: sorted({reason["reason"] for reason in row["reasons"]}) for key, row in excluded.items()}
    assert reasons == {"dup-of-r1": ["duplicate_record", "near_duplicate"], "edit-of-r2": ["near_duplicate"],
                       "empty-output": ["blank_output"], "leak": ["benchmark_overlap"], "no-output": ["missing_field"]}
    partners = {key: {reason.get("kept_partner") for reason in row["reasons"]} for key, row in excluded.items()}
    assert partners["dup-of-r1"] == {1} and partners["edit-of-r2"] == {2}
    assert "pmid-1" in next(r["detail"] for r in excluded["leak"]["reasons"])  # the benchmark item by its key
    assert set(excluded["leak"]) == {"index", "line", "id", "reasons", "record"}  # validate --rejects' format
    assert summary["read"] == 13 and summary["kept"] == 8 and summary["excluded"] == 5


def test_every_record_lands_in_exactly_one_file_in_order(cleaned):
    folder, _ = cleaned
    kept = lines(folder / "out" / "clean.jsonl")
    excluded = [row["record"] for row in lines(folder / "other" / "excluded.jsonl")]
    assert sorted(map(json.dumps, kept + excluded)) == sorted(map(json.dumps, raw_rows()))
    assert [row["id"] for row in kept] == [f"r{index}" for index in range(8)]


def test_the_clean_file_passes_validate_and_cleaning_it_again_changes_nothing(cleaned, capsys):
    folder, _ = cleaned
    clean = folder / "out" / "clean.jsonl"
    assert main(["validate", str(clean), "--gate-near-duplicates", "--against", str(folder / "pubmedqa.json"),
                 "--gate-contamination"]) == 0
    capsys.readouterr()
    assert main(["clean", str(clean), "--against", str(folder / "pubmedqa.json"), "--out", str(folder / "again.jsonl")]) == 0
    assert (folder / "again.jsonl").read_bytes() == clean.read_bytes()
    assert (folder / "again.excluded.jsonl").read_text() == ""  # beside CLEAN when --excluded is not given


def test_clean_against_drops_exactly_what_contamination_flags(tmp_path, capsys):
    bench = tmp_path / "bench.jsonl"
    rows = [json.loads(line) for line in SAMPLE.read_text().splitlines()]
    bench.write_text("".join(json.dumps({"question": row["output"]}) + "\n" for row in rows[::7]))
    assert main(["contamination", str(SAMPLE), "--against", str(bench), "--json"]) == 1
    flagged = {match["index"] for match in json.loads(capsys.readouterr().out)["benchmarks"][str(bench)]["matches"]}
    assert main(["clean", str(SAMPLE), "--against", str(bench), "--out", str(tmp_path / "c.jsonl")]) == 0
    leaked = {row["index"] for row in lines(tmp_path / "c.excluded.jsonl")
              if any(reason["reason"] == "benchmark_overlap" for reason in row["reasons"])}
    assert leaked == flagged and len(flagged) > 5


@pytest.mark.parametrize("outputs, message", [
    (["--out", "raw.jsonl"], "is the input raw.jsonl"),
    (["--out", "c.jsonl", "--excluded", "c.jsonl"], "--out and --excluded name the same file"),
    (["--out", "raw.jsonl/x.jsonl"], "cannot be created"),
])
def test_clean_never_writes_over_its_input(tmp_path, monkeypatch, capsys, outputs, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "raw.jsonl").write_text(SAMPLE.read_text())
    before = (tmp_path / "raw.jsonl").read_bytes()
    assert main(["clean", "raw.jsonl", *outputs]) == 2
    assert message in capsys.readouterr().err
    assert (tmp_path / "raw.jsonl").read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["raw.jsonl"]
