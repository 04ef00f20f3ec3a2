"""Real images of each modality, as 8-bit display images and as engine floats."""

from __future__ import annotations

import numpy as np
import pytest

from medqdeg.dataset_builder.sample_images import load_sample


@pytest.fixture(scope="session")
def ct_image() -> np.ndarray:
    return load_sample("ct_head").image


@pytest.fixture(scope="session")
def mr_image() -> np.ndarray:
    return load_sample("mr_shoulder", max_side=256).image


@pytest.fixture(scope="session")
def xray_image() -> np.ndarray:
    return load_sample("xray_chest", max_side=256).image


@pytest.fixture(scope="session")
def slide_image() -> np.ndarray:
    return load_sample("histo_ihc").image


def as_engine(image: np.ndarray) -> np.ndarray:
    return (image.astype(np.float32) / 255.0).copy()
