"""Rigid in-plane motion of engine images (rotation about the centre plus translation)."""

from __future__ import annotations

import cv2
import numpy as np


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

    The output pixel at x (pixel centres, (x, y) from the top-left, rows pointing down) takes
    the input at R^-1 (x - c - d) + c, c = ((W - 1) / 2, (H - 1) / 2), d = (dx, dy), by
    bilinear interpolation (OpenCV's ``warpAffine``, sub-pixel positions on a 1/32-pixel
    grid; all channels in one pass); pixels that enter the field of view from outside take
    ``fill`` (a value, or one per channel), by default the image's ``border_background``.
    Bilinear weights are convex, so values stay in [0, 1] up to rounding, which is clipped.
    """
    fill = border_background(image) if fill is None else np.asarray(fill, dtype=np.float32)
    fills = np.broadcast_to(fill, image.shape[2:]).astype(np.float64)
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), float(angle), 1.0)
    matrix[:, 2] += (shift[1], shift[0])
    moved = cv2.warpAffine(np.ascontiguousarray(image, dtype=np.float32), matrix, (width, height),
                           flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                           borderValue=tuple(float(value) for value in fills.flat))
    return np.clip(moved, 0.0, 1.0, out=moved)
