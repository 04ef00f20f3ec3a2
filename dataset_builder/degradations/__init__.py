"""The MedQ-Deg degradation engine: 19 types at L0/L1/L2, reproducible to the byte.

>>> from medqdeg.dataset_builder.degradations import degrade, replay, list_degradations
>>> [d.name for d in list_degradations("CT")][:3]  # doctest: +SKIP

Importing this package registers every type (each module registers its own).
"""

from . import ct, general, motion, mri, pathology  # noqa: F401  (registration side effect)
from .engine import (
    ENGINE_VERSION,
    DegradationRecord,
    degrade,
    list_degradations,
    parse_level,
    replay,
)
from .registry import CATEGORIES, LEVELS, Degradation, get_degradation

__all__ = [
    "CATEGORIES",
    "ENGINE_VERSION",
    "LEVELS",
    "Degradation",
    "DegradationRecord",
    "degrade",
    "get_degradation",
    "list_degradations",
    "parse_level",
    "replay",
]
