"""The general types: each does what its docstring's formula says."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from medqdeg.dataset_builder.degradations import degrade
from medqdeg.dataset_builder.degradations.general import (
    adjust_brightness,
    exposure,
    exposure_motion,
    gaussian_blur,
    gaussian_noise,
    low_resolution,
    motion_blur,
    object_rotation,
    reduce_contrast,
    trajectory_kernel,
    xray_motion_blur,
)
from medqdeg.dataset_builder.degradations.geometry import rigid_move
from medqdeg.dataset_builder.quality.measures import image_quality

from .conftest import as_engine


def ring_on_black() -> np.ndarray:
    """A textured disc (the object) on a black surround (air)."""
    yy, xx = np.mgrid[:128, :128]
    disc = (yy - 64) ** 2 + (xx - 64) ** 2 < 45**2
    texture = 0.4 + 0.3 * np.sin(xx / 5.0) * np.cos(yy / 7.0)
    return np.where(disc, texture, 0.0).astype(np.float32)


def slide_on_glass() -> np.ndarray:
    """Pink-purple tissue on the left, white-ish glass (0.92) on the right."""
    image = np.full((96, 96, 3), 0.92, np.float32)
    yy, xx = np.mgrid[:96, :48]
    image[:, :48] = np.stack([0.7 + 0.1 * np.sin(xx / 3.0), 0.35 + 0.1 * np.cos(yy / 4.0),
                              np.full_like(xx, 0.6, dtype=float)], axis=2)
    return image


def test_intensity_formulas(xray_image):
    image = as_engine(xray_image)
    assert np.allclose(exposure(image, stops=1.0), 1 - (1 - image) ** 2, atol=1e-6)
    assert np.allclose(exposure(image, stops=-2.0), 1 - (1 - image) ** 0.25, atol=1e-6)
    grey = np.linspace(0.2, 0.8, 64, dtype=np.float32).reshape(8, 8)  # no empty background
    assert np.allclose(adjust_brightness(grey, lift=1.0), grey**0.5, atol=1e-6)
    assert np.allclose(adjust_brightness(grey, lift=-1.0), 1 - (1 - grey) ** 0.5, atol=1e-6)
    reduced = reduce_contrast(grey, factor=0.25, model="object")
    assert reduced.std() == pytest.approx(0.25 * grey.std(), rel=1e-3)
    assert reduced.mean() == pytest.approx(grey.mean(), abs=1e-4)


@pytest.mark.parametrize("apply", [
    lambda x: adjust_brightness(x, lift=1.5), lambda x: adjust_brightness(x, lift=-1.5),
    lambda x: reduce_contrast(x, factor=0.2, model="object"),
])
def test_brightness_and_contrast_keep_the_black_surround_and_change_the_object(apply):
    image = ring_on_black()
    out = apply(image)
    assert out[:10].max() == 0.0 and out[:, :10].max() == 0.0
    assert np.abs(out[40:88, 40:88] - image[40:88, 40:88]).mean() > 0.03


def test_histopathology_contrast_fades_the_stain_and_keeps_the_glass_white():
    image = slide_on_glass()
    out = reduce_contrast(image, factor=0.25, model="stain")
    assert np.allclose(out[:, 60:], image[:, 60:], atol=2e-3)
    assert (out[:, :40] > image[:, :40]).all()  # the tissue pales towards the glass
    assert out[:, :40].std(axis=(0, 1)).max() < image[:, :40].std(axis=(0, 1)).max()


@pytest.mark.parametrize("name", ["adjust_brightness", "exposure", "reduce_contrast"])
def test_intensity_types_saturate_few_pixels_at_l2(name, xray_image, slide_image, ct_image):
    for image, modality in [(xray_image, "X-ray"), (slide_image, "Histopathology"), (ct_image, "CT")]:
        for seed in range(3):
            out, _ = degrade(image, name, 2, seed=seed, item_id="clip", modality=modality)
            new = ((out == 0) & (image != 0)) | ((out == 255) & (image != 255))
            assert new.mean() <= 0.35, (modality, seed)
            assert name == "exposure" or new.mean() <= 0.03


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


def test_rotation_turns_the_image_and_fills_corners_with_the_background():
    image = np.zeros((65, 65), np.float32)
    image[30:35, 40:60] = 1.0  # a bar to the right of the centre
    turned = object_rotation(image, angle=90.0)
    assert turned[5:25, 30:35].mean() > 0.9  # now above the centre (counter-clockwise)
    slide = slide_on_glass()
    glass = np.median(np.concatenate([slide[0], slide[-1], slide[1:-1, 0], slide[1:-1, -1]]), axis=0)
    assert np.allclose(object_rotation(slide, angle=30.0)[0, -1], glass, atol=1e-6)
    assert object_rotation(np.ones((64, 64), np.float32) * 0.5, angle=45.0)[0, 0] == pytest.approx(0.5)
    assert rigid_move(np.ones((64, 64), np.float32), 45.0, (0.0, 0.0), 0.0)[0, 0] == 0.0


def test_exposure_motion_is_the_time_weighted_mean_of_the_moved_copies():
    image = ring_on_black()
    still = [{"start": 0.0, "end": 0.3, "angle": 0.0, "shift": [0.0, 0.0]},
             {"start": 0.3, "end": 1.0, "angle": 0.0, "shift": [0.0, 0.0]}]
    assert np.allclose(exposure_motion(image, still), image, atol=1e-6)
    shifted = [{"start": 0.0, "end": 0.25, "angle": 0.0, "shift": [0.0, 6.0]},
               {"start": 0.25, "end": 1.0, "angle": 0.0, "shift": [0.0, 0.0]}]
    expected = 0.25 * np.roll(image, 6, axis=1) + 0.75 * image  # the surround is black: roll == shift
    assert np.allclose(exposure_motion(image, shifted), expected, atol=1e-5)


def test_l2_is_more_of_the_same_change_as_l1():
    image = np.clip(ring_on_black() + 0.1, 0, 1)
    for index in range(100):
        item = f"item-{index}"
        levels = {level: {name: degrade(image, name, level, seed=0, item_id=item)
                          for name in ("adjust_brightness", "exposure", "object_rotation", "motion_blur")}
                  for level in (1, 2)}
        for name in ("adjust_brightness", "exposure"):
            changes = [levels[level][name][0].mean() - image.mean() for level in (1, 2)]
            assert np.sign(changes[0]) == np.sign(changes[1]) != 0
        angles = [levels[level]["object_rotation"][1].params["angle"] for level in (1, 2)]
        assert np.sign(angles[0]) == np.sign(angles[1]) and abs(angles[1]) > abs(angles[0])
        assert levels[1]["motion_blur"][1].params["angle"] == levels[2]["motion_blur"][1].params["angle"]
    xray = {level: degrade(image, "xray_motion_blur", level, item_id="x", modality="X-ray")[1] for level in (1, 2)}
    assert xray[1].params["angle"] == xray[2].params["angle"]


@pytest.mark.parametrize("name", ["adjust_brightness", "exposure", "reduce_contrast", "gaussian_noise",
                                  "gaussian_blur", "low_resolution", "motion_blur", "object_rotation"])
def test_l1_is_visible_and_l2_is_worse_on_real_images(name, xray_image, slide_image, ct_image):
    for image, modality in [(xray_image, "X-ray"), (slide_image, "Histopathology"), (ct_image, "CT")]:
        ssim = [image_quality(image, degrade(image, name, level, item_id="real", modality=modality)[0])[0]
                for level in (1, 2)]
        assert ssim[0] <= 0.99 and ssim[1] < ssim[0], (modality, ssim)
