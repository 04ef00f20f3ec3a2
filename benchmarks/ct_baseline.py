"""The scikit-image baseline for the CT degradations (used by ``benchmarks/degradations.py``).

Each ``skimage_*`` function runs the same simulation as its counterpart in
``medqdeg.dataset_builder.degradations.ct`` (same padding to the circumscribed square,
same angles, same angular weights, same photon-count model and seed, same
reconstruction window) with ``skimage.transform.radon`` (rotate-and-sum) and ``iradon``
(filtered back-projection with linear interpolation). The image is padded here exactly
as ``ct`` pads it and passed with ``circle=True``; for a square image this is the padding
that ``circle=False`` would apply itself.
"""

from __future__ import annotations

import warnings

import numpy as np
from skimage.transform import iradon, radon

from medqdeg.dataset_builder.degradations import ct

_FILTERS = {"ramp": "ramp", "shepp-logan": "shepp-logan", "cosine": "cosine", "hann": "hann"}


def _pad(image: np.ndarray) -> tuple[np.ndarray, int, int]:
    """The image centred in its circumscribed square, as ``ct`` places it."""
    height, width = image.shape
    side = ct.detector_bins(image.shape)
    top, left = side // 2 - height // 2, side // 2 - width // 2
    padded = np.zeros((side, side), dtype=np.float64)
    padded[top:top + height, left:left + width] = image
    return padded, top, left


def _scan(image: np.ndarray, angles: np.ndarray, weight: float = 1.0, i0: float | None = None,
          seed: int = 0) -> np.ndarray:
    padded, top, left = _pad(image)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "image must be zero outside the circle": it is, to a corner pixel
        sinogram = radon(padded, angles, circle=True)  # detector x views
    if i0 is not None:
        photons = ct.photons_per_bin(image.shape, i0)
        sinogram = ct.poisson_sinogram(sinogram.T, photons, np.random.default_rng(seed)).T
    recon = iradon(sinogram, angles, circle=True, filter_name=_FILTERS[ct.RECONSTRUCTION_WINDOW])
    # iradon weights each view by pi / (2 len(angles)) x 2 = pi / len(angles): rescale to d_theta
    recon *= weight
    height, width = image.shape
    return np.clip(recon[top:top + height, left:left + width], 0.0, 1.0).astype(np.float32)


def skimage_sparse_view(image: np.ndarray, views: int) -> np.ndarray:
    """``ct.sparse_view`` with scikit-image: ``views`` angles 180 k / views degrees."""
    return _scan(image, np.arange(views) * (180.0 / views))


def skimage_limited_angle(image: np.ndarray, arc: float, start: float) -> np.ndarray:
    """``ct.limited_angle`` with scikit-image: the full-scan step over ``[start, start + arc)``."""
    step = 180.0 / ct.full_views(image.shape)
    count = max(2, round(arc / step))
    return _scan(image, start + step * np.arange(count), weight=count * step / 180.0)


def skimage_low_dose(image: np.ndarray, i0: float, seed: int, views: int | None = None) -> np.ndarray:
    """``ct.low_dose`` with scikit-image: ``views`` (default the full scan), Poisson counts."""
    views = ct.full_views(image.shape) if views is None else views
    return _scan(image, np.arange(views) * (180.0 / views), i0=i0, seed=seed)
