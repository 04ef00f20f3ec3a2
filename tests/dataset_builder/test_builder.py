"""The builder through the front door: configurations, splits, features, pairing, replay, scale."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import datasets
import numpy as np
import pytest

from medqdeg.dataset_builder import load_dataset
from medqdeg.dataset_builder.builder import MedQDegConfig
from medqdeg.dataset_builder.degradations import get_degradation, list_degradations, replay
from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.dataset_builder.protocol import plan_item
from medqdeg.dataset_builder.sources.embedded import embedded_items

LIMIT = 24


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("medqdeg-cache"))


@pytest.fixture(scope="module")
def default(cache_dir) -> datasets.DatasetDict:
    return load_dataset("medqdeg", "default", cache_dir=cache_dir, limit=LIMIT)


def _label(dataset: datasets.Dataset, column: str, row: dict) -> str:
    return dataset.features[column].int2str(row[column])


def test_default_has_the_three_severity_splits_with_typed_features(default):
    assert set(default) == {"L0", "L1", "L2"}
    features = default["L0"].features
    assert isinstance(features["image"], datasets.Image)
    for column in ("answer", "modality", "degradation", "category", "severity"):
        assert isinstance(features[column], datasets.ClassLabel), column
    assert features["answer"].names == ["A", "B", "C", "D", "E"]
    assert len(default["L0"]) == LIMIT
    for split in ("L0", "L1", "L2"):
        assert {_label(default[split], "severity", row) for row in default[split]} == {split}


def test_protocol_counts_pairing_and_modality_fit(default):
    clean = {row["id"]: row for row in default["L0"]}
    for split in ("L1", "L2"):
        types_per_item = defaultdict(list)
        for row in default[split]:
            assert row["clean_id"] in clean
            name = _label(default[split], "degradation", row)
            modality = _label(default[split], "modality", row)
            assert get_degradation(name).applies_to(modality)
            assert _label(default[split], "category", row) == get_degradation(name).category
            types_per_item[row["clean_id"]].append(name)
            twin = clean[row["clean_id"]]
            assert (row["question"], row["options"], row["answer"]) == (twin["question"], twin["options"], twin["answer"])
        assert set(types_per_item) == set(clean)
        assert all(1 <= len(names) <= 3 and len(set(names)) == len(names) for names in types_per_item.values())
    l1 = Counter((r["clean_id"], _label(default["L1"], "degradation", r)) for r in default["L1"])
    l2 = Counter((r["clean_id"], _label(default["L2"], "degradation", r)) for r in default["L2"])
    assert l1 == l2  # each chosen type at both levels


def test_the_record_replays_the_stored_degraded_image(default):
    clean = {row["id"]: row for row in default["L0"]}
    for row in default["L2"].select(range(5)):
        original = np.asarray(clean[row["clean_id"]]["image"])
        assert np.array_equal(replay(original, json.loads(row["degradation_record"])), np.asarray(row["image"]))


def test_per_type_configuration_applies_one_type_to_every_item_it_suits(cache_dir):
    splits = load_dataset("medqdeg", "ghosting_artifact", cache_dir=cache_dir, limit=6)
    for split in ("L1", "L2"):
        assert {_label(splits[split], "degradation", r) for r in splits[split]} == {"ghosting_artifact"}
    assert {_label(splits["L0"], "modality", r) for r in splits["L0"]} == {"MRI"}
    assert sorted(splits["L0"]["id"]) == sorted(splits["L2"]["clean_id"])


def test_clean_configuration_has_only_l0(cache_dir):
    splits = load_dataset("medqdeg", "clean", cache_dir=cache_dir, limit=5)
    assert list(splits) == ["L0"]
    assert set(splits["L0"]["degradation_record"]) == {None} and len(splits["L0"]) == 5


def test_options_filter_modalities_and_types(cache_dir):
    split = load_dataset("medqdeg", "default", split="L1", cache_dir=cache_dir, limit=8,
                         modalities=["X-ray"], types=["exposure", "xray_motion_blur"], min_types=2, max_types=2)
    assert {_label(split, "modality", r) for r in split} == {"X-ray"}
    assert Counter(_label(split, "degradation", r) for r in split) == {"exposure": 8, "xray_motion_blur": 8}


def test_warm_reload_uses_the_cache_and_options_change_the_cache(cache_dir, default):
    from medqdeg.dataset_builder import medqdeg_builder

    same = medqdeg_builder("default", cache_dir=cache_dir, limit=LIMIT)
    other = medqdeg_builder("default", cache_dir=cache_dir, limit=LIMIT, seed=1)
    assert same.cache_dir == medqdeg_builder("default", cache_dir=cache_dir, limit=LIMIT).cache_dir
    assert same.cache_dir != other.cache_dir
    assert same.info.splits is not None and same.info.splits["L0"].num_examples == LIMIT  # prepared already


def test_num_proc_two_gives_exactly_the_same_dataset(cache_dir, tmp_path):
    one = load_dataset("medqdeg", "default", split="L2", cache_dir=str(tmp_path / "a"), limit=12)
    two = load_dataset("medqdeg", "default", split="L2", cache_dir=str(tmp_path / "b"), limit=12, num_proc=2)
    assert list(one["id"]) == list(two["id"]) and len(one) > 12
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(one["image"], two["image"], strict=True))


def test_streaming_degrades_lazily_and_matches_the_prepared_dataset(cache_dir, default):
    stream = load_dataset("medqdeg", "default", split="L2", streaming=True, cache_dir=cache_dir, limit=LIMIT)
    assert isinstance(stream, datasets.IterableDataset)
    first = next(iter(stream))
    assert first["id"] == default["L2"][0]["id"]
    assert np.array_equal(np.asarray(first["image"]), np.asarray(default["L2"][0]["image"]))


def test_split_dataset_by_node_partitions_the_rows(default):
    from datasets.distributed import split_dataset_by_node

    parts = [split_dataset_by_node(default["L1"], rank=rank, world_size=2) for rank in range(2)]
    assert sorted(list(parts[0]["id"]) + list(parts[1]["id"])) == sorted(default["L1"]["id"])
    assert not set(parts[0]["id"]) & set(parts[1]["id"])


def test_bad_options_are_clear_errors(cache_dir):
    with pytest.raises(InvalidInputError, match="source"):
        load_dataset("medqdeg", "default", cache_dir=cache_dir, source="nowhere")
    with pytest.raises(InvalidInputError, match="sparse_veiw"):
        load_dataset("medqdeg", "default", cache_dir=cache_dir, types=["sparse_veiw"])
    with pytest.raises(InvalidInputError, match="on_error"):
        load_dataset("medqdeg", "default", cache_dir=cache_dir, on_error="ignore")
    with pytest.raises(ValueError, match="no_such_config"):
        load_dataset("medqdeg", "no_such_config", cache_dir=cache_dir)


def test_every_type_has_its_own_configuration():
    from medqdeg.dataset_builder.builder import MedQDeg

    names = {config.name for config in MedQDeg.BUILDER_CONFIGS}
    assert names == {"default", "clean"} | {spec.name for spec in list_degradations()}


def test_l0_images_are_the_source_images_unchanged(default):
    item = next(embedded_items())
    row = default["L0"][0]
    assert row["id"] == item.id
    assert np.array_equal(np.asarray(row["image"]), np.asarray(item.load_image()))


def test_the_papers_spellings_select_the_types_they_name():
    """An alias (``rotation``) plans the same type as its name; compared as given, it planned nothing."""
    config = MedQDegConfig(name="aliases", degradation="rotation", types=("brightness", "ghosting"))
    assert config.degradation == "object_rotation"
    assert config.types == ("adjust_brightness", "ghosting_artifact")
    planned = plan_item("x-ray-item", "X-ray", seed=0, allowed=None, only=config.degradation)
    assert planned.types == ("object_rotation",)
    assert plan_item("x-ray-item", "X-ray", seed=0, only="rotation").types == ()  # the alias as given plans nothing
