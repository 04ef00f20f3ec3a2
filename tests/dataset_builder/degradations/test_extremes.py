"""Extreme values and shapes (issue 11 items 6 and 7): refused with the project's error or
handled exactly, never NaN, overflow or numpy's own error."""

from __future__ import annotations

import numpy as np
import pytest

from medqdeg.dataset_builder.degradations import degrade
from medqdeg.dataset_builder.degradations.ct import MAX_DETECTOR_BINS
from medqdeg.dataset_builder.errors import InvalidInputError


@pytest.mark.parametrize("image", [
    np.full((16, 16), 1e17),
    np.full((16, 16), 2**60, dtype=np.uint64),
    np.full((16, 16), np.iinfo(np.uint64).max, dtype=np.uint64),
    np.full((16, 16), np.iinfo(np.int64).max, dtype=np.int64),
    np.full((16, 16), np.iinfo(np.int64).min, dtype=np.int64),
    np.linspace(-3e38, 3e38, 256, dtype=np.float32).reshape(16, 16),
], ids=["1e17", "uint64-2^60", "uint64-max", "int64-max", "int64-min", "float32-1e38"])
@pytest.mark.parametrize("name", ["gaussian_noise", "low_dose", "gaussian_blur"])
def test_values_beyond_2_to_53_are_refused_clearly(image, name):
    with pytest.raises(InvalidInputError, match=r"field `image` has values up to .* within \+-2\^53"):
        degrade(image, name, 1, item_id="x", modality="CT")


@pytest.mark.parametrize("dtype, value", [(np.int64, 2**53 - 7), (np.uint64, 2**53), (np.int64, -(2**53)),
                                          (np.float64, 2.0**52)])
def test_values_up_to_2_to_53_come_back_exactly_where_unchanged(dtype, value):
    image = np.full((16, 16), value, dtype=dtype)
    image[4:8, 4:8] = value - np.sign(value) * 100
    out, _ = degrade(image, "gaussian_blur", 1, item_id="x")
    assert out.dtype == image.dtype and np.isfinite(out.astype(np.float64)).all()
    assert out.min() >= image.min() and out.max() <= image.max()  # no wrap-around on the way back
    assert out[0, 0] == image[0, 0] and out[-1, -1] == image[-1, -1]  # far from the square: exact


@pytest.mark.parametrize("name", ["sparse_view", "low_dose", "limited_angle"])
def test_hounsfield_units_outside_16_bit_are_refused_for_ct(name):
    image = np.full((16, 16), 2**52, dtype=np.int64)
    with pytest.raises(InvalidInputError, match=r"taken as Hounsfield units .* within \[-32768, 65536\]"):
        degrade(image, name, 1, item_id="x")


def test_low_dose_stays_finite_where_no_photon_arrives():
    image = np.full((32, 32), 65535, dtype=np.uint16)  # dense metal, pixels of 100 mm: exp(-p) underflows to 0
    out, _ = degrade(image, "low_dose", 2, item_id="x", pixel_spacing=100.0)
    assert out.dtype == np.uint16 and out.shape == image.shape


@pytest.mark.parametrize("name, modality", [("sparse_view", None), ("limited_angle", None), ("low_dose", None),
                                            ("object_movement", "CT")])
def test_ct_types_refuse_images_past_their_pixel_budget(name, modality):
    strip = np.zeros((4000, 8), dtype=np.uint8)  # took 13 s and 1.4 GB: the circumscribed square is 4000^2
    with pytest.raises(InvalidInputError, match=rf"circumscribed square has side 4001.*at most {MAX_DETECTOR_BINS}"):
        degrade(strip, name, 1, item_id="strip", modality=modality)
    degrade(np.zeros((4000, 8), dtype=np.uint8), "gaussian_noise", 1)  # other types: no such budget


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("name", ["blood_cell_artifact", "gaussian_noise", "gaussian_blur"])
def test_a_constant_image_at_the_largest_exact_value_stays_finite(dtype, name):
    """2^53 + 1 == 2^53 in float64: a constant image's window must still have a width."""
    image = np.full((14, 36), 2.0**53, dtype=np.float64).astype(dtype)
    out, _ = degrade(image, name, "L1", seed=364, item_id="fuzz", force=True)
    assert out.dtype == image.dtype and out.shape == image.shape
    assert np.isfinite(out.astype(np.float64)).all()
