"""The chat views: TRL's conversational and prompt-completion formats, row for row the `default` records."""

import itertools
import os
import re
import sys
import types
from unittest import mock

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bioinstruct_tools import views
from bioinstruct_tools.cli import main
from bioinstruct_tools.published import CATEGORIES, SHARD_NAME

pytestmark = pytest.mark.uses_datasets


def load(folder, name, tmp_path, **options):
    return datasets.load_dataset(str(folder), name, split="train", cache_dir=str(tmp_path / "hf"), **options)


def expected_turns(row: dict) -> tuple[dict, dict]:
    user = row["instruction"] + ("\n\n" + row["input"] if row["input"] else "")
    return {"role": "user", "content": user}, {"role": "assistant", "content": row["output"]}


def test_every_view_row_rebuilds_its_default_row(built, tmp_path):
    default, categorized = load(built, "default", tmp_path), load(built, "categorized", tmp_path)
    chat, pairs = load(built, "chat", tmp_path), load(built, "prompt_completion", tmp_path)
    assert chat.num_rows == pairs.num_rows == default.num_rows
    for row, labeled, talk, pair in zip(default, categorized, chat, pairs):
        user, assistant = expected_turns(row)
        assert talk == {"messages": [user, assistant], "category": labeled["category"]}
        assert pair == {"prompt": [user], "completion": [assistant], "category": labeled["category"]}
    assert any(row["input"] for row in default) and any(not row["input"] for row in default)  # both joins met


def test_streaming_reads_the_same_rows(built, tmp_path):
    for name in ("chat", "prompt_completion"):
        assert list(load(built, name, tmp_path, streaming=True)) == load(built, name, tmp_path).to_list()


def test_the_card_yaml_lists_turns_as_lists_of_role_content_structs(built):
    from huggingface_hub import DatasetCard

    infos = {info["config_name"]: info for info in DatasetCard.load(built / "README.md").data["dataset_info"]}
    turn = {"list": [{"name": "role", "dtype": "string"}, {"name": "content", "dtype": "string"}]}
    assert infos["chat"]["features"][0] == {"name": "messages", **turn}
    assert [feature["name"] for feature in infos["prompt_completion"]["features"]] == ["prompt", "completion", "category"]


def test_validate_refuses_a_view_that_does_not_rebuild_its_record(built, tmp_path, capsys):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(built, copy)
    shard = copy / "data" / "chat" / SHARD_NAME
    table = pq.read_table(shard)
    rows = table.to_pylist()
    rows[7]["messages"][0]["content"] = rows[7]["messages"][0]["content"].replace("\n\n", " ")  # another join
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), shard)
    assert main(["validate", str(copy)]) == 2
    assert "data/chat/train-00000-of-00001.parquet: its turns do not rebuild the 'default' rows" in capsys.readouterr().err


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(_TEXT, _TEXT, _TEXT, st.sampled_from(CATEGORIES)), min_size=1, max_size=8))
def test_the_arrow_cut_equals_the_scripts_as_turns(rows):
    table = pa.table({"instruction": [r[0] for r in rows], "input": [r[1] for r in rows], "output": [r[2] for r in rows],
                      "category": pa.array([CATEGORIES.index(r[3]) for r in rows], pa.int64())})
    # Both ways of interleaving (Arrow's take for small columns, one copy row by row for large ones), on the
    # table and on a slice of it (buffers shared at an offset).
    for copy_from_bytes, start in itertools.product((views._TAKE_UP_TO_BYTES, 0), (0, 1)):
        with mock.patch.object(views, "_TAKE_UP_TO_BYTES", copy_from_bytes):
            for view in ("chat", "prompt_completion"):
                cut = views.turns_table(table.slice(start), view).to_pylist()
                by_script = [views.as_turns({"instruction": r[0], "input": r[1], "output": r[2]}, view,
                                            CATEGORIES.index(r[3])) for r in rows[start:]]
                assert cut == by_script


def _card_snippet(folder) -> str:
    text = (folder / "README.md").read_text(encoding="utf-8")
    [code] = re.findall(r"```python\n(from datasets import load_dataset\nfrom trl import .*?)```", text, flags=re.S)
    assert len(code.strip().splitlines()) == 3
    return code.replace('"ORG/NAME"', repr(str(folder)))


class _StandInTrl(types.ModuleType):
    """TRL's documented dataset contract for SFTTrainer: a conversational dataset has `messages`, a list of
    {role, content} turns (or `prompt` and `completion`); anything else is refused as TRL would not train on it."""

    def __init__(self):
        super().__init__("trl")
        self.seen = []
        stand_in = self

        class SFTConfig:
            def __init__(self, output_dir, **options):
                self.output_dir = output_dir

        class SFTTrainer:
            def __init__(self, model, args, train_dataset):
                first = train_dataset[0]
                assert set(first) >= {"messages"} and isinstance(first["messages"], list)
                assert [turn["role"] for turn in first["messages"]] == ["user", "assistant"]
                assert all(isinstance(turn["content"], str) and turn["content"] for turn in first["messages"])
                stand_in.seen.append((model, args.output_dir, train_dataset.num_rows))

        self.SFTConfig, self.SFTTrainer = SFTConfig, SFTTrainer


def test_the_cards_sft_snippet_runs(built, monkeypatch, tmp_path):
    stand_in = _StandInTrl()
    monkeypatch.setitem(sys.modules, "trl", stand_in)
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf"))
    exec(compile(_card_snippet(built), "card snippet", "exec"), {})
    assert stand_in.seen == [("Qwen/Qwen2.5-0.5B-Instruct", "bioinstruct-sft", 101)]


def test_trl_reads_the_chat_views_itself(built, tmp_path):
    """TRL's own data utilities. scripts/test.sh installs TRL without torch and requires this test to run."""
    if os.environ.get("BIOINSTRUCT_REQUIRE_TRL"):
        import tokenizers
        from trl import data_utils
    else:
        data_utils, tokenizers = pytest.importorskip("trl.data_utils"), pytest.importorskip("tokenizers")
    from transformers import PreTrainedTokenizerFast

    chat, pairs = load(built, "chat", tmp_path), load(built, "prompt_completion", tmp_path)
    assert data_utils.is_conversational(chat[0]) and data_utils.is_conversational(pairs[0])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tokenizers.Tokenizer(tokenizers.models.WordLevel({"x": 0}, "x")))
    tokenizer.chat_template = "{% for m in messages %}<{{ m.role }}>{{ m.content }}\n{% endfor %}"
    text = data_utils.maybe_apply_chat_template(chat[0], tokenizer)["text"]
    user, assistant = chat[0]["messages"]
    assert text == f"<user>{user['content']}\n<assistant>{assistant['content']}\n"
