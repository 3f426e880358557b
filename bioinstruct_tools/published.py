"""What the published dataset is: its configs, its upstream file, its expected size and its Hub layout.

The one place these facts live. The loading script (`bioinstruct.py`) and every tool import them from
here, downward; nothing here imports `datasets`, so the commands that only read start quickly.
"""

import re
from typing import Optional

from bioinstruct_tools.categories import CATEGORIES

DATASET_NAME = "bioinstruct"

# The configs: the full set, one subset per category, the full set with its category, and the full set as
# chat turns in TRL's two formats (conversational `messages`; `prompt`/`completion`), with its category.
DEFAULT_CONFIG = "default"
CATEGORIZED_CONFIG = "categorized"
CHAT_CONFIG = "chat"
PROMPT_COMPLETION_CONFIG = "prompt_completion"
VIEW_CONFIGS = (CHAT_CONFIG, PROMPT_COMPLETION_CONFIG)
CONFIG_NAMES = (DEFAULT_CONFIG, *CATEGORIES, CATEGORIZED_CONFIG, *VIEW_CONFIGS)
PROMPT_SEPARATOR = "\n\n"  # between instruction and input in the user turn of the chat views


def user_turn(instruction: str, input: str) -> str:
    """The user's message of the chat views: the instruction, then a blank line and the input if there is one.

    The join most Alpaca-style trainers use; it keeps the instruction first.
    """
    return instruction + PROMPT_SEPARATOR + input if input else instruction

# The upstream file, pinned to the Hub repo's newest commit (2024-06-06). Its checksum is recorded by the
# first build on the real file (`bioinstruct build --record`), never written by hand.
UPSTREAM_REPO_ID = "bio-nlp-umass/bioinstruct"
UPSTREAM_REVISION = "8711225b388ba51126bb37e9a51754a927924d49"
UPSTREAM_FILENAME = "biomed_instruct_25k.json"
UPSTREAM_URL = f"https://huggingface.co/datasets/{UPSTREAM_REPO_ID}/resolve/{UPSTREAM_REVISION}/{UPSTREAM_FILENAME}"
PUBLISHED_SIZE = 25_005  # records in the upstream file, as the paper reports


def is_upstream(source: Optional[str]) -> bool:
    """The upstream file: no source given (the default download), its URL, or a local file of its name."""
    return source is None or source == UPSTREAM_URL or re.split(r"[\\/]", source)[-1] == UPSTREAM_FILENAME


def expected_rows(given: Optional[int] = None, source: Optional[str] = None, repo_id: Optional[str] = None,
                  source_is_known: bool = True) -> Optional[int]:
    """How many rows the size gate expects; None means no size gate.

    The upstream repo always holds the published size; otherwise an explicit `--expect-rows` wins, and
    the upstream file (by URL or by name) is expected to hold the published size.
    """
    if repo_id == UPSTREAM_REPO_ID:
        return PUBLISHED_SIZE
    if given is not None:
        return given
    return PUBLISHED_SIZE if source_is_known and is_upstream(source) else None


# ---------------------------------------------------------------------------------------------------
# The Hub layout of a build: data files plus the card's YAML `configs:`, never a loading script
# ---------------------------------------------------------------------------------------------------

CARD_FILENAME = "README.md"
INFOS_FILENAME = "dataset_infos.json"
SHARD_NAME = "train-00000-of-00001.parquet"
ASSETS = "assets"  # the figures the card shows
BUILD_MARKER = ".bioinstruct-build"  # hidden: neither pushed to the Hub nor read by load_dataset
REPORT_MARKER = ".bioinstruct-report"

# The files a build writes and a push may upload or delete; anything else in a folder is not ours.
_LAYOUT_FILE = re.compile(r"(?:README\.md|dataset_infos\.json|data/[A-Za-z0-9_]+/train-\d{5}-of-\d{5}\.parquet"
                          r"|assets/[A-Za-z0-9_]+\.png)")


class LayoutError(ValueError):
    """A folder is not a build's layout, or cannot be read; the message names the file and what is wrong."""


def shard_path(config_name: str) -> str:
    """Where a config's one parquet shard lives, relative to the folder."""
    return f"data/{config_name}/{SHARD_NAME}"


def parquet_pattern(config_name: str) -> str:
    """The card's `data_files` pattern of a config."""
    return f"data/{config_name}/train-*.parquet"


def is_layout_file(relative_path: str) -> bool:
    """Whether a path (POSIX, relative to the folder) is a file of this layout."""
    return bool(_LAYOUT_FILE.fullmatch(relative_path))
