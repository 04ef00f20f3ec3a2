"""Scoring one item's sampled replies: letters by the extraction rules, then the metrics.

The runner's records and the Space's Ask tab both call ``score_replies``, so a reply is
read and scored the same way everywhere: letters from ``extraction.extract_letters``
(``None`` for an unparseable reply, never guessed), vote counts, and the consistency
confidence C = 1 - H/ln K, majority and sample correctness from
``medqdeg.metrics.calibration.score_samples``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from medqdeg.dataset_builder.vocabulary import OPTION_LETTERS
from medqdeg.metrics.calibration import score_samples

from .extraction import extract_letters


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
    return score_letters(extract_letters(texts, options), len(options), reference)


def score_letters(letters: list[str | None], num_options: int, reference: str) -> RepliesScore:
    """Score letters already read (``None`` for unparseable) against the ``reference`` letter;
    the report uses it for the letters with the answer judge's filled in."""
    counts = Counter(letter for letter in letters if letter is not None)
    votes = {letter: counts[letter] for letter in OPTION_LETTERS[:num_options] if counts[letter]}
    unparseable = sum(letter is None for letter in letters)
    if not letters:
        return RepliesScore(letters, votes, unparseable, None, None, None)
    scores = score_samples([letters], [reference], [num_options])
    return RepliesScore(letters, votes, unparseable, float(scores.confidence[0]),
                        float(scores.majority_correct[0]), float(scores.sample_correct[0]))
