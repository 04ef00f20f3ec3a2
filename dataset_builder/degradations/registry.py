"""The registry of degradation types: one decorator, one lookup, a type check.

A degradation is a pure function ``apply(image, **params) -> image`` on the engine's
image contract (float32, values in [0, 1], shape HxW or HxWx3), registered together
with its category, the modalities it applies to, and its per-level parameter table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..modalities import MODALITIES
from ..vocabulary import DEGRADED_LEVELS

CATEGORIES: tuple[str, ...] = ("artifacts", "motion", "intensity", "noise", "resolution_blur")

ApplyFn = Callable[..., np.ndarray]


@dataclass(frozen=True)
class Degradation:
    """One registered degradation type.

    ``modalities`` is ``None`` when the type applies to every modality.
    ``levels`` maps 1 and 2 to the parameter table of that severity (see ``params``).
    """

    name: str
    category: str
    modalities: frozenset[str] | None
    levels: Mapping[int, Mapping[str, Any]]
    apply: ApplyFn
    summary: str

    def applies_to(self, modality: str) -> bool:
        return self.modalities is None or modality in self.modalities


_REGISTRY: dict[str, Degradation] = {}


def register(
    name: str,
    *,
    category: str,
    levels: Mapping[int, Mapping[str, Any]],
    modalities: set[str] | None = None,
) -> Callable[[ApplyFn], ApplyFn]:
    """Register ``apply`` under ``name``; its docstring's first line becomes the summary."""
    if category not in CATEGORIES:
        raise InvalidInputError("category", f"is {category!r}", f"one of {CATEGORIES}", item=name)
    if set(levels) != set(DEGRADED_LEVELS):
        raise InvalidInputError("levels", f"has keys {sorted(levels)}", "exactly the keys 1 and 2", item=name)
    unknown = set(modalities or ()) - set(MODALITIES)
    if unknown:
        raise InvalidInputError("modalities", f"has unknown {sorted(unknown)}", f"names from {MODALITIES}", item=name)

    def decorator(apply: ApplyFn) -> ApplyFn:
        if name in _REGISTRY:
            raise InvalidInputError("name", "is registered twice", "a unique degradation name", item=name)
        summary = (apply.__doc__ or "").strip().splitlines()[0] if apply.__doc__ else name
        _REGISTRY[name] = Degradation(
            name=name,
            category=category,
            modalities=frozenset(modalities) if modalities is not None else None,
            levels=levels,
            apply=apply,
            summary=summary,
        )
        return apply

    return decorator


def get_degradation(name: str) -> Degradation:
    """The registered degradation called ``name``, or an error listing the known ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise InvalidInputError(
            "degradation", f"is {name!r}, which is not a registered type",
            f"one of {', '.join(sorted(_REGISTRY))}",
        ) from None


def all_degradations() -> list[Degradation]:
    """Every registered degradation, sorted by category then name."""
    return sorted(_REGISTRY.values(), key=lambda d: (CATEGORIES.index(d.category), d.name))
