"""The public face of the engine: ``degrade``, ``replay`` and ``list_degradations``.

``degrade`` samples the parameters of one degradation at one level from the item's own
generator (see ``rng``), applies them, and returns the degraded image together with a
``DegradationRecord`` holding the exact values applied. ``replay`` applies a record again
and gives the same bytes, in any process.
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from ..errors import InvalidInputError, ModalityMismatchError
from ..modalities import normalize_modality
from .conversion import from_engine, to_engine
from .params import sample_params
from .registry import LEVELS, Degradation, all_degradations, get_degradation
from .rng import item_rng

ENGINE_VERSION = "2"
"""Bumped whenever a parameter table or an apply function changes its output."""

ImageLike = Image.Image | np.ndarray


@dataclass(frozen=True)
class DegradationRecord:
    """Everything needed to reproduce one degraded image from its clean image."""

    name: str
    level: int
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    item_id: str = ""
    engine_version: str = ENGINE_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DegradationRecord:
        missing = {"name", "level", "params"} - set(data)
        if missing:
            raise InvalidInputError("record", f"lacks {sorted(missing)}",
                                    "a dict from DegradationRecord.to_dict()")
        return cls(**{key: data[key] for key in data if key in cls.__dataclass_fields__})

    @classmethod
    def from_json(cls, text: str) -> DegradationRecord:
        return cls.from_dict(json.loads(text))


def parse_level(level: int | str, *, item: str | None = None) -> int:
    """Accept 0, 1, 2 or "L0", "L1", "L2" (any case) and return the integer level."""
    text = str(level).strip().upper().removeprefix("L")
    if isinstance(level, bool) or text not in {str(value) for value in LEVELS}:
        raise InvalidInputError("level", f"is {level!r}", "0, 1, 2 or 'L0', 'L1', 'L2'", item=item)
    return int(text)


def list_degradations(modality: str | None = None) -> list[Degradation]:
    """Every degradation type, or those that apply to ``modality`` (any common spelling)."""
    if modality is None:
        return all_degradations()
    canonical = normalize_modality(modality)
    return [spec for spec in all_degradations() if spec.applies_to(canonical)]


def _check_modality(spec: Degradation, modality: str | None, force: bool, item: str | None) -> None:
    if modality is None or force:
        return
    canonical = normalize_modality(modality, item=item)
    if not spec.applies_to(canonical):
        where = f"{item}: " if item else ""
        raise ModalityMismatchError(
            f"{where}degradation `{spec.name}` does not apply to modality {canonical!r}; it applies to "
            f"{', '.join(sorted(spec.modalities or ()))}. Pass force=True to apply it anyway."
        )


def _apply(spec: Degradation, image: ImageLike, params: dict[str, Any], item: str | None) -> ImageLike:
    array, fmt = to_engine(image, item=item)
    out = spec.apply(array, **params)
    if out.shape != array.shape or out.dtype != np.float32:
        raise AssertionError(f"{spec.name} broke the engine contract: {out.shape} {out.dtype}")
    return from_engine(out, fmt)


def degrade(
    image: ImageLike,
    name: str,
    level: int | str,
    *,
    seed: int = 0,
    item_id: str = "",
    modality: str | None = None,
    force: bool = False,
) -> tuple[ImageLike, DegradationRecord]:
    """Degrade ``image`` with type ``name`` at ``level``; return the image and its record.

    The output has the input's size and mode (PIL) or shape and dtype (NumPy). Level 0 is
    the identity and returns an unchanged copy. The parameters are drawn from the
    generator of ``(seed, item_id, name, level)``, so the same call gives the same bytes
    in any process. With ``modality`` given, a type that does not apply to it raises
    ``ModalityMismatchError`` unless ``force`` is true.
    """
    spec = get_degradation(name)
    level = parse_level(level, item=item_id or None)
    _check_modality(spec, modality, force, item_id or None)
    if level == 0:
        to_engine(image, item=item_id or None)  # validate the input all the same
        return copy.deepcopy(image) if isinstance(image, Image.Image) else image.copy(), DegradationRecord(
            name=name, level=0, seed=int(seed), item_id=str(item_id))
    params = sample_params(spec.levels[level], item_rng(seed, item_id, name, level))
    record = DegradationRecord(name=name, level=level, params=params, seed=int(seed), item_id=str(item_id))
    return _apply(spec, image, params, item_id or None), record


def replay(image: ImageLike, record: DegradationRecord | dict[str, Any]) -> ImageLike:
    """Apply the exact parameters of ``record`` to ``image`` (same bytes as ``degrade``)."""
    if isinstance(record, dict):
        record = DegradationRecord.from_dict(record)
    if record.engine_version != ENGINE_VERSION:
        raise InvalidInputError(
            "engine_version", f"is {record.engine_version!r} but this engine is {ENGINE_VERSION!r}",
            "a record made by the same engine version (the bytes would differ)", item=record.item_id or None)
    spec = get_degradation(record.name)
    level = parse_level(record.level, item=record.item_id or None)
    if level == 0:
        return copy.deepcopy(image) if isinstance(image, Image.Image) else image.copy()
    return _apply(spec, image, dict(record.params), record.item_id or None)
