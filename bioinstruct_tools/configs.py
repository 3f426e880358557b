"""Each config's features and info, stated once: the loading script yields them, `build` writes them, and a
built folder's shards are held to them.

`datasets` is imported here and only here among the modules that define the dataset, so the commands
that only read records (validate, contamination, categorize) start without it.
"""

from typing import Optional

import datasets

from bioinstruct_tools import published
from bioinstruct_tools.categories import CATEGORIES
from bioinstruct_tools.published import CATEGORIZED_CONFIG, CHAT_CONFIG, DATASET_NAME, PROMPT_COMPLETION_CONFIG
from bioinstruct_tools.records import FIELDS

FEATURES = datasets.Features({field: datasets.Value("string") for field in FIELDS})
CATEGORY = datasets.ClassLabel(names=list(CATEGORIES))
CATEGORIZED_FEATURES = datasets.Features({**FEATURES, "category": CATEGORY})
# TRL's formats: a list of {role, content} turns. The category rides beside them; TRL's format detection
# reads only `messages`, or `prompt` and `completion`.
TURN = {"role": datasets.Value("string"), "content": datasets.Value("string")}
CHAT_FEATURES = datasets.Features({"messages": [TURN], "category": CATEGORY})
PROMPT_COMPLETION_FEATURES = datasets.Features({"prompt": [TURN], "completion": [TURN], "category": CATEGORY})
_FEATURES_BY_CONFIG = {CATEGORIZED_CONFIG: CATEGORIZED_FEATURES, CHAT_CONFIG: CHAT_FEATURES,
                       PROMPT_COMPLETION_CONFIG: PROMPT_COMPLETION_FEATURES}


def features_of(config_name: str) -> datasets.Features:
    """The features of a config: the three fields, with the category, or a chat view."""
    return _FEATURES_BY_CONFIG.get(config_name, FEATURES)


def dataset_info(config_name: str, license: Optional[str] = published.LICENSE,
                 description: str = published.DESCRIPTION, citation: str = published.CITATION,
                 homepage: str = published.HOMEPAGE) -> datasets.DatasetInfo:
    """A config's info as the builder states it, before any measurement. A copy's build passes its own
    license and description, and empty citation and homepage: it makes none of BioInstruct's claims."""
    info = datasets.DatasetInfo(description=description, features=features_of(config_name), homepage=homepage,
                                license=license or "", citation=citation)
    info.builder_name = info.dataset_name = DATASET_NAME
    info.config_name = config_name
    info.version = datasets.Version(published.VERSION)
    return info


def shard_schema_matches(schema, config_name: str) -> bool:
    """Whether a parquet shard's schema is exactly its config's features: no extra, missing or retyped column
    (the features `datasets` wrote into the schema's metadata included, which carry the category's names)."""
    try:
        return datasets.Features.from_arrow_schema(schema) == features_of(config_name)
    except (ValueError, TypeError, KeyError):
        return False
