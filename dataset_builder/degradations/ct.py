"""CT degradations, simulated where CT forms its image: on the sinogram.

A CT scanner measures line integrals of the attenuation map ``f`` (the parallel-beam
Radon transform), one projection per view angle, and reconstructs the slice by filtered
back-projection (FBP). Each degradation here forward-projects the image, removes or
corrupts part of the sinogram as the scanner would, and reconstructs:

- ``sparse_view``: only ``views`` projections, equally spaced over 180 degrees;
- ``limited_angle``: projections over an arc of ``arc`` degrees from ``start`` only
  (the missing wedge), at the full-scan angular step;
- ``low_dose``: every projection, with Poisson (quantum) noise on the photon counts of an
  exposure of ``i0`` photons per detector bin (of a 512x512 slice; see ``photons_per_bin``).

Geometry (the convention of ``skimage.transform.radon``). An HxW image is centred on
pixel ``(H // 2, W // 2)`` and implicitly zero-padded to the circumscribed square of side
``D = ceil(sqrt(H^2 + W^2))`` pixels, so nothing outside the inscribed circle (corners,
non-square images) is cropped. The detector has ``D`` bins of one pixel; bin ``m`` sits at
``s = m - D // 2``. Angles ``theta`` are in degrees; the projection at ``theta`` is

    p(theta, s) = integral f(x, y) delta(x cos(theta) - y sin(theta) - s) dx dy,

with x the column and y the row offset from the centre (rows grow downwards), in units
of image value x pixel. The padding is implicit (the NUFFTs below see only the image's own
pixels and the reconstruction is evaluated on the HxW grid alone); the result is clipped
to [0, 1], the input's range.

Algorithm (Fourier slice theorem, with FINUFFT). The 1D Fourier transform of a
projection is a radial slice of the image's 2D Fourier transform F:
``P(theta, w) = F(w cos(theta), -w sin(theta))``, w in cycles per pixel. Forward
projection evaluates F at the polar points ``w_q = q / M`` (``M = next_fast_len(2 D)``
radial samples up to the Nyquist frequency 1/2) with one type-2 non-uniform FFT and
takes a real inverse FFT of length M along w. FBP takes the FFT of each zero-padded
projection (length M, twice the detector, so the circular convolution does not wrap),
multiplies by the ramp filter ``|w|`` (the Kak-Slaney band-limited ramp, whose value at
w = 0 keeps the mean intensity), the reconstruction window W(w) (``RECONSTRUCTION_WINDOW``,
times sinc(w)^2 when ``LINEAR_INTERPOLATION``) and the angular step
``d_theta`` (radians), and sums all slices back onto the pixel grid with one type-1
(adjoint) non-uniform FFT:

    f(x, y) = sum_theta d_theta sum_q |w_q| W(w_q) P(theta, w_q) exp(2 pi i w_q (x cos - y sin)) / M.

Only w >= 0 is computed (the image is real, so P(theta, -w) is the conjugate). Cost is
O(HW log HW + views x M x K), K the NUFFT kernel size, instead of the O(views x D^2) of a rotate-and-sum
projector; ``benchmarks/ct_baseline.py`` compares it with ``skimage.transform``.
"""

from __future__ import annotations

import math
from functools import lru_cache

import finufft
import numpy as np
from scipy import fft

from ..errors import InvalidInputError
from .channels import per_channel
from .geometry import rigid_move
from .params import Seed, Uniform
from .registry import register

NUFFT_EPS = 1e-4
"""Relative accuracy asked of FINUFFT (single precision). The reconstruction error of a
noise-free full scan is ~1e-3 of full scale, dominated by the discretisation, not by this."""

NUFFT_THREADS = 1
"""Threads FINUFFT may use. Kept at 1: multi-threaded spreading adds in a varying order,
which would break the engine's byte-for-byte replay (0 means all cores)."""

VIEWS_PER_DETECTOR_BIN = math.pi / 2
"""A full scan takes ``ceil(pi/2 x D)`` views over 180 degrees, the angular sampling
condition for D detector bins (1139 views for a 512x512 slice, as on clinical scanners)."""

THICKEST_TRANSMISSION = 0.03
"""Transmission exp(-mu p_max) of the most attenuating ray of a low-dose scan (3 %)."""

REFERENCE_BINS = 725
"""D of a 512x512 slice: ``i0`` is given per detector bin of that matrix size."""

MIN_THICKNESS = 0.05
"""Floor on p_max, as a fraction of D, so a nearly empty image is not scaled to 3 %."""

RECONSTRUCTION_WINDOW = "ramp"
"""The apodisation W(w) of the ramp filter, as ``skimage.transform.iradon``'s
``filter_name``: "ramp" (none, the default of scikit-image and the sharpest),
"shepp-logan" (sinc(w)), "cosine" (cos(pi w)) or "hann" ((1 + cos(2 pi w)) / 2)."""

LINEAR_INTERPOLATION = True
"""Also multiply the filter by sinc(w)^2, the response of the linear interpolation of a
voxel-driven back-projector (scikit-image's, most scanners'): the image then has the
resolution of a standard FBP, without its interpolation aliasing. False gives the ideal
band-limited inverse (closest to the input for a noise-free full scan; sharper streaks
and noise otherwise)."""

DETECTOR_BLUR = True
"""Multiply each measured projection's spectrum by sinc(w)^2: the system blur of a real
scanner, a detector element one bin wide (a box, sinc(w)) convolved with a focal spot
about one bin wide (another box). It is also the smoothing that the bilinear rotation of
a rotate-and-sum projector (scikit-image's ``radon``) applies. False measures the ideal,
band-limited line integrals."""


# ------------------------------------------------------------------------------ geometry


def detector_bins(shape: tuple[int, ...]) -> int:
    """D, the side of the circumscribed square of an HxW image, in detector bins (pixels)."""
    height, width = shape[:2]
    return math.ceil(math.hypot(height, width))


def full_views(shape: tuple[int, ...]) -> int:
    """The number of views of a full 180-degree scan of an image of this shape."""
    return math.ceil(VIEWS_PER_DETECTOR_BIN * detector_bins(shape))


@lru_cache(maxsize=8)
def _radial(bins: int, window: str, interpolation: bool) -> tuple[int, np.ndarray, np.ndarray]:
    """FFT length M, the frequencies w_q = q / M (q = 0..M//2) and the filter |w| W(w) / M.

    The filter also carries the weight of each half-plane sample in the full sum over
    q in [-M/2, M/2): 2 for 0 < q < M/2, 1 for q = 0 and for the Nyquist sample.
    """
    length = fft.next_fast_len(2 * bins)
    freqs = np.arange(length // 2 + 1) / length
    # Kak & Slaney (1988), ch. 3: the ramp band-limited to 1/2 cycle per pixel, sampled
    # in space (h0 = 1/4, h_n = -1/(pi n)^2 for odd n) so its DFT is ~|w| but not 0 at w = 0.
    offsets = np.minimum(np.arange(length), length - np.arange(length))
    kernel = np.zeros(length)
    kernel[0] = 0.25
    odd = offsets % 2 == 1
    kernel[odd] = -1.0 / (np.pi * offsets[odd]) ** 2
    ramp = fft.rfft(kernel).real
    windows = {
        "ramp": np.ones_like(freqs),
        "shepp-logan": np.sinc(freqs),
        "cosine": np.cos(np.pi * freqs),
        "hann": 0.5 * (1.0 + np.cos(2.0 * np.pi * freqs)),
    }
    if window not in windows:
        raise InvalidInputError("window", f"is {window!r}", f"one of {sorted(windows)}")
    response = np.sinc(freqs) ** 2 if interpolation else 1.0
    weight = np.full(freqs.shape, 2.0)
    weight[0] = 1.0
    if length % 2 == 0:
        weight[-1] = 1.0
    return length, freqs, ramp * windows[window] * response * weight / length


def _polar_points(angles: np.ndarray, freqs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NUFFT coordinates (radians per pixel) of the slices: rows (y) first, columns (x)."""
    theta = np.deg2rad(np.asarray(angles, dtype=np.float64))
    omega = 2.0 * np.pi * freqs
    ky = -np.outer(np.sin(theta), omega)
    kx = np.outer(np.cos(theta), omega)
    return ky.ravel().astype(np.float32), kx.ravel().astype(np.float32)


def _check_angles(angles: np.ndarray) -> np.ndarray:
    angles = np.atleast_1d(np.asarray(angles, dtype=np.float64))
    if angles.ndim != 1 or angles.size < 1 or not np.all(np.isfinite(angles)):
        raise InvalidInputError("angles", f"has shape {angles.shape}", "a 1D list of finite degrees")
    return angles


def _check_plane(image: np.ndarray) -> None:
    if image.ndim != 2:
        raise InvalidInputError("image", f"has shape {image.shape}", "a 2D (HxW) slice")


# --------------------------------------------------------------------- projector pair


def radon(image: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Parallel-beam sinogram (views x D, float32) of an HxW image at ``angles`` (degrees).

    Values are line integrals in image value x pixel, measured through the system blur of
    ``DETECTOR_BLUR``; row v is the projection at ``angles[v]``, column m the detector bin
    at ``s = m - D // 2`` (pixels). Same geometry and orientation as
    ``skimage.transform.radon(image, angles, circle=False).T``.
    """
    _check_plane(image)
    angles = _check_angles(angles)
    height, width = image.shape
    bins = detector_bins(image.shape)
    length, freqs, _ = _radial(bins, RECONSTRUCTION_WINDOW, LINEAR_INTERPOLATION)
    plan = finufft.Plan(2, (height, width), eps=NUFFT_EPS, isign=-1, dtype="complex64",
                        nthreads=NUFFT_THREADS)
    plan.setpts(*_polar_points(angles, freqs))
    slices = plan.execute(np.ascontiguousarray(image, dtype=np.complex64)).reshape(angles.size, freqs.size)
    if DETECTOR_BLUR:
        slices *= (np.sinc(freqs) ** 2).astype(np.float32)
    projections = fft.irfft(slices, n=length, axis=1)
    return projections[:, np.arange(bins) - bins // 2].astype(np.float32)


def fbp(sinogram: np.ndarray, angles: np.ndarray, shape: tuple[int, int], *,
        angle_step: float | None = None, window: str | None = None,
        interpolation: bool | None = None) -> np.ndarray:
    """Filtered back-projection of a ``radon`` sinogram onto an HxW grid (float32, unclipped).

    ``angle_step`` is the angular weight d_theta of each view in degrees (default
    180 / views, right for views spread evenly over 180 degrees; a limited-angle scan
    passes its own step so the missing wedge stays missing). ``window`` and
    ``interpolation`` override ``RECONSTRUCTION_WINDOW`` and ``LINEAR_INTERPOLATION``.
    """
    angles = _check_angles(angles)
    window = RECONSTRUCTION_WINDOW if window is None else window
    interpolation = LINEAR_INTERPOLATION if interpolation is None else bool(interpolation)
    bins = detector_bins(shape)
    if sinogram.shape != (angles.size, bins):
        raise InvalidInputError("sinogram", f"has shape {sinogram.shape}",
                                f"({angles.size}, {bins}) for {angles.size} angles and shape {shape}")
    length, freqs, ramp = _radial(bins, window, interpolation)
    step = np.deg2rad(180.0 / angles.size if angle_step is None else angle_step)
    padded = np.zeros((angles.size, length), dtype=np.float64)
    padded[:, np.arange(bins) - bins // 2] = sinogram
    filtered = (fft.rfft(padded, axis=1) * (ramp * step)).astype(np.complex64)
    plan = finufft.Plan(1, tuple(shape[:2]), eps=NUFFT_EPS, isign=1, dtype="complex64",
                        nthreads=NUFFT_THREADS)
    plan.setpts(*_polar_points(angles, freqs))
    return plan.execute(filtered.ravel()).real.astype(np.float32)


def _reconstruct(image: np.ndarray, angles: np.ndarray, angle_step: float) -> np.ndarray:
    return fbp(radon(image, angles), angles, image.shape, angle_step=angle_step)


# -------------------------------------------------------------------------- artifacts

SPARSE_VIEW_LEVELS = {
    1: {"view_fraction": Uniform(0.25, 0.35)},
    2: {"view_fraction": Uniform(0.06, 0.09)},
}


def sparse_views(shape: tuple[int, ...], view_fraction: float) -> int:
    """The number of views of a sparse scan: ``view_fraction`` of ``full_views(shape)``, at least 2.

    Relative to the full scan, so a level means the same at every matrix size (at 512x512
    the full scan has 1139 views: L1 keeps about 285-400 of them, L2 about 68-103).
    """
    if not 0.0 < float(view_fraction) <= 1.0:
        raise InvalidInputError("view_fraction", f"is {view_fraction}", "a fraction of the full scan in (0, 1]")
    return max(2, round(float(view_fraction) * full_views(shape)))


@register("sparse_view", category="artifacts", levels=SPARSE_VIEW_LEVELS, modalities={"CT"})
def sparse_view(image: np.ndarray, *, view_fraction: float) -> np.ndarray:
    """Sparse-view CT: ``sparse_views`` projections evenly spaced over 180 degrees, then FBP.

    With V views, angles ``theta_k = 180 k / V`` degrees, k = 0..V-1, weighted
    d_theta = pi / V. Angular undersampling leaves streak artifacts radiating from edges.
    """
    views = sparse_views(image.shape, view_fraction)
    angles = np.arange(views) * (180.0 / views)

    def apply(plane: np.ndarray) -> np.ndarray:
        return _reconstruct(plane, angles, 180.0 / views)

    return np.clip(per_channel(apply, image), 0.0, 1.0)


LIMITED_ANGLE_LEVELS = {
    1: {"arc": Uniform(160.0, 170.0), "start": Uniform(0.0, 180.0)},
    2: {"arc": Uniform(100.0, 120.0), "start": Uniform(0.0, 180.0)},
}


@register("limited_angle", category="artifacts", levels=LIMITED_ANGLE_LEVELS, modalities={"CT"})
def limited_angle(image: np.ndarray, *, arc: float, start: float) -> np.ndarray:
    """Limited-angle CT: views over ``[start, start + arc)`` degrees only, then FBP.

    The views keep the full-scan step ``d_theta = 180 / full_views(shape)`` degrees, so
    ``round(arc / d_theta)`` are taken; the Fourier wedge of the missing 180 - arc degrees
    stays empty, which blurs and shades edges running along the missing directions.
    """
    if not 0.0 < float(arc) <= 180.0:
        raise InvalidInputError("arc", f"is {arc}", "an angular range in (0, 180] degrees")

    def apply(plane: np.ndarray) -> np.ndarray:
        step = 180.0 / full_views(plane.shape)
        count = max(2, round(float(arc) / step))
        angles = float(start) + step * np.arange(count)
        return _reconstruct(plane, angles, step)

    return np.clip(per_channel(apply, image), 0.0, 1.0)


# ------------------------------------------------------------------------------- noise

LOW_DOSE_LEVELS = {
    1: {"i0": Uniform(1.5e5, 3.0e5), "noise_seed": Seed()},
    2: {"i0": Uniform(1.0e4, 2.0e4), "noise_seed": Seed()},
}


def attenuation_scale(sinogram: np.ndarray) -> float:
    """mu, the attenuation per unit image value and pixel, of a simulated exposure.

    ``mu = ln(1 / THICKEST_TRANSMISSION) / max(p_max, MIN_THICKNESS x D)``: the most
    attenuating ray keeps 3 % of its photons (a head or thin body; the image's pixel size
    is thereby set so that its densest path is realistic), whatever the image size.
    """
    floor = MIN_THICKNESS * sinogram.shape[1]
    return float(np.log(1.0 / THICKEST_TRANSMISSION) / max(float(sinogram.max()), floor))


def photons_per_bin(shape: tuple[int, ...], i0: float) -> float:
    """Photons per detector bin for an image of ``shape`` at the dose level ``i0``.

    ``i0 x D / REFERENCE_BINS``: ``i0`` itself at 512x512. FBP noise has a standard deviation
    ~ sqrt(D / photons per bin) in pixel units (more views, fewer photons each), so this
    keeps the per-pixel noise, and thus what a level means, the same at every matrix size.
    """
    return float(i0) * detector_bins(shape) / REFERENCE_BINS


def poisson_sinogram(sinogram: np.ndarray, i0: float, rng: np.random.Generator) -> np.ndarray:
    """The sinogram re-measured with ``i0`` incident photons per bin (Beer-Lambert, Poisson).

    counts ~ Poisson(i0 exp(-mu p)); p_noisy = -ln(max(counts, 1) / i0) / mu.
    """
    mu = attenuation_scale(sinogram)
    expected = i0 * np.exp(-mu * sinogram.astype(np.float64))
    counts = np.maximum(rng.poisson(expected), 1)
    return (-np.log(counts / i0) / mu).astype(np.float32)


@register("low_dose", category="noise", levels=LOW_DOSE_LEVELS, modalities={"CT"})
def low_dose(image: np.ndarray, *, i0: float, noise_seed: int) -> np.ndarray:
    """Low-dose CT: a full scan with ``i0`` photons per detector bin, quantum noise, FBP.

    ``full_views(shape)`` views over 180 degrees; the counts of each ray are
    Poisson(I0 exp(-mu p)), I0 = ``photons_per_bin(shape, i0)`` (= ``i0`` at 512x512),
    with ``mu`` from ``attenuation_scale`` (thickest ray at 3 % transmission),
    log-converted back to line integrals and reconstructed. Noise in the image grows as
    1 / sqrt(i0) and is streaky behind dense structures. A clinical full dose is of
    order 1e5..1e6 photons per bin.
    """
    if not float(i0) >= 1.0:
        raise InvalidInputError("i0", f"is {i0}", "at least 1 photon per detector bin")
    rng = np.random.default_rng(noise_seed)

    def apply(plane: np.ndarray) -> np.ndarray:
        views = full_views(plane.shape)
        angles = np.arange(views) * (180.0 / views)
        noisy = poisson_sinogram(radon(plane, angles), photons_per_bin(plane.shape, i0), rng)
        return fbp(noisy, angles, plane.shape)

    return np.clip(per_channel(apply, image), 0.0, 1.0)


# ------------------------------------------------------------------------------ motion


def sinogram_motion(image: np.ndarray, poses: list[dict]) -> np.ndarray:
    """Movement between views: each view projects the object in the pose of its time, then FBP."""
    def apply(plane: np.ndarray) -> np.ndarray:
        views = full_views(plane.shape)
        angles = np.arange(views) * (180.0 / views)
        times = (np.arange(views) + 0.5) / views
        sinogram = np.empty((views, detector_bins(plane.shape)), dtype=np.float32)
        for pose in poses:
            chosen = (times >= pose["start"]) & (times < pose["end"])
            if chosen.any():
                moved = rigid_move(plane, pose["angle"], tuple(pose["shift"]))
                sinogram[chosen] = radon(moved, angles[chosen])
        return fbp(sinogram, angles, plane.shape)

    return np.clip(per_channel(apply, image), 0.0, 1.0)
