"""MRI physics signatures: what a fake image-domain imitation would not reproduce."""

from __future__ import annotations

import numpy as np
import pytest

from medqdeg.dataset_builder.degradations.mri import (
    bias_field,
    bias_field_artifact,
    ghosting_artifact,
    kspace,
    undersampling_artifact,
    undersampling_mask,
)

from .conftest import as_engine


def test_undersampling_mask_keeps_the_centre_and_about_one_line_in_r():
    lines = 256
    mask = undersampling_mask(lines, acceleration=4.0, center_fraction=0.08, mask_seed=5)
    centre = round(lines * 0.08)
    start = (lines - centre + 1) // 2
    assert mask[start:start + centre].all()
    assert abs(mask.sum() - lines / 4) < 0.25 * lines / 4


@pytest.mark.parametrize("axis", [0, 1])
def test_undersampling_leaves_central_kspace_lines_untouched_and_zeroes_dropped_ones(mr_image, axis):
    image = as_engine(mr_image)
    params = {"acceleration": 4.0, "center_fraction": 0.08, "axis": axis, "mask_seed": 11}
    mask = undersampling_mask(image.shape[axis], 4.0, 0.08, 11)
    # the complex zero-filled reconstruction, before the magnitude: its k-space is K * M
    k = kspace(image)
    zero_filled = np.fft.ifft2(np.fft.ifftshift(k * (mask[:, None] if axis == 0 else mask[None, :])))
    k_out = kspace(zero_filled)
    kept = np.take(k_out, np.flatnonzero(mask), axis=axis)
    dropped = np.take(k_out, np.flatnonzero(~mask), axis=axis)
    assert np.allclose(kept, np.take(k, np.flatnonzero(mask), axis=axis), atol=1e-3)
    assert np.abs(dropped).max() < 1e-3
    # and the registered degradation is the magnitude of exactly that reconstruction
    assert np.allclose(undersampling_artifact(image, **params), np.clip(np.abs(zero_filled), 0, 1), atol=1e-5)


def test_undersampling_error_grows_with_acceleration(mr_image):
    image = as_engine(mr_image)
    errors = [np.abs(undersampling_artifact(image, acceleration=r, center_fraction=0.08, axis=0, mask_seed=3)
                     - image).mean() for r in (2.0, 4.0, 8.0)]
    assert errors[0] < errors[1] < errors[2]


@pytest.mark.parametrize("ghosts", [2, 3, 4])
def test_ghosting_creates_replicas_at_n_over_ghosts(ghosts):
    # a single bright square on black: the ghost appears N/n pixels away along the axis
    image = np.zeros((120, 96), np.float32)
    image[50:62, 40:52] = 1.0
    out = ghosting_artifact(image, ghosts=ghosts, intensity=0.9, axis=0)
    ghost = np.zeros_like(image, dtype=bool)
    for j in range(1, ghosts):
        ghost |= np.roll(image, j * 120 // ghosts, axis=0) > 0
    background = (image == 0) & ~ghost
    assert out[ghost].mean() == pytest.approx(0.9 / ghosts, rel=0.05)
    assert out[background].max() < 0.02
    assert out[image > 0].mean() == pytest.approx(1 - 0.9 / ghosts, rel=0.05)


def test_bias_field_ratio_is_smooth_and_exactly_exp_of_a_cubic(mr_image):
    image = as_engine(mr_image)
    coefficients = [0.3, -0.2, 0.1, 0.25, -0.15, 0.05, 0.2, -0.1, 0.1]
    out = bias_field_artifact(image, coefficients=coefficients)
    field = bias_field(image.shape, coefficients)
    valid = (image > 0.05) & (out < 0.999)
    ratio = out[valid] / image[valid]
    assert np.allclose(ratio, field[valid], rtol=1e-4)
    # smooth: the field's second differences are tiny compared with the image's
    assert np.abs(np.diff(field, 2, axis=0)).max() < 1e-3
    assert field[field.shape[0] // 2, field.shape[1] // 2] == pytest.approx(1.0, abs=0.05)  # exp(0) at x = y = 0
