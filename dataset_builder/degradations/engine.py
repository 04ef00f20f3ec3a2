"""The public face of the engine: ``degrade``, ``replay`` and ``list_degradations``.

``degrade`` samples the parameters of one degradation at one level from the item's own
generator (see ``rng``), applies them, and returns the degraded image together with a
``DegradationRecord`` holding the exact values applied. ``replay`` applies a record again
and gives the same bytes, in any process.
"""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from ..errors import InvalidInputError, ModalityMismatchError
from ..modalities import normalize_modality
from ..vocabulary import parse_level
from .conversion import ImageFormat, from_engine, to_engine
from .params import SampleContext, sample_params
from .registry import Degradation, all_degradations, get_degradation
from .rng import item_rng, shared_rng

ENGINE_VERSION = "5"
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


def list_degradations(modality: str | None = None) -> list[Degradation]:
    """Every degradation type, or those that apply to ``modality`` (any common spelling)."""
    if modality is None:
        return all_degradations()
    canonical = normalize_modality(modality)
    return [spec for spec in all_degradations() if spec.applies_to(canonical)]


def _check_modality(spec: Degradation, modality: str | None, force: bool, item: str | None) -> str | None:
    """The canonical modality (None when not given); refuses a type that does not apply."""
    if modality is None:
        return None
    canonical = normalize_modality(modality, item=item)
    if not force and not spec.applies_to(canonical):
        where = f"{item}: " if item else ""
        raise ModalityMismatchError(
            f"{where}degradation `{spec.name}` does not apply to modality {canonical!r}; it applies to "
            f"{', '.join(sorted(spec.modalities or ()))}. Pass force=True to apply it anyway."
        )
    return canonical


def _apply(spec: Degradation, array: np.ndarray, fmt: ImageFormat, params: dict[str, Any]) -> ImageLike:
    out = spec.apply(array, **params)
    if out.shape != array.shape or out.dtype != np.float32:
        raise AssertionError(f"{spec.name} broke the engine contract: {out.shape} {out.dtype}")
    return from_engine(out, fmt)


def _inputs(fmt: ImageFormat, display_window: tuple[float, float] | None,
            pixel_spacing: float | None, item: str | None) -> dict[str, Any]:
    """What the sample step knows about the input's values (see ``SampleContext.inputs``)."""
    inputs: dict[str, Any] = {"value_window": None if fmt.display else (fmt.low, fmt.high)}
    if display_window is not None:
        try:
            center, width = (float(v) for v in display_window)
        except (TypeError, ValueError):
            center, width = float("nan"), float("nan")
        if not (np.isfinite(center) and np.isfinite(width) and width > 0):
            raise InvalidInputError("display_window", f"is {display_window!r}",
                                    "(center, width) in Hounsfield units with width > 0", item=item)
        inputs["display_window"] = (center, width)
    if pixel_spacing is not None:
        if not (isinstance(pixel_spacing, int | float) and np.isfinite(pixel_spacing) and pixel_spacing > 0):
            raise InvalidInputError("pixel_spacing", f"is {pixel_spacing!r}", "a pixel size in mm above 0", item=item)
        inputs["pixel_spacing"] = float(pixel_spacing)
    return inputs


def degrade(
    image: ImageLike,
    name: str,
    level: int | str,
    *,
    seed: int = 0,
    item_id: str = "",
    modality: str | None = None,
    force: bool = False,
    display_window: tuple[float, float] | None = None,
    pixel_spacing: float | None = None,
) -> tuple[ImageLike, DegradationRecord]:
    """Degrade ``image`` with type ``name`` at ``level``; return the image and its record.

    The output has the input's size and mode (PIL) or shape and dtype (NumPy). Level 0 is
    the identity and returns an unchanged copy. Magnitudes are drawn from the generator of
    ``(seed, item_id, name, level)``, directions and geometry from the type's shared
    generator of ``(seed, item_id, name)`` (the same at L1 and L2), so the same call gives
    the same bytes in any process. With ``modality`` given, a type that does not apply to
    it raises ``ModalityMismatchError`` unless ``force`` is true; the modality also picks
    the physics of types that differ by modality (``object_movement``, ``reduce_contrast``).

    For the CT types: a display image (8-bit, or floats in [0, 1]) was made through
    ``display_window`` = (center, width) in Hounsfield units (default ``ct.DEFAULT_WINDOW``);
    any other input (signed integers, 16-bit, floats outside [0, 1]) holds Hounsfield units
    and comes back in them. ``pixel_spacing`` is the pixel size in mm (default: the image
    spans ``ct.DEFAULT_FIELD_OF_VIEW``).
    """
    spec = get_degradation(name)
    name = spec.name  # an alias (the paper's spelling) draws and records as the type's own name
    item = item_id or None
    level = parse_level(level, item=item)
    canonical = _check_modality(spec, modality, force, item)
    array, fmt = to_engine(image, item=item)  # validates the input at every level
    if level == 0:
        return copy.deepcopy(image) if isinstance(image, Image.Image) else image.copy(), DegradationRecord(
            name=name, level=0, seed=int(seed), item_id=str(item_id))
    ctx = SampleContext(
        rng=item_rng(seed, item_id, name, level),
        shared_rng=functools.partial(shared_rng, seed, item_id, name),
        shape=array.shape, modality=canonical,
        inputs=_inputs(fmt, display_window, pixel_spacing, item),
    )
    params = sample_params(spec.levels[level], ctx)
    record = DegradationRecord(name=name, level=level, params=params, seed=int(seed), item_id=str(item_id))
    return _apply(spec, array, fmt, params), record


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
    array, fmt = to_engine(image, item=record.item_id or None)
    return _apply(spec, array, fmt, dict(record.params))
