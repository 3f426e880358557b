"""The checkout's generated files (maintainers only): the recorded upstream infos and the loading script's copy.

`bioinstruct build --record` (the upstream file, from a checkout) stores the measured infos in
`resources/dataset_infos.json`, the package's one record of the upstream file; the checkout's root
`dataset_infos.json` is a copy for the loading script on datasets 3.6, which reads it beside the
script. `bioinstruct card` rewrites the copy, and `card --check` fails on drift. An installed package
has no checkout: these refuse, saying so.
"""

import json
from pathlib import Path
from typing import Optional

import datasets
from datasets.info import DatasetInfosDict

from bioinstruct_tools.errors import Refused
from bioinstruct_tools.infos import RECORDED_INFOS_PATH, config_infos, infos_json, read_infos
from bioinstruct_tools.paths import CHECKOUT_ROOT
from bioinstruct_tools.published import INFOS_FILENAME


class NotACheckout(Refused):
    """A maintainer command ran from an installed package, which has no checkout to write."""


def require_checkout(what: str) -> Path:
    """The checkout's root, or `NotACheckout` naming what needed it: the one precondition of `card` and `--record`."""
    if CHECKOUT_ROOT is None:
        raise NotACheckout(f"{what} writes the recorded files of a git checkout of this package; this is an "
                           "installed copy (a build writes its own card)")
    return CHECKOUT_ROOT


def repo_files(recorded: Optional[DatasetInfosDict] = None) -> dict[Path, str]:
    """What the recorded infos and the script's copy of them should hold."""
    text = infos_json(config_infos(read_infos(RECORDED_INFOS_PATH) if recorded is None else recorded))
    return {RECORDED_INFOS_PATH: text, require_checkout("`bioinstruct card`") / INFOS_FILENAME: text}


def stale_repo_files(recorded: Optional[DatasetInfosDict] = None) -> list[Path]:
    """The checkout's generated files that differ from what the builder produces now."""
    return [path for path, text in repo_files(recorded).items()
            if not path.exists() or _semantic(path.read_text(encoding="utf-8")) != _semantic(text)]


def _semantic(text: str):
    """Compare infos as DatasetInfo objects: `datasets` 3.x and 5.x serialize the same features differently."""
    return {name: datasets.DatasetInfo.from_dict(info) for name, info in json.loads(text).items()}


def write_repo_files(recorded: Optional[DatasetInfosDict] = None) -> list[Path]:
    written = []
    for path, text in repo_files(recorded).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written
