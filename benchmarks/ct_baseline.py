"""The scikit-image baseline for the CT degradations (used by ``benchmarks/degradations.py``).

Each ``skimage_*`` function runs the same simulation as its counterpart in
``medqdeg.dataset_builder.degradations.ct`` on an attenuation image (same padding to the
circumscribed square, same angles and angular weights, same dose-noise model and seed,
same reconstruction window; the artefact = degraded scan minus full scan, added to the
image) with ``skimage.transform.radon`` (rotate-and-sum) and ``iradon`` (filtered
back-projection with linear interpolation).
"""

from __future__ import annotations

import warnings

import numpy as np
from skimage.transform import iradon, radon

from medqdeg.dataset_builder.degradations import ct


def _pad(image: np.ndarray) -> tuple[np.ndarray, int, int]:
    """The image centred in its circumscribed square, as ``ct`` places it."""
    height, width = image.shape
    side = ct.detector_bins(image.shape)
    top, left = side // 2 - height // 2, side // 2 - width // 2
    padded = np.zeros((side, side), dtype=np.float64)
    padded[top:top + height, left:left + width] = image
    return padded, top, left


def _project(mu: np.ndarray, angles: np.ndarray) -> tuple[np.ndarray, int, int]:
    padded, top, left = _pad(mu)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "image must be zero outside the circle": it is, to a corner pixel
        return radon(padded, angles, circle=True), top, left  # detector x views


def _reconstruct(sinogram: np.ndarray, angles: np.ndarray, weight: float, shape, top: int, left: int) -> np.ndarray:
    # iradon weights each view by pi / len(angles): ``weight`` rescales to the step wanted
    recon = iradon(sinogram, angles, circle=True, filter_name=ct.RECONSTRUCTION_WINDOW) * weight
    return recon[top:top + shape[0], left:left + shape[1]]


def _full(mu: np.ndarray, start: float = 0.0) -> np.ndarray:
    views = ct.full_views(mu.shape)
    angles = start + np.arange(views) * (180.0 / views)
    sinogram, top, left = _project(mu, angles)
    return _reconstruct(sinogram, angles, 1.0, mu.shape, top, left)


def skimage_sparse_view(mu: np.ndarray, views: int) -> np.ndarray:
    """``ct.sparse_view``'s artefact plus ``mu``: ``views`` angles 180 k / views degrees."""
    angles = np.arange(views) * (180.0 / views)
    sinogram, top, left = _project(mu, angles)
    return mu + _reconstruct(sinogram, angles, 1.0, mu.shape, top, left) - _full(mu)


def skimage_limited_angle(mu: np.ndarray, arc: float, start: float) -> np.ndarray:
    """``ct.limited_angle``'s artefact plus ``mu``: the full-scan step over ``[start, start + arc)``."""
    step = 180.0 / ct.full_views(mu.shape)
    angles = start + step * np.arange(max(2, round(arc / step)))
    sinogram, top, left = _project(mu, angles)
    return mu + _reconstruct(sinogram, angles, 1.0, mu.shape, top, left) - _full(mu, start)


def skimage_low_dose(mu: np.ndarray, dose: float, seed: int) -> np.ndarray:
    """``ct.low_dose``'s artefact plus ``mu``: the full scan's FBP of the dose noise."""
    views = ct.full_views(mu.shape)
    angles = np.arange(views) * (180.0 / views)
    sinogram, top, left = _project(mu, angles)
    noise = ct.dose_noise(sinogram.T, dose, np.random.default_rng(seed)).T
    return mu + _reconstruct(noise, angles, 1.0, mu.shape, top, left)
