"""The Dunning-Kruger verdict with paired bootstrap intervals, through the evaluate module."""

from __future__ import annotations

import evaluate
import numpy as np
import pytest

from medqdeg.metrics.accuracy import paired_dunning_kruger
from medqdeg.metrics.calibration import calibration_report, score_samples


def _run(seed: int, n_clean: int, p0: float, p2: float):
    """Sampled answers: L0 items right with probability p0, each with two L2 twins right with p2."""
    rng = np.random.default_rng(seed)
    samples, refs, groups, clean_ids = [], [], [], []
    for i in range(n_clean):
        for level, p in (("L0", p0), ("L2", p2), ("L2", p2)):
            samples.append(["A" if rng.random() < p else "B" for _ in range(3)])
            refs.append("A")
            groups.append(level)
            clean_ids.append(f"c{i}")
    return samples, refs, groups, clean_ids


def test_module_verdict_equals_the_direct_paired_computation():
    samples, refs, groups, clean_ids = _run(0, 150, 0.9, 0.5)
    metric = evaluate.load("metrics/calibration_shift")
    result = metric.compute(predictions=samples, references=refs, num_options=[4] * len(refs), groups=groups,
                            clean_ids=clean_ids)
    scores = score_samples(samples, refs, 4)
    direct = paired_dunning_kruger(scores.majority_correct, scores.confidence, severities=groups,
                                   clean_ids=clean_ids)
    paired = result["dunning_kruger_paired"]
    assert paired["verdict"] == direct["verdict"] == "yes"
    for key in ("accuracy_drop", "shift_change", "accuracy_L0", "accuracy_L2"):
        assert paired[key] == pytest.approx(direct[key])
    for key in ("accuracy_drop_ci", "shift_change_ci"):
        assert paired[key] == pytest.approx(direct[key])
    assert result["dunning_kruger_paired"]["num_pairs"] == 300
    # the paired drop is the mean over pairs of (L2 - its L0 twin)
    c = scores.majority_correct
    pairs = [(k, k - 1 if groups[k - 1] == "L0" else k - 2) for k in range(len(c)) if groups[k] == "L2"]
    assert direct["accuracy_drop"] == pytest.approx(np.mean([c[a] - c[b] for a, b in pairs]))


def test_a_chance_like_run_is_not_a_yes_where_the_point_estimate_says_yes():
    for seed in range(30):  # find a noisy run whose point estimates satisfy the paper's definition
        samples, refs, groups, clean_ids = _run(seed, 30, 0.3, 0.3)
        result = calibration_report(references=refs, samples=samples, num_options=4, groups=groups,
                                    clean_ids=clean_ids)
        if result["dunning_kruger"]["effect"]:
            break
    assert result["dunning_kruger"]["effect"]  # the point estimates alone would cry wolf
    assert result["dunning_kruger_paired"]["verdict"] != "yes"


def test_clean_ids_without_groups_is_an_error():
    with pytest.raises(ValueError, match="`clean_ids` was given without severity groups"):
        calibration_report(references=["A"], samples=[["A"]], num_options=2, clean_ids=["c0"])
