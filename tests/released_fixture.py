"""A released-format MedQ-DEG-Bench folder, written the way the benchmark is published.

``write_released(folder)`` writes ``MedQ-Robust-good-dev.tsv`` (7 clean rows) and
``MedQ-Robust-simulate-dev.tsv`` (15 degraded rows: 8 at L1, 7 at L2) in the columns of
the released files (paper section 6), with no link column: the degraded rows must be
paired with their clean rows by content. Clean rows 1, 2 and 3 share every text field
(question, options, answer, modality, source) and differ only by their image, so their
degraded rows can only be told apart by the image. Row 99 of the degraded file matches
no clean row (it has no twin). Degraded images are made by the toolkit's own engine at
the level the row states, so the pairing is tested against the real degradations.

``EXPECTED_TWINS`` maps each degraded id to its clean id ("" for no twin).
"""

from __future__ import annotations

import base64
import csv
import io
from pathlib import Path

import numpy as np
from PIL import Image

from medqdeg.dataset_builder.degradations import degrade

SIZE = 64
GOOD = "MedQ-Robust-good-dev.tsv"
SIMULATE = "MedQ-Robust-simulate-dev.tsv"
SHARED = {"question": "Which abnormality is seen in this CT slice?",
          "options": ["Nodule", "Effusion", "Normal", "Fracture"], "answer": "A"}

CLEAN = [  # index, seed of the image, text (None = SHARED), modality
    ("1", 11, None, "CT"),
    ("2", 12, None, "CT"),
    ("3", 13, None, "CT"),
    ("4", 14, {"question": "Which organ is shown?", "options": ["Liver", "Lung", "Heart"], "answer": "B"}, "CT"),
    ("5", 15, {"question": "Is there a lesion?", "options": ["Yes", "No"], "answer": "A"}, "MRI"),
    ("6", 16, {"question": "Which plane is this?", "options": ["Axial", "Coronal", "Sagittal"], "answer": "C"}, "MRI"),
    ("7", 17, {"question": "Which grade?", "options": ["0", "1", "2", "3", "4"], "answer": "E"}, "X-ray"),
]

DEGRADED = [  # index, clean index ("" = a row with no twin), type, level
    ("101", "1", "gaussian_noise", 1), ("102", "1", "gaussian_noise", 2),
    ("103", "2", "object_rotation", 1), ("104", "2", "object_rotation", 2),
    ("105", "3", "motion_blur", 1), ("106", "3", "low_resolution", 2),
    ("107", "1", "sparse_view", 1), ("108", "2", "low_dose", 2),
    ("109", "3", "adjust_brightness", 1),
    ("110", "4", "gaussian_blur", 1), ("111", "4", "gaussian_blur", 2),
    ("112", "5", "ghosting_artifact", 1), ("113", "6", "reduce_contrast", 2),
    ("114", "7", "exposure", 1),
    ("99", "", "gaussian_noise", 2),
]
EXPECTED_TWINS = {f"MedQ-Robust-simulate-dev-{index}": (f"MedQ-Robust-good-dev-{clean}" if clean else "")
                  for index, clean, _, _ in DEGRADED}
PUBLISHED_COUNTS = {"L0": 7, "L1": 8, "L2": 7}


def phantom(seed: int) -> np.ndarray:
    """A 64x64 grey image of a few ellipses at seeded places (a CT-like phantom)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    image = 0.15 * (((x - 0.5) / 0.45) ** 2 + ((y - 0.5) / 0.4) ** 2 < 1)
    for _ in range(4):
        cx, cy = rng.uniform(0.25, 0.75, 2)
        rx, ry = rng.uniform(0.05, 0.2, 2)
        image = image + rng.uniform(0.3, 0.8) * (((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 < 1)
    return np.clip(image * 255, 0, 255).astype(np.uint8)


def _b64(array: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(array)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _text(entry: dict | None) -> dict:
    return SHARED if entry is None else entry


def _write(path: Path, rows: list[dict]) -> None:
    header = ["index", "image", "question", "A", "B", "C", "D", "E", "answer", "modality",
              "degradation_type", "degradation_severity", "source"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            options = row["options"] + [""] * (5 - len(row["options"]))
            writer.writerow([row["index"], row["image"], row["question"], *options, row["answer"],
                             row["modality"], row["type"], row["severity"], "OmniMedVQA"])


def write_released(folder: Path) -> Path:
    """Write the two files into ``folder`` (created); returns it."""
    clean = {index: (seed, _text(text), modality) for index, seed, text, modality in CLEAN}
    good = [{"index": index, "image": _b64(phantom(seed)), **text, "modality": modality, "type": "",
             "severity": "L0"} for index, (seed, text, modality) in clean.items()]
    simulate = []
    for index, twin, kind, level in DEGRADED:
        seed, text, modality = clean[twin] if twin else (99, {**SHARED, "question": "A question no clean row has?"},
                                                         "CT")
        image, _ = degrade(phantom(seed), kind, level, seed=0, item_id=index, modality=modality)
        simulate.append({"index": index, "image": _b64(image), **text, "modality": modality, "type": kind,
                         "severity": f"L{level}"})
    _write(folder / GOOD, good)
    _write(folder / SIMULATE, simulate)
    return folder
