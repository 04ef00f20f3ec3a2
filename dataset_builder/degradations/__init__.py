"""The MedQ-Deg degradation engine: 19 types at L0/L1/L2, reproducible to the byte.

>>> from medqdeg.dataset_builder.degradations import degrade, replay, list_degradations
>>> [d.name for d in list_degradations("CT")][:3]  # doctest: +SKIP

Importing this package registers every type (each module registers its own). Code outside
the engine uses the names below only, never the engine's modules.
"""

from . import ct, general, motion, mri, pathology  # noqa: F401  (registration side effect)
from .conversion import MIN_SIDE, check_image
from .ct import ideal_ct_rescan
from .engine import (
    ENGINE_VERSION,
    DegradationRecord,
    degrade,
    list_degradations,
    replay,
)
from .params import describe_table
from .registry import CATEGORIES, DEGRADATIONS, Degradation, get_degradation

__all__ = [
    "CATEGORIES",
    "DEGRADATIONS",
    "ENGINE_VERSION",
    "MIN_SIDE",
    "Degradation",
    "DegradationRecord",
    "check_image",
    "degrade",
    "describe_table",
    "get_degradation",
    "ideal_ct_rescan",
    "list_degradations",
    "replay",
]
