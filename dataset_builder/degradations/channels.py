"""Running a single-channel operation on grey or colour engine images."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def per_channel(operation: Callable[[np.ndarray], np.ndarray], image: np.ndarray) -> np.ndarray:
    """Apply a 2D ``operation`` to an HxW image, or to each channel of an HxWx3 image.

    A colour image whose three channels are equal (grey stored as RGB, common for
    exported CT and MR slices) is processed once and copied back to the three channels.
    """
    if image.ndim == 2:
        return operation(image).astype(np.float32, copy=False)
    if np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 0], image[..., 2]):
        grey = operation(image[..., 0]).astype(np.float32, copy=False)
        return np.repeat(grey[..., None], 3, axis=2)
    return np.stack([operation(image[..., c]) for c in range(3)], axis=2).astype(np.float32, copy=False)


def luminance(image: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of an HxWx3 image, or the image itself when it is HxW."""
    if image.ndim == 2:
        return image
    return image @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
