"""Parameter specifications: the per-level tables are data, sampled in one place.

Each degradation declares, for L1 and L2, a mapping from parameter name to either a
constant or one of the specifications below. ``sample_params`` turns such a table into
concrete, JSON-serialisable values (the "sample" step); the degradation function then
applies exactly those values (the "apply" step), so a record of them replays the result
byte for byte.

Two generators feed the sample step (see ``rng``):
- the level's own, seeded by (seed, item, type, level): magnitudes, which grow with the level;
- the type's shared one, seeded by (seed, item, type, parameter): directions and geometry
  (the sign of a brightness change, the direction of a rotation, the phase-encode axis,
  the path of a motion), drawn once per item and type so L2 is more of the same change as L1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


@dataclass(frozen=True)
class SampleContext:
    """What the sample step may look at: generators, the image's shape, modality and facts.

    ``inputs`` holds what the caller states about the input (for CT: the display window and
    pixel spacing, and whether the values are Hounsfield units); ``values`` the parameters
    drawn so far, in table order, so a derived parameter can depend on them.
    """

    rng: np.random.Generator
    shared_rng: Callable[[str], np.random.Generator]
    shape: tuple[int, ...]
    modality: str | None = None
    inputs: Mapping[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Uniform:
    """A float drawn uniformly from ``[low, high]`` (the level's generator)."""

    low: float
    high: float

    def sample(self, ctx: SampleContext, name: str) -> float:
        return float(ctx.rng.uniform(self.low, self.high))

    def __str__(self) -> str:
        return f"U[{self.low:g}, {self.high:g}]"


@dataclass(frozen=True)
class SignedUniform:
    """A magnitude from ``[low, high]`` (the level's generator) times a sign drawn once per
    item and type (the shared generator), so L1 and L2 of one item go the same way."""

    low: float
    high: float

    def sample(self, ctx: SampleContext, name: str) -> float:
        sign = 1.0 if ctx.shared_rng(name).random() < 0.5 else -1.0
        return sign * float(ctx.rng.uniform(self.low, self.high))

    def __str__(self) -> str:
        return f"±U[{self.low:g}, {self.high:g}] (sign shared by L1 and L2)"


@dataclass(frozen=True)
class IntRange:
    """An integer drawn uniformly from ``low..high`` (both included)."""

    low: int
    high: int

    def sample(self, ctx: SampleContext, name: str) -> int:
        return int(ctx.rng.integers(self.low, self.high + 1))

    def __str__(self) -> str:
        return f"{{{self.low}..{self.high}}}"


@dataclass(frozen=True)
class Choice:
    """One of ``options``, each equally likely."""

    options: tuple[Any, ...]

    def sample(self, ctx: SampleContext, name: str) -> Any:
        return self.options[int(ctx.rng.integers(len(self.options)))]

    def __str__(self) -> str:
        return "one of " + "/".join(str(o) for o in self.options)


@dataclass(frozen=True)
class UniformVector:
    """``size`` floats, each drawn uniformly from ``[low, high]``."""

    low: float
    high: float
    size: int

    def sample(self, ctx: SampleContext, name: str) -> list[float]:
        return [float(v) for v in ctx.rng.uniform(self.low, self.high, self.size)]

    def __str__(self) -> str:
        return f"{self.size} x U[{self.low:g}, {self.high:g}]"


@dataclass(frozen=True)
class Seed:
    """A 63-bit seed for a per-pixel random field (noise, overlay placement) drawn at apply time."""

    def sample(self, ctx: SampleContext, name: str) -> int:
        return int(ctx.rng.integers(0, 2**63 - 1))

    def __str__(self) -> str:
        return "seed"


@dataclass(frozen=True)
class Shared:
    """``spec`` drawn from the type's shared generator: the same value at L1 and L2."""

    spec: Any

    def sample(self, ctx: SampleContext, name: str) -> Any:
        return self.spec.sample(replace(ctx, rng=ctx.shared_rng(name)), name)

    def __str__(self) -> str:
        return f"{self.spec} (shared by L1 and L2)"


@dataclass(frozen=True)
class Derived:
    """A value computed by ``function(ctx)`` from the context and the values drawn before it
    (an undersampling mask, motion poses, the Hounsfield scale of a CT input).
    ``text`` describes it in the parameter tables."""

    function: Callable[[SampleContext], Any]
    text: str

    def sample(self, ctx: SampleContext, name: str) -> Any:
        return self.function(ctx)

    def __str__(self) -> str:
        return self.text


ParamSpec = Uniform | SignedUniform | IntRange | Choice | UniformVector | Seed | Shared | Derived


def sample_params(table: Mapping[str, Any], ctx: SampleContext) -> dict[str, Any]:
    """Draw concrete values for one level's table, in the table's key order."""
    values = ctx.values
    for name, spec in table.items():
        values[name] = spec.sample(ctx, name) if isinstance(spec, ParamSpec) else spec
    return dict(values)


def describe_table(table: Mapping[str, Any]) -> str:
    """A one-line human description of a level's table, for docs and reports."""
    return ", ".join(f"{name}={spec}" for name, spec in table.items())
