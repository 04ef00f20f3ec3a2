"""What every model backend takes and gives back.

A backend answers a batch of ``Query``s. For each it returns an ``Answer`` holding the T
sampled completions (the paper's sampling confidence) and/or the probability of each
option letter from one forward pass (``letter-probs``), with token counts. A failure of
one item (a server error after the retries, say) is recorded in ``Answer.error`` and the
item is retried when the run is resumed; nothing is guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from PIL import Image


@dataclass(frozen=True)
class Query:
    """One question to one model: the image, the user text, an optional system prompt, K."""

    item_id: str
    image: Image.Image | None  # RGB; None for a text-only question (the answer judge's)
    prompt: str
    num_options: int
    system: str | None = None


@dataclass
class Answer:
    """A backend's reply to one query."""

    texts: list[str] = field(default_factory=list)  # the T sampled completions
    letter_probs: list[float] | None = None  # P(option letter) for A.. (K values, sum 1)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    error: str | None = None  # set when the item failed; it is retried on resume


@dataclass(frozen=True)
class GenerationSettings:
    """How to ask: T samples at ``temperature`` (greedy when T == 1 and temperature == 0)."""

    samples: int = 3
    temperature: float = 1.0
    max_new_tokens: int = 32
    want_texts: bool = True
    want_letter_probs: bool = False
    seed: int = 0


class Backend(Protocol):
    """A model the harness can ask. ``settings()`` must hold no secret (it is written to results)."""

    name: str

    def settings(self) -> dict[str, Any]:
        """JSON-serialisable description of the model and backend options (part of the cache key)."""
        ...

    def answer(self, queries: list[Query], generation: GenerationSettings) -> list[Answer]:
        """One ``Answer`` per query, in order."""
        ...
