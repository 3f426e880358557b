"""The loading script through its three routes, its readers and its located errors."""

import json
import logging
import shutil

import datasets
import pytest
from conftest import (
    DATASETS_MAJOR,
    SAMPLE,
    SCRIPT,
    build_config,
    records,
    write_array,
    write_jsonl,
)

import bioinstruct
from bioinstruct_tools import published
from bioinstruct_tools.categories import CATEGORIES, categorize
from bioinstruct_tools.published import PUBLISHED_SIZE
from bioinstruct_tools.configs import features_of
from bioinstruct_tools.json_reader import read_records
from bioinstruct_tools.records import BioInstructInputError, MalformedRecordError, is_empty_input_placeholder

pytestmark = pytest.mark.uses_datasets


expected_features = features_of


def test_configs_are_generated_from_the_category_list():
    names = [config.name for config in bioinstruct.BioInstruct.BUILDER_CONFIGS]
    assert names == ["default", *CATEGORIES, "categorized", "chat", "prompt_completion"] == list(published.CONFIG_NAMES)
    assert bioinstruct.BioInstruct.DEFAULT_CONFIG_NAME == "default"


@pytest.mark.parametrize("config_name", published.CONFIG_NAMES)
def test_builder_class_yields_the_declared_features(config_name, tmp_path):
    dataset = build_config(config_name, [str(SAMPLE)], tmp_path)
    assert dataset.features == expected_features(config_name)
    assert dataset.num_rows > 0


def test_subsets_partition_the_full_set(tmp_path, sample_rows):
    full = build_config("default", [str(SAMPLE)], tmp_path / "full")
    subsets = {name: build_config(name, [str(SAMPLE)], tmp_path / name) for name in CATEGORIES}
    assert sum(subset.num_rows for subset in subsets.values()) == full.num_rows == len(sample_rows)
    seen = [instruction for subset in subsets.values() for instruction in subset["instruction"]]
    assert sorted(seen) == sorted(full["instruction"])  # each row in exactly one subset
    for name, subset in subsets.items():
        assert all(categorize(i, x) == name for i, x in zip(subset["instruction"], subset["input"]))


def test_categorized_view_carries_the_same_rows_with_their_category(tmp_path):
    full = build_config("default", [str(SAMPLE)], tmp_path / "full")
    labeled = build_config("categorized", [str(SAMPLE)], tmp_path / "labeled")
    assert labeled.remove_columns("category").to_list() == full.to_list()
    names = labeled.features["category"].int2str(labeled["category"])
    assert names == [categorize(r["instruction"], r["input"]) for r in full]


def test_examples_have_unique_stable_keys(tmp_path):
    builder = bioinstruct.BioInstruct(config_name="qa", data_files=[str(SAMPLE)], cache_dir=str(tmp_path))
    keys = [key for key, _ in builder._generate_examples(paths=[str(SAMPLE)])]
    assert len(keys) == len(set(keys))
    again = [key for key, _ in builder._generate_examples(paths=[str(SAMPLE)])]
    assert keys == again


@pytest.mark.parametrize("writer,bom", [(write_jsonl, False), (write_jsonl, True), (write_array, False), (write_array, True)],
                         ids=["jsonl", "jsonl-bom", "array", "array-bom"])
def test_reads_arrays_and_json_lines_with_or_without_bom(writer, bom, tmp_path):
    path = writer(tmp_path / "copy.json", records(3), bom=bom)
    dataset = build_config("default", [str(path)], tmp_path / "cache")
    assert dataset.to_list() == records(3)


def test_regenerated_copy_drops_extra_keys_and_placeholders_and_says_so(tmp_path, caplog):
    rows = records(3)
    for row in rows:
        row["most_similar_instructions"] = {"Extract drugs.": 0.5}
        row["avg_similarity_score"] = 0.2
    rows[0]["input"], rows[1]["input"], rows[2]["input"] = "<noinput>", "<No Input>", "noinput"
    path = write_array(tmp_path / "regen.json", rows)
    with caplog.at_level(logging.WARNING):
        dataset = build_config("default", [str(path)], tmp_path / "cache")
    assert dataset.column_names == ["instruction", "input", "output"]
    assert dataset["input"] == ["", "", ""]
    assert "avg_similarity_score (3 records)" in caplog.text
    assert "most_similar_instructions (3 records)" in caplog.text
    assert "replaced 3 empty-input placeholders" in caplog.text


@pytest.mark.parametrize("text", ["<noinput>", "<no input>", "noinput", "No input.", "<NO_INPUT>", " N/A ", "<none>"])
def test_empty_input_placeholders(text):
    assert is_empty_input_placeholder(text)


@pytest.mark.parametrize("text", ["", "No input was given by the patient, who was unconscious.", "none of the above"])
def test_real_inputs_are_not_placeholders(text):
    assert not is_empty_input_placeholder(text)


def _generation_error(path, tmp_path):
    with pytest.raises(Exception) as raised:
        build_config("default", [str(path)], tmp_path / "cache")
    error = raised.value
    while not isinstance(error, BioInstructInputError) and error.__cause__ is not None:
        error = error.__cause__
    assert isinstance(error, BioInstructInputError), repr(raised.value)
    return error


@pytest.mark.parametrize(
    "broken,reason,expected",
    [
        ({"instruction": "List the drugs in the note.", "input": ""}, "missing_field", "missing field 'output'"),
        ({"instruction": "List the drugs in the note.", "input": 3, "output": "none"}, "not_a_string",
         "field 'input' must be a string, found number"),
        ({"instruction": "List the drugs in the note.", "input": "", "output": "  "}, "blank_output",
         "field 'output' is empty or whitespace"),
    ],
)
def test_malformed_record_names_file_record_and_line(broken, reason, expected, tmp_path):
    rows = records(3)
    rows.insert(2, broken)
    path = write_jsonl(tmp_path / "bad.jsonl", rows)
    error = _generation_error(path, tmp_path)
    assert isinstance(error, MalformedRecordError)
    assert (error.reason, error.index, error.line) == (reason, 2, 3)
    assert str(error) == f"{path}: record 2, line 3: {expected}"


def test_invalid_json_line_is_located(tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", records(2))
    path.write_text(path.read_text() + '{"instruction": "x", "input": ""\n', encoding="utf-8")
    error = _generation_error(path, tmp_path)
    assert (error.reason, error.index, error.line) == ("invalid_json", 2, 3)
    assert str(error).startswith(f"{path}: record 2, line 3: invalid JSON at column")


def test_truncated_array_is_located(tmp_path):
    path = write_array(tmp_path / "cut.json", records(5))
    text = path.read_text()
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    error = _generation_error(path, tmp_path)
    assert error.reason == "invalid_json" and error.line is not None
    assert str(error).startswith(f"{path}: record {error.index}, line {error.line}: invalid JSON")


def test_non_object_record_and_bad_encoding(tmp_path):
    path = write_array(tmp_path / "mixed.json", [*records(2), ["not", "an", "object"]])
    error = _generation_error(path, tmp_path)
    assert (error.reason, error.index) == ("not_an_object", 2)
    latin = tmp_path / "latin1.jsonl"
    latin.write_bytes('{"instruction": "Extract the caf\u00e9 name", "input": "", "output": "x"}\n'.encode("latin-1"))
    assert _generation_error(latin, tmp_path).reason == "bad_encoding"


def test_data_dir_reads_the_upstream_file_name(tmp_path):
    folder = tmp_path / "copy"
    folder.mkdir()
    write_array(folder / "biomed_instruct_25k.json", records(4))
    builder = bioinstruct.BioInstruct(config_name="default", data_dir=str(folder), cache_dir=str(tmp_path / "cache"))
    builder.download_and_prepare()
    assert builder.as_dataset(split="train").num_rows == 4


def test_local_copy_is_not_checked_against_recorded_upstream_sizes(tmp_path):
    """A recorded upstream size must not fail a local copy of another size."""
    builder = bioinstruct.BioInstruct(config_name="default", data_files=[str(SAMPLE)], cache_dir=str(tmp_path))
    builder.info.splits = datasets.SplitDict()
    builder.info.splits.add(datasets.SplitInfo(name="train", num_examples=PUBLISHED_SIZE))
    builder.download_and_prepare(verification_mode="basic_checks")
    assert builder.info.splits["train"].num_examples == 101


def test_default_source_is_the_pinned_upstream_url(tmp_path):
    class RecordingDownloadManager:
        def download(self, url):
            self.url = url
            return url

    manager = RecordingDownloadManager()
    builder = bioinstruct.BioInstruct(config_name="default", cache_dir=str(tmp_path))
    [split] = builder._split_generators(manager)
    assert manager.url == (
        "https://huggingface.co/datasets/bio-nlp-umass/bioinstruct/resolve/"
        "8711225b388ba51126bb37e9a51754a927924d49/biomed_instruct_25k.json"
    )
    assert split.gen_kwargs == {"paths": [manager.url]}


@pytest.mark.skipif(DATASETS_MAJOR >= 4, reason="loading scripts run through load_dataset on datasets < 4 only")
@pytest.mark.parametrize("config_name", published.CONFIG_NAMES)
def test_load_dataset_runs_the_script_on_datasets_3(config_name, tmp_path):
    dataset = datasets.load_dataset(str(SCRIPT), config_name, data_files=str(SAMPLE), trust_remote_code=True,
                                    cache_dir=str(tmp_path), split="train")
    assert dataset.features == expected_features(config_name)
    assert dataset.to_list() == build_config(config_name, [str(SAMPLE)], tmp_path / "direct").to_list()


@pytest.mark.skipif(DATASETS_MAJOR >= 4, reason="loading scripts run through load_dataset on datasets < 4 only")
def test_load_dataset_script_with_data_dir_and_recorded_infos_on_datasets_3(tmp_path):
    """The script beside a card that records upstream sizes still loads a local copy of another size."""
    package = tmp_path / "package"
    package.mkdir()
    shutil.copy(SCRIPT, package / "bioinstruct.py")
    (package / "README.md").write_text(
        "---\ndataset_info:\n- config_name: default\n  splits:\n  - name: train\n    num_examples: 25005\n---\n",
        encoding="utf-8")
    folder = tmp_path / "copy"
    folder.mkdir()
    write_array(folder / "biomed_instruct_25k.json", records(4))
    dataset = datasets.load_dataset(str(package / "bioinstruct.py"), data_dir=str(folder), trust_remote_code=True,
                                    cache_dir=str(tmp_path / "cache"), split="train")
    assert dataset.num_rows == 4


@pytest.mark.skipif(DATASETS_MAJOR < 4, reason="datasets >= 4 refuses loading scripts")
def test_load_dataset_refuses_the_script_on_datasets_4_and_later(tmp_path):
    with pytest.raises(RuntimeError, match="Dataset scripts are no longer supported"):
        datasets.load_dataset(str(SCRIPT), data_files=str(SAMPLE), cache_dir=str(tmp_path))


def test_script_imports_are_one_per_line():
    """datasets' script loader parses imports line by line."""
    for line in SCRIPT.read_text(encoding="utf-8").splitlines():
        if line.startswith(("import ", "from ")):
            assert "," not in line.split(" import ")[0] and not line.rstrip().endswith("("), line
            assert line.startswith("from ") or "," not in line, line


# A regenerated copy in which some category has no record: every config still builds, empty ones as
# an empty Dataset with the config's features.
QA_AND_GENERATION_ONLY = [
    {"instruction": "What is the first-line treatment for community-acquired pneumonia?", "input": "", "output": "x"},
    {"instruction": "Summarize the discharge note in two sentences.", "input": "Admitted for CAP.", "output": "y"},
]


@pytest.mark.parametrize("config_name", ["extraction", "other"])
def test_a_category_without_records_builds_an_empty_dataset(config_name, tmp_path):
    source = write_jsonl(tmp_path / "two.jsonl", QA_AND_GENERATION_ONLY)
    assert sorted(categorize(row["instruction"], row["input"]) for row in QA_AND_GENERATION_ONLY) == [
        "generation", "qa"]
    empty = build_config(config_name, [str(source)], tmp_path / "cache")
    assert empty.num_rows == 0 and empty.features == expected_features(config_name)
    assert build_config("qa", [str(source)], tmp_path / "cache").num_rows == 1


@pytest.mark.skipif(DATASETS_MAJOR >= 4, reason="loading scripts run through load_dataset on datasets < 4 only")
def test_load_dataset_script_gives_an_empty_config_on_datasets_3(tmp_path):
    source = write_jsonl(tmp_path / "two.jsonl", QA_AND_GENERATION_ONLY)
    dataset = datasets.load_dataset(str(SCRIPT), "extraction", data_files=str(source), trust_remote_code=True,
                                    cache_dir=str(tmp_path / "cache"), split="train")
    assert dataset.num_rows == 0 and dataset.features == expected_features("extraction")


def test_json_lines_with_raw_line_separators_inside_strings(tmp_path):
    rows = [dict(records(1)[0], output="one\u2028two\u2029three\x85four \U0001F489")]
    path = tmp_path / "separators.jsonl"
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    assert "\u2028" in path.read_text(encoding="utf-8")  # written raw, as ensure_ascii=False does
    assert [record for _, _, record in read_records(str(path))] == rows
