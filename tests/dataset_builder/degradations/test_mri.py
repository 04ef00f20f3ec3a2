"""MRI physics signatures: what a fake image-domain imitation would not reproduce."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import fft

from medqdeg.dataset_builder.degradations import degrade
from medqdeg.dataset_builder.degradations.mri import (
    GHOST_CENTRE,
    bias_field,
    bias_field_artifact,
    central_band,
    ghost_modulation,
    ghosting_artifact,
    kspace_motion,
    motion_lines,
    undersampling_artifact,
)
from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.dataset_builder.quality.measures import image_quality

from .conftest import as_engine


def kspace(image: np.ndarray) -> np.ndarray:
    """The centred k-space of an image, per channel: fftshift(FFT2(image)) over height and width."""
    return fft.fftshift(fft.fft2(image, axes=(0, 1)), axes=(0, 1))

ITEMS = [f"case-{i}" for i in range(30)]


def _along(per_line: np.ndarray, axis: int) -> np.ndarray:
    return per_line[:, None] if axis == 0 else per_line[None, :]


# --------------------------------------------------------------------------- ghosting

@pytest.mark.parametrize(("ghosts", "axis"), [(2, 0), (3, 1), (4, 0)])
def test_ghosting_keeps_the_mean_and_the_central_kspace_lines(mr_image, ghosts, axis):
    image = as_engine(mr_image)
    out = ghosting_artifact(image, ghosts=ghosts, intensity=0.3, axis=axis, center_fraction=GHOST_CENTRE)
    assert out.mean() == pytest.approx(image.mean(), rel=0.02)
    # before the magnitude: K' = K * w, w = 1 on the central band, 0.7 on the comb outside it
    k = kspace(image)
    w = ghost_modulation(image.shape[axis], ghosts, 0.3, GHOST_CENTRE)
    band = central_band(image.shape[axis], GHOST_CENTRE)
    recon = np.fft.ifft2(np.fft.ifftshift(k * _along(w, axis)))
    assert recon.mean() == pytest.approx(image.mean(), rel=1e-5)  # DC untouched
    k_out = kspace(recon)
    assert np.allclose(np.take(k_out, np.flatnonzero(band), axis=axis),
                       np.take(k, np.flatnonzero(band), axis=axis), atol=1e-3)
    comb = np.flatnonzero(w < 1)
    assert comb.size > 0 and not band[comb].any()
    assert np.allclose(np.take(k_out, comb, axis=axis), 0.7 * np.take(k, comb, axis=axis), atol=1e-3)
    assert np.allclose(out, np.clip(np.abs(recon), 0, 1), atol=1e-5)


def test_ghosting_axis_and_count_are_shared_by_both_levels(mr_image):
    for item in ITEMS:
        _, one = degrade(mr_image, "ghosting_artifact", 1, item_id=item)
        _, two = degrade(mr_image, "ghosting_artifact", 2, item_id=item)
        assert (one.params["axis"], one.params["ghosts"]) == (two.params["axis"], two.params["ghosts"])
        assert one.params["intensity"] < two.params["intensity"]


@pytest.mark.parametrize("ghosts", [2, 3, 4])
def test_ghosts_appear_at_n_over_ghosts_and_stay_fainter_than_the_object(ghosts):
    # a bright square on black: replicas N/n pixels away along the phase-encode axis
    image = np.zeros((120, 96), np.float32)
    image[50:62, 40:52] = 1.0
    out = ghosting_artifact(image, ghosts=ghosts, intensity=1.0, axis=0, center_fraction=GHOST_CENTRE)
    ghost = np.zeros_like(image, dtype=bool)
    for j in range(1, ghosts):
        ghost |= np.roll(image, j * 120 // ghosts, axis=0) > 0
    elsewhere = (image == 0) & ~ghost
    assert (out[ghost] ** 2).mean() > 4 * (out[elsewhere] ** 2).mean()  # the ghosts are there...
    assert (out[ghost] ** 2).sum() < (out[image > 0] ** 2).sum()  # ...and fainter than the object
    assert out[ghost].max() < out[image > 0].max()


# ---------------------------------------------------------------------- undersampling

@pytest.mark.parametrize("level", [1, 2])
def test_undersampling_acquires_exactly_the_recorded_lines(mr_image, level):
    image = as_engine(mr_image)
    _, record = degrade(mr_image, "undersampling_artifact", level, item_id="knee")
    axis, lines = record.params["axis"], record.params["lines"]
    mask = np.zeros(image.shape[axis], bool)
    mask[lines] = True
    k = kspace(image)
    zero_filled = np.fft.ifft2(np.fft.ifftshift(k * _along(mask, axis)))
    k_out = kspace(zero_filled)
    assert np.allclose(np.take(k_out, lines, axis=axis), np.take(k, lines, axis=axis), atol=1e-3)
    assert np.abs(np.take(k_out, np.flatnonzero(~mask), axis=axis)).max() < 1e-3
    assert np.allclose(undersampling_artifact(image, **record.params), np.clip(np.abs(zero_filled), 0, 1),
                       atol=1e-5)
    assert mask[central_band(mask.size, record.params["center_fraction"])].all()  # the centre is kept


def test_undersampling_hits_fastmri_accelerations_and_l2_lines_are_a_subset(mr_image):
    counts = {1: [], 2: []}
    for item in ITEMS:
        _, one = degrade(mr_image, "undersampling_artifact", 1, item_id=item)
        _, two = degrade(mr_image, "undersampling_artifact", 2, item_id=item)
        assert one.params["axis"] == two.params["axis"]
        assert set(two.params["lines"]) < set(one.params["lines"])
        for record in (one, two):
            counts[record.level].append(len(record.params["lines"]) / mr_image.shape[record.params["axis"]])
    assert (one.params["acceleration"], one.params["center_fraction"]) == (4, 0.08)
    assert (two.params["acceleration"], two.params["center_fraction"]) == (8, 0.04)
    assert np.mean(counts[1]) == pytest.approx(1 / 4, rel=0.06)
    assert np.mean(counts[2]) == pytest.approx(1 / 8, rel=0.10)


@pytest.mark.parametrize("lines", [[0, 5, 300], [-1, 3], [], [1.5, 2.0]])
def test_undersampling_refuses_lines_that_do_not_fit_the_image(mr_image, lines):
    with pytest.raises(InvalidInputError, match="lines"):
        undersampling_artifact(as_engine(mr_image), acceleration=4, center_fraction=0.08, axis=0, lines=lines)


def test_undersampling_error_grows_with_acceleration(mr_image):
    one, _ = degrade(mr_image, "undersampling_artifact", 1, item_id="x")
    two, _ = degrade(mr_image, "undersampling_artifact", 2, item_id="x")
    clean = mr_image.astype(float)
    assert 0 < np.abs(one - clean).mean() < np.abs(two - clean).mean()


# ---------------------------------------------------------------------------- motion

def _poses(angle: float, shift: float, first: float = 0.3, last: float = 0.65) -> list[dict]:
    return [
        {"start": 0.0, "end": first, "angle": angle, "shift": [shift, -shift / 2]},
        {"start": first, "end": last, "angle": 0.0, "shift": [0.0, 0.0]},
        {"start": last, "end": 1.0, "angle": -angle / 2, "shift": [-shift / 2, shift]},
    ]


@pytest.mark.parametrize("axis", [0, 1])
def test_motion_without_movement_reproduces_the_image(mr_image, axis):
    image = as_engine(mr_image)
    assert np.abs(kspace_motion(image, _poses(0.0, 0.0), axis) - image).max() < 1e-5


@pytest.mark.parametrize("axis", [0, 1])
def test_motion_reference_lines_are_the_clean_ones_and_moved_lines_are_not(mr_image, axis):
    image = as_engine(mr_image)
    lines = image.shape[axis]
    acquired = motion_lines(image, _poses(6.0, 4.0), axis)
    clean = fft.fftshift(fft.fft(image, axis=axis), axes=axis)  # centred k-space along the phase axis
    times = (np.arange(lines) + 0.5) / lines
    reference = np.flatnonzero((times >= 0.3) & (times < 0.65))
    moved = np.flatnonzero(times < 0.3)
    assert lines // 2 in reference  # the DC line belongs to the reference pose
    assert np.allclose(np.take(acquired, reference, axis=axis), np.take(clean, reference, axis=axis), atol=1e-3)
    difference = np.abs(np.take(acquired, moved, axis=axis) - np.take(clean, moved, axis=axis)).mean()
    assert difference > 0.1 * np.abs(np.take(clean, moved, axis=axis)).mean()
    magnitude = np.abs(np.fft.ifft(np.fft.ifftshift(acquired, axes=axis), axis=axis))
    assert np.allclose(kspace_motion(image, _poses(6.0, 4.0), axis), np.clip(magnitude, 0, 1), atol=1e-5)


def test_motion_moves_segments_rigidly():
    # one segment holding every line: the whole object rotated about the centre and shifted
    image = np.zeros((64, 64), np.float32)
    image[20:28, 40:48] = 1.0  # a square right of the centre
    out = kspace_motion(image, [{"start": 0.0, "end": 1.0, "angle": 90.0, "shift": [0.0, 0.0]}], 0)
    # counter-clockwise by 90 degrees as shown: right of centre goes to above it
    expected = np.rot90(image)
    assert np.abs(out - expected).mean() < 0.02
    shifted = kspace_motion(image, [{"start": 0.0, "end": 1.0, "angle": 0.0, "shift": [5.0, -3.0]}], 1)
    assert np.allclose(shifted, np.roll(image, (5, -3), axis=(0, 1)), atol=1e-4)


def test_motion_error_grows_with_the_magnitude(mr_image):
    image = as_engine(mr_image)
    errors = [np.abs(kspace_motion(image, _poses(angle, shift), 0) - image).mean()
              for angle, shift in [(0.5, 0.3), (2.0, 1.5), (10.0, 10.0)]]
    assert 0 < errors[0] < errors[1] < errors[2]


def test_object_movement_on_mri_is_worse_at_l2(mr_image):
    for item in ITEMS[:8]:
        one, _ = degrade(mr_image, "object_movement", 1, item_id=item, modality="MRI")
        two, record = degrade(mr_image, "object_movement", 2, item_id=item, modality="MRI")
        assert record.params["physics"] == "k-space"
        assert image_quality(mr_image, two)[0] < image_quality(mr_image, one)[0] < 0.99


# ------------------------------------------------------------------------- bias field

def test_bias_field_ratio_is_smooth_and_exactly_exp_of_a_cubic(mr_image):
    image = as_engine(mr_image)
    coefficients = [0.3, -0.2, 0.1, 0.25, -0.15, 0.05, 0.2, -0.1, 0.1]
    out = bias_field_artifact(image, strength=0.3, coefficients=coefficients)
    field = bias_field(image.shape, coefficients)
    valid = (image > 0.05) & (out < 0.999)
    ratio = out[valid] / image[valid]
    assert np.allclose(ratio, field[valid], rtol=1e-4)
    # smooth: the field's second differences are tiny compared with the image's
    assert np.abs(np.diff(field, 2, axis=0)).max() < 1e-3
    assert field[field.shape[0] // 2, field.shape[1] // 2] == pytest.approx(1.0, abs=0.05)  # exp(0) at x = y = 0


def test_bias_field_l1_is_visible_and_l2_is_the_same_field_steeper(mr_image):
    ssim = {1: [], 2: []}
    for item in ITEMS[:10]:
        records = {}
        for level in (1, 2):
            out, records[level] = degrade(mr_image, "bias_field_artifact", level, item_id=item)
            ssim[level].append(image_quality(mr_image, out)[0])
        one, two = (np.array(records[level].params["coefficients"]) / records[level].params["strength"]
                    for level in (1, 2))
        assert np.allclose(one, two)  # the same shape, scaled
    assert np.median(ssim[1]) < 0.95
    assert all(b < a for a, b in zip(ssim[1], ssim[2], strict=True))


def test_ghosting_keeps_the_shown_mean_within_2_percent_on_the_sample_mri_images():
    """The magnitude rectifies the ghosts, so the shown mean rises a little; at both levels the
    median rise over every MRI image of the embedded sample stays within 2%."""
    from medqdeg.dataset_builder.degradations import degrade
    from medqdeg.dataset_builder.quality.level_strength import sample_images
    from medqdeg.dataset_builder.sources.embedded import assembled_image

    for level in (1, 2):
        rises = []
        for image in sample_images("MRI"):
            clean = assembled_image(image)
            out, _ = degrade(clean, "ghosting_artifact", level, item_id=image.key, modality="MRI")
            rises.append(abs(float(out.mean()) / float(clean.mean()) - 1.0))
        assert len(rises) == 40 and float(np.median(rises)) <= 0.02, (level, np.median(rises))
