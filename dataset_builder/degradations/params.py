"""Parameter specifications: the per-level tables are data, sampled in one place.

Each degradation declares, for L1 and L2, a mapping from parameter name to either a
constant or one of the specifications below. ``sample_params`` turns such a table into
concrete, JSON-serialisable values with the item's generator (the "sample" step);
the degradation function then applies exactly those values (the "apply" step), so a
record of them replays the result byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Uniform:
    """A float drawn uniformly from ``[low, high]``."""

    low: float
    high: float

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))

    def __str__(self) -> str:
        return f"U[{self.low:g}, {self.high:g}]"


@dataclass(frozen=True)
class SignedUniform:
    """A magnitude drawn uniformly from ``[low, high]`` with a random sign."""

    low: float
    high: float

    def sample(self, rng: np.random.Generator) -> float:
        sign = 1.0 if rng.random() < 0.5 else -1.0
        return sign * float(rng.uniform(self.low, self.high))

    def __str__(self) -> str:
        return f"±U[{self.low:g}, {self.high:g}]"


@dataclass(frozen=True)
class IntRange:
    """An integer drawn uniformly from ``low..high`` (both included)."""

    low: int
    high: int

    def sample(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.low, self.high + 1))

    def __str__(self) -> str:
        return f"{{{self.low}..{self.high}}}"


@dataclass(frozen=True)
class Choice:
    """One of ``options``, each equally likely."""

    options: tuple[Any, ...]

    def sample(self, rng: np.random.Generator) -> Any:
        return self.options[int(rng.integers(len(self.options)))]

    def __str__(self) -> str:
        return "one of " + "/".join(str(o) for o in self.options)


@dataclass(frozen=True)
class UniformVector:
    """``size`` floats, each drawn uniformly from ``[low, high]``."""

    low: float
    high: float
    size: int

    def sample(self, rng: np.random.Generator) -> list[float]:
        return [float(v) for v in rng.uniform(self.low, self.high, self.size)]

    def __str__(self) -> str:
        return f"{self.size} x U[{self.low:g}, {self.high:g}]"


@dataclass(frozen=True)
class Seed:
    """A 63-bit seed for a random field (noise, overlay placement) drawn at apply time."""

    def sample(self, rng: np.random.Generator) -> int:
        return int(rng.integers(0, 2**63 - 1))

    def __str__(self) -> str:
        return "seed"


ParamSpec = Uniform | SignedUniform | IntRange | Choice | UniformVector | Seed


def sample_params(table: Mapping[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """Draw concrete values for one level's table, in the table's key order."""
    return {
        name: spec.sample(rng) if isinstance(spec, ParamSpec) else spec
        for name, spec in table.items()
    }


def describe_table(table: Mapping[str, Any]) -> str:
    """A one-line human description of a level's table, for docs and reports."""
    return ", ".join(f"{name}={spec}" for name, spec in table.items())
