"""The Degrade tab: one image at L0, L1 and L2 of one degradation, with SSIM and PSNR.

The image is an upload (read by ``safety.load_upload``) or a real image of the embedded
sample (``dataset_builder.sample_images``). The degradation runs on the image in its own
form (a 16-bit PNG stays 16-bit, see the engine's conversion), with ``item_id=""``, so
the page gives exactly the bytes of ``medqdeg degrade FILE --type T --level L --seed S``
(for images within ``max_side``). For the screen, every level is mapped to 8 bits with the
clean image's window, and SSIM/PSNR compare those 8-bit images with L0
(``quality.measures.image_quality``). The download is a ZIP of the three levels as PNG (in the
input's bit depth) and ``records.json`` (the exact parameters, replayable).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from medqdeg.dataset_builder.degradations import (
    MIN_SIDE,
    DegradationRecord,
    degrade,
    get_degradation,
    list_degradations,
)
from medqdeg.dataset_builder.image_io import png_bytes, shrink
from medqdeg.dataset_builder.modalities import MODALITIES, normalize_modality
from medqdeg.dataset_builder.quality.measures import image_quality
from medqdeg.dataset_builder.sample_images import CATALOGUE, load_sample
from medqdeg.dataset_builder.vocabulary import LEVEL_NAMES

from .safety import LoadedImage, SpaceError, load_upload
from .settings import SpaceSettings

DEFAULT_SAMPLE = "ct_head"
MAX_SEED = 2**32 - 1
DOWNLOAD_MAX_AGE_S = 3600

ImageLike = Image.Image | np.ndarray


def sample_choices() -> list[tuple[str, str]]:
    """(label, key) of every embedded sample image, for a dropdown."""
    return [(f"{key}: {entry.modality}, {entry.description}", key) for key, entry in CATALOGUE.items()]


def modality_choices() -> list[str]:
    return list(MODALITIES)


def degradation_choices(modality: str | None) -> list[tuple[str, str]]:
    """(label, name) of the degradations that apply to ``modality`` (all when None)."""
    if modality:
        modality = normalize_modality(modality)
    return [(f"{spec.name} ({spec.category})", spec.name) for spec in list_degradations(modality)]


def default_degradation(modality: str | None) -> str | None:
    """The first modality-specific type (the most telling), else the first that applies."""
    specs = list_degradations(normalize_modality(modality) if modality else None)
    specific = [spec for spec in specs if spec.modalities is not None]
    return (specific or specs or [None])[0].name if specs else None


def sample_input(key: str | None) -> LoadedImage:
    """An embedded sample image (8-bit, at most 512 pixels a side)."""
    key = key or DEFAULT_SAMPLE
    if key not in CATALOGUE:
        raise SpaceError(f"Unknown sample {key!r}; choose one of the list.")
    sample = load_sample(key)
    return LoadedImage(sample.image, sample.modality, f"sample {key}: {sample.description} ({sample.origin})",
                       sample.acquisition)


def choose_input(upload: str | None, sample_key: str | None, settings: SpaceSettings) -> tuple[LoadedImage, str]:
    """The upload when there is one, else the sample; shrunk to ``max_side``; with a note."""
    loaded = load_upload(upload, settings) if upload else sample_input(sample_key)
    image, shrunk = shrink(loaded.image, settings.max_side, min_side=MIN_SIDE)
    note = loaded.description
    if shrunk:
        note += f"; shrunk to at most {settings.max_side} pixels a side first"
    # a shrunk image's pixels are larger than the file says: fall back to the default field of view
    acquisition = {**loaded.acquisition, "pixel_spacing": None} if shrunk else loaded.acquisition
    return LoadedImage(image, loaded.modality, note, acquisition), note


def check_seed(seed: float | int | None) -> int:
    if seed is None:
        return 0
    if float(seed) != int(seed) or not 0 <= int(seed) <= MAX_SEED:
        raise SpaceError(f"The seed must be a whole number from 0 to {MAX_SEED}; got {seed}.")
    return int(seed)


def _window(image: ImageLike) -> tuple[float, float] | None:
    """(low, high) mapping a non-8-bit image to the screen; None for 8-bit images."""
    values = np.asarray(image)
    if values.dtype == np.uint8:
        return None
    low, high = float(values.min()), float(values.max())
    if values.dtype.kind == "f" and low >= 0 and high <= 1:
        return 0.0, 1.0
    return low, high if high > low else low + 1.0


def to_display(image: ImageLike, window: tuple[float, float] | None) -> np.ndarray:
    """An 8-bit grey or RGB array for the screen (alpha dropped, other depths windowed)."""
    if isinstance(image, Image.Image):
        if image.mode in ("1", "P", "CMYK", "RGBA", "LA", "YCbCr"):
            image = image.convert("RGB" if image.mode not in ("1", "LA") else "L")
        values = np.asarray(image)
    else:
        values = np.asarray(image)
        if values.ndim == 3 and values.shape[2] == 1:
            values = values[:, :, 0]
        elif values.ndim == 3 and values.shape[2] == 4:
            values = values[:, :, :3]
    if window is None and values.dtype == np.uint8:
        return np.ascontiguousarray(values)
    low, high = window or (float(values.min()), float(values.max()) or 1.0)
    scaled = np.clip((values.astype(np.float64) - low) / max(high - low, 1e-12), 0.0, 1.0)
    return np.rint(scaled * 255).astype(np.uint8)


@dataclass
class Preview:
    """L0, L1 and L2 of one image: screen images, quality against L0, records, originals."""

    degradation: str
    modality: str | None
    seed: int
    note: str
    screens: list[np.ndarray]  # 8-bit, L0, L1, L2
    quality: list[tuple[float, float] | None]  # (SSIM, PSNR dB) against L0; None for L0
    records: list[DegradationRecord]
    images: list[ImageLike]  # in the input's own form
    seconds: float = 0.0


def make_preview(loaded: LoadedImage, degradation: str | None, modality: str | None, seed: int,
                 note: str = "") -> Preview:
    """Degrade ``loaded`` at L0, L1 and L2 (modality checked) and measure SSIM/PSNR."""
    began = time.perf_counter()
    if not degradation:
        raise SpaceError("Choose a degradation.")
    get_degradation(degradation)  # a clear error for an unknown name
    modality = normalize_modality(modality) if modality else None
    images, records = [], []
    for level in range(3):
        image, record = degrade(loaded.image, degradation, level, seed=seed, item_id="", modality=modality,
                                **loaded.acquisition)
        images.append(image)
        records.append(record)
    window = _window(images[0])
    screens = [to_display(image, window) for image in images]
    quality: list[tuple[float, float] | None] = [None]
    for screen in screens[1:]:
        quality.append(image_quality(screens[0], screen) if screen.shape == screens[0].shape else None)
    return Preview(degradation=degradation, modality=modality, seed=seed, note=note, screens=screens,
                   quality=quality, records=records, images=images, seconds=time.perf_counter() - began)


def quality_markdown(preview: Preview) -> str:
    """The SSIM/PSNR table (against L0) and what was shown."""
    lines = ["| level | SSIM vs L0 | PSNR vs L0 (dB) | parameters |", "|---|---|---|---|"]
    for level, quality, record in zip(LEVEL_NAMES, preview.quality, preview.records, strict=True):
        params = ", ".join(f"{k}={_short(v)}" for k, v in sorted(record.params.items())) or "clean"
        if quality is None:
            lines.append(f"| {level} | 1.000 | inf | {params} |")
        else:
            lines.append(f"| {level} | {quality[0]:.3f} | {quality[1]:.2f} | {params} |")
    lines.append("")
    lines.append(f"`{preview.degradation}`, modality {preview.modality or 'any'}, seed {preview.seed}; "
                 f"{preview.note}. Computed in {preview.seconds:.2f} s.")
    return "\n".join(lines)


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_short(v) for v in value[:4]) + (", ..." if len(value) > 4 else "") + "]"
    return str(value)


def _prune(folder: Path) -> None:
    cutoff = time.time() - DOWNLOAD_MAX_AGE_S
    for old in folder.glob("medqdeg-*"):
        if old.stat().st_mtime < cutoff:
            shutil.rmtree(old, ignore_errors=True)


def write_files(preview: Preview, folder: str | Path) -> tuple[list[Path], Path]:
    """The three screen PNGs and a ZIP of L0/L1/L2 as PNG (input bit depth) and records.json.

    Each call writes into its own subfolder of ``folder``; subfolders older than an hour go.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _prune(folder)
    target = Path(tempfile.mkdtemp(prefix="medqdeg-", dir=folder))
    screens = []
    with zipfile.ZipFile(target / f"medqdeg-{preview.degradation}-seed{preview.seed}.zip", "w",
                         zipfile.ZIP_STORED) as archive:
        for level, image, screen in zip(LEVEL_NAMES, preview.images, preview.screens, strict=True):
            shown = png_bytes(screen)
            (target / f"{level}.png").write_bytes(shown)
            screens.append(target / f"{level}.png")
            same = isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.shape == screen.shape
            archive.writestr(f"{level}.png", shown if same else png_bytes(image))
            if not same:
                archive.writestr(f"screen/{level}.png", shown)
        archive.writestr("records.json", json.dumps({
            "degradation": preview.degradation, "modality": preview.modality, "seed": preview.seed,
            "input": preview.note,
            "levels": [{"level": level, "record": record.to_dict(),
                        "ssim": None if quality is None else quality[0],
                        "psnr_db": None if quality is None else quality[1]}
                       for level, record, quality in zip(LEVEL_NAMES, preview.records, preview.quality, strict=True)],
        }, indent=2, sort_keys=True))
    return screens, Path(archive.filename)
