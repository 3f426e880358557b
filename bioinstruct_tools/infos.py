"""`dataset_infos.json`: each config's info (features, rows, bytes, the source's checksum), as `datasets` 3.6 and
5.x both read it.

A build of the upstream file states BioInstruct's description, citation, homepage and license; a copy's
build states what its maintainer gave (`CardMeta`) or that it is unknown, and lists exactly the configs
its card lists. Measured figures exist only after a build on a real file.
"""

import json
from pathlib import Path
from typing import Optional

import datasets
from datasets.info import DatasetInfosDict
from datasets.utils.py_utils import asdict

from bioinstruct_tools.card_meta import CardMeta
from bioinstruct_tools.categories import CATEGORIES
from bioinstruct_tools.configs import dataset_info
from bioinstruct_tools.published import CONFIG_NAMES, INFOS_FILENAME

RECORDED_INFOS_PATH = Path(__file__).resolve().parent / "resources" / INFOS_FILENAME  # the upstream file's, once --record ran
# Fields of DatasetInfo that only a build measures.
MEASURED_FIELDS = ("splits", "download_checksums", "download_size", "dataset_size")
COPY_DESCRIPTION = ("Instruction records (instruction, input, output) in the format of BioInstruct; how they were "
                    "made is not stated.")


def config_infos(measured: Optional[DatasetInfosDict] = None, copy: Optional[CardMeta] = None) -> DatasetInfosDict:
    """Every config's info as the builder states it, with the measured fields of `measured` where it has them.

    With `copy`, the infos of a copy: its maintainer's license, summary and citation, or "unknown", and no
    homepage. An empty category keeps its measured 0 rows here; `infos_json` and the card leave it out.
    """
    facts = {} if copy is None else {"license": copy.license or "unknown", "description": copy.summary or COPY_DESCRIPTION,
                                     "citation": copy.citation or "", "homepage": ""}
    infos = DatasetInfosDict()
    for name in CONFIG_NAMES:
        info = dataset_info(name, **facts)
        if measured and name in measured:
            for field_name in MEASURED_FIELDS:
                setattr(info, field_name, getattr(measured[name], field_name))
        infos[name] = info
    return infos


def listed_configs(infos: DatasetInfosDict) -> list[str]:
    """The configs a card lists: every one but an empty category's (`datasets` cannot load 0 rows)."""
    return [name for name in CONFIG_NAMES if name in infos and (name not in CATEGORIES or measured_rows(infos, name) != 0)]


def measured_rows(infos: DatasetInfosDict, config_name: str) -> Optional[int]:
    info = infos.get(config_name)
    if info is None or not info.splits or "train" not in info.splits:
        return None
    return info.splits["train"].num_examples


def read_infos(path: Path) -> DatasetInfosDict:
    if not path.exists():
        return DatasetInfosDict()
    with open(path, encoding="utf-8") as f:
        return DatasetInfosDict({name: datasets.DatasetInfo.from_dict(info) for name, info in json.load(f).items()})


def infos_json(infos: DatasetInfosDict) -> str:
    """The listed configs' infos as `datasets` 3.6 and 5.x both read them (the loading script reads this file on
    3.6): exactly the configs the card lists."""
    return json.dumps({name: _portable(asdict(infos[name])) for name in listed_configs(infos)}, indent=2,
                      ensure_ascii=False) + "\n"


def _portable(value):
    """5.x writes a list feature as `{"_type": "List", "feature": F}`, which 3.6 cannot read; both read `[F]`."""
    if isinstance(value, dict):
        if value.get("_type") == "List" and set(value) == {"_type", "feature"}:
            return [_portable(value["feature"])]
        return {key: _portable(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_portable(inner) for inner in value]
    return value
