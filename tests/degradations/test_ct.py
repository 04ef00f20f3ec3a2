"""CT degradations: physics signatures that a look-alike filter would not show.

The projector pair is checked against scikit-image's Radon transform and by its own
round trip; each degradation is checked for the trend its physics implies (fewer views,
a shorter arc, fewer photons: a worse image), and through the public ``degrade`` API.
"""

from __future__ import annotations

import itertools

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from skimage.data import shepp_logan_phantom
from skimage.metrics import structural_similarity
from skimage.transform import iradon, resize
from skimage.transform import radon as sk_radon

from medqdeg.dataset_builder.degradations import ct, degrade, get_degradation, replay
from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.dataset_builder.sample_images import load_sample


def _rmse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(a, np.float64) - b) ** 2)))


def _dicom(name: str) -> np.ndarray:
    values = pydicom.dcmread(get_testdata_file(name)).pixel_array.astype(np.float64)
    return ((values - values.min()) / (values.max() - values.min())).astype(np.float32)


@pytest.fixture(scope="module")
def head_ct() -> np.ndarray:
    return load_sample("ct_head").image.astype(np.float32) / 255.0  # 512x512 real head CT, brain window


@pytest.fixture(scope="module")
def small_ct() -> np.ndarray:
    return _dicom("CT_small.dcm")  # 128x128 real CT


@pytest.fixture(scope="module")
def phantom() -> np.ndarray:
    """A smooth Shepp-Logan phantom, 128x128, values in [0, 1]."""
    image = resize(shepp_logan_phantom(), (128, 128), anti_aliasing=True)
    return image.astype(np.float32)


def _full_scan(image: np.ndarray, interpolation: bool | None = None) -> np.ndarray:
    views = ct.full_views(image.shape)
    angles = np.arange(views) * (180.0 / views)
    return ct.fbp(ct.radon(image, angles), angles, image.shape, interpolation=interpolation)


# ------------------------------------------------------------------------ projector


def test_forward_projection_is_the_radon_transform(phantom):
    angles = np.array([0.0, 17.0, 45.0, 90.0, 121.5, 160.0])
    ours = ct.radon(phantom, angles)
    theirs = sk_radon(phantom.astype(np.float64), angles, circle=False).T
    assert ours.shape == theirs.shape == (6, ct.detector_bins(phantom.shape))
    scale = np.abs(theirs).max()
    # skimage resamples by bilinear rotation, so only up to interpolation blur
    assert _rmse(ours, theirs) < 0.01 * scale
    assert np.abs(ours - theirs).max() < 0.1 * scale
    # and it is not the same picture at another angle or mirrored: those differ a lot
    assert _rmse(ours[:, ::-1], theirs) > 5 * _rmse(ours, theirs)
    assert _rmse(np.roll(ours, 1, axis=0), theirs) > 5 * _rmse(ours, theirs)
    # line integrals: every projection of a parallel beam sums to the image's total mass
    np.testing.assert_allclose(ours.sum(axis=1), phantom.sum(), rtol=1e-3)


def test_full_scan_reconstructs_the_input_and_the_ideal_pair_beats_skimage(small_ct, monkeypatch):
    views = ct.full_views(small_ct.shape)
    angles = np.arange(views) * (180.0 / views)
    theirs = _rmse(iradon(sk_radon(small_ct.astype(np.float64), angles, circle=False), angles,
                          circle=False), small_ct)
    standard = _rmse(_full_scan(small_ct), small_ct)  # system blur and linear-interpolation response
    monkeypatch.setattr(ct, "DETECTOR_BLUR", False)
    ideal = _rmse(_full_scan(small_ct, interpolation=False), small_ct)  # band-limited projector pair
    assert ideal < 0.003 and ideal < 0.3 * theirs, (ideal, theirs)
    # the modelled system blur (detector aperture and focal spot) costs some sharpness
    assert ideal < standard < 0.02 and theirs < 0.02, (ideal, standard, theirs)


def test_non_square_image_keeps_shape_and_its_corners():
    image = np.full((200, 300), 0.2, dtype=np.float32)
    image[:12, :12] = 1.0  # bright squares in two corners, outside the inscribed circle
    image[-12:, -12:] = 0.8
    image[80:120, 130:170] = 0.6
    out = ct.sparse_view(image, view_fraction=1.0)  # full scan, no noise
    assert out.shape == image.shape and out.dtype == np.float32
    assert abs(float(out[2:10, 2:10].mean()) - 1.0) < 0.05
    assert abs(float(out[-10:-2, -10:-2].mean()) - 0.8) < 0.05
    assert _rmse(out, image) < 0.02


def test_colour_input_is_reconstructed_per_channel(phantom):
    rgb = np.stack([phantom, 0.5 * phantom, np.flipud(phantom)], axis=2)
    out = ct.sparse_view(rgb, view_fraction=60 / ct.full_views(rgb.shape))
    assert out.shape == rgb.shape and out.dtype == np.float32
    np.testing.assert_array_equal(out[..., 0], ct.sparse_view(phantom, view_fraction=60 / ct.full_views(phantom.shape)))


# ---------------------------------------------------------------------------- physics


def test_sparse_view_error_grows_as_views_drop(small_ct):
    errors = [_rmse(ct.sparse_view(small_ct, view_fraction=v / ct.full_views(small_ct.shape)), small_ct) for v in (200, 90, 40, 16, 6)]
    assert all(a < b for a, b in itertools.pairwise(errors)), errors
    assert errors[-1] > 4 * errors[0]


def test_limited_angle_error_grows_as_the_arc_shrinks(small_ct):
    errors = [_rmse(ct.limited_angle(small_ct, arc=a, start=25.0), small_ct)
              for a in (180.0, 160.0, 130.0, 100.0, 60.0)]
    assert all(a < b for a, b in itertools.pairwise(errors)), errors
    assert errors[0] < 0.015  # the full arc is a complete scan


def test_low_dose_noise_grows_as_photons_drop(phantom):
    image = 0.2 + 0.5 * phantom  # away from 0 and 1 so clipping does not hide noise
    clean = np.clip(_full_scan(image), 0.0, 1.0)
    noise = [float(np.std(ct.low_dose(image, i0=i0, noise_seed=3) - clean))
             for i0 in (1e7, 1e6, 1e5, 1e4)]
    assert all(a < b for a, b in itertools.pairwise(noise)), noise
    # quantum noise: std ~ 1 / sqrt(i0), so 10x the photons is ~3.2x less noise
    for low, high in itertools.pairwise(noise):
        assert 2.5 < high / low < 4.0, noise


def test_low_dose_follows_beer_lambert_and_poisson():
    sinogram = np.array([[0.0, 10.0, 50.0, 100.0]] * 20000, dtype=np.float32)
    mu = ct.attenuation_scale(sinogram)
    assert np.exp(-mu * 100.0) == pytest.approx(ct.THICKEST_TRANSMISSION)
    noisy = ct.poisson_sinogram(sinogram, 1e4, np.random.default_rng(0)).astype(np.float64)
    expected = 1e4 * np.exp(-mu * sinogram[0])
    np.testing.assert_allclose(noisy.mean(axis=0), sinogram[0], atol=0.05 * 100)
    # delta method: var(p) = 1 / (mu^2 counts)
    np.testing.assert_allclose(noisy.std(axis=0)[1:], 1.0 / (mu * np.sqrt(expected[1:])), rtol=0.05)


# ------------------------------------------------------------------------- public API


@pytest.mark.parametrize("name", ["sparse_view", "limited_angle", "low_dose"])
def test_degrade_is_deterministic_and_l2_is_worse_than_l1(head_ct, name):
    spec = get_degradation(name)
    assert spec.modalities == frozenset({"CT"})
    assert spec.category == ("noise" if name == "low_dose" else "artifacts")
    l1, _ = degrade(head_ct, name, 1, seed=11, item_id="head")
    l2, record = degrade(head_ct, name, 2, seed=11, item_id="head")
    again, _ = degrade(head_ct, name, 2, seed=11, item_id="head")
    assert again.tobytes() == l2.tobytes()
    assert replay(head_ct, record).tobytes() == l2.tobytes()
    for out in (l1, l2):
        assert out.shape == head_ct.shape and out.dtype == np.float32
        assert 0.0 <= out.min() and out.max() <= 1.0
    ssim1 = structural_similarity(head_ct, l1, data_range=1.0)
    ssim2 = structural_similarity(head_ct, l2, data_range=1.0)
    assert ssim2 < ssim1 < 0.98, (ssim1, ssim2)


@pytest.mark.parametrize(("function", "params"), [
    (ct.sparse_view, {"view_fraction": 0.0}),
    (ct.limited_angle, {"arc": 0.0, "start": 0.0}),
    (ct.limited_angle, {"arc": 200.0, "start": 0.0}),
    (ct.low_dose, {"i0": 0.0, "noise_seed": 1}),
])
def test_impossible_parameters_are_refused(phantom, function, params):
    with pytest.raises(InvalidInputError):
        function(phantom, **params)
