"""The released benchmark as published: L0/L1/L2 from the files, every degraded row paired."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from medqdeg.dataset_builder import load_dataset, medqdeg_builder
from medqdeg.dataset_builder.degradations import degrade, list_degradations
from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.dataset_builder.released import image_similarity, pair_twins
from medqdeg.dataset_builder.sources import iter_source
from tests.released_fixture import (
    CLEAN,
    DEGRADED,
    EXPECTED_TWINS,
    PUBLISHED_COUNTS,
    SIMULATE,
    phantom,
    write_released,
)


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    return write_released(tmp_path_factory.mktemp("released") / "MedQ-DEG-Bench")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("released-cache"))


def _label(ds, column, value):
    return ds.features[column].int2str(value)


def test_released_rows_load_as_published_with_every_twin_right(released, cache_dir):
    ds = load_dataset("medqdeg", source="medqdeg-tsv", data_dir=str(released), cache_dir=cache_dir)
    assert {split: ds[split].num_rows for split in ds} == PUBLISHED_COUNTS
    assert sorted(ds["L0"]["id"]) == sorted(f"MedQ-Robust-good-dev-{index}" for index, *_ in CLEAN)
    assert list(ds["L0"]["clean_id"]) == list(ds["L0"]["id"])
    twins = {row_id: clean_id for split in ("L1", "L2")
             for row_id, clean_id in zip(ds[split]["id"], ds[split]["clean_id"], strict=True)}
    assert twins == EXPECTED_TWINS  # the shared-text rows 1-3 included; row 99 has none ("")
    assert all("|" not in row_id for split in ds for row_id in ds[split]["id"])  # nothing generated
    levels = {f"MedQ-Robust-simulate-dev-{index}": f"L{level}" for index, _, _, level in DEGRADED}
    for split in ("L1", "L2"):
        assert all(levels[row_id] == split for row_id in ds[split]["id"])
        assert {_label(ds[split], "degradation", v) for v in ds[split]["degradation"]} <= {
            kind for _, _, kind, level in DEGRADED if f"L{level}" == split}


def test_pairing_report_counts_text_image_and_unpaired(released):
    items = list(iter_source("medqdeg-tsv", released))
    clean = [item for item in items if item.degradation is None]
    degraded = [item for item in items if item.degradation is not None]
    report = pair_twins(clean, degraded)
    shared = {f"MedQ-Robust-simulate-dev-{index}" for index, twin, *_ in DEGRADED if twin in ("1", "2", "3")}
    assert report.degraded == 15
    assert report.by_image == len(shared) == 9
    assert report.by_text == 5
    assert report.unpaired == ["MedQ-Robust-simulate-dev-99"]
    assert "14 of 15" in report.summary()


def test_redegrade_is_an_explicit_choice(released, cache_dir):
    ds = load_dataset("medqdeg", source="medqdeg-tsv", data_dir=str(released), cache_dir=cache_dir,
                      redegrade=True)
    assert ds["L0"].num_rows == 7
    for split in ("L1", "L2"):
        assert ds[split].num_rows > 0
        assert all("|" in row_id for row_id in ds[split]["id"])  # the engine's, none of the released rows
        assert set(ds[split]["clean_id"]) <= set(ds["L0"]["id"])


def test_per_type_configuration_keeps_released_rows_of_that_type_and_their_twins(released, cache_dir):
    ds = load_dataset("medqdeg", "gaussian_noise", source="medqdeg-tsv", data_dir=str(released),
                      cache_dir=cache_dir)
    assert sorted(ds["L1"]["id"]) == ["MedQ-Robust-simulate-dev-101"]
    assert sorted(ds["L2"]["id"]) == ["MedQ-Robust-simulate-dev-102", "MedQ-Robust-simulate-dev-99"]
    assert ds["L0"]["id"] == ["MedQ-Robust-good-dev-1"]


def test_limit_keeps_the_first_clean_rows_and_their_twins(released, cache_dir):
    builder = medqdeg_builder(source="medqdeg-tsv", data_dir=str(released), cache_dir=cache_dir, limit=2)
    builder.download_and_prepare()
    ds = builder.as_dataset()
    assert ds["L0"]["id"] == ["MedQ-Robust-good-dev-1", "MedQ-Robust-good-dev-2"]
    expected = sorted(k for k, v in EXPECTED_TWINS.items() if v in ds["L0"]["id"])
    assert sorted([*ds["L1"]["id"], *ds["L2"]["id"]]) == expected


def test_a_link_column_wins_and_a_broken_link_names_row_and_field(released, tmp_path):
    folder = write_released(tmp_path / "linked")
    path = folder / SIMULATE
    rows = list(csv.reader(path.open(newline=""), delimiter="\t"))
    rows[0].append("clean_index")
    for row in rows[1:]:
        row.append("5" if row[0] == "99" else "")  # an explicit link overrides the content
    with path.open("w", newline="") as handle:
        csv.writer(handle, delimiter="\t", lineterminator="\n").writerows(rows)
    items = list(iter_source("medqdeg-tsv", folder))
    report = pair_twins([i for i in items if i.degradation is None], [i for i in items if i.degradation])
    assert report.by_link == 1 and not report.unpaired
    assert next(i for i in items if i.id.endswith("-99")).extra["clean_id"] == "MedQ-Robust-good-dev-5"
    rows[-1][-1] = "42"
    with path.open("w", newline="") as handle:
        csv.writer(handle, delimiter="\t", lineterminator="\n").writerows(rows)
    items = list(iter_source("medqdeg-tsv", folder))
    with pytest.raises(InvalidInputError, match=r"MedQ-Robust-simulate-dev\.tsv:15.*`clean_index` is '42'"):
        pair_twins([i for i in items if i.degradation is None], [i for i in items if i.degradation])


def test_image_similarity_finds_the_twin_under_every_degradation_of_three_look_alikes():
    """Measured accuracy of the image rule: three images of the same kind, every type that
    suits each modality, at L1 and L2."""
    right = total = 0
    for modality in ("CT", "MRI", "X-ray"):
        images = [phantom(seed) for seed in (201, 202, 203)]
        for spec in list_degradations(modality):
            for level in (1, 2):
                for k, image in enumerate(images):
                    degraded, _ = degrade(image, spec.name, level, seed=1, item_id=f"{spec.name}-{k}",
                                          modality=modality)
                    scores = [image_similarity(degraded, clean) for clean in images]
                    right += int(np.argmax(scores) == k)
                    total += 1
    print(f"image pairing: {right}/{total} right")
    assert total == 204
    assert right / total >= 0.97
