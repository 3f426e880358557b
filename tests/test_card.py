"""A build's card: YAML from the builder, prose from the shipped template; the checkout's infos match the builder."""

import datasets
import pytest
from huggingface_hub import DatasetCard

import bioinstruct
from bioinstruct_tools import card, paths, published

pytestmark = pytest.mark.uses_datasets


def test_committed_infos_match_the_builder():
    assert card.stale_repo_files() == [], "run `bioinstruct card` and commit the result"


def test_card_yaml_carries_hub_metadata_configs_and_features():
    data = DatasetCard(card.render_card(card.config_infos())).data
    assert data.license == "mit" and data.language == ["en"] and data.pretty_name == "BioInstruct"
    assert data.size_categories == ["10K<n<100K"]  # from the published 25,005
    configs = {config["config_name"]: config for config in data.configs}
    assert list(configs) == list(published.CONFIG_NAMES) and configs["default"]["default"] is True
    assert configs["qa"]["data_files"] == [{"split": "train", "path": "data/qa/train-*.parquet"}]
    infos = {info["config_name"]: datasets.Features._from_yaml_list(info["features"]) for info in data.dataset_info}
    assert infos["default"] == bioinstruct.FEATURES and infos["categorized"] == bioinstruct.CATEGORIZED_FEATURES


def test_the_template_ships_inside_the_package():
    assert card.TEMPLATE_PATH.is_relative_to(paths.PACKAGE_ROOT / "bioinstruct_tools")
    assert "<!-- bioinstruct:sizes -->" in card.TEMPLATE_PATH.read_text(encoding="utf-8")


def test_no_measured_figure_before_a_build_on_the_real_file():
    infos = card.read_infos(card.RECORDED_INFOS_PATH)
    if infos["default"].splits:  # recorded by `bioinstruct build --record` on the upstream file
        assert infos["default"].splits["train"].num_examples == published.PUBLISHED_SIZE
    else:
        assert "not measured yet" in card.render_card(card.config_infos(infos))


def test_drift_is_detected(tmp_path, monkeypatch):
    recorded = tmp_path / "recorded.json"
    recorded.write_text(card.RECORDED_INFOS_PATH.read_text().replace('"mit"', '"apache-2.0"'))
    monkeypatch.setattr(card, "RECORDED_INFOS_PATH", recorded)
    monkeypatch.setattr(card, "CHECKOUT_ROOT", tmp_path)
    assert card.stale_repo_files(recorded=datasets.info.DatasetInfosDict()) == [recorded, tmp_path / "dataset_infos.json"]
