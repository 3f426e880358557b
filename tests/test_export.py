"""`bioinstruct build`: the data-only Hub layout, loadable on datasets 3.6 and 5.x, deterministic, atomic."""

import json
import os
import shutil
import subprocess
import sys

import datasets
import pyarrow.parquet as pq
import pytest
from conftest import REPO, SAMPLE, build, build_config, records, write_jsonl
from huggingface_hub import DatasetCard

from bioinstruct_tools import export, paths, published
from bioinstruct_tools.categories import CATEGORIES
from bioinstruct_tools.cli import main

pytestmark = pytest.mark.uses_datasets


def test_layout_has_parquet_per_config_card_and_infos_and_no_script(built):
    assert sorted(p.relative_to(built).as_posix() for p in built.rglob("*") if p.is_file()) == sorted(
        [published.BUILD_MARKER, "README.md", "dataset_infos.json"]
        + [f"assets/{name}.png" for name in ("categories", "checks", "inputs", "lengths", "near_duplicates", "verbs")]
        + [f"data/{name}/train-00000-of-00001.parquet" for name in published.CONFIG_NAMES])
    assert "Maintainer guide" not in (built / "README.md").read_text()


@pytest.mark.parametrize("config_name", published.CONFIG_NAMES)
def test_every_config_loads_from_the_folder_like_the_builder(config_name, built, tmp_path):
    loaded = datasets.load_dataset(str(built), config_name, split="train", cache_dir=str(tmp_path / "hf"))
    direct = build_config(config_name, [str(SAMPLE)], tmp_path / "direct")
    assert loaded.features == direct.features
    assert loaded.to_list() == direct.to_list()


def test_folder_without_config_name_gives_default_and_streams(built, tmp_path):
    default = datasets.load_dataset(str(built), split="train", cache_dir=str(tmp_path))
    assert default.column_names == ["instruction", "input", "output"] and default.num_rows == 101
    streamed = datasets.load_dataset(str(built), "categorized", split="train", streaming=True)
    first = next(iter(streamed))
    assert set(first) == {"instruction", "input", "output", "category"}


def test_card_rows_equal_parquet_rows(built):
    card = DatasetCard.load(built / "README.md")
    infos = {info["config_name"]: info for info in card.data["dataset_info"]}
    for name in published.CONFIG_NAMES:
        rows = pq.ParquetFile(built / "data" / name / published.SHARD_NAME).metadata.num_rows
        assert infos[name]["splits"][0]["num_examples"] == rows
    assert [config["config_name"] for config in card.data["configs"]] == list(published.CONFIG_NAMES)
    assert [config.get("default", False) for config in card.data["configs"]] == [True] + [False] * 7
    assert card.data["size_categories"] == ["n<1K"]
    saved = json.loads((built / "dataset_infos.json").read_text())
    assert saved["qa"]["splits"]["train"]["num_examples"] == infos["qa"]["splits"][0]["num_examples"]


def test_builds_are_byte_identical(built, tmp_path):
    again = tmp_path / "again"
    build(SAMPLE, str(again))
    for path in built.rglob("*"):
        if path.is_file():
            assert (again / path.relative_to(built)).read_bytes() == path.read_bytes(), path


def test_bad_input_exits_1_and_leaves_no_folder(tmp_path, capsys):
    rows = records(3)
    rows[2] = dict(rows[0])
    source = write_jsonl(tmp_path / "dup.jsonl", rows)
    out = tmp_path / "out"
    assert main(["build", "--source", str(source), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "validation failed (uniqueness)" in err and "record 2 (line 3): duplicate_record" in err
    assert list(tmp_path.iterdir()) == [source]  # neither out nor a staging folder


def test_failure_while_building_leaves_nothing_behind(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(export, "_build_configs", broken)
    with pytest.raises(RuntimeError):
        build(SAMPLE, str(tmp_path / "out"))
    assert list(tmp_path.iterdir()) == []


def test_existing_folder_needs_overwrite_and_must_be_a_build(built, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(built, out)
    assert main(["build", "--source", str(SAMPLE), "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["build", "--source", str(SAMPLE), "--out", str(out), "--overwrite"]) == 0
    assert (out / "README.md").exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out"]  # no retired folder left beside it


def test_overwrite_refuses_a_folder_that_no_build_wrote(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious")
    assert main(["build", "--source", str(SAMPLE), "--out", str(mine), "--overwrite"]) == 2
    assert "not a folder written by `bioinstruct build`" in capsys.readouterr().err
    assert (mine / "thesis.tex").read_text() == "precious"


def test_an_empty_existing_folder_is_written_into(tmp_path):
    (tmp_path / "out").mkdir()
    build(SAMPLE, str(tmp_path / "out"))
    assert (tmp_path / "out" / "README.md").exists()


def test_build_prints_the_table_and_json(tmp_path, capsys):
    assert main(["build", "--source", str(SAMPLE), "--out", str(tmp_path / "o"), "--json"]) == 0
    table = json.loads(capsys.readouterr().out)["configs"]
    assert [row["config"] for row in table] == list(published.CONFIG_NAMES)
    assert sum(row["rows"] for row in table if row["config"] in CATEGORIES) == 101
    assert table[1]["paper_share"] == 0.338


def test_default_source_offline_says_how_to_pass_a_local_copy(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    code = main(["build", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 3 and err.count("\n") == 1
    assert "cannot download https://huggingface.co/datasets/bio-nlp-umass/bioinstruct/resolve/" in err
    assert "--source FILE" in err and not (tmp_path / "o").exists()


def test_record_is_only_for_the_upstream_file(tmp_path, capsys):
    assert main(["build", "--source", str(SAMPLE), "--out", str(tmp_path / "o"), "--record"]) == 2
    assert "--record" in capsys.readouterr().err


def test_a_category_without_records_has_no_config_and_the_card_says_so(tmp_path, capsys):
    """`datasets` (3.6 and 5.x alike) cannot load a 0-example split ("corresponds to no data"): an empty
    category is left out of the card's configs and its files, named in the card and by build and push."""
    rows = [
        {"instruction": "What is the first-line treatment for community-acquired pneumonia?", "input": "", "output": "x"},
        {"instruction": "Summarize the discharge note in two sentences.", "input": "Admitted for CAP.", "output": "y"},
    ]
    source = write_jsonl(tmp_path / "two.jsonl", rows)
    out = tmp_path / "out"
    assert main(["build", "--source", str(source), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "extraction               0     0.0%    33.8%  empty: no record of this category; no config" in printed
    card = DatasetCard.load(out / "README.md")
    listed = [config["config_name"] for config in card.data["configs"]]
    assert listed == ["default", "generation", "qa", "categorized", "chat", "prompt_completion"]
    assert [info["config_name"] for info in card.data["dataset_info"]] == listed
    assert not (out / "data" / "extraction").exists() and not (out / "data" / "other").exists()
    assert "This copy has no extraction record: the `extraction` config is left out" in card.text
    assert "This copy has no other record" in card.text
    for name in listed:  # every config the card lists loads, not streaming
        loaded = datasets.load_dataset(str(out), name, split="train", cache_dir=str(tmp_path / "hf"))
        assert loaded.num_rows == {"default": 2, "generation": 1, "qa": 1}.get(name, 2)
    assert main(["push", str(out), "--repo-id", "org/name", "--dry-run", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["empty_categories"] == ["extraction", "other"]
    assert main(["push", str(out), "--repo-id", "org/name", "--dry-run"]) == 0
    assert "warning: this copy has no extraction record" in capsys.readouterr().out
    assert main(["validate", str(out)]) == 0  # the folder reads back, its layout checked


def test_a_second_build_of_the_same_folder_fails_while_the_first_holds_the_lock(tmp_path, capsys):
    out = tmp_path / "out"
    with paths.output_lock(out, "bioinstruct build"):
        assert main(["build", "--source", str(SAMPLE), "--out", str(out)]) == 3
    assert "another `bioinstruct build` is writing it" in capsys.readouterr().err
    assert not out.exists()


def test_a_later_build_removes_staging_folders_left_by_a_killed_one(tmp_path):
    killed = tmp_path / ".out.staging-abc123"
    (killed / "data").mkdir(parents=True)
    (killed / "data" / "partial.parquet").write_bytes(b"PAR1")
    retired = tmp_path / ".out.old-xyz"
    retired.mkdir()
    unrelated = tmp_path / ".other.staging-keep"
    unrelated.mkdir()
    build(SAMPLE, str(tmp_path / "out"))
    assert sorted(path.name for path in tmp_path.iterdir()) == [".other.staging-keep", "out"]


def test_a_copy_card_makes_none_of_bioinstructs_claims(built):
    card = DatasetCard.load(built / "README.md")
    assert "**Their provenance is unknown**" in card.text and "101 instruction records" in card.text
    for claim in ("GPT-4 in July 2023", "80 human-written seed tasks", "no patient record is the source",
                  "They were generated by GPT-4", "MIT."):
        assert claim not in card.text
    assert "Unknown: whether the records hold personal or health information" in card.text
    assert card.data.license == "unknown"
    sample = [json.loads(line) for line in SAMPLE.read_text().splitlines()]
    assert json.dumps(sample[0], ensure_ascii=False, indent=2)[:-1] in card.text  # an instance from this copy


def test_a_build_leaves_nothing_beside_the_installed_package(tmp_path):
    """datasets 3.x locks `<the folder two above bioinstruct.py>.lock` when a builder is made from a module outside
    its own cache: beside an install, a stray file, or a failed build where that folder is read-only."""
    site = tmp_path / "install" / "site-packages"
    site.mkdir(parents=True)
    shutil.copy(REPO / "bioinstruct.py", site)
    shutil.copytree(REPO / "bioinstruct_tools", site / "bioinstruct_tools", ignore=shutil.ignore_patterns("__pycache__"))
    environment = {**os.environ, "PYTHONPATH": str(site), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-m", "bioinstruct_tools.cli", "build", "--source", str(SAMPLE), "--out",
                             str(tmp_path / "out")], cwd=tmp_path, env=environment, capture_output=True, text=True,
                            timeout=150)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "README.md").is_file()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["install", "out"]  # no install.lock
