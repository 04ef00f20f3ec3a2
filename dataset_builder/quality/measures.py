"""Figures of one degraded image against its clean original, both 8-bit display images.

All images are uint8, HxW or HxWx3, and ``degraded`` has the shape of ``clean``.
"""

from __future__ import annotations

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from ..degradations import ideal_ct_rescan
from ..degradations.channels import luminance
from ..errors import InvalidInputError


def image_quality(clean: np.ndarray, degraded: np.ndarray) -> tuple[float, float]:
    """(SSIM, PSNR in dB) of an 8-bit ``degraded`` image against its 8-bit ``clean`` original.

    SSIM: scikit-image's ``structural_similarity`` (7x7 windows, data range 255, colour
    channels averaged); PSNR: ``10 log10(255^2 / MSE)``, capped at 100 dB (identical images).
    """
    channel_axis = 2 if clean.ndim == 3 else None
    ssim = structural_similarity(clean, degraded, data_range=255, channel_axis=channel_axis)
    with np.errstate(divide="ignore"):
        psnr = peak_signal_noise_ratio(clean, degraded, data_range=255)
    return float(ssim), float(min(psnr, 100.0))


GLASS_LUMINANCE = 220
"""8-bit luminance from which a pixel counts as bright glass (or empty lumen), not tissue."""


def changed_tissue_share(clean_uint8: np.ndarray, degraded_uint8: np.ndarray, threshold: int = 10) -> float:
    """Share of the tissue pixels that a slide overlay changed by ``threshold`` grey levels or more.

    Both images are 8-bit, HxW or HxWx3, of the same shape. A pixel is changed when the
    largest absolute difference over its channels is >= ``threshold``. Tissue is every
    pixel whose clean luminance (Rec. 601, on 0-255) is below ``GLASS_LUMINANCE`` = 220:
    bright, nearly white glass and empty lumina (about 235 on an H-DAB slide) are left out,
    stained tissue and stroma (below ~215) are in. An image without any tissue pixel is
    measured over all its pixels.
    """
    clean = np.asarray(clean_uint8)
    degraded = np.asarray(degraded_uint8)
    if clean.shape != degraded.shape or clean.ndim not in (2, 3):
        raise InvalidInputError("degraded_uint8", f"has shape {degraded.shape}",
                                f"the clean image's shape {clean.shape} (HxW or HxWx3)")
    diff = np.abs(degraded.astype(np.int16) - clean.astype(np.int16))
    lum = clean.astype(np.float32)
    if clean.ndim == 3:
        diff = diff.max(axis=2)
        lum = luminance(lum)
    tissue = lum < GLASS_LUMINANCE
    if not tissue.any():
        tissue = np.ones_like(tissue)
    return float(np.count_nonzero((diff >= threshold) & tissue) / np.count_nonzero(tissue))


def clipped_share(clean: np.ndarray, degraded: np.ndarray) -> float:
    """The share of pixels saturated (0 or 255) in ``degraded`` that were not in ``clean``."""
    newly = ((degraded == 0) | (degraded == 255)) & (clean != 0) & (clean != 255)
    return float(newly.mean())


def uniform_block(clean: np.ndarray, size: int = 16) -> tuple[slice, slice]:
    """The ``size`` x ``size`` block (step size/2) of lowest standard deviation among those
    with no saturated pixel: where noise can be measured on a grey image."""
    best, where = np.inf, (slice(0, size), slice(0, size))
    grey = clean if clean.ndim == 2 else clean.mean(axis=2)
    for top in range(0, grey.shape[0] - size + 1, size // 2):
        for left in range(0, grey.shape[1] - size + 1, size // 2):
            block = grey[top:top + size, left:left + size]
            if block.min() > 0 and block.max() < 255 and block.std() < best:
                best, where = block.std(), (slice(top, top + size), slice(left, left + size))
    return where


def ct_noise_hu(clean: np.ndarray, degraded: np.ndarray, window: tuple[float, float],
                block: tuple[slice, slice] | None = None) -> float:
    """The standard deviation in HU of ``degraded - clean`` in ``block`` (default
    ``uniform_block(clean)``, which a caller measuring many results of one image finds once),
    for a CT display image shown through ``window`` = (center, width) in HU (255 grey levels
    span the width)."""
    rows, cols = uniform_block(clean) if block is None else block
    difference = degraded[rows, cols].astype(np.float64) - clean[rows, cols].astype(np.float64)
    return float(difference.std() * window[1] / 255.0)


def ct_floor(clean: np.ndarray, acquisition: dict) -> float:
    """RMSE (grey levels) of the clean CT display image re-scanned by an ideal full scan
    (``degradations.ideal_ct_rescan``; ``acquisition``: its ``display_window`` and
    ``pixel_spacing``): the error every CT type's is compared with."""
    rescanned = np.rint(ideal_ct_rescan(clean.astype(np.float32) / 255.0, acquisition) * 255.0)
    return rmse(rescanned, clean)


def rmse(a: np.ndarray, b: np.ndarray) -> float:
    """Root mean square of ``a - b``, in their units (float64 arithmetic)."""
    return float(np.sqrt(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)))
