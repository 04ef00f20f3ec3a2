"""MRI degradations, simulated where MRI forms its image: in k-space.

k-space is the 2D discrete Fourier transform of the image, ``K = F(I)``; the scanner
fills it one phase-encode line at a time (rows when ``axis`` is 0, columns when it is
1) and shows the magnitude of the inverse transform, ``|F^-1(K')|``. Lines are indexed
in centred order: line ``i`` holds the signed frequency ``k = i - N // 2`` (``N // 2`` is
the DC line). The bias field is a smooth multiplicative field of the receive coils and
acts in the image domain.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import fft

from ..errors import InvalidInputError
from . import fourier
from .channels import per_channel
from .params import Choice, Derived, IntRange, SampleContext, Shared, Uniform
from .registry import register

AXIS = Shared(Choice((0, 1)))
"""The phase-encode axis, drawn once per item and type: the same at L1 and L2."""


def _line_profile(per_line: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    """Reshape a per-phase-encode-line factor to broadcast over a k-space of ``ndim`` axes."""
    return per_line.reshape([-1 if a == axis else 1 for a in range(ndim)])


def _filter_lines(image: np.ndarray, per_line: np.ndarray, axis: int) -> np.ndarray:
    """I' = |F^-1(F(I) * w)| with w a factor per centred phase-encode line, clipped to [0, 1].

    w does not depend on the readout frequency, so the readout transform and its inverse
    cancel: only the phase-encode axis is transformed (the same image as the 2D k-space).
    """
    weights = _line_profile(fft.ifftshift(per_line).astype(np.float32), axis, image.ndim)
    spectrum = fft.fft(image, axis=axis, workers=1)
    spectrum *= weights
    return np.clip(np.abs(fft.ifft(spectrum, axis=axis, workers=1)), 0.0, 1.0)


def central_band(lines: int, fraction: float) -> np.ndarray:
    """The central phase-encode lines, a boolean per centred line: |k| <= h, h = round(N f / 2).

    2h + 1 lines (about ``fraction`` of them), symmetric about DC, always holding DC; a
    smaller fraction gives a subset of a larger one's lines.
    """
    half = round(lines * fraction / 2)
    return np.abs(np.arange(lines) - lines // 2) <= half


def _check_axis(axis: Any) -> int:
    if axis not in (0, 1) or isinstance(axis, bool):
        raise InvalidInputError("axis", f"is {axis!r}", "0 (rows) or 1 (columns) as the phase-encode axis")
    return int(axis)


# ---------------------------------------------------------------------- undersampling

def acquired_lines(ctx: SampleContext) -> list[int]:
    """The centred phase-encode lines an accelerated scan acquires (fastMRI's random mask).

    The central band (``central_band`` of ``center_fraction``) is always acquired; every
    other line is kept where its uniform draw from the shared generator is below
    p = (N / R - n_centre) / (N - n_centre), R the ``acceleration``, so that about N / R
    lines are acquired. The draws are the same at L1 and L2 and L2's p and band are
    smaller, so L2's lines are a subset of L1's.
    """
    lines = ctx.shape[ctx.values["axis"]]
    centre = central_band(lines, ctx.values["center_fraction"])
    outer = lines - int(centre.sum())
    probability = max(0.0, (lines / ctx.values["acceleration"] - centre.sum()) / outer) if outer else 0.0
    draws = ctx.shared_rng("lines").random(lines)
    return np.flatnonzero(centre | (draws < probability)).tolist()


UNDERSAMPLING_LEVELS = {
    level: {"acceleration": acceleration, "center_fraction": fraction, "axis": AXIS,
            "lines": Derived(acquired_lines, "centred phase-encode lines: the central band and each other "
                                             "line with probability (N/R - centre)/(N - centre), shared draws")}
    for level, (acceleration, fraction) in {1: (4, 0.08), 2: (8, 0.04)}.items()  # fastMRI's standard pairs
}


def line_mask(lines: list[int], count: int) -> np.ndarray:
    """A float32 mask over ``count`` centred phase-encode lines, 1 on ``lines``; refuses lines
    that do not fit (a record replayed on an image of another size)."""
    index = np.asarray(lines)
    if index.ndim != 1 or index.size == 0 or not np.issubdtype(index.dtype, np.integer) \
            or index.min() < 0 or index.max() >= count:
        raise InvalidInputError("lines", f"holds {index.size} indices from {index.min(initial=0)} to "
                                         f"{index.max(initial=0)}",
                                f"integer centred line indices in 0..{count - 1} (the image's phase-encode axis)")
    mask = np.zeros(count, dtype=np.float32)
    mask[index] = 1.0
    return mask


@register("undersampling_artifact", category="artifacts", levels=UNDERSAMPLING_LEVELS, modalities={"MRI"},
          aliases=("undersampling",))
def undersampling_artifact(image: np.ndarray, *, acceleration: float, center_fraction: float,
                           axis: int, lines: list[int]) -> np.ndarray:
    """Accelerated acquisition: only the recorded phase-encode lines, zero-filled reconstruction.

    K' = K * M with M = 1 on the centred ``lines`` (``acquired_lines``), 0 elsewhere;
    I' = |F^-1(K')|: blur and incoherent aliasing along the phase-encode axis, growing
    with the acceleration R (about R-fold fewer lines). ``acceleration`` and
    ``center_fraction`` are the nominal settings the lines were drawn with (recorded for
    reference); the lines themselves are what is applied.
    """
    axis = _check_axis(axis)
    return _filter_lines(image, line_mask(lines, image.shape[axis]), axis)


# --------------------------------------------------------------------------- ghosting

GHOST_CENTRE = 0.04
"""Share of central phase-encode lines the ghosting leaves untouched (TorchIO restores
2% on each side of DC): the image's mean and its low-frequency contrast are kept."""

GHOSTING_LEVELS = {  # L2 at most 0.45: the shown mean then rises by at most 2% (median over the sample's MRI)
    1: {"ghosts": Shared(IntRange(2, 4)), "intensity": Uniform(0.15, 0.20), "axis": AXIS,
        "center_fraction": GHOST_CENTRE},
    2: {"ghosts": Shared(IntRange(2, 4)), "intensity": Uniform(0.40, 0.45), "axis": AXIS,
        "center_fraction": GHOST_CENTRE},
}


def ghost_modulation(lines: int, ghosts: int, intensity: float, center_fraction: float) -> np.ndarray:
    """The factor of each centred phase-encode line: 1 - ``intensity`` on every ``ghosts``-th
    line counted from DC (k = 0 mod n), 1 on the others and on the ``central_band``."""
    k = np.arange(lines) - lines // 2
    comb = (k % ghosts == 0) & ~central_band(lines, center_fraction)
    return np.where(comb, 1.0 - intensity, 1.0).astype(np.float32)


@register("ghosting_artifact", category="artifacts", levels=GHOSTING_LEVELS, modalities={"MRI"},
          aliases=("ghosting",))
def ghosting_artifact(image: np.ndarray, *, ghosts: int, intensity: float, axis: int,
                      center_fraction: float) -> np.ndarray:
    """Periodic ghosts along the phase-encode axis (pulsatile flow, breathing, N/2 ghosts).

    Lines with k = 0 mod n (n = ``ghosts``) outside the central band are scaled by 1 - a
    (a = ``intensity``): K' = K (1 - a C (1 - B)), C the comb, B the band. As C = (1/n)
    sum_j exp(2 pi i j k / n), I' = |I - (a/n) sum_{j=0}^{n-1} shift(I_hp, j N / n)| with
    I_hp = F^-1(K (1 - B)) the image less its central band: replicas of the object's
    edges and texture at multiples of N/n pixels, amplitude a/n <= 1/2 of the object's,
    while DC (the mean of the complex image) and the coarse contrast are untouched. The
    magnitude rectifies the ghosts' negative lobes, so the shown mean rises by about a/n x 5%.
    """
    axis = _check_axis(axis)
    return _filter_lines(image, ghost_modulation(image.shape[axis], ghosts, intensity, center_fraction), axis)


# ---------------------------------------------------------------------------- motion

def _segment_bounds(lines: int, start: float, end: float) -> tuple[int, int]:
    """The signed frequencies [low, high) of the centred lines acquired in [start, end) (line i at t = (i + 1/2) / N)."""
    times = (np.arange(lines) + 0.5) / lines
    first, stop = np.searchsorted(times, [start, end])  # the first line at t >= start, and at t >= end
    return int(first) - lines // 2, int(max(first, stop)) - lines // 2


def _moved_spectrum(clean: np.ndarray, angle: float, shift: tuple[float, float]) -> tuple[np.ndarray, float, float]:
    """The packed phase-encode spectra of the image rotated by ``angle`` degrees about its
    centre, then shifted by (dy, dx) pixels, before its last shear; and that shear.

    ``clean`` holds the packed spectra of the image's phase-encode lines, laid out readout x
    phase (x by y below; ``fourier.rfft_rows`` of the image with that axis last). Three Fourier
    shears (exact band-limited interpolation): R = Sy(-t) Sx(s) Sy(-t), t = tan(angle / 2),
    s = sin(angle); dx rides on the Sx shear and dy + t dx on the last Sy shear, returned
    as (slope, offset) for the caller to apply to the lines it keeps. x' = x cos + y sin,
    y' = -x sin + y cos (counter-clockwise as shown, rows pointing down), as
    ``geometry.rigid_move``; the field of view is periodic, as the scanner's: what leaves
    one edge re-enters at the other.
    """
    theta = np.deg2rad(angle)
    t, s = float(np.tan(theta / 2)), float(np.sin(theta))
    spectrum = clean
    if angle or shift[1]:
        spectrum = fourier.shift_rows(clean, -t, 0.0, out=np.empty_like(clean))  # Sy: x moves along y by -t (x - c)
        rows = fourier.rfft_rows(fourier.transposed(fourier.irfft_rows(spectrum)))  # readout lines
        fourier.shift_rows(rows, s, shift[1])  # Sx: row y moves along x by s (y - centre) + dx
        spectrum = fourier.rfft_rows(fourier.transposed(fourier.irfft_rows(rows)))
    return spectrum, -t, shift[0] + t * shift[1]


def lines_last(image: np.ndarray, axis: int) -> np.ndarray:
    """A 2D image laid out readout x phase-encode (float32, contiguous): transposed when the
    phase-encode ``axis`` is 0. Its own inverse: the same call lays such data back out."""
    return fourier.transposed(image) if axis == 0 else np.ascontiguousarray(image, dtype=np.float32)


def magnitude_image(acquired: np.ndarray, axis: int) -> np.ndarray:
    """|F^-1| along the phase-encode lines of hybrid data (readout x lines in FFT order, which
    it overwrites), in the image's own layout (float32, unclipped)."""
    return lines_last(np.abs(fft.ifft(acquired, axis=1, workers=1, overwrite_x=True)), axis)


def _acquired(image: np.ndarray, poses: list[dict], axis: int) -> np.ndarray:
    """The hybrid data of a 2D image, readout x phase-encode (lines in FFT order, k mod N, last).

    Each segment's lines [low, high) take their values from the spectrum of its pose
    (``fourier.spectrum_lines``), after the pose's last shear, which stays in k-space and is
    evaluated on those lines only.
    """
    laid_out = lines_last(image, axis)
    readout, lines = laid_out.shape
    clean = fourier.rfft_rows(laid_out)
    acquired = np.zeros((readout, lines), dtype=np.complex64)  # a line no segment holds stays empty
    for pose in poses:
        low, high = _segment_bounds(lines, pose["start"], pose["end"])
        if low == high:
            continue
        angle, (dy, dx) = float(pose["angle"]), (float(v) for v in pose["shift"])
        if axis == 1:  # phase-encode along x: the image seen transposed, a mirror: the rotation turns the other way
            angle, dy, dx = -angle, dx, dy
        spectrum, slope, offset = _moved_spectrum(clean, angle, (dy, dx))
        values = fourier.spectrum_lines(spectrum, low, high)
        if angle or dy or dx:  # the reference pose keeps its clean lines
            fourier.apply_shifts(values, np.arange(low, high), slope, offset, lines)
        fourier.put_lines(acquired, values, low, high)
    return acquired


def motion_lines(image: np.ndarray, poses: list[dict], axis: int) -> np.ndarray:
    """The phase-encode lines acquired while the object moves, in hybrid space (HxW complex).

    Centred k-space along the phase-encode ``axis`` (line ``i`` holds k = i - N // 2),
    image space along the readout axis: selecting lines commutes with the readout
    transform, which is therefore never computed. Line i is acquired at t = (i + 1/2) / N
    (linear order, one edge of k-space to the other) from the object in the pose of the
    segment holding t. Grey images only (``kspace_motion`` handles colour).
    """
    axis = _check_axis(axis)
    centred = fft.fftshift(_acquired(image, poses, axis), axes=1)
    return centred.T if axis == 0 else centred


def kspace_motion(image: np.ndarray, poses: list[dict], axis: int) -> np.ndarray:
    """Movement during acquisition: each phase-encode line from the k-space of its pose.

    K'[k] = F(T_s(I))[k] for the lines k of segment s (``motion_lines``), T_s the rigid
    pose of the segment (``motion.motion_poses``: degrees counter-clockwise, (dy, dx)
    pixels, moved by Fourier shears, ``_moved_spectrum``); I' = |F^-1(K')|. Linear
    acquisition order puts the DC line at t = 1/2, so the reference segment (the pose at
    t = 1/2) holds the centre of k-space and the image is registered to it; the moved
    segments fill the outer lines up to the move times, on opposite sides of k-space:
    blurred, doubled edges and ghosts along the phase-encode axis, stronger the nearer a
    move comes to t = 1/2 and the larger it is. Cost: one real FFT of the clean image, four
    one-axis real FFTs and two transposes per pose that rotates or moves along the readout
    (the shears), one complex inverse FFT along the phase-encode axis, and a transpose in
    and out when that axis is 0 (rows); the readout transform is never computed.
    """
    axis = _check_axis(axis)

    moved = per_channel(lambda channel: magnitude_image(_acquired(channel, poses, axis), axis), image)  # a new array
    return np.clip(moved, 0.0, 1.0, out=moved)


# ------------------------------------------------------------------------- bias field

BIAS_ORDER = 3
_BIAS_TERMS = [(i, j) for i in range(BIAS_ORDER + 1) for j in range(BIAS_ORDER + 1 - i) if (i, j) != (0, 0)]


def bias_coefficients(ctx: SampleContext) -> list[float]:
    """c_ij = ``strength`` x u_ij, u_ij ~ U(-1, 1) from the shared generator: the same field
    shape at L1 and L2, L2 steeper."""
    shape = ctx.shared_rng("coefficients").uniform(-1.0, 1.0, len(_BIAS_TERMS))
    return [float(ctx.values["strength"] * u) for u in shape]


BIAS_LEVELS = {
    level: {"strength": strength,
            "coefficients": Derived(bias_coefficients, "strength x U(-1, 1) per term, shape shared by L1 and L2")}
    for level, strength in {1: Uniform(0.8, 1.0), 2: Uniform(1.6, 1.9)}.items()
}


def bias_field(shape: tuple[int, int], coefficients: list[float]) -> np.ndarray:
    """The multiplicative field B(x, y) = exp(sum_{0 < i+j <= 3} c_ij x^i y^j), x, y in [-1, 1].

    Coefficients follow the order of ``_BIAS_TERMS`` ((i, j) with i the power of x).
    """
    height, width = shape
    x_powers = np.vander(np.linspace(-1, 1, width), BIAS_ORDER + 1, increasing=True)
    y_powers = np.vander(np.linspace(-1, 1, height), BIAS_ORDER + 1, increasing=True)
    table = np.zeros((BIAS_ORDER + 1, BIAS_ORDER + 1))
    for (i, j), c in zip(_BIAS_TERMS, coefficients, strict=True):
        table[j, i] = c
    return np.exp(y_powers @ table @ x_powers.T).astype(np.float32)


@register("bias_field_artifact", category="artifacts", levels=BIAS_LEVELS, modalities={"MRI"},
          aliases=("bias_field",))
def bias_field_artifact(image: np.ndarray, *, strength: float, coefficients: list[float]) -> np.ndarray:
    """Coil-sensitivity intensity inhomogeneity: I' = clip(I * B, 0, 1), B from ``bias_field``.

    ``strength`` is the scale the ``coefficients`` were drawn with (recorded for reference).
    """
    field = bias_field(image.shape[:2], coefficients)
    return np.clip(image * (field[..., None] if image.ndim == 3 else field), 0.0, 1.0)
