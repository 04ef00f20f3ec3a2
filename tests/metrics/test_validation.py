"""Input validation: every bad input is a clear MetricInputError saying what was expected."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.metrics import accuracy as acc
from medqdeg.metrics import calibration as cal
from medqdeg.metrics import validation as v


def samples_report(samples, references, num_options, **kwargs):
    return cal.calibration_report(samples=samples, references=references, num_options=num_options, **kwargs)


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (
            lambda: samples_report([[0, 1], [1, 1]], [0], [2, 2]),
            r"field `references` has 1 items but `predictions` has 2; expected one entry per item",
        ),
        (
            lambda: samples_report([[0, 1]], [0], [2, 2]),
            r"field `references` has 1 items but `num_options` has 2; expected one entry per item",
        ),
        (lambda: samples_report([[0, 0]], [0], [1]), r"item 0: field `num_options` is 1; expected an integer K of at least 2"),
        (
            lambda: samples_report([[0, 0], [0, 1], [0, 0]], [0, 0, 0], [2, 1, 0]),
            r"item 1: field `num_options` is 1 \(and 1 more items\); expected an integer K of at least 2",
        ),
        (lambda: samples_report([[0, 0]], [0], [27]), r"expected an integer K of at most 26"),
        (
            lambda: samples_report([[0, 1], ["A", "E"]], ["A", "A"], [4, 4]),
            r"field `predictions` mixes value types \['int', 'str'\]; expected only option indices",
        ),
        (
            lambda: samples_report([["A", "B"], ["A", "E"]], ["A", "A"], [4, 4]),
            r"item 1: field `predictions` holds option 'E' \(index 4\) but the item has K=4 options; expected an option among",
        ),
        (
            lambda: samples_report([[0, 1]], [2], [2]),
            r"item 0: field `references` holds option 'C' \(index 2\) but the item has K=2 options",
        ),
        (lambda: samples_report([[0, -2]], [0], [2]), r"negative option index -2"),
        (lambda: samples_report([["A", "maybe"]], ["A"], [2]), r"holds 'maybe'; expected an option letter A-Z"),
        (lambda: samples_report([[0, 1], []], [0, 0], [2, 2]), r"item 1: field `predictions` has no samples"),
        (lambda: samples_report([[0]], [None], [2]), r"field `references` is missing or unparseable"),
        (lambda: samples_report([], [], []), r"field `predictions` is empty; expected at least one item"),
        (lambda: samples_report([[0, 0]], [0], [2], accuracy="mean"), r"field `accuracy` is 'mean'; expected one of 'majority', 'samples'"),
        (lambda: samples_report([[0, 0]], [0], [2], unparseable="drop"), r"expected one of 'count', 'ignore'"),
        (lambda: cal.calibration_report(references=[0], probabilities=[[float("nan"), 1.0]]), r"holds NaN probabilities"),
        (
            lambda: cal.calibration_report(references=[0, 0], probabilities=[[0.5, 0.5], [0.5, 0.4]]),
            r"item 1: field `predictions` has a probability row summing to 0.9; expected each item's probabilities",
        ),
        (lambda: cal.calibration_report(references=[0], probabilities=[[1.5, -0.5]]), r"probability outside \[0, 1\]"),
        (lambda: cal.calibration_report(references=[0], probabilities=[[1.0]]), r"row length K\)` is 1; expected an integer K of at least 2"),
        (lambda: cal.calibration_report(references=[], probabilities=[]), r"is empty"),
        (lambda: cal.calibration_report(references=[0]), r"neither of samples and probabilities"),
        (lambda: cal.expected_calibration_error([0.5], [1.0], n_bins=0), r"field `n_bins` is 0; expected an integer of at least 1"),
        (lambda: cal.calibration_report(samples=[[0]], references=[0], num_options=2, groups=["a", "b"]), r"field `groups` has 2 items but `predictions` has 1"),
        (lambda: cal.calibration_report(samples=[[0]], references=[0], num_options=2, groups=[None]), r"field `groups` is missing"),
    ],
)
def test_bad_inputs_raise_clear_errors(call, pattern):
    with pytest.raises(v.MetricInputError, match=pattern) as caught:
        call()
    error = caught.value
    assert isinstance(error, InvalidInputError) and isinstance(error, ValueError)
    assert "; expected " in str(error)


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda: acc.item_correctness([0, 1], [0]), r"`references` has 1 items but `predictions` has 2"),
        (lambda: acc.item_correctness([], []), r"is empty"),
        (lambda: acc.item_correctness(["A", "F"], ["A", "B"], num_options=4), r"item 1: field `predictions` holds option 'F'"),
        (lambda: acc.accuracy_report([0.5, 2.0]), r"item 1: field `correct` holds 2.0; expected values in \[0, 1\]"),
        (lambda: acc.accuracy_report([1.0], severities=["L3"]), r"item 0: field `severities` is 'L3'; expected a severity"),
        (lambda: acc.accuracy_report([1.0, 0.0], severities=["L0", "L0"], clean_ids=["x", "x"]), r"item 0: field `clean_ids` is 'x', shared by 2 clean \(L0\) items \(and 1 more items\); expected at most one"),
        (lambda: acc.accuracy_report([1.0], confidence_level=95), r"`confidence_level` is 95; expected a number strictly between 0 and 1"),
        (lambda: acc.accuracy_report([1.0], n_bootstrap=-1), r"`n_bootstrap` is -1; expected an integer of at least 0"),
        (lambda: acc.accuracy_report([1.0, 0.0], groups={"modality": ["CT"]}), r"has 1 items but `predictions` has 2"),
    ],
)
def test_bad_accuracy_inputs_raise_clear_errors(call, pattern):
    with pytest.raises(v.MetricInputError, match=pattern):
        call()


def test_mixed_object_values_are_refused():
    with pytest.raises(v.MetricInputError, match=r"mixes value types \['int', 'str'\]"):
        v.answers_to_indices(np.array([0, "A", None], dtype=object), "predictions")


def test_answer_spellings():
    got = v.answers_to_indices([["A", "b", None, ""], ["Z", "a", "c", "D"]], "predictions", ndim=2)
    np.testing.assert_array_equal(got, [[0, 1, -1, -1], [25, 0, 2, 3]])
    got = v.answers_to_indices([[0, None], [3, 1]], "predictions", ndim=2)
    np.testing.assert_array_equal(got, [[0, -1], [3, 1]])
    got = v.answers_to_indices(np.array([[0.0, np.nan]]), "predictions", ndim=2)
    np.testing.assert_array_equal(got, [[0, -1]])
    with pytest.raises(v.MetricInputError, match="non-integral"):
        v.answers_to_indices([0.5], "references")


def test_arrow_columns_convert_like_lists():
    lists = [[0, None, 2], [1, 1, 1]]
    arrow = pa.chunked_array([pa.array(lists[:1], pa.list_(pa.int32())), pa.array(lists[1:], pa.list_(pa.int32()))])
    np.testing.assert_array_equal(v.answers_to_indices(arrow, "p", ndim=2), v.answers_to_indices(lists, "p", ndim=2))
    letters = pa.chunked_array([pa.array([["A", None], ["C", ""]], pa.list_(pa.string()))])
    np.testing.assert_array_equal(v.answers_to_indices(letters, "p", ndim=2), [[0, -1], [2, -1]])
    ragged = pa.chunked_array([pa.array([[0.5, 0.5], [0.2, 0.3, 0.5]], pa.list_(pa.float64()))])
    padded, k = v.probabilities_to_array(ragged)
    np.testing.assert_array_equal(k, [2, 3])
    np.testing.assert_allclose(padded, [[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    with pytest.raises(v.MetricInputError, match="different numbers of entries"):
        v.answers_to_indices(pa.chunked_array([pa.array([[0], [0, 1]])]), "p", ndim=2)


def test_probability_rows_are_renormalised_within_tolerance():
    rows = np.array([[0.5, 0.5 + 5e-6]])
    fixed = v.check_probabilities(rows, np.array([2]))
    assert fixed.sum() == pytest.approx(1.0, abs=1e-15)
