"""The benchmark's words, spelled once: severity levels, option letters, the citation, the hash.

Every room of the toolkit imports these instead of writing them again.

- Levels: MedQ-Deg has three severities, ``L0`` (clean), ``L1`` (mild) and ``L2`` (severe). The
  integer ``0``, ``1``, ``2`` is the engine's and the records' form; ``"L0"``, ``"L1"``, ``"L2"`` the
  split, report and file form. ``parse_level`` accepts either, in any case.
- Options: a question has ``MIN_OPTIONS`` to ``MAX_OPTIONS`` options lettered ``A``, ``B``, ...
- Hashing: ``stable_hash`` (an integer, for seeds) and ``stable_key`` (hexadecimal text, for keys)
  are one BLAKE2b digest of the JSON form of their parts, the same in every process and platform.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from .errors import InvalidInputError

LEVELS: tuple[int, ...] = (0, 1, 2)
"""The severity levels: 0 clean, 1 mild, 2 severe."""
LEVEL_NAMES: tuple[str, ...] = tuple(f"L{level}" for level in LEVELS)
"""``("L0", "L1", "L2")``: the split names and the report's column names."""
DEGRADED_LEVELS: tuple[int, ...] = LEVELS[1:]
"""The levels a degradation is applied at; each is compared with its clean twin at ``L0``."""
DROP_NAMES: tuple[str, ...] = tuple(f"{LEVEL_NAMES[level]}-{LEVEL_NAMES[0]}" for level in DEGRADED_LEVELS)
"""``("L1-L0", "L2-L0")``: the paired accuracy drops of the report."""
LEVEL_SPELLINGS = "0, 1, 2 or 'L0', 'L1', 'L2' (any case)"
"""What ``parse_level`` accepts, for error messages."""

MIN_OPTIONS, MAX_OPTIONS = 2, 5
"""MedQ-Deg questions have 2 to 5 options."""
OPTION_LETTERS = "ABCDE"
"""The option letters, one per possible option (``len(OPTION_LETTERS) == MAX_OPTIONS``)."""

CITATION = """@article{medqdeg2026,
  title   = {MedQ-Deg: A Multidimensional Benchmark for Evaluating MLLMs Across Medical Image Quality Degradations},
  journal = {arXiv preprint arXiv:2603.07769},
  year    = {2026}
}"""


def level_name(level: int) -> str:
    """The name ``"L<level>"`` of an integer level (0 -> ``"L0"``)."""
    return LEVEL_NAMES[LEVELS.index(level)]


def level_or_none(value: Any) -> int | None:
    """The integer level of ``value`` (0, 1, 2, "0".."2", "L0".."L2", any case), else None.

    Booleans are not levels (``True == 1`` in Python, but a flag is not a severity).
    """
    if isinstance(value, (bool, np.bool_)):
        return None
    text = str(value).strip().upper().removeprefix("L")
    return int(text) if text in {str(level) for level in LEVELS} else None


def parse_level(value: Any, *, item: str | None = None, field: str = "level") -> int:
    """The integer level of ``value``; an ``InvalidInputError`` naming ``item`` and ``field`` if none."""
    level = level_or_none(value)
    if level is None:
        raise InvalidInputError(field, f"is {value!r}", LEVEL_SPELLINGS, item=item)
    return level


def stable_hash(*parts: object) -> int:
    """A 128-bit integer from BLAKE2b over the JSON of ``parts`` (sorted keys, no spaces).

    Stable across processes, platforms and Python versions; the seed of every generator.
    """
    payload = json.dumps(parts, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(payload, digest_size=16).digest(), "little")


def stable_key(*parts: object, chars: int = 32) -> str:
    """The first ``chars`` hexadecimal digits (at most 32) of ``stable_hash(*parts)``: a cache or run key."""
    if not 1 <= chars <= 32:
        raise ValueError(f"chars must be 1..32, got {chars}")
    return f"{stable_hash(*parts):032x}"[:chars]
