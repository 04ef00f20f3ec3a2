"""Accuracy tables (medqdeg.metrics.accuracy): groups, drops, bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pytest

from medqdeg.metrics import accuracy as acc
from medqdeg.metrics import calibration as cal


def test_item_correctness_single_answers_and_samples():
    np.testing.assert_array_equal(acc.item_correctness(["A", "B", None, "d"], ["A", "C", "A", "D"]), [1, 0, 0, 1])
    samples = [[0, 0, 1], [1, 2, -1], [-1, -1, 2]]
    majority = acc.item_correctness(samples, [0, 2, 2])
    np.testing.assert_allclose(majority, [1, 1 / 3, 0])  # 3-way tie; "no answer" wins
    np.testing.assert_allclose(acc.item_correctness(samples, [0, 2, 2], unparseable="ignore"), [1, 1 / 2, 1])
    np.testing.assert_allclose(acc.item_correctness(samples, [0, 2, 2], accuracy="samples"), [2 / 3, 1 / 3, 1 / 3])
    np.testing.assert_allclose(
        acc.item_correctness(samples, [0, 2, 2], accuracy="samples", unparseable="ignore"), [2 / 3, 1 / 2, 1]
    )


def test_item_correctness_is_the_calibration_modules_correctness():
    rng = np.random.default_rng(5)
    samples = rng.integers(-1, 4, size=(300, 5))
    refs = rng.integers(0, 4, 300)
    for accuracy in cal.ACCURACY_MODES:
        for policy in cal.UNPARSEABLE_POLICIES:
            scores = cal.score_samples(samples, refs, 4, unparseable=policy)
            expected = scores.majority_correct if accuracy == "majority" else scores.sample_correct
            got = acc.item_correctness(samples, refs, num_options=4, accuracy=accuracy, unparseable=policy)
            np.testing.assert_array_equal(got, expected)


def test_grouped_accuracy_and_unweighted_mean_over_groups():
    correct = [1, 0, 0, 0, 1, 1]
    groups = ["AR", "BS", "BS", "BS", "CU", "CU"]
    table = acc.grouped_accuracy(correct, groups)
    assert table == {
        "AR": {"accuracy": 1.0, "num_items": 1},
        "BS": {"accuracy": 0.0, "num_items": 3},
        "CU": {"accuracy": 1.0, "num_items": 2},
    }
    assert acc.mean_over_groups(table) == pytest.approx(2 / 3)  # not the pooled 1/2
    report = acc.accuracy_report(correct, groups={"capability": groups}, n_bootstrap=0)
    assert report["accuracy"] == pytest.approx(0.5)
    assert report["by"]["capability"]["mean_over_groups"] == pytest.approx(2 / 3)
    assert report["by"]["capability"]["groups"]["BS"]["accuracy_ci"] is None


def drop_fixture():
    # clean x right, its L1 wrong, its L2 wrong; clean y wrong, its L1 right, its L2 wrong;
    # x has a second degradation (another L1/L2 pair) that keeps it right;
    # z has only an L1 item (its clean item is missing).
    rows = [
        ("x", "L0", "none", 1),
        ("x", "L1", "noise", 0),
        ("x", "L2", "noise", 0),
        ("x", "L1", "blur", 1),
        ("x", "L2", "blur", 1),
        ("y", "L0", "none", 0),
        ("y", "L1", "noise", 1),
        ("y", "L2", "noise", 0),
        ("z", "L1", "blur", 0),
    ]
    ids, severities, types, correct = (list(column) for column in zip(*rows, strict=True))
    return ids, severities, types, np.array(correct, dtype=float)


def test_paired_drops_by_hand():
    ids, severities, types, correct = drop_fixture()
    report = acc.accuracy_report(
        correct, groups={"degradation_type": types}, severities=severities, clean_ids=ids, n_bootstrap=0
    )
    drops = report["drops"]
    # L1 pairs: x-noise 0-1, x-blur 1-1, y-noise 1-0 -> mean 0; L2: -1, 0, 0 -> -1/3.
    # twins x, x, y (L0 correct 1, 1, 0): 2/3; the paired L1 items 0, 1, 1: 2/3; the drop is their difference
    assert drops["L1-L0"] == {"drop": 0.0, "ci": None, "num_pairs": 3, "num_unmatched": 1, "num_clean_items": 2,
                              "clean_accuracy": pytest.approx(2 / 3), "degraded_accuracy": pytest.approx(2 / 3)}
    assert drops["L2-L0"]["drop"] == pytest.approx(-1 / 3)
    assert drops["L2-L0"]["num_pairs"] == 3 and drops["L2-L0"]["num_unmatched"] == 0
    noise = report["by"]["degradation_type"]["groups"]["noise"]
    assert noise["drop_L1_L0"] == pytest.approx(0.0)  # (0-1) and (1-0)
    assert noise["drop_L2_L0"] == pytest.approx(-0.5)  # (0-1) and (0-0)
    assert noise["num_pairs_L2_L0"] == 2
    blur = report["by"]["degradation_type"]["groups"]["blur"]
    assert blur["drop_L1_L0"] == 0.0 and blur["num_pairs_L1_L0"] == 1  # z is unmatched
    assert report["by"]["degradation_type"]["groups"]["none"]["drop_L1_L0"] is None
    severity = report["by"]["severity"]["groups"]
    assert severity["L0"]["accuracy"] == 0.5 and severity["L1"]["accuracy"] == 0.5
    assert severity["L2"]["accuracy"] == pytest.approx(1 / 3)


def test_drops_need_severities_and_clean_ids():
    ids, severities, _, correct = drop_fixture()
    assert acc.accuracy_report(correct, severities=severities, n_bootstrap=0)["drops"] is None
    assert acc.accuracy_report(correct, clean_ids=ids, n_bootstrap=0)["drops"] is None


def test_severity_spellings_are_one_column():
    report = acc.accuracy_report([1, 0, 1], severities=[0, "l1", "L2"], n_bootstrap=0)
    assert list(report["by"]["severity"]["groups"]) == ["L0", "L1", "L2"]


# --------------------------------------------------------------------------- bootstrap


def test_bootstrap_interval_contains_the_estimate_and_narrows_as_n_grows():
    rng = np.random.default_rng(2024)
    widths = []
    for n in (100, 1_000, 10_000):
        correct = (rng.random(n) < 0.7).astype(float)
        low, high = acc.bootstrap_accuracy_interval(correct, n_resamples=1000, seed=1)
        assert low <= correct.mean() <= high
        widths.append(high - low)
    # The width scales like 1/sqrt(n): about sqrt(10) = 3.2 per step.
    assert widths[0] > 2 * widths[1] > 4 * widths[2]
    assert 0.15 < widths[0] < 0.21  # 2 * 1.96 * sqrt(0.7 * 0.3 / 100) = 0.18


def test_bootstrap_is_seeded():
    correct = (np.random.default_rng(0).random(500) < 0.6).astype(float)
    first = acc.accuracy_report(correct, n_bootstrap=300, seed=7)["accuracy_ci"]
    again = acc.accuracy_report(correct, n_bootstrap=300, seed=7)["accuracy_ci"]
    other = acc.accuracy_report(correct, n_bootstrap=300, seed=8)["accuracy_ci"]
    assert first == again
    assert first != other


def test_report_intervals_contain_every_estimate():
    rng = np.random.default_rng(9)
    n_clean = 300
    ids, severities, types, correct = [], [], [], []
    for i in range(n_clean):
        skill = rng.random()
        ids.append(f"c{i}")
        severities.append("L0")
        types.append("none")
        correct.append(float(rng.random() < skill))
        for kind in rng.choice(["noise", "blur", "rotation"], size=2, replace=False):
            for level, penalty in (("L1", 0.05), ("L2", 0.2)):
                ids.append(f"c{i}")
                severities.append(level)
                types.append(kind)
                correct.append(float(rng.random() < skill - penalty))
    report = acc.accuracy_report(
        correct, groups={"degradation_type": types}, severities=severities, clean_ids=ids, n_bootstrap=400
    )
    assert report["bootstrap"]["unit"] == "clean_id"
    low, high = report["accuracy_ci"]
    assert low <= report["accuracy"] <= high
    for name, drop in report["drops"].items():
        assert drop["ci"][0] <= drop["drop"] <= drop["ci"][1], name
    assert report["drops"]["L2-L0"]["ci"][1] < 0  # a real drop of 0.2 is detected
    for table in report["by"].values():
        low, high = table["mean_over_groups_ci"]
        assert low <= table["mean_over_groups"] <= high
        for row in table["groups"].values():
            assert row["accuracy_ci"][0] <= row["accuracy"] <= row["accuracy_ci"][1]


def test_cluster_bootstrap_is_wider_when_degraded_copies_are_dependent():
    # 60 clean images, each with 9 degraded copies answered exactly like the original:
    # 600 items but only 60 independent outcomes.
    rng = np.random.default_rng(4)
    outcome = (rng.random(60) < 0.5).astype(float)
    correct = np.repeat(outcome, 10)
    ids = np.repeat([f"c{i}" for i in range(60)], 10)
    per_item = acc.bootstrap_accuracy_interval(correct, n_resamples=500, seed=0)
    per_image = acc.bootstrap_accuracy_interval(correct, clusters=ids, n_resamples=500, seed=0)
    assert (per_image[1] - per_image[0]) > 2.5 * (per_item[1] - per_item[0])
