"""Scoring: one item's replies as the runner and the Ask tab score them, and the report's one
pass over a run's records, which must agree with the per-item scores item by item."""

from __future__ import annotations

import math

import numpy as np
import pytest

from medqdeg.eval_harness.scoring import score_records, score_replies

from .record_factory import make_record


def test_replies_are_read_voted_and_scored():
    score = score_replies(["The answer is B.", "B", "I cannot tell", "A"], ["yes", "no", "maybe"], "B")
    assert score.letters == ["B", "B", None, "A"]
    assert score.votes == {"A": 1, "B": 2}  # option order, only letters that got votes
    assert score.num_unparseable == 1 and score.winners == ["B"]
    assert score.correct == 1.0 and score.sample_correct == pytest.approx(0.5)
    # p = (1 + 1/3, 2 + 1/3, 1/3) / 4: the unparseable sample is spread over the K options
    p = np.array([4 / 3, 7 / 3, 1 / 3]) / 4
    assert score.confidence == pytest.approx(1 + float(np.sum(p * np.log(p))) / math.log(3))


def test_a_tie_holding_the_answer_scores_one_over_the_tied_letters():
    score = score_replies(["A", "B"], ["x", "y", "z"], "A")
    assert score.correct == 0.5 and sorted(score.winners) == ["A", "B"]


def test_no_replies_give_no_scores():
    score = score_replies([], ["x", "y"], "A")
    assert score.letters == [] and score.confidence is None and score.correct is None and score.winners == []


def test_the_run_pass_equals_the_per_item_scores_of_the_runner():
    replies = [(["A", "A", "B"], 4, "A"), (["C", None, "C"], 3, "B"), (["B", "D"], 5, "B"), ([None], 2, "A")]
    records = []
    for index, (texts, k, answer) in enumerate(replies):
        score = score_replies([text or "no idea" for text in texts], [f"o{i}" for i in range(k)], answer)
        records.append(make_record(f"k{index}", letters=score.letters, num_options=k, answer=answer,
                                   confidence=score.confidence, correct=score.correct,
                                   sample_correct=score.sample_correct))
    scores = score_records(records)
    assert scores.letter_probs is None and scores.primary is scores.sampling
    assert scores.sampling.confidence.tolist() == [r.confidence for r in records]  # bit for bit
    assert scores.sampling.majority_correct.tolist() == [r.correct for r in records]
    assert scores.sampling.sample_correct.tolist() == [r.sample_correct for r in records]
    assert scores.sampling.num_samples.tolist() == [3, 3, 2, 1]
    assert scores.sampling.num_unparseable.tolist() == [0, 1, 0, 1]


def test_the_judge_pass_fills_only_what_the_rules_left_unparseable():
    record = make_record("k", letters=["B", None, None], judge_letters=[None, "A", None])
    # the rules: B once, unparseable twice: "no answer" wins the vote
    assert score_records([record]).sampling.majority_correct.tolist() == [0.0]
    # with the judge: A, B and "no answer" once each, three outcomes tied, the answer A among them
    judged = score_records([record], with_judge=True).sampling
    assert judged.majority_correct.tolist() == [pytest.approx(1 / 3)]
    assert judged.num_unparseable.tolist() == [1]


def test_letter_probabilities_are_scored_when_every_record_has_them():
    with_probs = [make_record("a", letter_probs=[0.7, 0.1, 0.1, 0.1]),
                  make_record("b", letter_probs=[0.1, 0.2, 0.3, 0.4], answer="D")]
    scores = score_records(with_probs)
    assert scores.letter_probs.majority_correct.tolist() == [1.0, 1.0]
    assert scores.letter_probs.sample_correct.tolist() == pytest.approx([0.7, 0.4])
    assert score_records([*with_probs, make_record("c")]).letter_probs is None
    unsampled = [make_record("a", letters=[], correct=None, confidence=None, sample_correct=None,
                             letter_probs=[0.25, 0.25, 0.25, 0.25])]
    only_probs = score_records(unsampled)
    assert only_probs.sampling is None and only_probs.primary is only_probs.letter_probs
    assert only_probs.primary.majority_correct.tolist() == [0.25]  # a four-way tie holding the answer
