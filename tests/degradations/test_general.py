"""The general types: each does what its docstring's formula says."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from medqdeg.dataset_builder.degradations.general import (
    adjust_brightness,
    exposure,
    gaussian_blur,
    gaussian_noise,
    low_resolution,
    motion_blur,
    object_rotation,
    reduce_contrast,
    trajectory_kernel,
    xray_motion_blur,
)

from .conftest import as_engine


def test_intensity_formulas(xray_image):
    image = as_engine(xray_image)
    assert np.allclose(adjust_brightness(image, delta=0.2), np.clip(image + 0.2, 0, 1))
    assert np.allclose(exposure(image, stops=1.0), np.clip(image * 2, 0, 1))
    assert np.allclose(exposure(image, stops=-2.0), image / 4, atol=1e-7)
    reduced = reduce_contrast(image, factor=0.25)
    assert reduced.std() == pytest.approx(0.25 * image.std(), rel=1e-3)
    assert reduced.mean() == pytest.approx(image.mean(), abs=1e-4)


def test_gaussian_noise_has_the_requested_sigma_away_from_the_clip():
    image = np.full((256, 256), 0.5, np.float32)
    noisy = gaussian_noise(image, sigma=0.05, noise_seed=1)
    assert (noisy - image).std() == pytest.approx(0.05, rel=0.03)
    assert np.array_equal(noisy, gaussian_noise(image, sigma=0.05, noise_seed=1))
    assert not np.array_equal(noisy, gaussian_noise(image, sigma=0.05, noise_seed=2))


def test_blur_and_resolution_remove_high_frequencies_more_at_stronger_settings(xray_image):
    image = as_engine(xray_image)

    def detail(x):
        return np.abs(ndimage.laplace(x)).mean()

    for weaker, stronger in [
        (gaussian_blur(image, sigma=0.004), gaussian_blur(image, sigma=0.01)),
        (low_resolution(image, factor=2.0), low_resolution(image, factor=5.0)),
        (motion_blur(image, length=0.02, angle=30.0), motion_blur(image, length=0.05, angle=30.0)),
        (xray_motion_blur(image, amplitude=0.008, angle=0.0), xray_motion_blur(image, amplitude=0.02, angle=0.0)),
    ]:
        assert detail(image) > detail(weaker) > detail(stronger)


def test_motion_blur_smears_along_its_angle_only():
    point = np.zeros((64, 64), np.float32)
    point[32, 32] = 1.0
    horizontal = motion_blur(point, length=0.25, angle=0.0)
    assert np.count_nonzero(horizontal[32] > 1e-4) >= 14
    assert np.abs(horizontal[[20, 44]]).max() < 1e-6


def test_xray_motion_kernel_dwells_at_the_turning_points():
    amplitude = 10.0
    phase = np.linspace(0, 1, 400, endpoint=False)
    kernel = trajectory_kernel(np.outer(amplitude * np.sin(2 * np.pi * phase), [0.0, 1.0]))
    row = kernel[kernel.shape[0] // 2]
    centre = len(row) // 2
    assert kernel.sum() == pytest.approx(1.0)
    assert row[centre + 10] > 2 * row[centre] and row[centre - 10] > 2 * row[centre]


def test_rotation_turns_the_image_and_fills_corners_with_zero():
    image = np.zeros((65, 65), np.float32)
    image[30:35, 40:60] = 1.0  # a bar to the right of the centre
    turned = object_rotation(image, angle=90.0)
    assert turned[5:25, 30:35].mean() > 0.9  # now above the centre (counter-clockwise)
    assert object_rotation(np.ones((64, 64), np.float32), angle=45.0)[0, 0] == 0.0
