"""Rigid in-plane motion of engine images (rotation about the centre plus translation)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from .channels import per_channel


def reference_length(image: np.ndarray) -> float:
    """The length, in pixels, that relative sizes refer to: sqrt(height * width).

    The geometric mean of the sides keeps a level meaning the same on square and on
    elongated images (a 512x128 bone scan is not treated as a 128-pixel image).
    """
    return float(np.sqrt(image.shape[0] * image.shape[1]))


def border_background(image: np.ndarray) -> np.ndarray:
    """The image's background: the median of its border pixels, per channel.

    Black around a CT or MR slice, a fundus photograph or an ultrasound sector; white on
    a slide's glass. Shape () for an HxW image, (3,) for an HxWx3 one.
    """
    border = np.concatenate([image[0], image[-1], image[1:-1, 0], image[1:-1, -1]])
    return np.median(border, axis=0).astype(np.float32)


def rigid_move(image: np.ndarray, angle: float, shift: tuple[float, float] = (0.0, 0.0),
               fill: float | np.ndarray | None = None) -> np.ndarray:
    """Rotate by ``angle`` degrees counter-clockwise about the centre, then shift by (dy, dx) pixels.

    Bilinear interpolation (Pillow, per channel); pixels that enter the field of view from
    outside take ``fill`` (a value, or one per channel), by default the image's
    ``border_background``. Values stay in [0, 1]: bilinear weights are convex.
    """
    fill = border_background(image) if fill is None else np.asarray(fill, dtype=np.float32)
    fills = np.broadcast_to(fill, image.shape[2:]).astype(np.float64)

    def move(channel: np.ndarray, value: float) -> np.ndarray:
        moved = Image.fromarray(np.ascontiguousarray(channel, dtype=np.float32)).rotate(
            angle, resample=Image.Resampling.BILINEAR, translate=(shift[1], shift[0]), fillcolor=float(value))
        return np.asarray(moved)

    if image.ndim == 2 or np.all(fills == fills.flat[0]):
        return per_channel(lambda channel: move(channel, fills.flat[0]), image)
    out = np.empty(image.shape, dtype=np.float32)
    for c in range(image.shape[2]):
        out[..., c] = move(image[..., c], fills[c])
    return out
