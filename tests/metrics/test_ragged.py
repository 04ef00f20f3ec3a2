"""What real runs produce: T differing between items, items with no readable sample,
a metric object reused after a failed call."""

from __future__ import annotations

import math
from collections import Counter

import evaluate
import numpy as np
import pytest

from medqdeg.metrics.accuracy import item_correctness
from medqdeg.metrics.calibration import calibration_report, score_samples
from medqdeg.metrics.validation import MetricInputError

SAMPLES = [["A", "A", "B"], ["B"], ["C", None, "C", "C", "D"], [None, None], ["A", "B"]]
REFERENCES = ["A", "B", "C", "A", "B"]
K = [4, 3, 4, 2, 2]


def direct(samples, reference, k):
    """C, majority and sample correctness of one item, written from the paper's formulas
    with the documented rule for unparseable samples (count: mass spread over K)."""
    t = len(samples)
    counts = Counter(s for s in samples if s is not None)
    unread = t - sum(counts.values())
    p = [(counts[letter] + unread / k) / t for letter in "ABCDE"[:k]]
    c = 1 - -sum(x * math.log(x) for x in p if x > 0) / math.log(k)
    outcomes = dict(counts)
    if unread:
        outcomes[None] = unread
    top = max(outcomes.values())
    winners = [o for o, n in outcomes.items() if n == top]
    majority = 1 / len(winners) if reference in winners else 0.0
    return c, majority, counts[reference] / t


def test_ragged_t_equals_a_direct_computation():
    scores = score_samples(SAMPLES, REFERENCES, K)
    expected = np.array([direct(s, r, k) for s, r, k in zip(SAMPLES, REFERENCES, K, strict=True)])
    np.testing.assert_allclose(scores.confidence, expected[:, 0], atol=1e-12)
    np.testing.assert_allclose(scores.majority_correct, expected[:, 1], atol=1e-12)
    np.testing.assert_allclose(scores.sample_correct, expected[:, 2], atol=1e-12)
    assert scores.num_samples.tolist() == [3, 1, 5, 2, 2]
    report = calibration_report(references=REFERENCES, samples=SAMPLES, num_options=K)
    assert report["num_samples"] == 13 and report["num_unparseable"] == 3
    assert report["calibration_shift"] == pytest.approx(expected[:, 0].mean() - expected[:, 1].mean())
    np.testing.assert_allclose(item_correctness(SAMPLES, REFERENCES, num_options=K), expected[:, 1])


def test_all_unparseable_item_is_wrong_with_zero_confidence():
    scores = score_samples([[None, None, None], ["A", "A", "A"]], ["A", "A"], [4, 4])
    assert scores.confidence.tolist() == [0.0, 1.0]
    assert scores.majority_correct.tolist() == [0.0, 1.0]
    assert scores.num_unparseable.tolist() == [3, 0]


def test_an_item_with_no_sample_and_a_bad_sample_name_the_item():
    with pytest.raises(MetricInputError, match=r"item 1: field `predictions` has no samples"):
        score_samples([["A"], []], ["A", "A"], [2, 2])
    with pytest.raises(MetricInputError, match=r"item 2: field `predictions` holds 'maybe'"):
        score_samples([["A"], ["B", "A"], ["A", "maybe"]], ["A", "A", "A"], [2, 2, 2])


@pytest.fixture()
def metric():
    return evaluate.load("metrics/calibration_shift")


def test_evaluate_module_takes_ragged_t_and_all_unparseable_first_item(metric):
    samples = [SAMPLES[3], *SAMPLES[:3], SAMPLES[4]]  # the all-unparseable item first
    refs = [REFERENCES[3], *REFERENCES[:3], REFERENCES[4]]
    k = [K[3], *K[:3], K[4]]
    result = metric.compute(predictions=samples, references=refs, num_options=k)
    direct_result = calibration_report(references=refs, samples=samples, num_options=k)
    for key in ("calibration_shift", "mean_confidence", "accuracy", "sample_accuracy", "num_samples"):
        assert result[key] == pytest.approx(direct_result[key])


def test_a_failed_call_leaves_the_metric_usable(metric):
    with pytest.raises(MetricInputError, match="item 0: field `predictions` holds option 'Z'"):
        metric.compute(predictions=[["Z", "A"]], references=["A"], num_options=[4])
    with pytest.raises(MetricInputError):
        metric.compute(predictions=[[0, 7]], references=[0], num_options=[4])
    # after failures with letters and with indices, both spellings work on the same object
    assert metric.compute(predictions=[[0, 0, 1]], references=[0], num_options=[4])["accuracy"] == 1.0
    assert metric.compute(predictions=[["B", "B"]], references=["B"], num_options=[2])["accuracy"] == 1.0
    metric.add_batch(predictions=[["A", "A"]], references=["A"], num_options=[2])
    with pytest.raises(MetricInputError):
        metric.add_batch(predictions=[["maybe"]], references=["A"], num_options=[2])
    metric.add(prediction=["B"], reference="A", num_options=2)
    result = metric.compute()
    assert result["num_items"] == 2 and result["accuracy"] == 0.5  # the good batches were kept
