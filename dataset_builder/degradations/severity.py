"""Measured severity: SSIM and PSNR of every type at L1 and L2 against the clean image.

SSIM is scikit-image's ``structural_similarity`` (Gaussian-free 7x7 windows, data range
255, colour channels averaged); PSNR is ``10 log10(255^2 / MSE)`` in dB. Both compare the
8-bit degraded image with its 8-bit clean original, averaged over the real sample images
of every modality the type applies to and over several seeds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from ..sample_images import load_sample
from .engine import degrade, list_degradations
from .params import describe_table

REPORT_SAMPLES: tuple[str, ...] = (
    "ct_head", "mr_shoulder", "xray_chest", "us_abdomen", "histo_ihc", "fundus_retina", "nm_bone_scan",
)
"""One real image per modality the catalogue holds; the report measures on these."""


@dataclass(frozen=True)
class SeverityRow:
    """Mean image quality of one degradation type at L1 and L2."""

    name: str
    category: str
    samples: tuple[str, ...]
    ssim: tuple[float, float]  # (L1, L2)
    psnr: tuple[float, float]  # (L1, L2), dB

    @property
    def l2_worse(self) -> bool:
        return self.ssim[1] < self.ssim[0] and self.psnr[1] < self.psnr[0]


def image_quality(clean: np.ndarray, degraded: np.ndarray) -> tuple[float, float]:
    """(SSIM, PSNR in dB) of an 8-bit ``degraded`` image against its 8-bit ``clean`` original."""
    channel_axis = 2 if clean.ndim == 3 else None
    ssim = structural_similarity(clean, degraded, data_range=255, channel_axis=channel_axis)
    with np.errstate(divide="ignore"):
        psnr = peak_signal_noise_ratio(clean, degraded, data_range=255)
    return float(ssim), float(min(psnr, 100.0))


def measure_severity(samples: tuple[str, ...] = REPORT_SAMPLES, seeds: int = 3) -> list[SeverityRow]:
    """Measure every registered type on the ``samples`` of the modalities it applies to."""
    images = [load_sample(key) for key in samples]
    rows = []
    for spec in list_degradations():
        used = [s for s in images if spec.applies_to(s.modality)]
        if not used:
            continue
        per_level = {1: [], 2: []}
        for sample in used:
            for seed in range(seeds):
                for level in (1, 2):
                    degraded, _ = degrade(sample.image, spec.name, level, seed=seed, item_id=sample.key)
                    per_level[level].append(image_quality(sample.image, degraded))
        means = {level: np.mean(values, axis=0) for level, values in per_level.items()}
        rows.append(SeverityRow(
            name=spec.name, category=spec.category, samples=tuple(s.key for s in used),
            ssim=(float(means[1][0]), float(means[2][0])), psnr=(float(means[1][1]), float(means[2][1])),
        ))
    return rows


def _modalities(keys: tuple[str, ...]) -> str:
    return ", ".join(load_sample(key).modality for key in keys)


def severity_markdown(rows: list[SeverityRow]) -> str:
    """The severity table as Markdown."""
    lines = [
        "| type | category | measured on (one real image each) | SSIM L1 | SSIM L2 | PSNR L1 (dB) | PSNR L2 (dB) | L2 worse |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.name} | {row.category} | {_modalities(row.samples)} | {row.ssim[0]:.3f} | {row.ssim[1]:.3f} "
            f"| {row.psnr[0]:.1f} | {row.psnr[1]:.1f} | {'yes' if row.l2_worse else 'NO'} |"
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
