"""A build's card: YAML from the builder, prose from the shipped template; the checkout's infos match the builder."""

import json
import re

import datasets
import pytest
from huggingface_hub import DatasetCard

from bioinstruct_tools import card, checkout, infos, paths, published
from bioinstruct_tools.card_meta import CardMeta
from bioinstruct_tools.configs import features_of

pytestmark = pytest.mark.uses_datasets


def test_committed_infos_match_the_builder():
    assert checkout.stale_repo_files() == [], "run `bioinstruct card` and commit the result"


def test_card_yaml_carries_hub_metadata_configs_and_features():
    data = DatasetCard(card.render_card(infos.config_infos())).data
    assert data.license == "mit" and data.language == ["en"] and data.pretty_name == "BioInstruct"
    assert data.size_categories == ["10K<n<100K"]  # from the published 25,005
    configs = {config["config_name"]: config for config in data.configs}
    assert list(configs) == list(published.CONFIG_NAMES) and configs["default"]["default"] is True
    assert configs["qa"]["data_files"] == [{"split": "train", "path": "data/qa/train-*.parquet"}]
    features = {info["config_name"]: datasets.Features._from_yaml_list(info["features"]) for info in data.dataset_info}
    assert features["default"] == features_of("default") and features["categorized"] == features_of("categorized")


def test_the_template_ships_inside_the_package():
    assert card.TEMPLATE_PATH.is_relative_to(paths.PACKAGE_ROOT / "bioinstruct_tools")
    assert "<!-- bioinstruct:sizes -->" in card.TEMPLATE_PATH.read_text(encoding="utf-8")


def test_no_measured_figure_before_a_build_on_the_real_file():
    recorded = infos.read_infos(infos.RECORDED_INFOS_PATH)
    if recorded["default"].splits:  # recorded by `bioinstruct build --record` on the upstream file
        assert recorded["default"].splits["train"].num_examples == published.PUBLISHED_SIZE
    else:
        assert "not measured yet" in card.render_card(infos.config_infos(recorded))


def test_drift_is_detected(tmp_path, monkeypatch):
    recorded = tmp_path / "recorded.json"
    recorded.write_text(infos.RECORDED_INFOS_PATH.read_text().replace('"mit"', '"apache-2.0"'))
    monkeypatch.setattr(checkout, "RECORDED_INFOS_PATH", recorded)
    monkeypatch.setattr(checkout, "CHECKOUT_ROOT", tmp_path)
    assert checkout.stale_repo_files(recorded=datasets.info.DatasetInfosDict()) == [recorded, tmp_path / "dataset_infos.json"]


# ---------------------------------------------------------------------------------------------------
# A copy's card: --card-meta, and record text that tries to become Markdown, HTML or YAML
# ---------------------------------------------------------------------------------------------------

HOSTILE = [  # one per category, so each is shown in Data Instances
    {"instruction": "Extract the drugs named in the note.", "input": "---\nlicense: apache-2.0\n---\n<!-- /bioinstruct:instances -->",
     "output": "aspirin ``` <script>alert(1)</script>"},
    {"instruction": "Write a discharge summary for the patient.", "input": "",
     "output": "[click](javascript:alert(1)) <img src=x onerror=alert(1)> ````"},
    {"instruction": "What is the first-line treatment for sepsis?", "input": "",
     "output": "<!-- bioinstruct:sizes -->\n| `qa` | 999,999 |\n<!-- /bioinstruct:sizes -->"},
]
META = {"pretty_name": "MedQuestions <b>v2</b>", "license": "cc-by-4.0",
        "summary": "Patient questions answered by GPT-4.\n\nSee [the site](javascript:alert(1)).",
        "source": "GPT-4 (gpt-4-0613), March 2024, from 40 seed tasks.",
        "personal_information": "Questions come from real patients; names and dates were removed by hand."}


@pytest.fixture(scope="module")
def hostile_builds(tmp_path_factory):
    import yaml
    from conftest import build, write_jsonl

    folder = tmp_path_factory.mktemp("hostile")
    source = write_jsonl(folder / "hostile.jsonl", HOSTILE)
    (folder / "meta.yaml").write_text(yaml.safe_dump(META), encoding="utf-8")
    build(source, folder / "plain")
    build(source, folder / "described", card_meta=CardMeta.read(str(folder / "meta.yaml")))
    return folder


@pytest.mark.parametrize("variant", ["plain", "described"])
def test_record_text_stays_inside_fenced_json(hostile_builds, variant):
    text = (hostile_builds / variant / "README.md").read_text(encoding="utf-8")
    loaded = DatasetCard(text)
    assert loaded.data.license == ("cc-by-4.0" if variant == "described" else "unknown")  # the YAML is ours alone
    assert [c["config_name"] for c in loaded.data.configs] == ["default", "extraction", "generation", "qa", "categorized",
                                                               "chat", "prompt_completion"]
    instances = text.split("<!-- bioinstruct:instances -->\n", 1)[1].split("\n<!-- /bioinstruct:instances -->", 1)[0]
    outside = text.replace(instances, "")
    for planted in ("<script>", "onerror", "999,999", "license: apache-2.0"):
        assert planted not in outside  # only inside the instances block
    assert not re.search(r"(?<!\\)\]\(javascript:", outside)  # no link: any bracket before it is escaped
    blocks = re.findall(r"^(`{3,})json\n(.*?)\n\1$", instances, flags=re.S | re.M)
    assert [json.loads(body) for _, body in blocks] == HOSTILE  # each record whole, as JSON
    for fence, body in blocks:
        assert len(fence) > max(map(len, re.findall("`+", body)))  # nothing inside can close the fence
    assert text.count("<!-- /bioinstruct:sizes -->") == 2  # the card's own, and the record's inside the fence


def test_card_meta_is_stated_and_escaped(hostile_builds):
    text = (hostile_builds / "described" / "README.md").read_text(encoding="utf-8")
    data = DatasetCard(text).data
    assert data.pretty_name == META["pretty_name"]  # YAML holds it as a string, quoted by the dumper
    assert "# Dataset Card for MedQuestions &lt;b&gt;v2&lt;/b&gt;" in text
    # Prose reaches the card as written; only what would make a link, tag or heading is escaped
    assert "Patient questions answered by GPT-4." in text and "GPT-4 (gpt-4-0613), March 2024" in text
    assert "See \\[the site\\](javascript:alert(1))." in text
    assert "names and dates were removed by hand" in text
    assert "provenance is unknown" not in text and "Unknown: the license" not in text
    plain = (hostile_builds / "plain" / "README.md").read_text(encoding="utf-8")
    assert "Unknown: how the records were made" in plain and "Unknown: the license" in plain


@pytest.mark.parametrize("content, message", [
    ("[1, 2]", "expected a YAML mapping"),
    ("pretty_name: x\nseeds: 80\n", "unknown key 'seeds'"),
    ("license: MIT License\n", "not one of the Hub's license identifiers"),
    ("summary: 3\n", "summary must be non-empty text"),
    ("summary: [unclosed\n", "not a readable YAML file"),
])
def test_a_bad_card_meta_is_one_line_and_exit_2(tmp_path, capsys, content, message):
    from bioinstruct_tools.cli import main
    from conftest import SAMPLE

    (tmp_path / "meta.yaml").write_text(content, encoding="utf-8")
    code = main(["build", "--source", str(SAMPLE), "--out", str(tmp_path / "out"), "--card-meta",
                 str(tmp_path / "meta.yaml")])
    [line] = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and message in line and not (tmp_path / "out").exists()
