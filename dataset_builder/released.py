"""Released degraded rows paired with the clean rows they come from ("clean twins").

The published MedQ-DEG-Bench files hold clean rows (``good``) and degraded rows
(``simulate``) but no column linking a degraded row to its clean row. ``pair_twins``
finds the link, in this order:

1. An explicit link column (``clean_index`` and the other ``CLEAN_LINK_COLUMNS`` of the TSV
   source, kept in ``item.extra["clean_index"]``): the clean row of that ``index``, in the
   file of the same part (dev or test) when there is one. An index that names no clean
   row is an error naming the degraded row and the field.
2. Otherwise, the candidates are the clean rows with the same text: question (spaces
   collapsed), options, answer, modality and source. Candidates of the same part (dev or
   test) are preferred when there are any.
3. One candidate: it is the twin. Several (clean rows that share every text field and
   differ only by their image): the image decides, see ``image_similarity``; the
   candidate with the highest similarity is the twin. Ties on the top score pick none; a row whose image cannot be read is left unpaired (the builder refuses or skips it when it loads the image).
4. No candidate: the row has no twin; its ``clean_id`` stays empty ("") and it is
   counted in ``PairingReport.unpaired``. Nothing is dropped.

Image similarity, chosen to survive the benchmark's own degradations: both images are
turned into grey 24x24 thumbnails by area averaging (which averages noise out and makes
blur, low resolution, undersampling and most artifacts nearly invisible), each
thumbnail is standardised to mean 0 and variance 1 (so brightness, contrast and exposure
changes do not matter), and the score is the largest Pearson correlation between the
degraded thumbnail and the clean one rotated by each angle of ``ROTATIONS`` (the engine
rotates objects by at most 35 degrees). It costs one thumbnail per candidate image and
is only computed for rows whose text matches several clean rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from .errors import InvalidInputError, MedQDegError
from .items import CleanItem

THUMBNAIL = 24
ROTATIONS = tuple(range(-40, 41, 5))
"""Angles (degrees) tried when comparing thumbnails: the engine's rotations lie within +-35."""


@dataclass
class PairingReport:
    """How the degraded rows were paired: counts per rule and the rows left without a twin."""

    degraded: int = 0
    by_link: int = 0
    by_text: int = 0
    by_image: int = 0
    unpaired: list[str] = field(default_factory=list)  # ids of degraded rows with no twin

    @property
    def paired(self) -> int:
        return self.by_link + self.by_text + self.by_image

    def summary(self) -> str:
        return (f"paired {self.paired} of {self.degraded} released degraded rows with their clean twin "
                f"({self.by_link} by a link column, {self.by_text} by text alone, {self.by_image} by image "
                f"similarity); {len(self.unpaired)} without a twin keep clean_id empty")

    def to_dict(self) -> dict[str, object]:
        return {"degraded": self.degraded, "paired": self.paired, "by_link": self.by_link,
                "by_text": self.by_text, "by_image": self.by_image, "unpaired": len(self.unpaired)}


def _part(item: CleanItem) -> str:
    """``dev`` or ``test`` (from the file name), else ""."""
    name = item.extra.get("file", "").lower()
    return next((part for part in ("dev", "test") if part in name), "")


def text_key(item: CleanItem) -> tuple:
    """What a degraded row shares with its clean row: question, options, answer, modality, source."""
    def norm(value: str | None) -> str:
        return " ".join(str(value or "").split())
    return (norm(item.question), tuple(norm(o) for o in item.options), norm(item.answer),
            norm(item.modality), norm(item.source).lower())


def thumbnail(image) -> np.ndarray:
    """Grey ``THUMBNAIL`` x ``THUMBNAIL`` thumbnail by area averaging, as float64."""
    picture = image if isinstance(image, Image.Image) else Image.fromarray(_as_uint8(np.asarray(image)))
    grey = picture.convert("L").resize((THUMBNAIL, THUMBNAIL), Image.Resampling.BOX)
    return np.asarray(grey, dtype=np.float64)


def _as_uint8(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    array = array.astype(np.float64)
    if array.max(initial=0) <= 1.0:
        array = array * 255
    return np.clip(np.rint(array), 0, 255).astype(np.uint8)


def _standardise(values: np.ndarray) -> np.ndarray:
    values = values - values.mean()
    norm = np.sqrt((values ** 2).sum())
    return values / norm if norm > 0 else values


def _rotations(thumb: np.ndarray) -> list[np.ndarray]:
    picture = Image.fromarray(thumb.astype(np.float32), mode="F")
    fill = float(np.median(np.concatenate([thumb[0], thumb[-1], thumb[:, 0], thumb[:, -1]])))
    return [_standardise(np.asarray(picture.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=fill),
                                    dtype=np.float64)) for angle in ROTATIONS]


def image_similarity(degraded, clean) -> float:
    """Largest correlation of the degraded thumbnail with the clean one under ``ROTATIONS``."""
    target = _standardise(thumbnail(degraded))
    return max(float((target * rotated).sum()) for rotated in _rotations(thumbnail(clean)))


def pair_twins(clean: Sequence[CleanItem], degraded: Sequence[CleanItem]) -> PairingReport:
    """Set ``item.extra["clean_id"]`` of every degraded row (its twin's id, or "") and report.

    See the module docstring for the rule.
    """
    report = PairingReport(degraded=len(degraded))
    by_text: dict[tuple, list[CleanItem]] = defaultdict(list)
    by_index: dict[str, list[CleanItem]] = defaultdict(list)
    for item in clean:
        by_text[text_key(item)].append(item)
        by_index[item.extra.get("index", "")].append(item)
    rotated: dict[str, list[np.ndarray]] = {}

    def clean_rotations(item: CleanItem) -> list[np.ndarray]:
        if item.id not in rotated:
            try:
                rotated[item.id] = _rotations(thumbnail(item.load_image()))
            except MedQDegError:  # an unreadable clean image matches nothing; the builder reports it
                rotated[item.id] = []
        return rotated[item.id]

    for row in degraded:
        part = _part(row)
        link = row.extra.get("clean_index")
        if link:
            linked = by_index.get(link, [])
            linked = [c for c in linked if _part(c) == part] or linked
            if len(linked) != 1:
                raise InvalidInputError("clean_index", f"is {link!r}, which names {len(linked)} clean rows",
                                        "the index of exactly one clean (good) row",
                                        item=f"{row.location} (item {row.id!r})")
            row.extra["clean_id"] = linked[0].id
            report.by_link += 1
            continue
        candidates = by_text.get(text_key(row), [])
        candidates = [c for c in candidates if _part(c) == part] or candidates
        if not candidates:
            row.extra["clean_id"] = ""
            report.unpaired.append(row.id)
            continue
        if len(candidates) == 1:
            row.extra["clean_id"] = candidates[0].id
            report.by_text += 1
            continue
        try:
            target = _standardise(thumbnail(row.load_image()))
        except MedQDegError:  # unreadable: left unpaired here, refused or skipped when the builder loads it
            row.extra["clean_id"] = ""
            report.unpaired.append(row.id)
            continue
        scores = [max((float((target * r).sum()) for r in clean_rotations(c)), default=float("-inf"))
                  for c in candidates]
        best = max(scores)
        if scores.count(best) > 1:
            row.extra["clean_id"] = ""
            report.unpaired.append(row.id)
            continue
        row.extra["clean_id"] = candidates[scores.index(best)].id
        report.by_image += 1
    return report

