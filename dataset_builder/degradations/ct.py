"""CT degradations, simulated where CT forms its image: on the sinogram.

A CT scanner measures line integrals of the linear attenuation coefficient ``mu`` (the
parallel-beam Radon transform), one projection per view angle, and reconstructs the slice
by filtered back-projection (FBP). Every simulation here runs in physical units:

1. the image is taken to Hounsfield units (``HounsfieldScale``): values given in HU (a DICOM
   through its rescale slope and intercept, any signed or 16-bit array) are used as they
   are; a display image (8-bit PNG/JPEG, floats in [0, 1]) is mapped back through its
   display window (given, or ``DEFAULT_WINDOW``), its saturated pixels set to air
   (``AIR_HU``, below the window) and dense bone (``BONE_HU``, above it);
2. HU to attenuation, ``mu = MU_WATER (1 + HU / 1000)`` per mm, times the pixel size in mm
   (given, or ``DEFAULT_FIELD_OF_VIEW`` over the longer side), so a line integral is the
   dimensionless ``-ln(transmission)`` of a real scan;
3. projection, the degradation on the sinogram, FBP, back to HU, and the display window
   applied after (values in HU come back in HU, clipped to the input's range).

- ``sparse_view``: only ``views`` projections, equally spaced over 180 degrees;
- ``limited_angle``: projections over an arc of ``arc`` degrees from ``start`` only
  (the missing wedge), reconstructed with the weight of the arc it has;
- ``low_dose``: the scan repeated at ``dose`` times the full dose ``FULL_DOSE`` (photons per
  detector bin), by inserting the extra quantum noise (Poisson) that the lower dose implies;
- ``object_movement`` (``sinogram_motion``): the patient moves between views.

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
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import finufft
import numpy as np
from scipy import fft

from ..errors import InvalidInputError
from .channels import per_channel
from .params import Derived, IntRange, SampleContext, Seed, Shared, Uniform
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

REFERENCE_BINS = 725
"""D of a 512x512 slice, the matrix the sparse-view literature counts views for."""

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


MAX_DETECTOR_BINS = 2048
"""The CT types' pixel budget: D, the side of the circumscribed square (``detector_bins``), at
most 2048, so the grid is at most 2048^2 = 4.2 million pixels (any image up to 1448x1448, or
2000x400). Time and memory grow with D^2 whatever the image's own area, because projections
cover the circumscribed square: a 4000x8 strip (D = 4000) took 13 s and 1.4 GB. Past the budget
the CT types refuse the image (shrink it first); the other types have no such limit."""


def check_budget(shape: tuple[int, ...]) -> None:
    """Refuse an image whose circumscribed square exceeds ``MAX_DETECTOR_BINS`` (see there)."""
    bins = detector_bins(shape)
    if bins > MAX_DETECTOR_BINS:
        raise InvalidInputError("image", f"is {shape[0]}x{shape[1]} pixels, whose circumscribed square has side "
                                f"{bins} (the CT types project over it)",
                                f"a circumscribed square of side at most {MAX_DETECTOR_BINS} for the CT types "
                                "(sqrt(H^2 + W^2) <= 2048, e.g. 1448x1448 or 2000x400); shrink the image first")


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


def radon(image: np.ndarray, angles: np.ndarray, shifts: np.ndarray | None = None) -> np.ndarray:
    """Parallel-beam sinogram (views x D, float32) of an HxW image at ``angles`` (degrees).

    Values are line integrals in image value x pixel, measured through the system blur of
    ``DETECTOR_BLUR``; row v is the projection at ``angles[v]``, column m the detector bin
    at ``s = m - D // 2`` (pixels). Same geometry and orientation as
    ``skimage.transform.radon(image, angles, circle=False).T``. ``shifts`` (one per view,
    pixels) moves each projection along the detector, ``p(theta, s - shift)``, as a phase
    ramp ``exp(-2 pi i w shift)`` on its slice: the projection of the translated object.
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
    if shifts is not None:
        slices *= np.exp(-2j * np.pi * np.outer(shifts, freqs)).astype(np.complex64)
    projections = fft.irfft(slices, n=length, axis=1)
    return projections[:, np.arange(bins) - bins // 2].astype(np.float32)


def fbp(sinogram: np.ndarray, angles: np.ndarray, shape: tuple[int, int], *,
        angle_step: float | np.ndarray | None = None, window: str | None = None,
        interpolation: bool | None = None) -> np.ndarray:
    """Filtered back-projection of a ``radon`` sinogram onto an HxW grid (float32, unclipped).

    ``angle_step`` is the angular weight d_theta of each view in degrees, one for all or one
    per view (default 180 / views, right for views spread evenly over 180 degrees; a
    weighted sum of two scans is one call with both sets of views, the second weighted
    negative). ``window`` and ``interpolation`` override ``RECONSTRUCTION_WINDOW`` and
    ``LINEAR_INTERPOLATION``.
    """
    angles = _check_angles(angles)
    window = RECONSTRUCTION_WINDOW if window is None else window
    interpolation = LINEAR_INTERPOLATION if interpolation is None else bool(interpolation)
    bins = detector_bins(shape)
    if sinogram.shape != (angles.size, bins):
        raise InvalidInputError("sinogram", f"has shape {sinogram.shape}",
                                f"({angles.size}, {bins}) for {angles.size} angles and shape {shape}")
    length, freqs, ramp = _radial(bins, window, interpolation)
    step = np.deg2rad(np.broadcast_to(180.0 / angles.size if angle_step is None else angle_step, angles.shape))
    padded = np.zeros((angles.size, length), dtype=np.float64)
    padded[:, np.arange(bins) - bins // 2] = sinogram
    filtered = (fft.rfft(padded, axis=1) * ramp * step[:, None]).astype(np.complex64)
    plan = finufft.Plan(1, tuple(shape[:2]), eps=NUFFT_EPS, isign=1, dtype="complex64",
                        nthreads=NUFFT_THREADS)
    plan.setpts(*_polar_points(angles, freqs))
    return plan.execute(filtered.ravel()).real.astype(np.float32)


# ------------------------------------------------------------------- physical units

MU_WATER = 0.0192
"""Linear attenuation of water, per mm, at the ~70 keV effective energy of a 120 kVp beam."""

AIR_HU, BONE_HU = -1000.0, 1000.0
"""What the saturated pixels of a display image are taken to be: air below the window,
dense (cortical) bone above it, where the window does not already reach them."""

DEFAULT_WINDOW = (40.0, 400.0)
"""(center, width) in HU of a display image whose window is not given: the soft-tissue
window most public CT images are shown in."""

DEFAULT_FIELD_OF_VIEW = 350.0
"""The reconstruction field of view in mm assumed when the pixel size is not given (an
adult abdomen or thorax; the longer side of the image spans it)."""


HU_RANGE = (-32768.0, 65536.0)
"""Values in HU the CT types accept: what 16-bit stored CT values span (the top one above 65535 for
the window of a constant image). Far beyond it the line
integrals leave what float64 exponentials hold (an image of 2^60 raised numpy's ``lam value too
large``), and no scanner measures such attenuation."""


def hounsfield_scale(ctx: SampleContext) -> dict[str, float | None]:
    """How the engine's [0, 1] values map to HU for this input (the sample step's record):
    ``scale_for`` the image's shape and what the caller stated about it."""
    return scale_for(ctx.shape, ctx.inputs)


def scale_for(shape: tuple[int, ...], inputs: Mapping[str, Any]) -> dict[str, float | None]:
    """The HU scale of an image of ``shape`` given ``inputs`` (``SampleContext.inputs``).

    ``{"low_hu", "high_hu"}``: the HU at engine values 0 and 1; ``{"below_hu", "above_hu"}``:
    the HU given to saturated display pixels (None for input in HU, or where the window
    already reaches air or bone); ``"pixel_mm"``: the pixel size.
    """
    value_window = inputs.get("value_window")
    check_budget(shape)
    height, width = shape[:2]
    pixel_mm = inputs.get("pixel_spacing") or DEFAULT_FIELD_OF_VIEW / max(height, width)
    if value_window is not None:
        low, high = (float(v) for v in value_window)
        if low < HU_RANGE[0] or high > HU_RANGE[1]:
            raise InvalidInputError("image", f"holds values from {low:.6g} to {high:.6g}, taken as Hounsfield units "
                                    "by the CT types", f"HU within [{HU_RANGE[0]:g}, {HU_RANGE[1]:g}] (16-bit stored "
                                    "CT values), or a display image (8-bit, or floats in [0, 1])")
        return {"low_hu": low, "high_hu": high, "below_hu": None, "above_hu": None, "pixel_mm": float(pixel_mm)}
    center, width_hu = inputs.get("display_window") or DEFAULT_WINDOW
    low, high = center - width_hu / 2, center + width_hu / 2
    return {"low_hu": low, "high_hu": high, "below_hu": AIR_HU if low > AIR_HU else None,
            "above_hu": BONE_HU if high < BONE_HU else None, "pixel_mm": float(pixel_mm)}


HU_SCALE = Derived(hounsfield_scale, "HU of the input: its own values, or its display window "
                                    f"(default C/W {DEFAULT_WINDOW[0]:g}/{DEFAULT_WINDOW[1]:g}) with saturated "
                                    f"pixels as air ({AIR_HU:g}) and bone ({BONE_HU:g})")


def to_attenuation(plane: np.ndarray, scale: dict) -> np.ndarray:
    """Engine values [0, 1] -> attenuation per pixel, ``MU_WATER (1 + HU / 1000) x pixel_mm`` (>= 0)."""
    hu = scale["low_hu"] + plane.astype(np.float32) * np.float32(scale["high_hu"] - scale["low_hu"])
    if scale["below_hu"] is not None:
        hu[plane <= 0.0] = scale["below_hu"]
    if scale["above_hu"] is not None:
        hu[plane >= 1.0] = scale["above_hu"]
    return np.maximum(np.float32(MU_WATER * scale["pixel_mm"]) * (1.0 + hu / np.float32(1000.0)), 0.0)


def from_attenuation(mu: np.ndarray, scale: dict) -> np.ndarray:
    """Attenuation per pixel -> engine values: HU through the input's window, clipped to [0, 1]."""
    hu = (mu / np.float32(MU_WATER * scale["pixel_mm"]) - 1.0) * np.float32(1000.0)
    return np.clip((hu - np.float32(scale["low_hu"])) / np.float32(scale["high_hu"] - scale["low_hu"]), 0.0, 1.0)


def with_artefact(image: np.ndarray, scale: dict, artefact) -> np.ndarray:
    """The image plus the artefact of a degraded scan, in attenuation, on each channel.

    ``artefact(mu)`` is the reconstruction of the degraded scan minus that of the ideal full
    scan of the same object (one FBP: FBP is linear). Adding it to the clean image, rather
    than showing the degraded reconstruction itself, keeps the clean image's own sharpness:
    the input is a reconstruction already, and re-scanning it would blur it a second time
    (the "full-scan floor"); only the streaks, noise and shading of the degradation are added.
    """
    def apply(plane: np.ndarray) -> np.ndarray:
        mu = to_attenuation(plane, scale)
        return from_attenuation(mu + artefact(mu), scale)

    return per_channel(apply, image)


def _even_angles(views: int, start: float = 0.0) -> np.ndarray:
    return start + np.arange(views) * (180.0 / views)


def ideal_ct_rescan(image: np.ndarray, acquisition: Mapping[str, Any]) -> np.ndarray:
    """A CT display image (engine values in [0, 1]) through an ideal, noise-free full scan and
    FBP: what reconstructing the image itself gives. ``acquisition`` holds the image's
    ``degrade`` keywords ``display_window`` (center, width in HU) and ``pixel_spacing`` (mm);
    absent or None ones take ``DEFAULT_WINDOW`` and ``DEFAULT_FIELD_OF_VIEW``. Its error
    against the image is the full-scan floor the level-strength report quotes
    (``with_artefact`` keeps the degradations off that floor)."""
    stated = {key: value for key, value in acquisition.items() if value is not None}
    scale = scale_for(image.shape, {"value_window": None, **stated})

    def apply(plane: np.ndarray) -> np.ndarray:
        mu = to_attenuation(plane, scale)
        angles = _even_angles(full_views(mu.shape))
        return from_attenuation(fbp(radon(mu, angles), angles, mu.shape), scale)

    return per_channel(apply, image)


def scan_difference(mu: np.ndarray, angles: np.ndarray, weights: np.ndarray,
                    start: float = 0.0) -> np.ndarray:
    """FBP(scan at ``angles`` with per-view ``weights``, degrees) - FBP(ideal full scan), in one pass.

    The two scans' views are stacked into one sinogram, the full scan's weighted negative.
    """
    full = _even_angles(full_views(mu.shape), start)
    stacked = np.concatenate([np.asarray(angles, dtype=np.float64), full])
    steps = np.concatenate([np.broadcast_to(weights, np.shape(angles)), np.full(full.size, -180.0 / full.size)])
    return fbp(radon(mu, stacked), stacked, mu.shape, angle_step=steps)


# -------------------------------------------------------------------------- artifacts


def views_for(ctx: SampleContext) -> int:
    """The views of this image: ``views_512`` (the count at 512x512) x D / ``REFERENCE_BINS``, at least 2.

    The literature counts views for 512x512 slices; scaling with the detector keeps the
    angular undersampling (views per detector bin) of a level the same at every matrix size.
    """
    return max(2, round(ctx.values["views_512"] * detector_bins(ctx.shape) / REFERENCE_BINS))


VIEWS = Derived(views_for, "views_512 x D / 725")

SPARSE_VIEW_LEVELS = {
    1: {"views_512": IntRange(150, 200), "views": VIEWS, "scale": HU_SCALE},
    2: {"views_512": IntRange(40, 60), "views": VIEWS, "scale": HU_SCALE},
}
"""Views over 180 degrees at 512x512 (a full scan has 1139): L1 150-200, L2 40-60, the range of
the sparse-view literature (from about 200 down to 50 views, e.g. FBPConvNet's 143 and 50,
and the 120/90/60 views of dual-domain studies)."""


@register("sparse_view", category="artifacts", levels=SPARSE_VIEW_LEVELS, modalities={"CT"})
def sparse_view(image: np.ndarray, *, views_512: int, views: int, scale: dict) -> np.ndarray:
    """Sparse-view CT: ``views`` projections evenly spaced over 180 degrees, then FBP.

    Angles ``theta_k = 180 k / V`` degrees, k = 0..V-1, weighted d_theta = pi / V. Angular
    undersampling leaves streaks radiating from edges, strongest from bone and air
    (``with_artefact``: the streaks are added to the clean image).
    """
    if int(views) < 2:
        raise InvalidInputError("views", f"is {views}", "at least 2 views")
    angles = _even_angles(int(views))
    return with_artefact(image, scale, lambda mu: scan_difference(mu, angles, 180.0 / int(views)))


LIMITED_ANGLE_LEVELS = {
    1: {"arc": Uniform(150.0, 160.0), "start": Shared(Uniform(0.0, 180.0)), "scale": HU_SCALE},
    2: {"arc": Uniform(90.0, 100.0), "start": Shared(Uniform(0.0, 180.0)), "scale": HU_SCALE},
}
"""Arcs of the limited-angle literature (150, 120 and 90 degrees are the usual test cases):
L1 150-160 degrees, L2 90-100 degrees. In a narrow brain window (W 100) with bone at 1000 HU the
missing wedge is already severe at L1: the artefact scales with the window, not the level."""


@register("limited_angle", category="artifacts", levels=LIMITED_ANGLE_LEVELS, modalities={"CT"})
def limited_angle(image: np.ndarray, *, arc: float, start: float, scale: dict) -> np.ndarray:
    """Limited-angle CT: views over ``[start, start + arc)`` degrees only, then FBP.

    The views keep the full-scan step ``180 / full_views(shape)`` degrees, so
    ``n = round(arc / step)`` are taken, and each is weighted d_theta = pi / n: the
    reconstruction is normalised for the arc it has, so the mean attenuation is kept while
    the Fourier wedge of the missing 180 - arc degrees stays empty (edges along the
    missing directions blur out and shade).
    """
    if not 0.0 < float(arc) <= 180.0:
        raise InvalidInputError("arc", f"is {arc}", "an angular range in (0, 180] degrees")

    def artefact(mu: np.ndarray) -> np.ndarray:
        step = 180.0 / full_views(mu.shape)
        count = max(2, round(float(arc) / step))
        return scan_difference(mu, float(start) + step * np.arange(count), 180.0 / count, start=float(start))

    return with_artefact(image, scale, artefact)


# ------------------------------------------------------------------------------- noise

FULL_DOSE = 1.0e6
"""Photons per detector bin and view of the full-dose scan that the input image stands for
(an unattenuated ray; of the order of clinical routine doses in 2D simulation studies)."""

LOW_DOSE_LEVELS = {
    1: {"dose": 0.25, "noise_seed": Seed(), "scale": HU_SCALE},
    2: {"dose": 0.05, "noise_seed": Seed(), "scale": HU_SCALE},
}
"""L1: a quarter of the full dose, the low-dose convention of the AAPM-Mayo Low Dose CT Grand
Challenge (McCollough et al., Med. Phys. 2017); L2: 5%, an ultra-low dose."""


def dose_noise(sinogram: np.ndarray, dose: float, rng: np.random.Generator) -> np.ndarray:
    """The extra noise on the line integrals of the same scan at ``dose`` x ``FULL_DOSE``.

    The input already carries full-dose noise of variance 1 / (N0 exp(-p)) per ray; a scan
    at fraction f has variance 1 / (f N0 exp(-p)). The difference is the quantum noise of
    Poisson counts at an effective N_eff = N0 f / (1 - f): counts ~ Poisson(N_eff exp(-p)),
    noise = ln(N_eff exp(-p) / max(counts, 1/2)) (noise insertion, Yu et al., Med. Phys.
    2012, the method behind the AAPM challenge's quarter-dose data). Rays starved of photons
    give the streaks of real low-dose scans; image noise variance grows as 1 / f overall.
    """
    if not 0.0 < float(dose) < 1.0:
        raise InvalidInputError("dose", f"is {dose}", "a fraction of the full dose in (0, 1)")
    effective = FULL_DOSE * dose / (1.0 - dose)
    line = np.maximum(sinogram.astype(np.float64), 0.0)  # line integrals of mu >= 0; ringing dipped below
    counts = np.maximum(rng.poisson(effective * np.exp(-line)), 0.5)
    return (math.log(effective) - line - np.log(counts)).astype(np.float32)  # log domain: finite when exp(-p) is 0


@register("low_dose", category="noise", levels=LOW_DOSE_LEVELS, modalities={"CT"})
def low_dose(image: np.ndarray, *, dose: float, noise_seed: int, scale: dict) -> np.ndarray:
    """Low-dose CT: the full scan repeated at ``dose`` x ``FULL_DOSE``.

    ``full_views(shape)`` views over 180 degrees; ``dose_noise`` gives the extra quantum
    noise of the lower dose on each ray, and its FBP is added to the image. Noise is streaky
    behind dense structures and its variance in HU grows as 1 / dose.
    """
    rng = np.random.default_rng(noise_seed)

    def artefact(mu: np.ndarray) -> np.ndarray:
        angles = _even_angles(full_views(mu.shape))
        return fbp(dose_noise(radon(mu, angles), dose, rng), angles, mu.shape)

    return with_artefact(image, scale, artefact)


# ------------------------------------------------------------------------------ motion


def sinogram_motion(image: np.ndarray, poses: list[dict], scale: dict) -> np.ndarray:
    """The patient moves between views: each view projects the object in its segment's pose.

    A full scan's views are acquired in order over 180 degrees, view v at t = (v + 1/2) / V.
    A rigid pose is exact on the sinogram: the object rotated by ``angle`` (counter-clockwise)
    projects at theta as the still object at theta - angle, and a translation (dy, dx) moves
    the projection along the detector by dx cos(theta) - dy sin(theta). The moved views,
    reconstructed at their nominal angles, minus the still scan (``with_artefact``): the
    inconsistent views give motion streaks and doubled edges.
    """
    def artefact(mu: np.ndarray) -> np.ndarray:
        views = full_views(mu.shape)
        angles = _even_angles(views)
        times = (np.arange(views) + 0.5) / views
        offset, dy, dx = np.zeros(views), np.zeros(views), np.zeros(views)
        for pose in poses:
            chosen = (times >= pose["start"]) & (times < pose["end"])
            offset[chosen], dy[chosen], dx[chosen] = pose["angle"], pose["shift"][0], pose["shift"][1]
        theta = np.deg2rad(angles)
        moved = radon(mu, angles - offset, dx * np.cos(theta) - dy * np.sin(theta))
        return fbp(moved - radon(mu, angles), angles, mu.shape)

    return with_artefact(image, scale, artefact)
