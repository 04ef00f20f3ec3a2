"""Levels mean something: on every applicable real image of the embedded sample, L1 is
visible and L2 clearly worse (the targets of ``quality.level_strength``), or the docs say why not."""

from __future__ import annotations

import numpy as np
import pytest

from medqdeg.dataset_builder.degradations import list_degradations
from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.dataset_builder.quality.level_strength import LevelStrength, measure_level_strength
from medqdeg.dataset_builder.quality.measures import (
    changed_tissue_share,
    clipped_share,
    ct_noise_hu,
    uniform_block,
)


@pytest.fixture(scope="module")
def report() -> dict[str, LevelStrength]:
    return {row.name: row for row in measure_level_strength(seeds=1)}


@pytest.mark.parametrize("name", [spec.name for spec in list_degradations()])
def test_every_type_meets_the_targets_on_every_applicable_sample_image(report, name):
    row = report[name]
    assert row.images >= 9  # every applicable image of the sample, not one per modality
    assert not row.failures(), row.failures()


def test_the_target_check_catches_a_type_that_does_nothing_visible():
    row = LevelStrength("gaussian_blur", "resolution_blur", ("CT",))
    row.ssim = {1: [0.99, 0.98, 0.97], 2: [0.96, 0.99, 0.90]}
    missed = row.failures()
    assert any("L1 median SSIM" in reason for reason in missed)
    assert any("L2 below L1 on 67%" in reason for reason in missed)


def test_clipped_share_counts_only_newly_saturated_pixels():
    clean = np.array([[0, 10, 200, 255]], dtype=np.uint8)
    degraded = np.array([[0, 0, 255, 255]], dtype=np.uint8)
    assert clipped_share(clean, degraded) == pytest.approx(0.5)


def test_uniform_block_avoids_saturated_and_textured_regions():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (64, 64)).astype(np.uint8)
    image[32:48, 8:24] = 100  # the one flat block
    rows, cols = uniform_block(image)
    assert (rows.start, cols.start) == (32, 8)


def test_ct_noise_hu_is_the_noise_of_the_flat_block_in_hounsfield_units():
    rng = np.random.default_rng(1)
    clean = rng.integers(0, 256, (64, 64)).astype(np.uint8)
    clean[32:48, 8:24] = 100  # the one flat block
    noise = rng.normal(0.0, 3.0, clean.shape)
    degraded = np.clip(np.rint(clean + noise), 0, 255).astype(np.uint8)
    window = (40.0, 400.0)  # 400 HU over 255 grey levels
    expected = float(np.std(degraded[32:48, 8:24].astype(float) - 100.0)) * 400.0 / 255.0
    assert ct_noise_hu(clean, degraded, window) == pytest.approx(expected)
    assert ct_noise_hu(clean, degraded, window, uniform_block(clean)) == ct_noise_hu(clean, degraded, window)
    assert ct_noise_hu(clean, degraded, window, (slice(0, 16), slice(0, 16))) != pytest.approx(expected)


def test_changed_tissue_share_known_answer() -> None:
    clean = np.full((10, 10, 3), 120, dtype=np.uint8)
    clean[:, :5] = 240  # left half: white glass, not tissue (50 tissue pixels remain)
    degraded = clean.copy()
    degraded[0, 5:10, 1] += 10  # 5 tissue pixels changed by exactly 10 in one channel: counted
    degraded[1, 5:8] -= 9  # 3 tissue pixels changed by 9: not counted
    degraded[:, :5] -= 50  # every glass pixel changed: not tissue, not counted
    assert changed_tissue_share(clean, degraded) == pytest.approx(5 / 50)
    assert changed_tissue_share(clean, degraded, threshold=9) == pytest.approx(8 / 50)
    grey = clean[..., 0]
    assert changed_tissue_share(grey, degraded[..., 1]) == pytest.approx(5 / 50)
    # an image without tissue is measured over all its pixels
    glass = np.full((4, 5), 250, dtype=np.uint8)
    changed = glass.copy()
    changed[0] = 200
    assert changed_tissue_share(glass, changed) == pytest.approx(5 / 20)
    with pytest.raises(InvalidInputError):
        changed_tissue_share(clean, grey)
