"""Size limits on images coming in: the longer side, and a deflated DICOM's inflated size.

Pillow's own limit (``Image.MAX_IMAGE_PIXELS``, a decompression bomb past it) applies to
every file Pillow opens (``files.open_pillow``).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L")


def shrink(image: Image.Image | np.ndarray, max_side: int, *,
           min_side: int = 1) -> tuple[Image.Image | np.ndarray, bool]:
    """``image`` with its longer side at most ``max_side`` pixels, and whether it shrank.

    Both sides are scaled by ``max_side / longer side`` (rounded, at least ``min_side``: the
    Space passes the degradations' ``MIN_SIDE``) with Lanczos resampling; an image within
    the limit comes back as it is. A 16-bit PIL image is resampled in mode ``I`` and stays
    16-bit.
    """
    height, width = (image.height, image.width) if isinstance(image, Image.Image) else image.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1:
        return image, False
    size = (max(min_side, round(width * scale)), max(min_side, round(height * scale)))
    if isinstance(image, Image.Image):
        if image.mode in SIXTEEN_BIT_MODES:
            image = image.convert("I")
            return image.resize(size, Image.Resampling.LANCZOS).convert("I;16"), True
        return image.resize(size, Image.Resampling.LANCZOS), True
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS)), True


def max_inflated_bytes(max_pixels: int) -> int:
    """The most bytes a deflated DICOM file of at most ``max_pixels`` pixels may inflate to:
    8 bytes for each pixel (three 16-bit samples, with room) plus 1 MiB of header."""
    return 8 * max_pixels + (1 << 20)
