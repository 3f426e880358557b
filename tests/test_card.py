"""README.md's YAML, its size table and dataset_infos.json are what the builder produces."""

import datasets
from huggingface_hub import DatasetCard

import bioinstruct
from bioinstruct_tools import card
from bioinstruct_tools.records import PUBLISHED_SIZE


def test_committed_card_and_infos_match_the_builder():
    assert card.stale_repo_files() == [], "run `bioinstruct card` and commit the result"


def test_card_yaml_carries_hub_metadata_configs_and_features():
    data = DatasetCard.load(card.CARD_PATH).data
    assert data.license == "mit" and data.language == ["en"] and data.pretty_name == "BioInstruct"
    assert data.size_categories == ["10K<n<100K"]  # from the published 25,005
    configs = {config["config_name"]: config for config in data.configs}
    assert list(configs) == list(bioinstruct.CONFIG_NAMES) and configs["default"]["default"] is True
    assert configs["qa"]["data_files"] == [{"split": "train", "path": "data/qa/train-*.parquet"}]
    infos = {info["config_name"]: datasets.Features._from_yaml_list(info["features"]) for info in data.dataset_info}
    assert infos["default"] == bioinstruct.FEATURES and infos["categorized"] == bioinstruct.CATEGORIZED_FEATURES


def test_no_measured_figure_before_a_build_on_the_real_file():
    infos = card.read_infos(card.INFOS_PATH)
    if infos["default"].splits:  # recorded by `bioinstruct build --record` on the upstream file
        assert infos["default"].splits["train"].num_examples == PUBLISHED_SIZE
    else:
        assert "not measured yet" in card.CARD_PATH.read_text()


def test_drift_is_detected(tmp_path, monkeypatch):
    stale = tmp_path / "README.md"
    stale.write_text(card.CARD_PATH.read_text().replace("pretty_name: BioInstruct", "pretty_name: Old"))
    infos = tmp_path / "dataset_infos.json"
    infos.write_text(card.INFOS_PATH.read_text().replace('"mit"', '"apache-2.0"'))
    monkeypatch.setattr(card, "CARD_PATH", stale)
    monkeypatch.setattr(card, "INFOS_PATH", infos)
    assert card.stale_repo_files(recorded=datasets.info.DatasetInfosDict()) == [stale, infos]
