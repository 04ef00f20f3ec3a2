"""The built-in chance baseline: answers uniformly at random, reproducibly.

Each sample of an item is a letter drawn uniformly from its K options with a generator
seeded from (seed, item id, sample index); its letter probabilities are uniform (1/K),
whose consistency confidence is 0. Expected accuracy is the mean of 1/K; this is the floor
every model's table should clear, and it lets the harness run on a machine with no model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from medqdeg.dataset_builder.vocabulary import OPTION_LETTERS, stable_hash

from .base import Answer, GenerationSettings, Query


class ChanceBackend:
    """Uniformly random option letters; no model, no network."""

    name = "chance"

    def settings(self) -> dict[str, Any]:
        return {"backend": "chance", "model": "chance"}

    def answer(self, queries: list[Query], generation: GenerationSettings) -> list[Answer]:
        answers = []
        for query in queries:
            letters = OPTION_LETTERS[:query.num_options]
            texts = [
                letters[np.random.default_rng(stable_hash("chance", generation.seed, query.item_id, t))
                        .integers(query.num_options)]
                for t in range(generation.samples)
            ] if generation.want_texts else []
            probs = [1.0 / query.num_options] * query.num_options if generation.want_letter_probs else None
            answers.append(Answer(texts=texts, letter_probs=probs, prompt_tokens=0, completion_tokens=len(texts)))
        return answers
