"""One reader for every command: each shape a user has, through the real CLI; ids; --field-map."""

import csv
import json

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bioinstruct_tools import contamination, report, sources
from bioinstruct_tools.cli import main
from bioinstruct_tools.records import UnreadableFileError
from conftest import build, records

ROWS = [dict(row, id=f"q{index}") for index, row in enumerate(records(6))]
FIELDS = ["id", "instruction", "input", "output"]


def _keyed(path):
    path.write_text(json.dumps({row["id"]: {k: v for k, v in row.items() if k != "id"} for row in ROWS}, indent=2))


def _saved(path, dict_of_splits: bool):
    dataset = datasets.Dataset.from_list(ROWS)
    (datasets.DatasetDict({"train": dataset}) if dict_of_splits else dataset).save_to_disk(str(path))


def _csv(path):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(ROWS)


def _datasets_folder(path):
    (path / "data").mkdir(parents=True)
    (path / "data" / "train.jsonl").write_text("".join(json.dumps(row) + "\n" for row in ROWS))


SHAPES = {
    "array.json": lambda p: p.write_text(json.dumps(ROWS, indent=2)),
    "lines.jsonl": lambda p: p.write_text("".join(json.dumps(row) + "\n" for row in ROWS)),
    "keyed.json": _keyed,
    "rows.parquet": lambda p: pq.write_table(pa.Table.from_pylist(ROWS), p),
    "rows.csv": _csv,
    "saved": lambda p: _saved(p, dict_of_splits=False),
    "saved_dict": lambda p: _saved(p, dict_of_splits=True),
    "datasets_folder": _datasets_folder,
    "built": lambda p: build(p.parent / "lines.jsonl", p),  # ids do not survive a build: it keeps the three fields
}


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shapes")
    for name, write in SHAPES.items():  # "built" reads lines.jsonl, written first
        write(folder / name)
    return folder


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_reads_the_same_records_with_their_ids(shapes, shape):
    read = list(sources.read_source(str(shapes / shape)))
    assert [{name: r.data[name] for name in ("instruction", "input", "output")} for r in read] == [
        {name: row[name] for name in ("instruction", "input", "output")} for row in ROWS]
    assert [r.index for r in read] == list(range(len(ROWS)))
    assert [r.id for r in read] == ([None] * len(ROWS) if shape == "built" else [row["id"] for row in ROWS])


COMMANDS = {
    "validate": lambda src, out: ["validate", src, "--json"],
    "clean": lambda src, out: ["clean", src, "--out", f"{out}/clean.jsonl", "--json"],
    "contamination": lambda src, out: ["contamination", src, "--against", src.replace("built", "lines.jsonl"), "--json"],
    "categorize": lambda src, out: ["categorize", "--file", src, "--json"],
    "report": lambda src, out: ["report", src, "--out", f"{out}/report", "--json"],
    "build": lambda src, out: ["build", "--source", src, "--out", f"{out}/build", "--json"],
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("shape", SHAPES)
def test_every_command_takes_every_shape(shapes, shape, command, tmp_path, capsys, monkeypatch):
    if command == "contamination" and shape == "built":
        pytest.skip("a record's whole text is its own benchmark: covered by the other shapes")
    # The figures are drawn from the report's numbers, not from the source (tests/test_report.py draws them): here
    # they would only cost three seconds a shape.
    monkeypatch.setattr(report, "write_figures", lambda numbers, folder: [])
    code = main(COMMANDS[command](str(shapes / shape), str(tmp_path)))
    out = capsys.readouterr().out
    if command == "contamination":
        assert code == 1  # every record long enough to count is found in itself
        long_enough = sum(len(row["instruction"].split()) >= contamination.MIN_WHOLE_FIELD_WORDS for row in ROWS)
        assert json.loads(out)["contaminated"] == long_enough > 0
    elif command == "categorize":
        assert code == 0 and len(out.splitlines()) == len(ROWS)
        assert [json.loads(line)["id"] for line in out.splitlines()] == [
            None if shape == "built" else row["id"] for row in ROWS]
    else:
        assert code == 0, out
        document = json.loads(out)
        rows = {"validate": lambda d: d["rows"], "clean": lambda d: d["kept"], "report": lambda d: d["rows"],
                "build": lambda d: d["configs"][0]["rows"]}[command](document)
        assert rows == len(ROWS)


def test_a_file_shaped_like_a_published_gpt4_set_reads_with_a_field_map(tmp_path, capsys):
    rows = [{"id": f"m{i}", "instruction": row["instruction"], "difficulty": i % 3, "gpt-4-answer": row["output"]}
            for i, row in enumerate(records(5))]
    source = tmp_path / "gpt4.json"
    source.write_text(json.dumps(rows))
    assert main(["validate", str(source)]) == 1
    printed = capsys.readouterr().out
    assert ("record 0 (line 1, id 'm0'): missing_field: missing field 'output'; the record has 'id', 'instruction', "
            "'difficulty', 'gpt-4-answer': name the file's field with --field-map output=NAME") in printed
    assert "--field-map input=NAME (or input= when the file has none)" in printed
    assert main(["validate", str(source), "--field-map", "output=gpt-4-answer,input="]) == 0
    capsys.readouterr()
    assert main(["clean", str(source), "--field-map", "output=gpt-4-answer,input=", "--out", str(tmp_path / "c.json")]) == 0
    kept = json.loads((tmp_path / "c.json").read_text())
    assert kept[0] == {"id": "m0", "instruction": rows[0]["instruction"], "difficulty": 0,
                       "output": rows[0]["gpt-4-answer"], "input": ""}
    out = tmp_path / "built"
    assert main(["build", "--source", str(source), "--field-map", "output=gpt-4-answer,input=", "--out", str(out)]) == 0
    loaded = datasets.load_dataset(str(out), split="train", cache_dir=str(tmp_path / "hf"))
    assert loaded[0] == {"instruction": rows[0]["instruction"], "input": "", "output": rows[0]["gpt-4-answer"]}


@pytest.mark.parametrize("text, message", [
    ("output", "expected NEW=OLD"), ("answer=output", "'answer' is not a record field"),
    ("output=a,output=b", "'output' is mapped twice"), (",", "expected NEW=OLD,..."),
])
def test_a_bad_field_map_is_refused_by_the_parser(text, message, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["validate", "x.json", "--field-map", text])
    assert stopped.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("content, detail", [
    ('{"a": {"instruction": "x"}, "b": "text"}', "record 1, line 1: expected a JSON object as the value of key 'b'"),
    ('{"a": {"x": 1}, "a": {"x": 2}}', "key 'a' appears twice in the keyed object"),
    ('{"a": {"x": 1} "b": {}}', "expected ',' or '}' after the record"),
    ('{"a": {"x": 1}}\n{"b": {}}', "data after the keyed object's closing '}'"),
])
def test_a_broken_keyed_object_names_the_record(tmp_path, content, detail):
    path = tmp_path / "keyed.json"
    path.write_text(content)
    with pytest.raises(UnreadableFileError, match=detail.replace("(", r"\(").replace(")", r"\)")):
        list(sources.read_source(str(path)))


def test_a_split_is_never_a_fallback(shapes):
    with pytest.raises(UnreadableFileError, match=r"has no split 'test' \(it has train\)"):
        list(sources.read_source(str(shapes / "saved_dict"), split="test"))
    with pytest.raises(UnreadableFileError, match="a file has no splits"):
        list(sources.read_source(str(shapes / "lines.jsonl"), split="train"))


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(_text, st.fixed_dictionaries({"instruction": _text, "n": st.integers()}), min_size=1, max_size=8))
def test_a_keyed_object_reads_like_its_values_in_every_layout(tmp_path_factory, keyed):
    folder = tmp_path_factory.mktemp("keyed")
    (folder / "k.json").write_text(json.dumps(keyed, indent=1, ensure_ascii=False), encoding="utf-8")
    (folder / "a.json").write_text(json.dumps(list(keyed.values())), encoding="utf-8")
    read = list(sources.read_source(str(folder / "k.json")))
    assert [r.data for r in read] == list(keyed.values()) == [r.data for r in sources.read_source(str(folder / "a.json"))]
    assert [r.id for r in read] == list(keyed)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["instruction", "input", "output", "answer", "context", "x"]), _text),
       st.lists(st.tuples(st.sampled_from(["instruction", "input", "output"]),
                          st.one_of(st.none(), st.sampled_from(["answer", "context", "x", "output"]))),
                unique_by=lambda pair: pair[0], max_size=3))
def test_a_field_map_reads_each_field_from_its_source_key(row, renames):
    field_map = sources.FieldMap(tuple(renames))
    mapped = field_map.apply(row)
    for new, old in renames:
        if old is None:
            assert mapped[new] == ""
        elif old in row:
            assert mapped[new] == row[old]
        else:
            assert new not in mapped
    assert sources.FieldMap.parse(str(field_map)) == field_map if renames else True
