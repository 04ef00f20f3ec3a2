"""A picture of every applicable degradation: one PNG grid, rows = types, columns = L0/L1/L2."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from ..degradations import degrade, list_degradations
from ..vocabulary import LEVELS, level_name

LABEL_HEIGHT = 18


def _as_rgb(image: Image.Image | np.ndarray) -> Image.Image:
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    array = np.asarray(image)
    if array.dtype != np.uint8:
        low, high = float(array.min()), float(array.max())
        array = np.rint((array - low) / max(high - low, 1e-12) * 255).astype(np.uint8)
    return Image.fromarray(array).convert("RGB")


def gallery(image: Image.Image | np.ndarray, *, modality: str | None = None, seed: int = 0, tile: int = 256,
            acquisition: dict | None = None) -> Image.Image:
    """Render ``image`` under every type that applies to ``modality`` at L0, L1 and L2.

    Each tile is ``tile`` pixels on its longer side (a narrow image is centred in a cell
    ``tile`` wide) and carries a label; ``acquisition`` holds ``degrade``'s keyword arguments for the
    image's physics (a CT's ``display_window`` and ``pixel_spacing``).
    """
    specs = list_degradations(modality)
    clean = _as_rgb(image)
    scale = tile / max(clean.size)
    size = (max(1, round(clean.size[0] * scale)), max(1, round(clean.size[1] * scale)))
    cell_w, cell_h = max(size[0], tile), size[1] + LABEL_HEIGHT  # at least ``tile`` wide: room for the label
    canvas = Image.new("RGB", (len(LEVELS) * cell_w, max(1, len(specs)) * cell_h), "white")
    draw = ImageDraw.Draw(canvas)
    for row, spec in enumerate(specs):
        for level in LEVELS:
            out, _ = degrade(image, spec.name, level, seed=seed, item_id="gallery", modality=modality,
                             **(acquisition or {}))
            x, y = level * cell_w, row * cell_h
            canvas.paste(_as_rgb(out).resize(size, Image.Resampling.LANCZOS),
                         (x + (cell_w - size[0]) // 2, y + LABEL_HEIGHT))
            draw.text((x + 4, y + 3), f"{spec.name} {level_name(level)}", fill="black")
    return canvas
