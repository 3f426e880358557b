"""`bioinstruct push` without network: the real huggingface_hub client with its HTTP calls recorded."""

import shutil
from types import SimpleNamespace

import pytest
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
from huggingface_hub.errors import HfHubHTTPError

import bioinstruct
from bioinstruct_tools import hub, published, redaction, release
from bioinstruct_tools.built_folder import read_built_folder
from bioinstruct_tools.cli import main
from bioinstruct_tools.published import UPSTREAM_REPO_ID

pytestmark = pytest.mark.uses_datasets

TOKEN = "hf_secretTOKENvalue1234567890"


class RecordingApi(HfApi):
    """HfApi whose two network calls answer from memory and record what they were given."""

    def __init__(self, remote_files, sha="a" * 40, fail_commit=None):
        super().__init__(token=TOKEN)
        self.remote_files, self.sha, self.fail_commit = remote_files, sha, fail_commit
        self.commits = []

    def dataset_info(self, repo_id, *, revision=None, **kwargs):
        return SimpleNamespace(sha=self.sha, siblings=[SimpleNamespace(rfilename=f) for f in self.remote_files])

    def create_commit(self, **kwargs):
        if self.fail_commit:
            raise self.fail_commit
        self.commits.append(kwargs)
        return SimpleNamespace(commit_url="https://hf.test/commit/1", pr_url="https://hf.test/pr/7")


def checked(folder, repo_id):
    """The folder through the push gate, as `bioinstruct push` passes it."""
    return release.check_release(folder, repo_id)


REMOTE = [".gitattributes", "README.md", "biomed_instruct_25k.json", "data/default/train-00000-of-00002.parquet",
          "data/oldconfig/train-00000-of-00001.parquet", "data/notes.txt", "images/logo.png"]


def test_one_commit_adds_everything_and_deletes_only_stale_files_of_its_layout(built):
    api = RecordingApi(REMOTE)
    plan = hub.plan_push(checked(built, "org/bioinstruct"), message="test publish", api=api)
    assert hub.push(plan, api=api) == "https://hf.test/commit/1"
    [commit] = api.commits
    assert commit["parent_commit"] == "a" * 40 and commit["create_pr"] is False
    assert commit["repo_type"] == "dataset" and commit["revision"] == "main" and commit["commit_message"] == "test publish"
    added = sorted(op.path_in_repo for op in commit["operations"] if isinstance(op, CommitOperationAdd))
    deleted = sorted(op.path_in_repo for op in commit["operations"] if isinstance(op, CommitOperationDelete))
    assert added == sorted(entry.path for entry in read_built_folder(built).layout_files) and "README.md" in added
    # The upstream raw file, which scripts download by name, and files of others are never deleted.
    assert deleted == ["data/default/train-00000-of-00002.parquet", "data/oldconfig/train-00000-of-00001.parquet"]
    assert plan.kept == [".gitattributes", "biomed_instruct_25k.json", "data/notes.txt", "images/logo.png"]
    described = hub.describe_plan(plan)
    assert "delete 2 stale files of this layout:" in described and "  = biomed_instruct_25k.json" in described


def test_create_pr_returns_the_pull_request(built):
    api = RecordingApi(REMOTE)
    plan = hub.plan_push(checked(built, "org/bioinstruct"), revision="dev", api=api)
    assert hub.push(plan, create_pr=True, api=api) == "https://hf.test/pr/7"
    assert api.commits[0]["create_pr"] is True and api.commits[0]["revision"] == "dev"


def test_default_message_names_version_and_git_commit(built):
    message = hub.plan_push(checked(built, "org/x"), list_remote=False).message
    assert message.startswith("Publish Instruction records in BioInstruct's format (bioinstruct-tools 1.0.0, git ")
    assert "unknown" not in message  # the tests run from a git checkout


def test_a_concurrent_change_fails_with_one_line_and_no_token(built):
    response = SimpleNamespace(status_code=412, headers={}, url="https://hf.test", request=None)
    error = HfHubHTTPError(f"412 Precondition failed: parent commit is not the head (token {TOKEN})",
                           response=response)
    api = RecordingApi(REMOTE, fail_commit=error)
    plan = hub.plan_push(checked(built, "org/bioinstruct"), api=api)
    with pytest.raises(hub.PushError) as raised:
        hub.push(plan, api=api)
    assert "412" in str(raised.value) and "\n" not in str(raised.value)


def test_invalid_data_is_refused_before_any_network_call(built, tmp_path, monkeypatch, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(built, broken)
    shutil.copy(built / "data" / "qa" / published.SHARD_NAME, broken / "data" / "default" / published.SHARD_NAME)

    def no_network(*args, **kwargs):
        raise AssertionError("the Hub was called")

    monkeypatch.setattr(HfApi, "dataset_info", no_network)
    monkeypatch.setattr(HfApi, "create_commit", no_network)
    import pyarrow.parquet as pq

    qa_rows = pq.ParquetFile(built / "data" / "qa" / published.SHARD_NAME).metadata.num_rows
    assert main(["push", str(broken), "--repo-id", "org/x"]) == 2
    assert f"README.md: says config 'default' has 101 rows, its parquet file {qa_rows}" in capsys.readouterr().err


def test_a_subset_that_is_not_its_category_of_default_is_refused(built, tmp_path, monkeypatch, capsys):
    """Only row counts used to be compared: a `qa` shard replaced by other rows of the same count passed."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    broken = tmp_path / "swapped"
    shutil.copytree(built, broken)
    shard = broken / "data" / "qa" / published.SHARD_NAME
    table = pq.read_table(shard)
    blank = pa.table({name: [""] * table.num_rows for name in table.column_names})
    pq.write_table(blank, shard)  # same row count, blank outputs
    monkeypatch.setattr(HfApi, "create_commit", lambda *a, **k: pytest.fail("pushed"))
    assert main(["push", str(broken), "--repo-id", "org/x", "--dry-run"]) == 2
    assert "its rows are not the 'default' rows of category 'qa'" in capsys.readouterr().err


def test_a_failed_gate_pushes_nothing(built, monkeypatch, capsys):
    monkeypatch.setattr(HfApi, "create_commit", lambda *a, **k: pytest.fail("pushed"))
    assert main(["push", str(built), "--repo-id", "org/x", "--expect-rows", "5", "--dry-run"]) == 1
    err = capsys.readouterr().err
    assert "row_count_mismatch: expected 5 rows, found 101" in err and "nothing was pushed" in err


def test_the_real_repo_requires_the_published_size(built, monkeypatch, capsys):
    monkeypatch.setattr(HfApi, "dataset_info", lambda *a, **k: pytest.fail("the Hub was called"))
    assert main(["push", str(built), "--repo-id", UPSTREAM_REPO_ID, "--dry-run"]) == 1
    assert "expected 25005 rows, found 101" in capsys.readouterr().err


def test_a_loading_script_in_the_folder_is_refused(built, tmp_path, capsys):
    folder = tmp_path / "with-script"
    shutil.copytree(built, folder)
    shutil.copy(bioinstruct.__file__, folder / "bioinstruct.py")
    assert main(["push", str(folder), "--repo-id", "org/x", "--dry-run"]) == 2
    assert "loading script" in capsys.readouterr().err


def test_dry_run_offline_prints_additions_and_says_deletions_are_unknown(built, monkeypatch, capsys):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    assert main(["push", str(built), "--repo-id", "org/x", "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert "dry run: nothing was pushed" in out
    assert "+ data/qa/train-00000-of-00001.parquet" in out and "+ README.md" in out
    assert "delete: could not list the repo's files (offline mode" in out
    assert TOKEN not in out + err


def test_push_offline_fails_with_one_line(built, monkeypatch, capsys):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    assert main(["push", str(built), "--repo-id", "org/x"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot read datasets/org/x @ main" in err and TOKEN not in err


def test_every_token_is_masked(monkeypatch):
    monkeypatch.setenv("HUGGING_FACE_HUB_TOKEN", "legacy-token-value")
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "get_token", lambda: "cached-login-token")  # as read from HF_HOME/token
    text = redaction.redact_tokens("Authorization: Bearer cached-login-token; legacy-token-value; hf_AbCdEf0123456789xyz")
    assert text == "Authorization: Bearer ***; ***; hf_***"
