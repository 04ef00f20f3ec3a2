"""Export to Parquet + card, stock datasets.load_dataset round trip, push wiring, skipped items."""

from __future__ import annotations

from pathlib import Path

import datasets
import numpy as np
import pytest

from medqdeg.dataset_builder import load_dataset
from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.dataset_builder.export import push_dataset
from medqdeg.dataset_builder.items import CleanItem
from medqdeg.dataset_builder.sources import SOURCES
from medqdeg.eval_harness.cli import main


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export")
    cache = tmp_path_factory.mktemp("cache")
    code = main(["build-dataset", "--out", str(out), "default", "sparse_view", "--limit", "8",
                 "--cache-dir", str(cache), "--severity-seeds", "0"])
    assert code == 0
    return out


def test_exported_folder_loads_with_stock_datasets(exported):
    assert datasets.get_dataset_config_names(str(exported)) == ["default", "sparse_view"]
    split = datasets.load_dataset(str(exported), "sparse_view", split="L2")
    assert len(split) == 8
    assert isinstance(split.features["degradation"], datasets.ClassLabel)
    assert {split.features["degradation"].int2str(v) for v in split["degradation"]} == {"sparse_view"}
    assert split[0]["image"].size[0] > 8
    default = datasets.load_dataset(str(exported), split="L0")  # the default configuration
    assert len(default) == 8


def test_card_has_configs_provenance_and_parameters(exported):
    card = (exported / "README.md").read_text()
    assert card.startswith("---\n") and "configs:" in card and "config_name: sparse_view" in card
    assert "## Provenance and licences of the source images" in card
    assert "pydicom" in card and "MIT" in card
    assert "| sparse_view | artifacts | CT |" in card


def test_push_uploads_the_folder_as_a_dataset_repo(exported, monkeypatch):
    calls = []

    class FakeApi:
        def __init__(self, token=None):
            calls.append(("init", token))

        def create_repo(self, repo_id, **kwargs):
            calls.append(("create", repo_id, kwargs["repo_type"], kwargs["exist_ok"]))

        def upload_folder(self, folder_path, repo_id, repo_type, **kwargs):
            calls.append(("upload", Path(folder_path), repo_id, repo_type))

    monkeypatch.setattr("huggingface_hub.HfApi", FakeApi)
    url = push_dataset(exported, "org/medqdeg-test")
    assert url.endswith("/datasets/org/medqdeg-test")
    assert ("create", "org/medqdeg-test", "dataset", True) in calls
    assert ("upload", exported, "org/medqdeg-test", "dataset") in calls
    with pytest.raises(InvalidInputError, match="exported"):
        push_dataset(exported / "data", "org/x")


def _broken_loader():
    raise InvalidInputError("image", "is not a readable image (truncated)", "PNG, JPEG, TIFF, DICOM",
                            item="broken.csv:3")


@SOURCES.register("test-broken-image")
def _broken_source(data_dir):
    image = np.zeros((32, 32), np.uint8)
    yield CleanItem(id="ok-1", image=image, question="Q?", options=["a", "b"], answer="A", modality="CT",
                    source="test", location="broken.csv:2")
    yield CleanItem(id="bad-2", image=_broken_loader, question="Q?", options=["a", "b"], answer="B",
                    modality="CT", source="test", location="broken.csv:3")
    yield CleanItem(id="bad-3", image=image, question="Q?", options=["a", "b"], answer="C", modality="CT",
                    source="test", location="broken.csv:4")


@SOURCES.register("test-unreadable-image")
def _unreadable_source(data_dir):
    yield CleanItem(id="bad-2", image=_broken_loader, question="Q?", options=["a", "b"], answer="B",
                    modality="CT", source="test", location="broken.csv:3")


def test_bad_items_raise_naming_the_place_or_are_skipped_and_reported(tmp_path, caplog):
    with pytest.raises(InvalidInputError, match=r"broken\.csv:4.*answer"):
        load_dataset("medqdeg", "clean", cache_dir=str(tmp_path / "a"), source="test-broken-image")
    with pytest.raises(InvalidInputError, match=r"broken\.csv:3.*image"):
        load_dataset("medqdeg", "clean", cache_dir=str(tmp_path / "c"), source="test-unreadable-image")
    split = load_dataset("medqdeg", "clean", split="L0", cache_dir=str(tmp_path / "b"),
                         source="test-broken-image", on_error="skip")
    assert list(split["id"]) == ["ok-1"]
    assert "skipped 2 item(s)" in caplog.text and "broken.csv:3" in caplog.text and "broken.csv:4" in caplog.text
