"""The clean item every source produces, and its validation.

A ``CleanItem`` is one multiple-choice question about one image, with what the builder
needs to slice results (modality, capability, skill, source) and the provenance of the
image. Items of the released degraded files also carry their degradation and severity.
Validation names the place (file and row) and the field at fault.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from .errors import InvalidInputError
from .modalities import normalize_modality
from .vocabulary import MAX_OPTIONS, MIN_OPTIONS, OPTION_LETTERS

CAPABILITIES = ("AR", "IP", "CU", "BS", "Diag", "Treat")
"""The paper's T2 capabilities: anatomical recognition, imaging perception, clinical
understanding (perception); basic science, diagnostic, treatment reasoning."""

ImageSource = Image.Image | np.ndarray | Callable[[], Image.Image | np.ndarray]


@dataclass
class CleanItem:
    """One clean multiple-choice item. ``image`` may be a zero-argument loader."""

    id: str
    image: ImageSource
    question: str
    options: list[str]
    answer: str
    modality: str
    source: str
    capability: str | None = None
    skill: str | None = None
    origin: str | None = None
    license: str | None = None
    location: str = ""  # "file:row" for error messages
    degradation: str | None = None  # set by sources whose images are degraded already
    severity: int = 0
    extra: dict[str, str] = field(default_factory=dict)
    acquisition: Callable[[], dict[str, object]] = dict
    """What the image's physics needs beyond its pixels, as ``degrade`` keyword arguments
    (a CT display image's ``display_window`` and ``pixel_spacing``); called when degrading."""

    def load_image(self) -> Image.Image | np.ndarray:
        """The image (a loader is called each time: items do not hold decoded images)."""
        return self.image() if callable(self.image) else self.image


def _where(item: CleanItem) -> str:
    return f"{item.location} (item {item.id!r})" if item.location else f"item {item.id!r}"


def validate_item(item: CleanItem) -> CleanItem:
    """Check one item and normalise its modality and answer letter; raise naming the field.

    Accepted: a non-empty id and question, 2 to 5 non-empty options, an answer letter
    among the options' letters, a known modality (any common spelling), and a
    capability among the paper's T2 codes when one is given.
    """
    where = _where(item)
    if not str(item.id).strip():
        raise InvalidInputError("id", "is empty", "a non-empty identifier", item=where)
    if not isinstance(item.question, str) or not item.question.strip():
        raise InvalidInputError("question", "is empty", "the question text", item=where)
    if not MIN_OPTIONS <= len(item.options) <= MAX_OPTIONS:
        raise InvalidInputError("options", f"has {len(item.options)} options",
                                f"{MIN_OPTIONS} to {MAX_OPTIONS} options (letters {OPTION_LETTERS[0]}-{OPTION_LETTERS[-1]})", item=where)
    for letter, option in zip(OPTION_LETTERS, item.options, strict=False):
        if not isinstance(option, str) or not option.strip():
            raise InvalidInputError(f"options[{letter}]", "is empty", "non-empty option text", item=where)
    letters = OPTION_LETTERS[:len(item.options)]
    answer = str(item.answer).strip().upper()
    if answer not in letters:
        raise InvalidInputError("answer", f"is {item.answer!r}", f"one of the option letters {', '.join(letters)}",
                                item=where)
    if item.capability is not None and item.capability not in CAPABILITIES:
        raise InvalidInputError("capability", f"is {item.capability!r}", f"one of {', '.join(CAPABILITIES)}",
                                item=where)
    item.answer = answer
    item.modality = normalize_modality(item.modality, item=where)
    return item
