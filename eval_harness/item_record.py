"""One answered item as the runner writes it and the report reads it: :class:`ItemRecord`.

On disk a record is one JSON object per line of ``records-*.jsonl`` (``records.py``), keys
sorted. :meth:`ItemRecord.to_json` and :meth:`ItemRecord.from_json` keep that format
exactly (the same keys, the same values), so a run written before this class existed
loads unchanged:

- always: the item (``key``, ``id``, ``clean_id``, ``severity``, ``modality``,
  ``degradation``, ``category``, ``capability``, ``skill``, ``source``, ``answer``,
  ``num_options``), the run (``model``, ``backend``, ``prompt_hash``), the replies
  (``raw_outputs``, ``letters`` with ``None`` for an unparseable reply, ``votes``,
  ``num_unparseable``, ``letter_probs``) and their cost (``latency_s``, ``prompt_tokens``,
  ``completion_tokens``);
- when the item was sampled (``letters`` not empty): the runner's per-item scores
  ``confidence`` (C = 1 - H/ln K), ``correct`` (majority vote, ties split 1/m) and
  ``sample_correct``;
- when the backend gave letter probabilities: ``confidence_letter_probs`` and
  ``correct_letter_probs``.

The answer judge's fields (``judge``, ``judge_id``, ``judge_letters``, ``judge_outputs``,
``letter_sources``) are never in a records file: ``records.merge_records`` attaches them
from the judge's own file (``judge.py``).

The per-item scores are what a reader of one record sees; the report does not read them
back: it scores every record's letters in one pass (``scoring.score_records``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from medqdeg.dataset_builder.errors import InvalidInputError

SAMPLED_FIELDS = ("confidence", "correct", "sample_correct")
LETTER_PROBS_FIELDS = ("confidence_letter_probs", "correct_letter_probs")
JUDGE_FIELDS = ("judge", "judge_id", "judge_letters", "judge_outputs", "letter_sources")
OPTIONAL_GROUPS = (SAMPLED_FIELDS, LETTER_PROBS_FIELDS, JUDGE_FIELDS)
"""Fields written only together, and only when the record has them."""


@dataclass(frozen=True)
class ItemRecord:
    """One answered item: what was asked, what came back, and its per-item scores."""

    key: str  # the cache key: backend, generation, prompt, dataset and item id hashed
    id: str
    clean_id: str  # the clean twin's id; its own id at L0; "" for a degraded item without twin
    model: str
    backend: dict[str, Any]
    prompt_hash: str
    severity: str  # "L0", "L1" or "L2"
    modality: str | None
    degradation: str | None
    category: str | None
    answer: str  # the reference letter
    num_options: int  # K
    letters: list[str | None]  # one per sampled reply; None: unparseable
    latency_s: float  # seconds per item of its batch
    capability: str | None = None
    skill: str | None = None
    source: str | None = None
    raw_outputs: list[str] | None = None
    votes: dict[str, int] | None = None
    num_unparseable: int | None = None
    letter_probs: list[float] | None = None  # probability of each option letter, one pass
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    confidence: float | None = None
    correct: float | None = None
    sample_correct: float | None = None
    confidence_letter_probs: float | None = None
    correct_letter_probs: float | None = None
    judge: dict[str, Any] | None = None
    judge_id: str | None = None
    judge_letters: list[str | None] | None = None
    judge_outputs: list[str | None] | None = None
    letter_sources: list[str | None] | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any], *, item: str | None = None) -> ItemRecord:
        """The record of one JSON object of a records file; ``item`` names it in errors.

        Keys this class does not know are ignored; a missing key without a default is an
        error naming the key."""
        known = {field.name for field in fields(cls)}
        required = [field.name for field in fields(cls) if field.default is not None]
        missing = [name for name in required if name not in data]
        if missing:
            raise InvalidInputError("record", f"lacks {', '.join(missing)}",
                                    "a record as `medqdeg evaluate` writes it", item=item)
        return cls(**{name: value for name, value in data.items() if name in known})

    def to_json(self) -> dict[str, Any]:
        """The JSON object of the records file: every field, except an optional group
        (:data:`OPTIONAL_GROUPS`) whose fields are all None."""
        data = asdict(self)
        for group in OPTIONAL_GROUPS:
            if all(data[name] is None for name in group):
                for name in group:
                    del data[name]
        return data

    @property
    def sampled(self) -> bool:
        """Whether the item was answered by sampled replies (not only letter probabilities)."""
        return self.correct is not None

    @property
    def letters_with_judge(self) -> list[str | None]:
        """The rules' letters with the answer judge's filled in where the rules left ``None``."""
        judged = self.judge_letters or [None] * len(self.letters)
        return [rule if rule is not None else verdict for rule, verdict in zip(self.letters, judged, strict=True)]
