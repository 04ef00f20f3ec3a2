"""Hand-made ItemRecords for the tests of the records, the scoring and the report."""

from __future__ import annotations

from typing import Any

from medqdeg.eval_harness.item_record import ItemRecord


def make_record(key: str = "k0", *, letters: list[str | None] | None = None, **fields: Any) -> ItemRecord:
    """A finished L0 record of a 4-option item whose answer is A, sampled three times
    (letters ``["A", "A", "B"]`` unless given); ``fields`` override any other field."""
    letters = ["A", "A", "B"] if letters is None else letters
    values: dict[str, Any] = {
        "key": key, "id": key, "clean_id": key, "model": "chance", "backend": {"name": "chance"},
        "prompt_hash": "p", "severity": "L0", "modality": "CT", "degradation": "none", "category": "none",
        "capability": "diagnosis", "skill": None, "source": "embedded", "answer": "A", "num_options": 4,
        "raw_outputs": [f"Answer: {letter}" for letter in letters], "letters": letters,
        "votes": {}, "num_unparseable": sum(letter is None for letter in letters), "letter_probs": None,
        "latency_s": 0.5, "prompt_tokens": None, "completion_tokens": None,
        "confidence": 0.5, "correct": 1.0, "sample_correct": 2 / 3,
    }
    values.update(fields)
    return ItemRecord(**values)
