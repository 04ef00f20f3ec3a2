"""Scoring replies: one item's as it is answered, and a whole run's for its report.

The runner's records and the Space's Ask tab both call ``score_replies``, so a reply is
read and scored the same way everywhere: letters from ``extraction.extract_letters``
(``None`` for an unparseable reply, never guessed), vote counts, and the consistency
confidence C = 1 - H/ln K, majority and sample correctness from
``medqdeg.metrics.calibration.score_samples``.

``score_records`` is the report's one scoring pass: every record's letters (and letter
probabilities) through the same metrics at once. Every figure of ``results.json``,
``report.md``, the plots and so the leaderboards comes from its :class:`RunScores`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from medqdeg.dataset_builder.vocabulary import OPTION_LETTERS
from medqdeg.metrics.calibration import ItemScores, score_probabilities, score_samples

from .extraction import extract_letters
from .item_record import ItemRecord


@dataclass(frozen=True)
class RepliesScore:
    """The T replies of one item, read and scored."""

    letters: list[str | None]
    votes: dict[str, int]  # the letters that received votes, in option order
    num_unparseable: int
    confidence: float | None  # None when there were no replies
    correct: float | None  # majority vote; a tie of m letters holding the answer scores 1/m
    sample_correct: float | None

    @property
    def winners(self) -> list[str]:
        """The most voted letters (several on a tie, none when nothing was readable)."""
        top = max(self.votes.values(), default=0)
        return [letter for letter, count in self.votes.items() if count == top and top]


def score_replies(texts: list[str], options: list[str], reference: str) -> RepliesScore:
    """Read ``texts`` against ``options`` and score them against the ``reference`` letter."""
    letters = extract_letters(texts, options)
    counts = Counter(letter for letter in letters if letter is not None)
    votes = {letter: counts[letter] for letter in OPTION_LETTERS[:len(options)] if counts[letter]}
    unparseable = sum(letter is None for letter in letters)
    if not letters:
        return RepliesScore(letters, votes, unparseable, None, None, None)
    scores = score_samples([letters], [reference], [len(options)])
    return RepliesScore(letters, votes, unparseable, float(scores.confidence[0]),
                        float(scores.majority_correct[0]), float(scores.sample_correct[0]))


@dataclass(frozen=True)
class RunScores:
    """A run's records scored once, item by item in record order (``ItemScores`` of N items).

    ``sampling``: the sampled letters, when every record was sampled; ``letter_probs``: the
    letter probabilities, when every record has them. ``primary`` is the one accuracy is
    read from: the sampled letters' majority vote, else the arg-max of the probabilities.
    """

    sampling: ItemScores | None
    letter_probs: ItemScores | None

    @property
    def primary(self) -> ItemScores | None:
        return self.sampling if self.sampling is not None else self.letter_probs


def score_records(records: Sequence[ItemRecord], *, with_judge: bool = False) -> RunScores:
    """Score every record in one pass: its letters (the rules' letters, or ``with_judge``
    the answer judge's filled in where the rules left ``None``) with ``score_samples``, its
    letter probabilities with ``score_probabilities``."""
    references = [record.answer for record in records]
    sampling = letter_probs = None
    if records and all(record.sampled for record in records):
        letters = [record.letters_with_judge if with_judge else record.letters for record in records]
        sampling = score_samples(letters, references, [record.num_options for record in records])
    if records and all(record.letter_probs is not None for record in records):
        letter_probs = score_probabilities([record.letter_probs for record in records], references)
    return RunScores(sampling, letter_probs)
