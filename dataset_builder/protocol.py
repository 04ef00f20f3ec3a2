"""The MedQ-Deg protocol: which degradations each clean item gets.

Paper protocol (``default``): each clean item gets between ``min_types`` and
``max_types`` (1 and 3 in the paper) distinct degradation types chosen uniformly at
random among the types that suit its modality (and the ``types`` filter), and each
chosen type is applied at L1 and at L2. Per-type configurations apply one type to every
item it suits. The choice for an item depends only on (seed, item id), through the same
stable hash as the engine's generators, so it does not depend on the order of the items
or on the number of processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .degradations import list_degradations
from .errors import InvalidInputError
from .vocabulary import stable_hash


@dataclass(frozen=True)
class Plan:
    """The degradations one clean item gets (each at every level of ``levels``)."""

    clean_id: str
    types: tuple[str, ...]


def applicable_types(modality: str, allowed: Sequence[str] | None = None) -> list[str]:
    """The registered types that suit ``modality``, in registry order, optionally filtered."""
    names = [spec.name for spec in list_degradations(modality)]
    return names if allowed is None else [name for name in names if name in set(allowed)]


def plan_item(clean_id: str, modality: str, *, seed: int, min_types: int = 1, max_types: int = 3,
              allowed: Sequence[str] | None = None, only: str | None = None) -> Plan:
    """Choose the types of one item: ``only`` if given (and it suits), else the paper's draw.

    The number of types is uniform on ``min_types..max_types`` (at most the number that
    suit the item), the types are drawn without replacement, uniformly.
    """
    if not 1 <= min_types <= max_types:
        raise InvalidInputError("min_types/max_types", f"are {min_types}/{max_types}",
                                "1 <= min_types <= max_types", item=clean_id)
    candidates = applicable_types(modality, allowed)
    if only is not None:
        return Plan(clean_id, (only,) if only in candidates else ())
    if not candidates:
        return Plan(clean_id, ())
    rng = np.random.default_rng(stable_hash("protocol", int(seed), clean_id))
    count = int(rng.integers(min(min_types, len(candidates)), min(max_types, len(candidates)) + 1))
    chosen = rng.choice(len(candidates), size=count, replace=False)
    return Plan(clean_id, tuple(candidates[i] for i in sorted(chosen)))
