"""`bioinstruct push`: a single-commit publication of a checked release to the Hub.

Only a `release.CheckedRelease` can be planned: the folder was read as exactly what the build wrote and
its records passed every gate again (`release.check_release`). Then:
1. `plan_push` lists what the commit will add (the layout's own files, each with the hash it was checked
   with; anything outside the layout is listed as not uploaded), which files of our layout it deletes on
   the Hub (stale shards and configs, which would otherwise be loaded too), which of the repo's other
   files it keeps (the upstream `biomed_instruct_25k.json`, which scripts download by name, among them),
   and the revision it starts from.
2. `push` reads each file once, checks its bytes still have the hash that was checked, and uploads those
   bytes in one `create_commit` with `parent_commit` set to that revision, so a concurrent change makes it
   fail instead of mixing two versions; `create_pr` opens a pull request instead.

The token comes from huggingface_hub's usual places (HF_TOKEN, the login cache) and is never printed:
`redaction.redact_tokens` masks it, and anything shaped like a Hub token, in every message.
"""

import hashlib
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
from huggingface_hub import errors as hub_errors

from bioinstruct_tools import __version__
from bioinstruct_tools.built_folder import LayoutFile
from bioinstruct_tools.errors import Unavailable
from bioinstruct_tools.paths import CHECKOUT_ROOT
from bioinstruct_tools.published import is_layout_file
from bioinstruct_tools.redaction import redact_tokens
from bioinstruct_tools.release import CheckedRelease
from bioinstruct_tools.text import one_line, terminal_safe

# What the Hub client raises when the Hub cannot be reached or answers with an error. Its HTTP errors
# derive from its transport's base error (requests' in 0.x, httpx's in 1.x, httpx2's in 2.x), whose
# connection errors do not all derive from OSError.
HUB_ERRORS = (hub_errors.HfHubHTTPError, getattr(hub_errors, "HTTPError", OSError), OSError)

class PushError(Unavailable):
    """The push stopped; the message says why (one line, never the token)."""


@dataclass
class PushPlan:
    release: CheckedRelease
    revision: str
    message: str
    deletions: Optional[list[str]]  # None when the repo's files could not be listed
    parent_commit: Optional[str]
    remote_error: Optional[str] = None
    kept: Optional[list[str]] = None  # the repo's files outside our layout, left as they are

    @property
    def repo_id(self) -> str:
        return self.release.repo_id

    @property
    def folder(self) -> Path:
        return self.release.folder

    @property
    def additions(self) -> list[LayoutFile]:
        return self.release.built.layout_files

    @property
    def not_uploaded(self) -> list[str]:
        return self.release.built.foreign_files

    @property
    def empty_categories(self) -> list[str]:
        return self.release.built.empty_categories

    def to_json(self) -> dict:
        return {"dry_run": True, "repo_id": self.repo_id, "revision": self.revision,
                "parent_commit": self.parent_commit, "message": self.message,
                "add": [{"path": entry.path, "bytes": entry.size, "sha256": entry.sha256} for entry in self.additions],
                "card_prose_edited": self.release.built.card_prose_edited,
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


def default_message(release: CheckedRelease) -> str:
    """Names what is published: the card's pretty_name (BioInstruct's own, or a copy's), else the repo id."""
    return f"Publish {' '.join(release.name.split())} (bioinstruct-tools {__version__}, git {git_commit()})"


def plan_push(release: CheckedRelease, revision: str = "main", message: Optional[str] = None,
              list_remote: bool = True, api: Optional[HfApi] = None) -> PushPlan:
    """What one commit would change in the release's repo; reads the repo's file list unless `list_remote` is off."""
    if not isinstance(release, CheckedRelease):
        raise TypeError("plan_push takes a release.CheckedRelease: check the folder with release.check_release")
    plan = PushPlan(release=release, revision=revision, message=message or default_message(release), deletions=None,
                    parent_commit=None)
    if not list_remote:
        return plan
    repo_id = release.repo_id
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
    ours = {entry.path for entry in plan.additions}
    remote = [sibling.rfilename for sibling in info.siblings or [] if sibling.rfilename not in ours]
    plan.parent_commit = info.sha
    # A stale file of our layout would be loaded beside the new ones; the card and infos are replaced.
    plan.deletions = sorted(path for path in remote if is_layout_file(path))
    plan.kept = sorted(path for path in remote if not is_layout_file(path))
    return plan


def describe_plan(plan: PushPlan) -> str:
    """The plan for a person at a terminal: every name escaped, so no file name can redraw or forge a line."""
    safe = terminal_safe
    lines = ["dry run: nothing was pushed",
             f"target: datasets/{plan.repo_id} @ {safe(plan.revision)}"
             + (f" (parent commit {safe(plan.parent_commit)})" if plan.parent_commit else ""),
             f"message: {safe(plan.message)}",
             f"add {len(plan.additions)} files ({sum(entry.size for entry in plan.additions):,} bytes):"]
    lines += [f"  + {safe(entry.path)} ({entry.size:,} bytes)" for entry in plan.additions]
    if plan.release.built.card_prose_edited:
        lines.append("note: README.md's prose was edited after the build (its YAML was not); the edit is uploaded")
    if plan.deletions is None:
        lines.append(f"delete: could not list the repo's files ({safe(plan.remote_error or '')})")
    else:
        lines.append(f"delete {len(plan.deletions)} stale files of this layout:")
        lines += [f"  - {safe(path)}" for path in plan.deletions]
        lines.append(f"keep {len(plan.kept)} other files as they are:")
        lines += [f"  = {safe(path)}" for path in plan.kept]
    for name in plan.empty_categories:
        lines.append(f"warning: this copy has no {name} record; the '{name}' config is not published (a config of "
                     "0 rows cannot be loaded), and the card says so")
    if plan.not_uploaded:
        lines.append(f"not uploaded: {len(plan.not_uploaded)} files in the folder that are not of the layout:")
        lines += [f"  ! {safe(path)}" for path in plan.not_uploaded]
    return "\n".join(lines)


def push(plan: PushPlan, create_pr: bool = False, api: Optional[HfApi] = None) -> str:
    """Make the one commit (or pull request) of `plan`; returns its URL."""
    if not isinstance(plan.release, CheckedRelease):
        raise TypeError("push takes a plan of a release.CheckedRelease")
    if plan.deletions is None or plan.parent_commit is None:
        raise PushError(f"cannot read datasets/{plan.repo_id} @ {plan.revision}: {plan.remote_error}")
    operations = [CommitOperationAdd(path_in_repo=entry.path, path_or_fileobj=_checked_bytes(plan.folder, entry))
                  for entry in plan.additions]
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


def _checked_bytes(folder: Path, entry: LayoutFile) -> bytes:
    """The file's bytes, read once, and only if they are still the ones the gate checked: what is uploaded is
    what was checked, even if the folder changes between the check and the push."""
    data = (folder / entry.path).read_bytes()
    if hashlib.sha256(data).hexdigest() != entry.sha256:
        raise PushError(f"{terminal_safe(str(folder / entry.path))}: changed after it was checked; nothing was pushed")
    return data


def _one_line(error: BaseException) -> str:
    return redact_tokens(one_line(error))  # a Hub error may quote the request, token included
