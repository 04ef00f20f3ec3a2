"""Severity means something: on real images of every applicable modality, L2 is worse than L1."""

from __future__ import annotations

import pytest

from medqdeg.dataset_builder.degradations import degrade, list_degradations
from medqdeg.dataset_builder.degradations.severity import REPORT_SAMPLES, image_quality
from medqdeg.dataset_builder.sample_images import load_sample

CASES = [
    (spec.name, key)
    for spec in list_degradations()
    for key in REPORT_SAMPLES
    if spec.applies_to(load_sample(key).modality)
]


@pytest.mark.parametrize(("name", "key"), CASES)
def test_l2_is_further_from_l0_than_l1_on_real_images(name, key):
    clean = load_sample(key, max_side=256).image
    quality = {}
    for level in (1, 2):
        worst = []
        for seed in range(2):
            degraded, _ = degrade(clean, name, level, seed=seed, item_id=key)
            worst.append(image_quality(clean, degraded))
        quality[level] = tuple(sum(v) / len(v) for v in zip(*worst, strict=True))
    ssim, psnr = quality[1], quality[2]
    assert quality[1][0] < 0.9999, "L1 must change the image"
    assert quality[2][0] < quality[1][0], f"SSIM L1 {ssim} L2 {psnr}"
    assert quality[2][1] < quality[1][1]
