"""`bioinstruct push`: a single-commit publication of a checked built folder to the Hub.

The folder has been read and checked by `built_folder.read_built_folder` and its data validated
before anything here runs. Then:
1. `plan_push` lists what the commit will add (the layout's own files only: the card, the infos, the
   `data/<config>/` shards and the `assets/` figures; anything else in the folder is listed as not
   uploaded), which files of our layout it deletes on the Hub (stale shards and configs, which would
   otherwise be loaded too), which of the repo's other files it keeps (the upstream
   `biomed_instruct_25k.json`, which scripts download by name, among them), and the revision it
   starts from.
2. `push` makes one `create_commit` with `parent_commit` set to that revision, so a concurrent change
   makes it fail instead of mixing two versions; `create_pr` opens a pull request instead.

The token comes from huggingface_hub's usual places (HF_TOKEN, the login cache) and is never printed:
`redaction.redact_tokens` masks it, and anything shaped like a Hub token, in every message.
"""

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
from huggingface_hub import errors as hub_errors

from bioinstruct_tools import __version__
from bioinstruct_tools.built_folder import BuiltFolder
from bioinstruct_tools.paths import CHECKOUT_ROOT
from bioinstruct_tools.published import is_layout_file
from bioinstruct_tools.redaction import redact_tokens
from bioinstruct_tools.text import one_line

# What the Hub client raises when the Hub cannot be reached or answers with an error. Its HTTP errors
# derive from its transport's base error (requests' in 0.x, httpx's in 1.x, httpx2's in 2.x), whose
# connection errors do not all derive from OSError.
HUB_ERRORS = (hub_errors.HfHubHTTPError, getattr(hub_errors, "HTTPError", OSError), OSError)

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
    not_uploaded: list[str] = field(default_factory=list)  # the folder's files outside the layout
    empty_categories: list[str] = field(default_factory=list)  # no config published for these

    def to_json(self) -> dict:
        return {"dry_run": True, "repo_id": self.repo_id, "revision": self.revision,
                "parent_commit": self.parent_commit, "message": self.message,
                "add": [{"path": path, "bytes": size} for path, size in self.additions],
                "delete": self.deletions, "keep": self.kept, "not_uploaded": self.not_uploaded,
                "empty_categories": self.empty_categories, "remote_error": self.remote_error}


def git_commit() -> str:
    """The commit of this repository the package runs from, '+dirty' when it has uncommitted changes."""
    if CHECKOUT_ROOT is None:
        return "unknown (installed package)"
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=CHECKOUT_ROOT, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=CHECKOUT_ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha + ("+dirty" if dirty else "")


def default_message() -> str:
    return f"Publish BioInstruct (bioinstruct-tools {__version__}, git {git_commit()})"


def plan_push(built: BuiltFolder, repo_id: str, revision: str = "main", message: Optional[str] = None,
              list_remote: bool = True, api: Optional[HfApi] = None) -> PushPlan:
    additions = built.layout_files
    plan = PushPlan(folder=built.folder, repo_id=repo_id, revision=revision, message=message or default_message(),
                    additions=additions, deletions=None, parent_commit=None, not_uploaded=built.foreign_files,
                    empty_categories=built.empty_categories)
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
    # A stale file of our layout would be loaded beside the new ones; the card and infos are replaced.
    plan.deletions = sorted(path for path in remote if is_layout_file(path))
    plan.kept = sorted(path for path in remote if not is_layout_file(path))
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
    for name in plan.empty_categories:
        lines.append(f"warning: this copy has no {name} record; the '{name}' config is not published (a config of "
                     "0 rows cannot be loaded), and the card says so")
    if plan.not_uploaded:
        lines.append(f"not uploaded: {len(plan.not_uploaded)} files in the folder that are not of the layout:")
        lines += [f"  ! {path}" for path in plan.not_uploaded]
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
    return redact_tokens(one_line(error))  # a Hub error may quote the request, token included
