"""What is published was checked: the built-folder check and the push gate hold for every reader and every caller.

Each case changes one thing in a copy of a real build, the way a hand or an attacker would, and expects
`push --dry-run` (and the library gate itself) to refuse it with exit 2, naming the file, before any
network call. A card that lies about its rows is refused by every command that reads a built folder.
"""

import json
import os
import re
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import SAMPLE, build, records, write_jsonl
from huggingface_hub import HfApi
from huggingface_hub.errors import OfflineModeIsEnabled

from bioinstruct_tools import hub, published, release
from bioinstruct_tools.built_folder import read_built_folder
from bioinstruct_tools.cli import main
from bioinstruct_tools.published import LayoutError

# The gate and the copies' files do not depend on the datasets version: run on the newest only.

SHARD = published.SHARD_NAME


@pytest.fixture
def folder(built, tmp_path, monkeypatch):
    """A private copy of the sample build, with the Hub offline (a dry run lists no remote file) and no commit."""
    copy = tmp_path / "hub"
    shutil.copytree(built, copy)

    def offline(*args, **kwargs):
        raise OfflineModeIsEnabled("offline in tests")

    def no_commit(*args, **kwargs):
        raise AssertionError("the Hub was called")

    monkeypatch.setattr(HfApi, "dataset_info", offline)
    monkeypatch.setattr(HfApi, "create_commit", no_commit)
    return copy


def refused(capsys, folder, message, *extra):
    """`push --dry-run` exits 2 with one line saying `message`; the library gate refuses it too."""
    assert main(["push", str(folder), "--repo-id", "org/x", "--dry-run", *extra]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert message in line, line
    with pytest.raises(LayoutError):
        release.check_release(folder, "org/x")
    return line


def edit_card(folder, old, new):
    path = folder / "README.md"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# ---------------------------------------------------------------------------------------------------
# The gate is the library's: no caller can push what it did not check
# ---------------------------------------------------------------------------------------------------


def test_hub_plans_only_a_checked_release(folder):
    with pytest.raises(TypeError, match="check_release"):
        hub.plan_push(read_built_folder(folder), list_remote=False)
    with pytest.raises(TypeError, match="check_release"):
        release.CheckedRelease(read_built_folder(folder), None, "org/x")
    checked = release.check_release(folder, "org/x")
    assert hub.plan_push(checked, list_remote=False).additions == checked.built.layout_files


def test_a_file_changed_after_the_check_is_not_uploaded(folder):
    class Api(HfApi):
        commits = []

        def create_commit(self, **kwargs):
            self.commits.append(kwargs)

    plan = hub.plan_push(release.check_release(folder, "org/x"), list_remote=False)
    plan.deletions, plan.parent_commit = [], "a" * 40
    (folder / "data" / "qa" / SHARD).write_bytes((folder / "data" / "other" / SHARD).read_bytes())
    with pytest.raises(hub.PushError, match="changed after it was checked"):
        hub.push(plan, api=Api())
    assert Api.commits == []


def test_a_failed_gate_is_refused_by_the_library_too(folder):
    with pytest.raises(release.ReleaseRefused) as raised:
        release.check_release(folder, published.UPSTREAM_REPO_ID)  # the published repo gates on 25,005 rows
    assert "size" in str(raised.value) and not raised.value.validation.passed


# ---------------------------------------------------------------------------------------------------
# A card that lies about its rows: every reader refuses it
# ---------------------------------------------------------------------------------------------------

READERS = [
    ["validate", "{f}"],
    ["clean", "{f}", "--out", "{t}/clean.jsonl"],
    ["contamination", "{f}", "--against", str(SAMPLE)],
    ["categorize", "--file", "{f}"],
    ["report", "{f}", "--out", "{t}/report"],
    ["build", "--source", "{f}", "--out", "{t}/rebuilt"],
    ["push", "{f}", "--repo-id", "org/x", "--dry-run"],
]


@pytest.mark.parametrize("command", READERS, ids=[command[0] for command in READERS])
def test_a_card_that_lies_about_its_rows_is_refused_by_every_reader(folder, tmp_path, capsys, command):
    edit_card(folder, "num_examples: 101", "num_examples: 7")
    args = [part.format(f=folder, t=tmp_path) for part in command]
    assert main(args) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "README.md: says config 'default' has 7 rows, its parquet file 101" in line
    assert not any((tmp_path / name).exists() for name in ("clean.jsonl", "report", "rebuilt"))


def test_push_says_what_the_checks_found_and_gates_as_build_does(folder, tmp_path, capsys):
    leak = tmp_path / "bench.jsonl"
    write_jsonl(leak, [{"question": json.loads(SAMPLE.read_text().splitlines()[3])["output"]}])
    assert main(["push", str(folder), "--repo-id", "org/x", "--dry-run", "--against", str(leak)]) == 0
    out = capsys.readouterr().out
    assert "WARN  contamination" in out and "record 3: benchmark_overlap" in out and "dry run" in out
    assert main(["push", str(folder), "--repo-id", "org/x", "--dry-run", "--against", str(leak),
                 "--gate-contamination"]) == 1
    assert "nothing was pushed" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------------
# Exactly what the build wrote: files, configs, card YAML, infos, shards, assets
# ---------------------------------------------------------------------------------------------------


def test_a_second_shard_beside_the_first_is_refused(folder, capsys):
    shutil.copy(folder / "data" / "default" / SHARD, folder / "data" / "default" / "train-00001-of-00002.parquet")
    refused(capsys, folder, "data/default/train-00001-of-00002.parquet: not a file `bioinstruct build` writes")


def test_a_new_config_folder_is_refused(folder, capsys):
    (folder / "data" / "extra").mkdir()
    shutil.copy(folder / "data" / "qa" / SHARD, folder / "data" / "extra" / SHARD)
    edit_card(folder, "configs:\n", "configs:\n- config_name: extra\n  data_files:\n  - split: train\n"
                                    "    path: data/extra/train-*.parquet\n")
    refused(capsys, folder, "its YAML `configs:` are not the ones the build writes")


def test_a_config_pointed_at_another_folder_is_refused(folder, capsys):
    edit_card(folder, "path: data/qa/train-*.parquet", "path: data/other/train-*.parquet")
    refused(capsys, folder, "its YAML `configs:` are not the ones the build writes")


@pytest.mark.parametrize("old, new, message", [
    ("license: unknown", "license: mit", "dataset_infos.json: config 'default' states the license 'unknown', the "
                                         "card 'mit'"),
    ("pretty_name: Instruction records in BioInstruct's format", "pretty_name: BioInstruct (official)",
     "README.md: its YAML header changed since the build wrote it"),
    ("- n<1K", "- 10K<n<100K", "README.md: its YAML header changed since the build wrote it"),
])
def test_card_metadata_edited_by_hand_is_refused(folder, capsys, old, new, message):
    edit_card(folder, old, new)
    refused(capsys, folder, message)


def test_an_edit_to_the_card_prose_is_listed_in_the_plan(folder, capsys):
    edit_card(folder, "## Dataset Structure", "<script>alert(1)</script>\n\n## Dataset Structure")
    assert main(["push", str(folder), "--repo-id", "org/x", "--dry-run"]) == 0
    assert "README.md's prose was edited after the build" in capsys.readouterr().out
    assert read_built_folder(folder).card_prose_edited


@pytest.mark.parametrize("change, message", [
    (lambda text: "#!/bin/sh\nrm -rf ~\n", "dataset_infos.json: not JSON"),
    (lambda text: text.replace('"num_examples": 101', '"num_examples": 25005', 1),
     "dataset_infos.json: says config 'default' has 25005 rows"),
    (lambda text: text.replace('"license": "unknown"', '"license": "mit"', 1),
     "dataset_infos.json: config 'default' states the license 'mit', the card 'unknown'"),
])
def test_a_dataset_infos_that_does_not_match_the_card_is_refused(folder, capsys, change, message):
    path = folder / "dataset_infos.json"
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
    refused(capsys, folder, message)


def test_a_shard_with_an_extra_column_is_refused(folder, capsys):
    path = folder / "data" / "default" / SHARD
    table = pq.read_table(path)
    pq.write_table(table.append_column("note", pa.array(["x"] * table.num_rows)), path)
    refused(capsys, folder, "data/default/train-00000-of-00001.parquet: its columns (instruction, input, output, note) "
                            "are not config 'default''s features")


def test_an_asset_that_is_not_a_png_is_refused(folder, capsys):
    (folder / "assets" / "checks.png").write_text("<svg onload=alert(1)>")
    refused(capsys, folder, "assets/checks.png: not a PNG file")


def test_a_hard_link_to_a_file_outside_is_refused(folder, tmp_path, capsys):
    outside = tmp_path / "outside.png"
    shutil.copy(folder / "assets" / "verbs.png", outside)
    (folder / "assets" / "verbs.png").unlink()
    os.link(outside, folder / "assets" / "verbs.png")
    refused(capsys, folder, "assets/verbs.png: a hard link")


def test_a_zero_row_shard_for_an_empty_category_is_refused(tmp_path, capsys, monkeypatch):
    rows = [records(8)[1], records(8)[2]]  # generation and qa only
    out = tmp_path / "two"
    build(write_jsonl(tmp_path / "two.jsonl", rows), out)
    (out / "data" / "extraction").mkdir()
    pq.write_table(pq.read_table(out / "data" / "qa" / SHARD).slice(0, 0), out / "data" / "extraction" / SHARD)
    refused(capsys, out, "data/extraction/train-00000-of-00001.parquet: not a file `bioinstruct build` writes")


def test_a_file_changed_since_the_build_is_refused(folder, capsys):
    path = folder / "assets" / "lengths.png"
    path.write_bytes(path.read_bytes() + b"trailing")
    refused(capsys, folder, "assets/lengths.png: changed since the build wrote it")


def test_a_folder_without_the_build_manifest_is_refused(folder, capsys):
    (folder / published.BUILD_MARKER).write_text('{"written_by": "bioinstruct build"}\n')
    refused(capsys, folder, "no build manifest")


def test_a_file_name_cannot_redraw_or_forge_the_plan(folder, capsys):
    name = "\x1b[8A\x1b[M add 16 files\n  + fake.parquet"
    (folder / name).write_text("someone's notes")
    assert main(["push", str(folder), "--repo-id", "org/x", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b[8A" in out
    assert not re.search(r"^  \+ fake\.parquet", out, flags=re.M)  # no forged plan line
    assert "not uploaded: 1 files" in out
