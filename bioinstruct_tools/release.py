"""The push gate: a built folder becomes something `hub` can publish only here.

`check_release` reads the folder (`read_built_folder`: exactly the files the build wrote, the card's YAML
as the build wrote it, every config consistent with `default`), re-runs the validation checks on its
records with the options given (the published repo always gates on its published size), and refuses
with `ReleaseRefused` when a gate fails. Only it makes a `CheckedRelease`, and `hub.plan_push` takes
nothing else, so no caller can publish a folder that was not checked, whatever order it calls things in.
"""

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional

from bioinstruct_tools import checks
from bioinstruct_tools.errors import Failed
from bioinstruct_tools.built_folder import BuiltFolder, read_built_folder
from bioinstruct_tools.published import expected_rows

_GATE = object()  # only `check_release` holds it


class ReleaseRefused(Failed):
    """A gate failed on the folder's records; nothing may be pushed. `validation` says which records and why."""

    def __init__(self, folder, validation: checks.Validation):
        self.validation = validation
        failed = [check.name for check in validation.checks if check.status == "fail"]
        super().__init__(f"{folder}: validation failed ({', '.join(failed)}); nothing was pushed")


@dataclass(frozen=True)
class CheckedRelease:
    """A built folder that passed the layout check and every gate, for one repo."""

    built: BuiltFolder
    validation: checks.Validation
    repo_id: str
    _made_by: object = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if self._made_by is not _GATE:
            raise TypeError("a CheckedRelease is made by release.check_release, which checks the folder first")

    @property
    def folder(self) -> Path:
        return self.built.folder

    @property
    def name(self) -> str:
        """What the release is called: the card's pretty_name, or the repo id."""
        return self.built.pretty_name or self.repo_id


def check_release(folder, repo_id: str, options: checks.ValidationOptions = checks.ValidationOptions(),
                  hooks: Optional[checks.Hooks] = None) -> CheckedRelease:
    """The folder, checked to be exactly a build's layout and to pass every gate again; raises
    `LayoutError` (the folder is not what the build wrote) or `ReleaseRefused` (a gate failed)."""
    built = read_built_folder(folder)
    options = replace(options, expected_rows=expected_rows(options.expected_rows, repo_id=repo_id,
                                                           source_is_known=False))
    validation = checks.validate(checks.numbered(built.default_rows()), str(folder), options, hooks)
    if not validation.passed:
        raise ReleaseRefused(folder, validation)
    return CheckedRelease(built, validation, repo_id, _made_by=_GATE)
