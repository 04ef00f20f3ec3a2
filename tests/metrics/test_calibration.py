"""The Calibration Shift formulas (medqdeg.metrics.calibration), checked by hand and by property."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve

from medqdeg.metrics import calibration as cal

LN4 = math.log(4)


def entropy(p):
    return -sum(x * math.log(x) for x in p if x > 0)


def report(samples, references, k, **kwargs):
    n = len(references)
    return cal.calibration_report(samples=samples, references=references, num_options=[k] * n, **kwargs)


# --------------------------------------------------------------------------- confidence


def test_issue_example_a_a_b_with_four_options():
    result = report([["A", "A", "B"]], ["A"], 4)
    expected_c = 1 - entropy([2 / 3, 1 / 3]) / LN4
    assert result["mean_confidence"] == pytest.approx(expected_c, abs=1e-12)
    assert result["accuracy"] == 1.0
    assert result["sample_accuracy"] == pytest.approx(2 / 3)
    assert result["calibration_shift"] == pytest.approx(expected_c - 1.0)
    assert result["num_items"] == 1 and result["num_samples"] == 3 and result["num_unparseable"] == 0


@given(k=st.integers(2, 26), t=st.integers(1, 12), data=st.data())
def test_all_samples_equal_give_full_confidence(k, t, data):
    option = data.draw(st.integers(0, k - 1))
    scores = cal.score_samples([[option] * t], [0], [k])
    assert scores.confidence[0] == pytest.approx(1.0, abs=1e-12)


@given(k=st.integers(2, 8), repeats=st.integers(1, 4))
def test_answers_spread_evenly_over_all_options_give_zero_confidence(k, repeats):
    samples = [list(range(k)) * repeats]
    scores = cal.score_samples(samples, [0], [k])
    assert scores.confidence[0] == pytest.approx(0.0, abs=1e-12)
    assert scores.majority_correct[0] == pytest.approx(1 / k)  # a k-way tie, split


def test_confidence_uses_each_items_own_k():
    # The same two samples A, B: C = 1 - ln2/ln K differs with K.
    scores = cal.score_samples([[0, 1], [0, 1], [0, 1]], [0, 0, 0], [2, 3, 5])
    expected = [1 - math.log(2) / math.log(k) for k in (2, 3, 5)]
    np.testing.assert_allclose(scores.confidence, expected, atol=1e-12)


def test_letters_and_indices_give_the_same_scores():
    letters = report([["A", "C", "C"], ["B", None, ""], ["d", "D", "A"]], ["C", "B", "A"], 4)
    indices = report([[0, 2, 2], [1, -1, -1], [3, 3, 0]], [2, 1, 0], 4)
    assert letters == indices


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_renaming_the_options_changes_nothing(data):
    n = data.draw(st.integers(1, 12))
    t = data.draw(st.integers(1, 6))
    ks = data.draw(st.lists(st.integers(2, 5), min_size=n, max_size=n))
    samples = [data.draw(st.lists(st.integers(-1, k - 1), min_size=t, max_size=t)) for k in ks]
    refs = [data.draw(st.integers(0, k - 1)) for k in ks]
    groups = data.draw(st.lists(st.sampled_from(["L0", "L1", "L2"]), min_size=n, max_size=n))
    perms = [data.draw(st.permutations(range(k))) for k in ks]
    renamed = [[-1 if s < 0 else perm[s] for s in row] for row, perm in zip(samples, perms, strict=True)]
    renamed_refs = [perm[r] for r, perm in zip(refs, perms, strict=True)]
    for accuracy, unparseable in itertools.product(cal.ACCURACY_MODES, cal.UNPARSEABLE_POLICIES):
        kwargs = {"num_options": ks, "groups": groups, "accuracy": accuracy, "unparseable": unparseable}
        before = cal.calibration_report(samples=samples, references=refs, **kwargs)
        after = cal.calibration_report(samples=renamed, references=renamed_refs, **kwargs)
        _assert_same(after, before)


def _assert_same(a, b):
    """Nested results equal, floats up to rounding."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys()
        for key in a:
            _assert_same(a[key], b[key])
    elif isinstance(a, float):
        assert a == pytest.approx(b, abs=1e-12)
    else:
        assert a == b


# --------------------------------------------------------------------------- accuracy and ties


def test_majority_tie_rule_splits_credit():
    scores = cal.score_samples([[0, 1, 2], [0, 1, 2], [2, 2, 1]], [0, 3, 2], [4, 4, 4])
    # 3-way tie with the reference inside: 1/3; reference outside the tie: 0; majority: 1.
    np.testing.assert_allclose(scores.majority_correct, [1 / 3, 0, 1])
    scores = cal.score_samples([[0, 0, 1, 1], [3, 3, -1, -1]], [1, 3], [4, 4])
    # 2-way tie: 1/2, also when the other half is unparseable (an outcome of its own).
    np.testing.assert_allclose(scores.majority_correct, [1 / 2, 1 / 2])


def test_majority_and_sample_accuracy_are_both_reported_and_the_argument_picks_the_shift():
    samples, refs = [[0, 0, 1], [1, 2, 2], [3, 3, 3]], [0, 2, 3]
    majority = report(samples, refs, 4, accuracy="majority")
    by_samples = report(samples, refs, 4, accuracy="samples")
    assert majority["accuracy"] == by_samples["accuracy"] == pytest.approx(1.0)
    assert majority["sample_accuracy"] == by_samples["sample_accuracy"] == pytest.approx(7 / 9)
    assert majority["mean_confidence"] == by_samples["mean_confidence"]
    assert majority["calibration_shift"] == pytest.approx(majority["mean_confidence"] - 1.0)
    assert by_samples["calibration_shift"] == pytest.approx(by_samples["mean_confidence"] - 7 / 9)
    assert majority["calibration_shift"] != pytest.approx(by_samples["calibration_shift"])


# Each row: samples of a 4-option item whose answer is A, then for "count" and for
# "ignore": (confidence, majority correctness, sample correctness), by hand.
UNPARSEABLE_CASES = [
    (
        ["A", "A", None],
        (1 - entropy([0.75, 1 / 12, 1 / 12, 1 / 12]) / LN4, 1.0, 2 / 3),
        (1.0, 1.0, 1.0),
    ),
    (
        [None, None, "A"],
        (1 - entropy([0.5, 1 / 6, 1 / 6, 1 / 6]) / LN4, 0.0, 1 / 3),
        (1.0, 1.0, 1.0),
    ),
    ([None, None, None], (0.0, 0.0, 0.0), (0.0, 0.0, 0.0)),
    (["A", None], (1 - entropy([5 / 8, 1 / 8, 1 / 8, 1 / 8]) / LN4, 0.5, 0.5), (1.0, 1.0, 1.0)),
    (["B", "B", None], (1 - entropy([1 / 12, 0.75, 1 / 12, 1 / 12]) / LN4, 0.0, 0.0), (1.0, 0.0, 0.0)),
]


@pytest.mark.parametrize(("samples", "count", "ignore"), UNPARSEABLE_CASES)
def test_unparseable_policies_by_hand(samples, count, ignore):
    for policy, expected in (("count", count), ("ignore", ignore)):
        scores = cal.score_samples([samples], ["A"], [4], unparseable=policy)
        got = (scores.confidence[0], scores.majority_correct[0], scores.sample_correct[0])
        assert got == pytest.approx(expected, abs=1e-12), policy
        assert scores.num_unparseable[0] == samples.count(None)


def test_unparseable_policy_changes_the_summary_and_counts_unparseable_samples():
    samples = [["A", None, None], ["B", "B", "B"], [None, "C", "C"]]
    counted = report(samples, ["A", "B", "C"], 3, unparseable="count")
    ignored = report(samples, ["A", "B", "C"], 3, unparseable="ignore")
    assert counted["num_unparseable"] == ignored["num_unparseable"] == 3
    assert counted["accuracy"] == pytest.approx(2 / 3)  # item 1: "no answer" wins the vote
    assert ignored["accuracy"] == pytest.approx(1.0)
    assert counted["mean_confidence"] < ignored["mean_confidence"] == pytest.approx(1.0)


# --------------------------------------------------------------------------- probabilities


def test_probability_rows_of_different_lengths():
    result = cal.calibration_report(probabilities=[[0.7, 0.2, 0.1], [0.5, 0.5]], references=["B", "A"])
    c1 = 1 - entropy([0.7, 0.2, 0.1]) / math.log(3)
    assert result["mean_confidence"] == pytest.approx((c1 + 0.0) / 2)
    assert result["accuracy"] == pytest.approx((0 + 0.5) / 2)  # arg-max A is wrong; the tie is split
    assert result["sample_accuracy"] == pytest.approx((0.2 + 0.5) / 2)
    assert result["num_samples"] == 0 and result["num_unparseable"] == 0


def test_probabilities_are_the_large_t_limit_of_samples():
    p = [0.6, 0.3, 0.1]
    t = 600
    samples = [[0] * 360 + [1] * 180 + [2] * 60]
    from_samples = report(samples, [0], 3)
    from_probabilities = cal.calibration_report(probabilities=[p], references=[0])
    assert t == len(samples[0])
    for key in ("mean_confidence", "accuracy", "sample_accuracy", "calibration_shift"):
        assert from_samples[key] == pytest.approx(from_probabilities[key], abs=1e-12)


# --------------------------------------------------------------------------- ECE, Brier, AURC


def _sklearn_ece(conf, correct, n_bins=15):
    prob_true, prob_pred = calibration_curve(correct, conf, n_bins=n_bins, strategy="uniform")
    counts, _ = np.histogram(conf, bins=np.linspace(0, 1, n_bins + 1))
    counts = counts[counts > 0]
    assert counts.shape == prob_true.shape
    return float(np.sum(counts / len(conf) * np.abs(prob_true - prob_pred)))


def test_ece_agrees_with_scikit_learn_binning_on_random_data():
    rng = np.random.default_rng(7)
    conf = rng.random(2000)
    conf[:50] = 1.0
    conf[50:80] = 0.0
    correct = (rng.random(2000) < conf**2).astype(float)
    assert cal.expected_calibration_error(conf, correct) == pytest.approx(_sklearn_ece(conf, correct), abs=1e-12)


def test_ece_of_the_metric_agrees_with_scikit_learn_on_sampled_answers():
    # K = 2, odd T and no unparseable sample: the majority vote is never tied, so the
    # correctness is 0/1 as calibration_curve requires.
    rng = np.random.default_rng(3)
    n, t = 3000, 7
    truth = rng.integers(0, 2, n)
    skill = rng.random(n)
    samples = np.where(rng.random((n, t)) < skill[:, None], truth[:, None], 1 - truth[:, None])
    scores = cal.score_samples(samples, truth, 2)
    result = cal.summarize(scores)
    expected = _sklearn_ece(scores.confidence, scores.majority_correct)
    assert result["ece"] == pytest.approx(expected, abs=1e-12)
    assert result["ece"] > 0.01  # not a vacuous agreement


def test_ece_bins_are_right_closed():
    edge = np.linspace(0, 1, 16)[1]  # 1/15 exactly as the bin edges are computed
    # Both in the first bin ((0, 1/15]): |(1 + 0) - (1/15 + 0.05)| / 2.
    got = cal.expected_calibration_error([edge, 0.05], [1.0, 0.0])
    assert got == pytest.approx(abs(1 - edge - 0.05) / 2)
    assert got != pytest.approx(((1 - edge) + 0.05) / 2)  # what a left-closed bin would give


def test_brier_score_by_hand():
    assert cal.brier_score([1.0, 0.5, 0.2], [1.0, 0.0, 1.0]) == pytest.approx((0 + 0.25 + 0.64) / 3)


def _aurc_of_order(conf, correct, order):
    error = 1 - np.asarray(correct, dtype=float)[list(order)]
    return np.mean(np.cumsum(error) / np.arange(1, len(order) + 1))


def test_aurc_takes_ties_in_expectation_over_their_orders():
    conf = np.array([0.9, 0.9, 0.9, 0.5, 0.5, 0.2, 0.2])
    correct = np.array([1, 0, 0, 1, 0, 1, 1], dtype=float)
    orders = [o for o in itertools.permutations(range(7)) if np.all(np.diff(conf[list(o)]) <= 0)]
    assert len(orders) == 3 * 2 * 2 * 1 * 2  # 3! * 2! * 2!
    expected = np.mean([_aurc_of_order(conf, correct, o) for o in orders])
    assert cal.aurc(conf, correct) == pytest.approx(expected, abs=1e-12)
    shuffled = np.random.default_rng(0).permutation(7)
    assert cal.aurc(conf[shuffled], correct[shuffled]) == pytest.approx(expected, abs=1e-12)


def test_aurc_orders_and_constant_confidence():
    correct = np.array([1, 1, 0, 0], dtype=float)
    good = cal.aurc([0.9, 0.8, 0.3, 0.1], correct)  # right items first
    bad = cal.aurc([0.1, 0.3, 0.8, 0.9], correct)  # wrong items first
    assert good == pytest.approx(np.mean([0, 0, 1 / 3, 1 / 2]))
    assert bad == pytest.approx(np.mean([1, 1, 2 / 3, 1 / 2]))
    assert cal.aurc([0.4] * 4, correct) == pytest.approx(0.5)  # = the error rate


# --------------------------------------------------------------------------- groups and verdicts


def test_per_group_figures_equal_the_figures_of_each_subset():
    rng = np.random.default_rng(11)
    samples = rng.integers(-1, 4, size=(60, 5))
    refs = rng.integers(0, 4, 60)
    groups = rng.choice(["CT", "MRI", "X-ray"], 60)
    result = cal.calibration_report(samples=samples, references=refs, num_options=4, groups=groups)
    assert sorted(result["per_group"]) == ["CT", "MRI", "X-ray"]
    for label, figures in result["per_group"].items():
        mask = groups == label
        alone = cal.calibration_report(samples=samples[mask], references=refs[mask], num_options=4)
        assert figures == pytest.approx(alone)
    assert result["dunning_kruger"] is None  # the groups are not severities


def _severity_items(acc_and_conf):
    """Build items whose majority accuracy and confidence per level are set by hand."""
    samples, refs, groups = [], [], []
    for level, rows in acc_and_conf.items():
        for row in rows:
            samples.append(row[0])
            refs.append(row[1])
            groups.append(level)
    return samples, refs, groups


def test_dunning_kruger_verdict_when_accuracy_falls_and_overconfidence_grows():
    samples, refs, groups = _severity_items(
        {
            "L0": [([0, 0, 0], 0), ([1, 1, 0], 1)],  # both right, confident
            "L1": [([0, 0, 0], 0), ([2, 2, 2], 1)],
            "L2": [([0, 0, 0], 1), ([2, 2, 2], 1)],  # both wrong, fully confident
        }
    )
    result = cal.calibration_report(samples=samples, references=refs, num_options=3, groups=groups)
    verdict = result["dunning_kruger"]
    assert verdict["effect"] is True
    assert verdict["accuracy_L0"] == 1.0 and verdict["accuracy_L2"] == 0.0
    assert verdict["calibration_shift_L0"] == pytest.approx(result["per_group"]["L0"]["calibration_shift"])
    assert verdict["calibration_shift_L2"] == pytest.approx(1.0)


def test_no_dunning_kruger_when_the_model_knows_it_is_worse():
    samples, refs, groups = _severity_items(
        {
            0: [([0, 0, 0], 0), ([1, 1, 1], 1)],  # right and sure: shift 0
            2: [([0, 1, 2], 1), ([0, 1, 2], 2)],  # unsure (C = 0) and mostly wrong: shift < 0
        }
    )
    result = cal.calibration_report(samples=samples, references=refs, num_options=3, groups=groups)
    verdict = result["dunning_kruger"]
    assert verdict["accuracy_falls"] is True
    assert verdict["shift_does_not_shrink"] is False
    assert verdict["effect"] is False


def test_inter_model_dunning_kruger():
    weak = {"accuracy": 0.5, "calibration_shift": 0.4}
    strong = {"accuracy": 0.7, "calibration_shift": 0.1}
    assert cal.inter_model_dunning_kruger(weak, strong) is True
    assert cal.inter_model_dunning_kruger(strong, weak) is False


def test_benchmark_sized_input_runs():
    # Not a timing: a guard that the pure path handles benchmark-sized input at all.
    rng = np.random.default_rng(0)
    samples = rng.integers(-1, 5, size=(200_000, 10), dtype=np.int8)
    result = cal.calibration_report(samples=samples, references=rng.integers(0, 5, 200_000), num_options=5)
    assert result["num_samples"] == 2_000_000
    assert 0 < result["mean_confidence"] < 0.2
