"""Per-item random generators that do not depend on process, order or platform.

The generator of one degraded item is seeded from the tuple
``(seed, item_id, degradation, level)`` through BLAKE2b (128-bit digest); the shared
generator of one parameter, drawn once for both levels, from
``(seed, item_id, degradation, "shared", parameter)``. Any item can thus be regenerated
byte-identically in any process and in any order. Nothing in the toolkit touches NumPy's
or Python's global random state.
"""

from __future__ import annotations

import numpy as np

from ..vocabulary import stable_hash


def item_rng(seed: int, item_id: str, degradation: str, level: int) -> np.random.Generator:
    """The PCG64 generator of one (seed, item, degradation, level) combination."""
    return np.random.Generator(np.random.PCG64(stable_hash(int(seed), str(item_id), degradation, int(level))))


def shared_rng(seed: int, item_id: str, degradation: str, parameter: str) -> np.random.Generator:
    """The PCG64 generator of one parameter of (seed, item, degradation), the same at every level."""
    return np.random.Generator(np.random.PCG64(
        stable_hash(int(seed), str(item_id), degradation, "shared", str(parameter))))
