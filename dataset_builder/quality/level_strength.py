"""How strongly each type degrades real images: every type at L1 and L2 on every applicable
image of the embedded sample, against the targets the levels must meet.

For each type, each image of the embedded sample whose modality it applies to (124 real
images of 7 modalities, see ``sources.embedded``) is degraded at L1 and L2 (item id = the
image's key, seeds ``0..seeds-1``, the image's modality and acquisition facts given) and
compared with its clean 8-bit original (the figures of ``measures``):

- SSIM and PSNR (dB), ``measures.image_quality``;
- intensity types: the share of pixels newly saturated (0 or 255 at L2 but not at L0);
- slide overlays: ``measures.changed_tissue_share`` at L1;
- CT types: the noise standard deviation in HU in the most uniform 16x16 block of the
  clean image, and the RMSE against L0 divided by the full-scan floor (the RMSE of the
  image re-scanned by an ideal full scan, ``measures.ct_floor``).

The report gives the median and the 10th-90th percentile spread over images, the share of
images on which L2's SSIM is below L1's, and checks the targets below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ..degradations import (
    DEGRADATIONS,
    degrade,
    describe_table,
    list_degradations,
)
from ..sources.embedded import EmbeddedImage, assembled_image, embedded_images
from ..vocabulary import DEGRADED_LEVELS
from .measures import (
    changed_tissue_share,
    clipped_share,
    ct_floor,
    ct_noise_hu,
    image_quality,
    rmse,
    uniform_block,
)

VISIBLE_SSIM = 0.95
"""L1 is visible: median SSIM against L0 at most this."""
MARGIN_SSIM = 0.05
"""L2 is clearly worse: median SSIM at least this much below L1's (object_rotation excepted)."""
WORSE_SHARE = 0.95
"""L2's SSIM below L1's on at least this share of images."""
CT_FLOOR_RATIO = 1.5
"""CT types: L1's error at least this many times the full-scan floor."""
OVERLAY_SHARE = 0.01
"""Slide overlays: at least this share of the tissue changed by 10 grey levels or more at L1."""
MAX_CLIPPED = {"adjust_brightness": 0.01, "exposure": 0.15, "reduce_contrast": 0.01}
"""Intensity types: the most pixels (share) newly saturated at L2, median over images."""
OVERLAYS = ("blood_cell_artifact", "dark_spots_artifact", "bubble")
CT_TYPES = ("sparse_view", "limited_angle", "low_dose")
NO_MARGIN = ("object_rotation",)


@dataclass
class LevelStrength:
    """What one type does at L1 and L2 over the sample images: per-image figures and summaries."""

    name: str
    category: str
    modalities: tuple[str, ...]
    ssim: dict[int, list[float]] = field(default_factory=lambda: {1: [], 2: []})
    psnr: dict[int, list[float]] = field(default_factory=lambda: {1: [], 2: []})
    extra: dict[str, list[float]] = field(default_factory=dict)  # clipped, tissue, noise_hu_L1, floor_ratio_L1...

    def median(self, values: list[float]) -> float:
        return float(np.median(values)) if values else float("nan")

    def spread(self, values: list[float]) -> tuple[float, float]:
        return tuple(float(v) for v in np.percentile(values, [10, 90])) if values else (float("nan"),) * 2

    @property
    def images(self) -> int:
        return len(self.ssim[1])

    @property
    def worse_share(self) -> float:
        """The share of images on which L2's SSIM is below L1's."""
        return float(np.mean(np.array(self.ssim[2]) < np.array(self.ssim[1])))

    def failures(self) -> list[str]:
        """The targets this type misses (empty when it meets them all)."""
        ssim1, ssim2 = self.median(self.ssim[1]), self.median(self.ssim[2])
        missed = []
        if self.name in OVERLAYS:
            if self.median(self.extra["tissue_L1"]) < OVERLAY_SHARE:
                missed.append(f"L1 changes {self.median(self.extra['tissue_L1']):.1%} of the tissue")
        elif ssim1 > VISIBLE_SSIM:
            missed.append(f"L1 median SSIM {ssim1:.3f} > {VISIBLE_SSIM}")
        if self.name in CT_TYPES and self.median(self.extra["floor_ratio_L1"]) < CT_FLOOR_RATIO:
            missed.append(f"L1 error {self.median(self.extra['floor_ratio_L1']):.2f} x the full-scan floor")
        if self.name not in NO_MARGIN and ssim1 - ssim2 < MARGIN_SSIM:
            missed.append(f"L2 median SSIM only {ssim1 - ssim2:.3f} below L1")
        if self.worse_share < WORSE_SHARE:
            missed.append(f"L2 below L1 on {self.worse_share:.0%} of images")
        if self.name in MAX_CLIPPED and self.median(self.extra["clipped_L2"]) > MAX_CLIPPED[self.name]:
            missed.append(f"L2 clips {self.median(self.extra['clipped_L2']):.1%} of pixels")
        return missed


def sample_images(modality: str | None = None) -> list[EmbeddedImage]:
    """The embedded sample's images (``EmbeddedImage``), optionally of one modality."""
    return [image for image in embedded_images() if modality is None or image.modality == modality]


def measure_level_strength(seeds: int = 1, names: list[str] | None = None,
                           images: list[EmbeddedImage] | None = None) -> list[LevelStrength]:
    """Measure every registered type (or ``names``) on the sample images it applies to."""
    images = sample_images() if images is None else images
    loaded = [(image, assembled_image(image), image.acquisition()) for image in images]
    wanted = None if names is None else {DEGRADATIONS.canonical(name) for name in names}  # aliases too
    references: dict[str, CtReference] = {}  # per CT image: the same floor and block serve every CT type
    rows = []
    for spec in list_degradations():
        if wanted is not None and spec.name not in wanted:
            continue
        used = [entry for entry in loaded if spec.applies_to(entry[0].modality)]
        if not used:
            continue
        row = LevelStrength(spec.name, spec.category, tuple(sorted({entry[0].modality for entry in used})))
        for image, clean, acquisition in used:
            reference = None
            if spec.name in CT_TYPES:
                if image.key not in references:
                    references[image.key] = CtReference(ct_floor(clean, acquisition), uniform_block(clean))
                reference = references[image.key]
            for seed in range(seeds):
                _measure(row, spec.name, image, clean, acquisition, seed, reference)
        rows.append(row)
    return rows


class CtReference(NamedTuple):
    """What every CT type's result on one clean CT image is measured against."""

    floor: float  # RMSE of the ideal full-scan rescan (``measures.ct_floor``), grey levels
    block: tuple[slice, slice]  # where its noise is measured (``measures.uniform_block``)


def _measure(row: LevelStrength, name: str, image, clean: np.ndarray, acquisition: dict, seed: int,
             reference: CtReference | None) -> None:
    for level in DEGRADED_LEVELS:
        degraded, _ = degrade(clean, name, level, seed=seed, item_id=image.key, modality=image.modality,
                              **acquisition)
        ssim, psnr = image_quality(clean, degraded)
        row.ssim[level].append(ssim)
        row.psnr[level].append(psnr)
        extra = []
        if name in MAX_CLIPPED and level == 2:
            extra.append(("clipped_L2", clipped_share(clean, degraded)))
        if name in OVERLAYS and level == 1:
            extra.append(("tissue_L1", changed_tissue_share(clean, degraded)))
        if reference is not None:
            extra.append((f"noise_hu_L{level}",
                          ct_noise_hu(clean, degraded, acquisition["display_window"], reference.block)))
            extra.append((f"floor_ratio_L{level}", rmse(degraded, clean) / max(reference.floor, 1e-9)))
        for key, value in extra:
            row.extra.setdefault(key, []).append(value)


def _cell(row: LevelStrength, values: list[float], digits: int = 3) -> str:
    low, high = row.spread(values)
    return f"{row.median(values):.{digits}f} ({low:.{digits}f}-{high:.{digits}f})"


def level_strength_markdown(rows: list[LevelStrength]) -> str:
    """The level-strength table as Markdown: medians with 10th-90th percentiles over images."""
    lines = [
        "| type | modalities | images | SSIM L1 | SSIM L2 | PSNR L1 (dB) | PSNR L2 (dB) | L2 < L1 | more | targets |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        more = []
        for key, label, digits in (("clipped_L2", "clipped at L2", 3), ("tissue_L1", "tissue changed at L1", 3),
                                   ("noise_hu_L1", "noise HU L1", 1), ("noise_hu_L2", "noise HU L2", 1),
                                   ("floor_ratio_L1", "error/floor L1", 1), ("floor_ratio_L2", "error/floor L2", 1)):
            if key in row.extra:
                more.append(f"{label} {_cell(row, row.extra[key], digits)}")
        missed = row.failures()
        verdict = "met" if not missed else "missed: " + "; ".join(missed)
        lines.append(
            f"| {row.name} | {', '.join(row.modalities)} | {row.images} | {_cell(row, row.ssim[1])} "
            f"| {_cell(row, row.ssim[2])} | {row.median(row.psnr[1]):.1f} | {row.median(row.psnr[2]):.1f} "
            f"| {row.worse_share:.0%} | {'; '.join(more) or '-'} | {verdict} |"
        )
    return "\n".join(lines)


def parameters_markdown() -> str:
    """Every type's modalities and L1/L2 parameter tables as Markdown (from the registry)."""
    lines = ["| type | category | modalities | L1 | L2 |", "|---|---|---|---|---|"]
    for spec in list_degradations():
        modalities = ", ".join(sorted(spec.modalities)) if spec.modalities else "all"
        lines.append(f"| {spec.name} | {spec.category} | {modalities} | {describe_table(spec.levels[1])} "
                     f"| {describe_table(spec.levels[2])} |")
    return "\n".join(lines)
