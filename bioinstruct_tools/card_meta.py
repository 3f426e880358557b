"""What a maintainer states about a copy (`build --card-meta META.yaml`): read, checked, and nothing else.

The card measures the rest. Every key is optional; a key the card does not know, a value of the wrong
shape, a key written twice or a license the Hub does not list is refused with exit 2, naming the file,
before any work. The file is read only when it is a regular file of at most `MAX_BYTES`: a pipe would
block, and a 50 MB summary is no summary. `resources/META.example.yaml` shows every key.
"""

import datetime
import difflib
import functools
import os
import stat
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Optional

import yaml

from bioinstruct_tools.errors import Refused

RESOURCES = Path(__file__).resolve().parent / "resources"
LICENSES_PATH = RESOURCES / "hub_licenses.txt"  # the Hub's license identifiers, from huggingface/hub-docs
EXAMPLE_PATH = RESOURCES / "META.example.yaml"
MAX_BYTES = 1 << 20  # 1 MiB: a card's statements, not a corpus
SOURCE_KEYS = ("generator", "date", "seed_tasks", "notes")  # `source:` as a mapping: how the records were made


class CardMetaError(ValueError, Refused):
    """A --card-meta file cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class CardMeta:
    """A copy's statements. Text keys are prose for the card's sections; list keys go to the card's YAML."""

    pretty_name: Optional[str] = None
    license: Optional[str] = None  # a Hub license identifier (`hub_licenses.txt`)
    summary: Optional[str] = None  # what the copy is, in a paragraph or two
    source: Optional[str] = None  # how it was made: text, or a mapping of SOURCE_KEYS (rendered as lines)
    personal_information: Optional[str] = None  # whether real people's data is in it, and how it was handled
    citation: Optional[str] = None  # BibTeX or a plain reference: the card's Citation section and the infos
    language: tuple[str, ...] = ()  # ISO 639-1 codes: en, fr, ...
    tags: tuple[str, ...] = ()
    task_categories: tuple[str, ...] = ()  # the Hub's task ids: text-generation, question-answering, ...
    source_datasets: tuple[str, ...] = ()  # original, or extended|ORG/NAME
    annotations_creators: tuple[str, ...] = ()  # machine-generated, expert-generated, ...

    def __post_init__(self):
        if self.license is not None:  # for every caller, not only the file reader
            check_license(self.license, "card metadata")

    @classmethod
    def read(cls, path: str) -> "CardMeta":
        return cls.from_mapping(_load_yaml(path), path)

    @classmethod
    def from_mapping(cls, data, path: str = "META.yaml") -> "CardMeta":
        known = [f.name for f in fields(cls)]
        if not isinstance(data, dict):
            raise CardMetaError(f"{path}: expected a YAML mapping of {', '.join(known)}")
        values = {}
        for key, value in data.items():
            if key not in known:
                raise CardMetaError(f"{path}: unknown key {str(key)!r} (the keys are {', '.join(known)}; "
                                    f"see {EXAMPLE_PATH.name} in the package)")
            if key == "source" and isinstance(value, dict):
                value = _source_text(value, path)
            if cls.__dataclass_fields__[key].type == tuple[str, ...]:
                values[key] = _text_list(key, value, path)
            elif not isinstance(value, str) or not value.strip():
                raise CardMetaError(f"{path}: {key} must be non-empty text" +
                                    (" or a mapping of " + ", ".join(SOURCE_KEYS) if key == "source" else ""))
            else:
                values[key] = value.strip()
        if "license" in values:
            check_license(values["license"], path)  # names the file; the constructor checks again for any caller
        return cls(**values)


def check_license(license: str, path: str) -> None:
    """Refuse a license the Hub does not list, naming the nearest identifiers it does."""
    known = hub_licenses()
    if license not in known:
        near = difflib.get_close_matches(license.lower(), sorted(known), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(near)}?" if near else " (mit, cc-by-4.0, apache-2.0, other, ...)"
        raise CardMetaError(f"{path}: license {license!r} is not one of the Hub's license identifiers{hint}")


@functools.cache
def hub_licenses() -> frozenset[str]:
    lines = LICENSES_PATH.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _source_text(mapping: dict, path: str) -> str:
    unknown = [str(key) for key in mapping if key not in SOURCE_KEYS]
    if unknown:
        raise CardMetaError(f"{path}: source has the unknown key {unknown[0]!r} (its keys are {', '.join(SOURCE_KEYS)})")
    lines = []
    for key in SOURCE_KEYS:
        if key in mapping:
            value = mapping[key]
            if not isinstance(value, (str, int, datetime.date)) or isinstance(value, bool) or not str(value).strip():
                raise CardMetaError(f"{path}: source.{key} must be non-empty text")
            lines.append(f"{key.replace('_', ' ').capitalize()}: {str(value).strip()}")
    if not lines:
        raise CardMetaError(f"{path}: source is an empty mapping")
    return "\n\n".join(lines)


def _text_list(key: str, value, path: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(item, str) and item.strip() for item in items):
        raise CardMetaError(f"{path}: {key} must be a text or a list of texts")
    return tuple(item.strip() for item in items)


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key written twice in one mapping (YAML's spec forbids it; PyYAML keeps
    the last value without a word)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"the key {key!r} appears twice",
                                                        key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _load_yaml(path: str):
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a pipe opens at once, and is refused below
    except FileNotFoundError:
        raise CardMetaError(f"{path}: no such file") from None
    except OSError as e:
        raise CardMetaError(f"{path}: cannot be read ({e.strerror})") from None
    with os.fdopen(descriptor, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise CardMetaError(f"{path}: not a regular file (a folder, device or pipe)")
        if info.st_size > MAX_BYTES:
            raise CardMetaError(f"{path}: {info.st_size:,} bytes; a META file holds at most {MAX_BYTES:,}")
        raw = f.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise CardMetaError(f"{path}: more than {MAX_BYTES:,} bytes; a META file holds at most that")
    try:
        return yaml.load(raw.decode("utf-8-sig"), Loader=_UniqueKeyLoader)
    except UnicodeDecodeError:
        raise CardMetaError(f"{path}: not UTF-8 text") from None
    except yaml.YAMLError as e:
        raise CardMetaError(f"{path}: not a readable YAML file ({' '.join(str(e).split())[:200]})") from None
