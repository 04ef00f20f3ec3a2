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


HU_SCALE = {"low_hu": -1000.0, "high_hu": 1000.0, "below_hu": None, "above_hu": None, "pixel_mm": 1.0}
"""Engine value x stands for -1000 + 2000 x HU; 1 mm pixels."""


def _water_disc(size: int = 128, radius_mm: float = 50.0, pixel_mm: float = 1.0) -> np.ndarray:
    """HU of a water disc (0 HU) with a bone rod (1000 HU) in air (-1000 HU)."""
    yy, xx = np.mgrid[:size, :size]
    r = np.hypot(yy - size / 2, xx - size / 2) * pixel_mm
    hu = np.where(r < radius_mm, 0.0, -1000.0)
    hu[np.hypot(yy - size / 2 - 15, xx - size / 2 + 10) * pixel_mm < 6] = 1000.0
    return hu.astype(np.float32)


def _water(size: int = 128) -> np.ndarray:
    """A mask of pure water in ``_water_disc``: the central disc, the bone rod left out."""
    yy, xx = np.mgrid[:size, :size]
    return (np.hypot(yy - size / 2, xx - size / 2) < 25) & (np.hypot(yy - size / 2 - 15, xx - size / 2 + 10) > 10)


def _engine(hu: np.ndarray) -> np.ndarray:
    return (hu + 1000.0) / 2000.0


def test_full_scan_adds_nothing_and_keeps_non_square_corners():
    image = np.full((200, 300), 0.5, dtype=np.float32)
    image[:12, :12] = 1.0  # bright squares in two corners, outside the inscribed circle
    image[-12:, -12:] = 0.8
    image[80:120, 130:170] = 0.6
    full = ct.full_views(image.shape)
    out = ct.sparse_view(image, views_512=full, views=full, scale=HU_SCALE)  # a full scan: no artefact
    assert out.shape == image.shape and out.dtype == np.float32
    assert np.abs(out - image).max() < 2e-3
    fewer = ct.sparse_view(image, views_512=30, views=30, scale=HU_SCALE)
    assert _rmse(fewer, image) > 10 * _rmse(out, image)


def test_colour_input_is_reconstructed_per_channel(phantom):
    rgb = np.stack([phantom, 0.5 * phantom, np.flipud(phantom)], axis=2)
    out = ct.sparse_view(rgb, views_512=60, views=60, scale=HU_SCALE)
    assert out.shape == rgb.shape and out.dtype == np.float32
    np.testing.assert_array_equal(out[..., 0], ct.sparse_view(phantom, views_512=60, views=60, scale=HU_SCALE))


# ---------------------------------------------------------------------------- physics


def test_sparse_view_error_grows_as_views_drop(small_ct):
    errors = [_rmse(ct.sparse_view(small_ct, views_512=v, views=v, scale=HU_SCALE), small_ct)
              for v in (200, 90, 40, 16, 6)]
    assert all(a < b for a, b in itertools.pairwise(errors)), errors
    assert errors[-1] > 4 * errors[0]


def test_limited_angle_error_grows_as_the_arc_shrinks_and_the_body_keeps_its_mean():
    hu = _water_disc()
    image = _engine(hu)
    outs = [ct.limited_angle(image, arc=a, start=25.0, scale=HU_SCALE) for a in (180.0, 160.0, 130.0, 100.0, 60.0)]
    errors = [_rmse(out, image) for out in outs]
    assert all(a < b for a, b in itertools.pairwise(errors)), errors
    assert errors[0] < 1e-3  # the full arc is a complete scan
    body = hu > -500
    clean_mu = ct.to_attenuation(image, HU_SCALE)[body].mean()
    for arc, out in zip((160.0, 130.0, 100.0), outs[1:4], strict=True):
        mean_mu = ct.to_attenuation(out, HU_SCALE)[body].mean()
        assert abs(mean_mu / clean_mu - 1.0) < 0.15, (arc, mean_mu, clean_mu)


def test_without_arc_normalisation_the_mean_would_fall():
    """The signature the normalisation removes: weighting the views by the full-scan step."""
    image = _engine(_water_disc())
    mu = ct.to_attenuation(image, HU_SCALE)
    step = 180.0 / ct.full_views(mu.shape)
    angles = step * np.arange(round(100.0 / step))
    unnormalised = ct.fbp(ct.radon(mu, angles), angles, mu.shape, angle_step=step)
    normalised = ct.fbp(ct.radon(mu, angles), angles, mu.shape, angle_step=180.0 / angles.size)
    assert unnormalised.mean() < 0.7 * mu.mean() < normalised.mean() < 1.3 * mu.mean()


def test_dose_noise_is_poisson_on_the_counts_of_the_missing_dose():
    sinogram = np.array([[0.0, 1.0, 3.0, 5.0]] * 20000, dtype=np.float32)
    for dose in (0.25, 0.05):
        noise = ct.dose_noise(sinogram, dose, np.random.default_rng(0)).astype(np.float64)
        effective = ct.FULL_DOSE * dose / (1 - dose) * np.exp(-sinogram[0].astype(np.float64))
        np.testing.assert_allclose(noise.mean(axis=0), 0.0, atol=0.01)
        # delta method: var(ln counts) = 1 / expected counts
        np.testing.assert_allclose(noise.std(axis=0), 1.0 / np.sqrt(effective), rtol=0.05)


def test_low_dose_noise_in_hu_has_variance_inverse_to_the_dose():
    """A full-dose scan (the clean image's own noise) repeated at dose f: variance ~ 1 / f."""
    hu = _water_disc()
    mu = ct.MU_WATER * (1 + hu / 1000.0)
    angles = np.arange(ct.full_views(hu.shape)) * (180.0 / ct.full_views(hu.shape))
    # dose 1/2 inserts exactly the full-dose noise (N_eff = N0): the clinical image itself
    own_noise = ct.fbp(ct.dose_noise(ct.radon(mu, angles), 0.5, np.random.default_rng(1)), angles, hu.shape)
    full_dose_hu = hu + own_noise / ct.MU_WATER * 1000.0
    water = _water()
    variances = {}
    for dose in (0.5, 0.25, 0.1, 0.05):
        _, record = degrade(full_dose_hu, "low_dose", 1, modality="CT", pixel_spacing=1.0)
        scale = record.params["scale"]  # the HU input's own range, 1 mm pixels
        image = (full_dose_hu - scale["low_hu"]) / (scale["high_hu"] - scale["low_hu"])
        lowered = ct.low_dose(image.astype(np.float32), dose=dose, noise_seed=7, scale=scale)
        lowered_hu = scale["low_hu"] + lowered * (scale["high_hu"] - scale["low_hu"])
        variances[dose] = float((lowered_hu - hu)[water].var())
    own = float((full_dose_hu - hu)[water].var())
    for dose, variance in variances.items():
        assert variance * dose == pytest.approx(own, rel=0.2), (dose, variance, own)
    assert variances[0.05] > variances[0.1] > variances[0.25] > variances[0.5]


def test_a_ct_in_hounsfield_units_comes_back_in_hounsfield_units():
    hu = np.rint(_water_disc()).astype(np.int16)
    out, record = degrade(hu, "low_dose", 2, seed=3, item_id="disc", modality="CT", pixel_spacing=1.0)
    assert out.dtype == np.int16 and out.shape == hu.shape
    assert record.params["scale"] == {"low_hu": -1000.0, "high_hu": 1000.0, "below_hu": None, "above_hu": None,
                                      "pixel_mm": 1.0}
    water = _water()
    assert abs(float(out[water].mean())) < 10  # water stays 0 HU on average
    assert 10 < float(out[water].std()) < 300  # with visible quantum noise, in HU
    assert out.min() >= -1000 and out.max() <= 1000  # clipped to the input's range


def test_a_display_image_is_mapped_back_through_its_window():
    window = (40.0, 400.0)  # soft tissue: -160..240 HU
    display = np.array([[0, 51, 102, 255]], dtype=np.float32) / 255.0
    scale = {"low_hu": -160.0, "high_hu": 240.0, "below_hu": ct.AIR_HU, "above_hu": ct.BONE_HU, "pixel_mm": 0.5}
    hu = ct.to_attenuation(display, scale) / (ct.MU_WATER * 0.5) * 1000 - 1000
    np.testing.assert_allclose(hu[0], [ct.AIR_HU, -80.0, 0.0, ct.BONE_HU], atol=0.1)
    _, record = degrade(np.zeros((32, 32), np.uint8), "sparse_view", 1, modality="CT", display_window=window)
    assert record.params["scale"]["low_hu"] == -160.0 and record.params["scale"]["below_hu"] == ct.AIR_HU
    _, default = degrade(np.zeros((32, 32), np.uint8), "sparse_view", 1, modality="CT")
    center, width = ct.DEFAULT_WINDOW
    assert default.params["scale"]["high_hu"] == center + width / 2
    assert default.params["scale"]["pixel_mm"] == pytest.approx(ct.DEFAULT_FIELD_OF_VIEW / 32)


def test_the_projection_of_a_moved_object_is_the_moved_projection(phantom):
    """Rotation is an angle offset and translation a detector shift: exact on the sinogram."""
    padded = np.zeros((160, 160), np.float32)
    padded[16:144, 16:144] = phantom
    angles = np.arange(0.0, 180.0, 9.0)
    theta = np.deg2rad(angles)
    shifted = np.roll(padded, (4, -6), axis=(0, 1))  # (dy, dx) in pixels
    direct = ct.radon(shifted, angles)
    exact = ct.radon(padded, angles, -6 * np.cos(theta) - 4 * np.sin(theta))
    assert _rmse(exact, direct) < 1e-3 * np.abs(direct).max()
    odd = np.pad(padded, ((0, 1), (0, 1)))  # odd sides: np.rot90 turns about the CT centre pixel
    rotated = np.rot90(odd).copy()  # 90 degrees counter-clockwise as displayed
    assert _rmse(ct.radon(odd, angles - 90.0), ct.radon(rotated, angles)) < 1e-3 * np.abs(direct).max()
    assert _rmse(ct.radon(odd, angles + 90.0), ct.radon(rotated, angles)) > 0.05 * np.abs(direct).max()


def test_motion_without_movement_adds_nothing_and_a_move_adds_streaks(phantom):
    still = [{"start": 0.0, "end": 1.0, "angle": 0.0, "shift": [0.0, 0.0]}]
    assert np.abs(ct.sinogram_motion(phantom, still, HU_SCALE) - phantom).max() < 1e-4
    moved = [{"start": 0.0, "end": 0.3, "angle": 4.0, "shift": [2.0, -1.0]}, *still[:0],
             {"start": 0.3, "end": 1.0, "angle": 0.0, "shift": [0.0, 0.0]}]
    assert _rmse(ct.sinogram_motion(phantom, moved, HU_SCALE), phantom) > 0.01


# ------------------------------------------------------------------------- public API


@pytest.mark.parametrize("name", ["sparse_view", "limited_angle", "low_dose"])
def test_degrade_is_deterministic_and_l2_is_worse_than_l1(head_ct, name):
    spec = get_degradation(name)
    assert spec.modalities == frozenset({"CT"})
    assert spec.category == ("noise" if name == "low_dose" else "artifacts")
    window = load_sample("ct_head").acquisition
    l1, _ = degrade(head_ct, name, 1, seed=11, item_id="head", **window)
    l2, record = degrade(head_ct, name, 2, seed=11, item_id="head", **window)
    again, _ = degrade(head_ct, name, 2, seed=11, item_id="head", **window)
    assert again.tobytes() == l2.tobytes()
    assert replay(head_ct, record).tobytes() == l2.tobytes()
    for out in (l1, l2):
        assert out.shape == head_ct.shape and out.dtype == np.float32
        assert 0.0 <= out.min() and out.max() <= 1.0
    ssim1 = structural_similarity(head_ct, l1, data_range=1.0)
    ssim2 = structural_similarity(head_ct, l2, data_range=1.0)
    assert ssim2 < ssim1 < 0.95, (ssim1, ssim2)


def test_the_missing_wedge_points_the_same_way_at_l1_and_l2():
    image = np.zeros((32, 32), np.uint8)
    for item in range(20):
        (_, first), (_, second) = (degrade(image, "limited_angle", level, item_id=f"i{item}", modality="CT")
                                   for level in (1, 2))
        assert first.params["start"] == second.params["start"]
        assert second.params["arc"] < first.params["arc"]


@pytest.mark.parametrize(("function", "params"), [
    (ct.sparse_view, {"views_512": 1, "views": 1, "scale": HU_SCALE}),
    (ct.limited_angle, {"arc": 0.0, "start": 0.0, "scale": HU_SCALE}),
    (ct.limited_angle, {"arc": 200.0, "start": 0.0, "scale": HU_SCALE}),
    (ct.low_dose, {"dose": 0.0, "noise_seed": 1, "scale": HU_SCALE}),
    (ct.low_dose, {"dose": 1.0, "noise_seed": 1, "scale": HU_SCALE}),
])
def test_impossible_parameters_are_refused(phantom, function, params):
    with pytest.raises(InvalidInputError):
        function(phantom, **params)
