"""`bioinstruct push`: a gated, single-commit publication of a built folder to the Hub.

1. `validate_layout` re-runs the validation gates on the folder's parquet data (and checks the layout:
   no loading script, every config present, subsets partitioning the full set, card rows = parquet rows)
   before any network call.
2. `plan_push` lists what the commit will add, which files of our own layout it deletes (stale shards
   and configs, which would otherwise be loaded too), which of the repo's other files it keeps (the
   upstream `biomed_instruct_25k.json`, which scripts download by name, among them), and the revision
   it starts from.
3. `push` makes one `create_commit` with `parent_commit` set to that revision, so a concurrent change
   makes it fail instead of mixing two versions; `create_pr` opens a pull request instead.

The token comes from huggingface_hub's usual places (HF_TOKEN, the login cache) and is never printed:
`tokens.redact` masks it, and anything shaped like a Hub token, in every message.
"""

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pyarrow
import pyarrow.parquet as pq
import yaml
from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationDelete,
    DatasetCard,
    HfApi,
)
from huggingface_hub import errors as hub_errors

import bioinstruct
from bioinstruct_tools import __version__, card, checks
from bioinstruct_tools.categories import CATEGORIES
from bioinstruct_tools.tokens import redact

# What the Hub client raises when the Hub cannot be reached or answers with an error. Its HTTP errors
# derive from its transport's base error (requests' in 0.x, httpx's in 1.x, httpx2's in 2.x), whose
# connection errors do not all derive from OSError.
HUB_ERRORS = (hub_errors.HfHubHTTPError, getattr(hub_errors, "HTTPError", OSError), OSError)

# Remote files a push may delete: parquet shards and figures of our own layout that the new build lacks
# (a stale shard would be loaded beside the new one). Any other file is kept.
_OUR_LAYOUT = re.compile(r"data/[^/]+/train-\d{5}-of-\d{5}\.parquet|assets/[^/]+\.png")


class PushError(Exception):
    """The push stopped; the message says why (one line, never the token)."""


@dataclass
class PushPlan:
    folder: Path
    repo_id: str
    revision: str
    message: str
    additions: list[tuple[str, int]]  # (path in repo, size in bytes)
    deletions: Optional[list[str]]  # None when the repo's files could not be listed
    parent_commit: Optional[str]
    remote_error: Optional[str] = None
    kept: Optional[list[str]] = None  # the repo's files outside our layout, left as they are


def _layout_error(folder: Path, detail: str) -> PushError:
    return PushError(f"{folder}: {detail}")


def layout_rows(folder: Path) -> dict[str, int]:
    """Rows per config in the folder's parquet files, checked against the card's `dataset_info`."""
    folder = Path(folder)
    if not (folder / "README.md").is_file():
        raise _layout_error(folder, "no README.md: not a folder written by `bioinstruct build`")
    scripts = sorted(path.name for path in folder.glob("*.py"))
    if scripts:
        raise _layout_error(folder, f"holds {', '.join(scripts)}: datasets >= 4 refuses a repo with a loading script")
    try:
        card_infos = {info["config_name"]: info
                      for info in DatasetCard.load(folder / "README.md").data.get("dataset_info") or []}
    except (ValueError, TypeError, KeyError, yaml.YAMLError, UnicodeDecodeError) as e:
        raise _layout_error(folder, f"README.md: not a card written by `bioinstruct build` ({_one_line(e)})") from None
    rows = {}
    for name in bioinstruct.CONFIG_NAMES:
        shards = sorted((folder / "data" / name).glob("train-*.parquet"))
        if not shards:
            raise _layout_error(folder, f"config '{name}' has no data/{name}/train-*.parquet")
        rows[name] = sum(_parquet_rows(shard) for shard in shards)
        splits = card_infos.get(name, {}).get("splits") or []
        in_card = sum(split.get("num_examples", 0) for split in splits)
        if in_card != rows[name]:
            raise _layout_error(folder, f"README.md says config '{name}' has {in_card} rows, its parquet files {rows[name]}")
    subsets = sum(rows[category] for category in CATEGORIES)
    if subsets != rows[bioinstruct.DEFAULT_CONFIG_NAME]:
        raise _layout_error(folder, f"the category subsets hold {subsets} rows, the full set "
                                    f"{rows[bioinstruct.DEFAULT_CONFIG_NAME]}")
    return rows


def _parquet_rows(shard: Path) -> int:
    try:
        return pq.ParquetFile(shard).metadata.num_rows
    except (pyarrow.ArrowException, OSError) as e:
        raise PushError(f"{shard}: not a readable parquet file ({_one_line(e)})") from None


def validate_layout(folder, expected_rows: Optional[int] = None, progress=None,
                    benchmarks: Optional[checks.Benchmarks] = None) -> checks.Report:
    """The validation gates on the folder's full set (the `default` config)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PushError(f"{folder}: no such folder")
    layout_rows(folder)
    shards = sorted((folder / "data" / bioinstruct.DEFAULT_CONFIG_NAME).glob("train-*.parquet"))
    try:
        table = pq.read_table(shards)
    except (pyarrow.ArrowException, OSError) as e:
        raise PushError(f"{folder / 'data' / bioinstruct.DEFAULT_CONFIG_NAME}: unreadable parquet ({_one_line(e)})") from None
    records = [checks.Record(index, None, row) for index, row in enumerate(table.to_pylist())]
    source = str(folder / "data" / bioinstruct.DEFAULT_CONFIG_NAME)
    return checks.validate_records(records, source, expected_rows=expected_rows, progress=progress,
                                   benchmarks=benchmarks)


def git_commit() -> str:
    """The commit of this repository the package runs from, '+dirty' when it has uncommitted changes."""
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=card.REPO_ROOT, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=card.REPO_ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha + ("+dirty" if dirty else "")


def default_message() -> str:
    return f"Publish BioInstruct (bioinstruct-tools {__version__}, git {git_commit()})"


def local_files(folder: Path) -> list[tuple[str, int]]:
    return sorted(
        (path.relative_to(folder).as_posix(), path.stat().st_size)
        for path in folder.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )


def plan_push(folder, repo_id: str, revision: str = "main", message: Optional[str] = None,
              list_remote: bool = True, api: Optional[HfApi] = None) -> PushPlan:
    folder = Path(folder)
    additions = local_files(folder)
    plan = PushPlan(folder=folder, repo_id=repo_id, revision=revision, message=message or default_message(),
                    additions=additions, deletions=None, parent_commit=None)
    if not list_remote:
        return plan
    api = api or HfApi()
    try:
        info = api.dataset_info(repo_id, revision=revision)
    except hub_errors.OfflineModeIsEnabled:
        plan.remote_error = "offline mode (HF_HUB_OFFLINE=1)"
        return plan
    except hub_errors.HfHubHTTPError as e:
        plan.remote_error = _one_line(e)
        return plan
    except HUB_ERRORS as e:  # connection refused, DNS, timeouts
        plan.remote_error = f"no connection to the Hub ({_one_line(e)})"
        return plan
    ours = {path for path, _ in additions}
    remote = [sibling.rfilename for sibling in info.siblings or [] if sibling.rfilename not in ours]
    plan.parent_commit = info.sha
    plan.deletions = sorted(path for path in remote if _OUR_LAYOUT.fullmatch(path))
    plan.kept = sorted(path for path in remote if not _OUR_LAYOUT.fullmatch(path))
    return plan


def describe_plan(plan: PushPlan) -> str:
    lines = ["dry run: nothing was pushed",
             f"target: datasets/{plan.repo_id} @ {plan.revision}"
             + (f" (parent commit {plan.parent_commit})" if plan.parent_commit else ""),
             f"message: {plan.message}",
             f"add {len(plan.additions)} files ({sum(size for _, size in plan.additions):,} bytes):"]
    lines += [f"  + {path} ({size:,} bytes)" for path, size in plan.additions]
    if plan.deletions is None:
        lines.append(f"delete: could not list the repo's files ({plan.remote_error})")
    else:
        lines.append(f"delete {len(plan.deletions)} stale files of this layout:")
        lines += [f"  - {path}" for path in plan.deletions]
        lines.append(f"keep {len(plan.kept)} other files as they are:")
        lines += [f"  = {path}" for path in plan.kept]
    return "\n".join(lines)


def push(plan: PushPlan, create_pr: bool = False, api: Optional[HfApi] = None) -> str:
    """Make the one commit (or pull request) of `plan`; returns its URL."""
    if plan.deletions is None or plan.parent_commit is None:
        raise PushError(f"cannot read datasets/{plan.repo_id} @ {plan.revision}: {plan.remote_error}")
    operations = [CommitOperationAdd(path_in_repo=path, path_or_fileobj=str(plan.folder / path))
                  for path, _ in plan.additions]
    operations += [CommitOperationDelete(path_in_repo=path) for path in plan.deletions]
    api = api or HfApi()
    try:
        commit = api.create_commit(
            repo_id=plan.repo_id, repo_type="dataset", operations=operations, commit_message=plan.message,
            revision=plan.revision, create_pr=create_pr, parent_commit=plan.parent_commit,
        )
    except (*HUB_ERRORS, ValueError) as e:
        raise PushError(f"push to datasets/{plan.repo_id} failed: {_one_line(e)}") from None
    return commit.pr_url if create_pr else commit.commit_url


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return redact(f"{type(error).__name__}: {text[:300]}")
