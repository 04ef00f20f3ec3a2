"""MRI degradations, simulated where MRI forms its image: in k-space.

k-space is the 2D discrete Fourier transform of the image, ``K = F(I)``; the scanner
fills it one phase-encode line at a time (rows when ``axis`` is 0, columns when it is
1) and shows the magnitude of the inverse transform, ``|F^-1(K')|``. The bias field is
a smooth multiplicative field of the receive coils and acts in the image domain.
"""

from __future__ import annotations

import numpy as np
from scipy import fft

from .geometry import rigid_move
from .params import Choice, IntRange, Seed, Uniform, UniformVector
from .registry import register

_PLANE = (0, 1)  # k-space is taken over height and width; a colour axis is carried along


def kspace(image: np.ndarray) -> np.ndarray:
    """The centred k-space (complex64) of an image, per channel: fftshift(FFT2(image))."""
    return fft.fftshift(fft.fft2(image, axes=_PLANE, workers=1), axes=_PLANE)


def magnitude_image(k: np.ndarray) -> np.ndarray:
    """The magnitude image |FFT2^-1(ifftshift(k))| of a centred k-space, float32."""
    return np.abs(fft.ifft2(fft.ifftshift(k, axes=_PLANE), axes=_PLANE, workers=1)).astype(np.float32)


def _line_profile(per_line: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    """Reshape a per-phase-encode-line factor to broadcast over a k-space of ``ndim`` axes."""
    return per_line.reshape([-1 if a == axis else 1 for a in range(ndim)])


def _filter_lines(image: np.ndarray, per_line: np.ndarray, axis: int) -> np.ndarray:
    """I' = |F^-1(F(I) * w)| with w a factor per phase-encode line, clipped to [0, 1]."""
    return np.clip(magnitude_image(kspace(image) * _line_profile(per_line, axis, image.ndim)), 0.0, 1.0)


# ---------------------------------------------------------------------- undersampling

def undersampling_mask(lines: int, acceleration: float, center_fraction: float, mask_seed: int) -> np.ndarray:
    """Which of ``lines`` phase-encode lines are acquired (True), fastMRI-style random mask.

    The central ``round(lines * center_fraction)`` lines are always kept; each outer line
    is kept with the probability that brings the expected total to ``lines / acceleration``.
    """
    center = max(1, round(lines * center_fraction))
    start = (lines - center + 1) // 2
    mask = np.zeros(lines, dtype=bool)
    mask[start:start + center] = True
    outer_probability = max(0.0, (lines / acceleration - center) / (lines - center))
    draws = np.random.default_rng(mask_seed).random(lines)
    return mask | (draws < outer_probability)


UNDERSAMPLING_LEVELS = {
    1: {"acceleration": Uniform(2.0, 3.0), "center_fraction": 0.12, "axis": Choice((0, 1)), "mask_seed": Seed()},
    2: {"acceleration": Uniform(5.0, 7.0), "center_fraction": 0.05, "axis": Choice((0, 1)), "mask_seed": Seed()},
}


@register("undersampling_artifact", category="artifacts", levels=UNDERSAMPLING_LEVELS, modalities={"MRI"})
def undersampling_artifact(image: np.ndarray, *, acceleration: float, center_fraction: float,
                           axis: int, mask_seed: int) -> np.ndarray:
    """Accelerated acquisition: outer phase-encode lines dropped, zero-filled reconstruction.

    K' = K * M with M the line mask of ``undersampling_mask``; I' = |F^-1(K')|. Incoherent
    aliasing and blur grow with the acceleration factor R (R-fold fewer lines).
    """
    mask = undersampling_mask(image.shape[axis], acceleration, center_fraction, mask_seed)
    return _filter_lines(image, mask.astype(np.float32), axis)


# --------------------------------------------------------------------------- ghosting

GHOSTING_LEVELS = {
    1: {"ghosts": IntRange(2, 4), "intensity": Uniform(0.25, 0.40), "axis": Choice((0, 1))},
    2: {"ghosts": IntRange(2, 4), "intensity": Uniform(0.75, 0.95), "axis": Choice((0, 1))},
}


@register("ghosting_artifact", category="artifacts", levels=GHOSTING_LEVELS, modalities={"MRI"})
def ghosting_artifact(image: np.ndarray, *, ghosts: int, intensity: float, axis: int) -> np.ndarray:
    """Periodic ghosts along the phase-encode axis (pulsatile flow, breathing, N/2 ghosts).

    Every ``ghosts``-th phase-encode line (counted from the DC line) is scaled by
    (1 - ``intensity``). Writing that comb as (1/n) sum_j exp(2 pi i j k / n) gives
    I' = |I - (a/n) sum_{j=0}^{n-1} shift(I, j N / n)|: replicas of amplitude a/n at
    multiples of N/n pixels along the axis, with n = ``ghosts`` and a = ``intensity``.
    """
    lines = image.shape[axis]
    modulation = np.ones(lines, dtype=np.float32)
    modulation[::ghosts] = 1.0 - intensity  # unshifted order: index 0 is the DC line
    return _filter_lines(image, fft.fftshift(modulation), axis)


# ---------------------------------------------------------------------------- motion


def kspace_motion(image: np.ndarray, poses: list[dict], axis: int) -> np.ndarray:
    """Movement during acquisition: each phase-encode line from the k-space of its pose.

    Lines are acquired in order across the centred k-space, line i at t = (i + 1/2) / N;
    K'[lines of segment s] = F(T_s(I))[lines of segment s], T_s the rigid pose of the
    segment (``motion.motion_poses``); I' = |F^-1(K')|. One FFT per pose: the lines are
    taken from the unshifted spectrum through the fftshift index map.
    """
    lines = image.shape[axis]
    times = (np.arange(lines) + 0.5) / lines
    unshifted_index = fft.fftshift(np.arange(lines))  # centred line i is FFT line unshifted_index[i]
    combined = np.empty(image.shape, dtype=np.complex64)
    for pose in poses:
        centred_lines = np.flatnonzero((times >= pose["start"]) & (times < pose["end"]))
        if centred_lines.size == 0:
            continue
        moved = rigid_move(image, pose["angle"], tuple(pose["shift"])) if (pose["angle"] or any(pose["shift"])) \
            else image
        spectrum = fft.fft2(moved, axes=_PLANE, workers=1)
        index = [slice(None)] * image.ndim
        index[axis] = unshifted_index[centred_lines]
        combined[tuple(index)] = spectrum[tuple(index)]
    return np.clip(np.abs(fft.ifft2(combined, axes=_PLANE, workers=1)).astype(np.float32), 0.0, 1.0)


# ------------------------------------------------------------------------- bias field

BIAS_ORDER = 3
_BIAS_TERMS = [(i, j) for i in range(BIAS_ORDER + 1) for j in range(BIAS_ORDER + 1 - i) if (i, j) != (0, 0)]

BIAS_LEVELS = {
    1: {"coefficients": UniformVector(-0.25, 0.25, len(_BIAS_TERMS))},
    2: {"coefficients": UniformVector(-0.70, 0.70, len(_BIAS_TERMS))},
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


@register("bias_field_artifact", category="artifacts", levels=BIAS_LEVELS, modalities={"MRI"})
def bias_field_artifact(image: np.ndarray, *, coefficients: list[float]) -> np.ndarray:
    """Coil-sensitivity intensity inhomogeneity: I' = clip(I * B, 0, 1), B from ``bias_field``."""
    field = bias_field(image.shape[:2], coefficients)
    return np.clip(image * (field[..., None] if image.ndim == 3 else field), 0.0, 1.0)
