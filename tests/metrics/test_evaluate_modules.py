"""The evaluate modules: offline loading, the same numbers as the pure functions,
add_batch in pieces, both configurations, validation through the module, and the
examples printed in their docstrings and metric cards."""

from __future__ import annotations

import doctest
import importlib.util
import itertools
import json
import os
import subprocess
import sys
from functools import cache

import evaluate
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medqdeg.metrics import accuracy as acc
from medqdeg.metrics import calibration as cal
from medqdeg.metrics.validation import MetricInputError

from .conftest import METRICS, REPO, metric_dir


@cache
def load(name: str, config_name: str | None = None):
    return evaluate.load(metric_dir(name), config_name)


def random_items(seed: int, n: int = 40, t: int = 5, k: int = 4):
    rng = np.random.default_rng(seed)
    samples = rng.integers(-1, k, size=(n, t))
    refs = rng.integers(0, k, n)
    groups = rng.choice(["L0", "L1", "L2"], n)
    return samples, refs, groups


# --------------------------------------------------------------------------- calibration_shift


def test_module_equals_the_pure_function():
    samples, refs, groups = random_items(0)
    metric = load("calibration_shift")
    for accuracy in cal.ACCURACY_MODES:
        for policy in cal.UNPARSEABLE_POLICIES:
            kwargs = {"groups": list(groups), "accuracy": accuracy, "unparseable": policy}
            got = metric.compute(predictions=samples.tolist(), references=refs.tolist(), num_options=[4] * 40, **kwargs)
            expected = cal.calibration_report(samples=samples, references=refs, num_options=4, **kwargs)
            assert got == expected


def test_letters_and_indices_through_the_module():
    metric = load("calibration_shift")
    letters = metric.compute(predictions=[["A", None, "C"], ["B", "B", ""]], references=["C", "B"], num_options=[3, 2])
    indices = metric.compute(predictions=[[0, -1, 2], [1, 1, -1]], references=[2, 1], num_options=[3, 2])
    assert letters == indices
    assert letters["num_unparseable"] == 2


def test_numpy_input_through_the_module():
    samples, refs, _ = random_items(1, n=500)
    got = load("calibration_shift").compute(predictions=samples, references=refs, num_options=np.full(500, 4))
    assert got == cal.calibration_report(samples=samples, references=refs, num_options=4)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**16), cuts=st.lists(st.integers(1, 39), max_size=4, unique=True))
def test_add_batch_in_pieces_equals_one_compute(seed, cuts):
    samples, refs, groups = random_items(seed)
    metric = load("calibration_shift")
    bounds = [0, *sorted(cuts), 40]
    for start, stop in itertools.pairwise(bounds):
        metric.add_batch(
            predictions=samples[start:stop].tolist(),
            references=refs[start:stop].tolist(),
            num_options=[4] * (stop - start),
        )
    pieces = metric.compute(groups=list(groups))
    whole = metric.compute(predictions=samples.tolist(), references=refs.tolist(), num_options=[4] * 40, groups=list(groups))
    assert pieces == whole


def test_add_one_item_at_a_time():
    metric = load("calibration_shift")
    for row, ref in (([0, 0, 1], 0), ([2, 2, 2], 1)):
        metric.add(prediction=row, reference=ref, num_options=3)
    assert metric.compute() == cal.calibration_report(samples=[[0, 0, 1], [2, 2, 2]], references=[0, 1], num_options=3)


def test_probabilities_configuration():
    metric = load("calibration_shift", "probabilities")
    rows = [[0.7, 0.2, 0.1], [0.25, 0.25, 0.25, 0.25], [0.1, 0.9]]
    got = metric.compute(predictions=rows, references=["A", "D", "A"], groups=["L0", "L0", "L2"])
    assert got == cal.calibration_report(probabilities=rows, references=[0, 3, 0], groups=["L0", "L0", "L2"])
    assert got["per_group"]["L2"]["accuracy"] == 0.0
    assert got["dunning_kruger"]["effect"] is True  # shift L0 is -0.33..., L2 is +0.53


def test_module_validation_errors():
    samples_metric = load("calibration_shift")
    with pytest.raises(MetricInputError, match=r"`references` has 1 items but `predictions` has 2"):
        samples_metric.compute(predictions=[[0], [1]], references=[0], num_options=[2, 2])
    with pytest.raises(MetricInputError, match=r"field `predictions` is empty"):
        samples_metric.compute(predictions=[], references=[], num_options=[])
    with pytest.raises(MetricInputError, match=r"`num_options` is 1; expected an integer K of at least 2"):
        samples_metric.compute(predictions=[[0]], references=[0], num_options=[1])
    with pytest.raises(MetricInputError, match=r"holds option 'E' \(index 4\)"):
        samples_metric.compute(predictions=[["A", "E"]], references=["A"], num_options=[4])
    probabilities = load("calibration_shift", "probabilities")
    with pytest.raises(MetricInputError, match="NaN"):
        probabilities.compute(predictions=[[float("nan"), 1.0]], references=[0])
    with pytest.raises(MetricInputError, match=r"summing to 0\.8"):
        probabilities.compute(predictions=[[0.4, 0.4]], references=[0])
    with pytest.raises(MetricInputError, match="config_name"):
        evaluate.load(metric_dir("calibration_shift"), "logits")


# --------------------------------------------------------------------------- medqdeg_accuracy


def test_accuracy_module_equals_the_pure_functions():
    rng = np.random.default_rng(3)
    n = 90
    predictions = rng.choice(list("ABCD"), n).tolist()
    references = rng.choice(list("ABCD"), n).tolist()
    severities = ["L0", "L1", "L2"] * 30
    clean_ids = [f"c{i // 3}" for i in range(n)]
    groups = {"modality": rng.choice(["CT", "MRI"], n).tolist()}
    got = load("medqdeg_accuracy").compute(
        predictions=predictions,
        references=references,
        severities=severities,
        clean_ids=clean_ids,
        groups=groups,
        n_bootstrap=200,
        seed=3,
    )
    correct = acc.item_correctness(predictions, references)
    expected = acc.accuracy_report(
        correct, severities=severities, clean_ids=clean_ids, groups=groups, n_bootstrap=200, seed=3
    )
    assert got == expected
    assert got["drops"]["L1-L0"]["num_pairs"] == 30


def test_accuracy_module_with_samples_and_unparseable_letters():
    metric = load("medqdeg_accuracy")
    samples = [["A", "A", None], [None, None, "B"], ["C", "D", ""]]
    got = metric.compute(predictions=samples, references=["A", "B", "C"], n_bootstrap=0)
    assert got["accuracy"] == pytest.approx((1 + 0 + 1 / 3) / 3)  # C, D and "no answer" tie
    got = metric.compute(predictions=samples, references=["A", "B", "C"], unparseable="ignore", n_bootstrap=0)
    assert got["accuracy"] == pytest.approx((1 + 1 + 0.5) / 3)
    single = metric.compute(predictions=[None, "B", "C"], references=["A", "B", "D"], n_bootstrap=0)
    assert single["accuracy"] == pytest.approx(1 / 3)


def test_accuracy_module_add_batch_in_pieces():
    metric = load("medqdeg_accuracy")
    predictions, references = [0, 1, 2, -1, 3, 3], [0, 1, 1, 2, 3, 0]
    metric.add_batch(predictions=predictions[:2], references=references[:2])
    metric.add_batch(predictions=predictions[2:], references=references[2:])
    pieces = metric.compute(groups=["a", "a", "b", "b", "c", "c"], n_bootstrap=100)
    whole = metric.compute(predictions=predictions, references=references, groups=["a", "a", "b", "b", "c", "c"], n_bootstrap=100)
    assert pieces == whole
    assert whole["by"]["group"]["mean_over_groups"] == pytest.approx((1 + 0 + 0.5) / 3)


def test_accuracy_module_errors():
    metric = load("medqdeg_accuracy")
    with pytest.raises(MetricInputError, match=r"`references` has 2 items but `predictions` has 3"):
        metric.compute(predictions=[0, 1, 2], references=[0, 1])
    with pytest.raises(MetricInputError, match=r"is empty"):
        metric.compute(predictions=[], references=[])
    with pytest.raises(MetricInputError, match=r"holds option 'E'"):
        metric.compute(predictions=["E"], references=["A"], num_options=4)


# --------------------------------------------------------------------------- documented examples


def _run_doctests(text: str, name: str) -> doctest.TestResults:
    parser = doctest.DocTestParser()
    test = parser.get_doctest(text, {"evaluate": evaluate}, name, name, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    return runner.summarize(verbose=False)


@pytest.mark.parametrize("name", ["calibration_shift", "medqdeg_accuracy"])
def test_documented_examples_are_true(name, monkeypatch):
    monkeypatch.chdir(REPO)  # the examples load the metric by its relative path
    spec = importlib.util.spec_from_file_location(f"_doc_{name}", METRICS / name / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    card = (METRICS / name / "README.md").read_text(encoding="utf-8")
    # A code fence right after an expected output would be read as part of it.
    card = "\n".join("" if line.startswith("```") else line for line in card.splitlines())
    for text, where in ((module._KWARGS_DESCRIPTION, "kwargs"), (card, "README")):
        result = _run_doctests(text, f"{name} {where}")
        assert result.attempted >= 2, where
        assert result.failed == 0, where


@pytest.mark.parametrize("name", ["calibration_shift", "medqdeg_accuracy"])
def test_metric_card_has_the_hub_header(name):
    card = (METRICS / name / "README.md").read_text(encoding="utf-8")
    header = card.split("---")[1]
    for key in ("title:", "sdk: gradio", "app_file: app.py", "- evaluate", "- metric", "description:"):
        assert key in header
    requirements = (METRICS / name / "requirements.txt").read_text(encoding="utf-8")
    assert "evaluate" in requirements and "gradio" in requirements


def test_evaluate_load_works_offline_in_a_fresh_process(tmp_path):
    script = f"""
import json, evaluate
shift = evaluate.load({metric_dir("calibration_shift")!r})
table = evaluate.load({metric_dir("medqdeg_accuracy")!r})
a = shift.compute(predictions=[["A", "A", "B"]], references=["A"], num_options=[4])
b = table.compute(predictions=["A", "B"], references=["A", "A"], n_bootstrap=10)
print(json.dumps([a["mean_confidence"], b["accuracy"]]))
"""
    env = {
        **os.environ,
        "HF_HOME": str(tmp_path / "hf"),
        "HF_MODULES_CACHE": str(tmp_path / "hf" / "modules"),
        "HF_METRICS_CACHE": str(tmp_path / "hf" / "metrics"),
        "HF_EVALUATE_CACHE": str(tmp_path / "hf" / "evaluate"),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_EVALUATE_OFFLINE": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    confidence, accuracy = json.loads(done.stdout.strip().splitlines()[-1])
    assert confidence == pytest.approx(0.5408520829727552)
    assert accuracy == 0.5
    assert (tmp_path / "hf" / "modules").is_dir()  # the copies went to the given cache
