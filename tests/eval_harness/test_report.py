"""The report: every figure from the one scoring pass of the records, and one reader of
results.json for `medqdeg compare` and the Space's leaderboard."""

from __future__ import annotations

import json

import pytest

from medqdeg.eval_harness.records import RecordWriter
from medqdeg.eval_harness.report import (
    compare_runs,
    report_markdown,
    summarize_records,
    write_report,
)
from medqdeg.eval_harness.results import headline, read_results
from medqdeg.eval_harness.scoring import score_records
from medqdeg.space.leaderboard_tab import run_row

from .record_factory import make_record

LETTERS = {  # clean item -> (its L0 letters, its L2 twin's letters); the answer is always A
    "c1": (["A", "A", "A"], ["B", "B", "A"]),
    "c2": (["A", "A", "B"], ["A", "C", "C"]),
    "c3": (["B", "B", "B"], [None, None, "D"]),
    "c4": (["A", "B", None], ["A", "A", "D"]),
}


def _records(stored_correct: float | None = None):
    """An L0 item and its L2 twin per clean item; ``stored_correct`` overwrites every record's
    stored per-item score (the report must not read it)."""
    records = []
    for clean, (clean_letters, degraded_letters) in LETTERS.items():
        for severity, letters in (("L0", clean_letters), ("L2", degraded_letters)):
            item = clean if severity == "L0" else f"{clean}-blur-L2"
            fields = {"correct": stored_correct} if stored_correct is not None else {}
            records.append(make_record(item, letters=letters, clean_id=clean, severity=severity,
                                       category="none" if severity == "L0" else "blur",
                                       degradation="none" if severity == "L0" else "motion", **fields))
    return records


def test_accuracy_and_calibration_come_from_the_letters_not_the_stored_scores():
    honest = summarize_records(_records(), score_records(_records()), n_bootstrap=20)
    lying = _records(stored_correct=1.0)
    assert summarize_records(lying, score_records(lying), n_bootstrap=20) == honest
    per_level = honest["accuracy"]["by"]["severity"]["groups"]
    # L0: A,A,A -> 1; A,A,B -> 1; B,B,B -> 0; A,B,? -> 1/3 (three outcomes tied)
    assert per_level["L0"]["accuracy"] == pytest.approx((1 + 1 + 0 + 1 / 3) / 4)
    # L2: B,B,A -> 0; A,C,C -> 0; ?,?,D -> 0; A,A,D -> 1
    assert per_level["L2"]["accuracy"] == pytest.approx(1 / 4)
    calibration = honest["calibration"]["sampling"]["per_group"]
    assert {level: calibration[level]["accuracy"] for level in ("L0", "L2")} == {
        level: per_level[level]["accuracy"] for level in ("L0", "L2")}
    assert honest["accuracy"]["drops"]["L2-L0"]["drop"] == pytest.approx(1 / 4 - (1 + 1 + 0 + 1 / 3) / 4)
    assert honest["calibration"]["sampling"]["num_unparseable"] == 3
    assert honest["accuracy_from"] == "majority vote of the samples" and "letter_probs" not in honest["calibration"]


def test_a_run_with_letter_probabilities_only_reads_accuracy_from_their_arg_max():
    records = [make_record(f"k{i}", letters=[], correct=None, confidence=None, sample_correct=None,
                           severity=severity, clean_id="c" if severity == "L0" else "", letter_probs=probs)
               for i, (severity, probs) in enumerate((("L0", [0.6, 0.2, 0.1, 0.1]), ("L1", [0.1, 0.7, 0.1, 0.1])))]
    results = summarize_records(records, score_records(records), n_bootstrap=10)
    assert results["accuracy_from"] == "arg-max of the letter probabilities"
    assert results["accuracy"]["accuracy"] == pytest.approx(0.5)
    assert set(results["calibration"]) == {"letter_probs"}
    assert results["calibration"]["letter_probs"]["sample_accuracy"] == pytest.approx((0.6 + 0.1) / 2)


def test_write_report_writes_the_figures_it_summarised(tmp_path):
    run = tmp_path / "run"
    with RecordWriter(run) as writer:
        for record in _records():
            writer.finished(record)
        writer.failed({"key": "lost", "id": "lost", "severity": "L1", "error": "timeout"})
    results = write_report(run, n_bootstrap=20)
    assert read_results(run) == json.loads(json.dumps(results))
    assert results["num_failed"] == 1 and results["num_items"] == 8
    report = (run / "report.md").read_text()
    assert report == report_markdown(results, 1)
    overall = report.splitlines()[report.splitlines().index("| L0 | L1 | L2 | L1-L0 | L2-L0 |") + 2]
    assert overall.startswith(f"| {100 * results['accuracy']['by']['severity']['groups']['L0']['accuracy']:.1f} [")
    assert "**1 item(s) failed" in report
    assert sorted(path.name for path in (run / "plots").iterdir()) == [
        "accuracy_by_category.png", "accuracy_by_modality.png", "confidence_vs_accuracy.png", "reliability.png"]


def test_compare_and_the_leaderboard_show_the_same_row(tmp_path):
    run = tmp_path / "run"
    with RecordWriter(run) as writer:
        for record in _records():
            writer.finished(record)
    results = write_report(run, n_bootstrap=20)
    figures = headline(results)
    per_level = results["accuracy"]["by"]["severity"]["groups"]
    assert figures.accuracy == [per_level["L0"]["accuracy"], None, per_level["L2"]["accuracy"]]
    assert figures.verdict == results["calibration"]["sampling"]["dunning_kruger_paired"]["verdict"]
    table = compare_runs([run], tmp_path / "board")
    row = run_row(run)
    assert row["acc L0"] == round(100 * figures.accuracy[0], 1) and row["acc L1"] is None
    assert row["shift L2"] == round(figures.shifts[2], 3) and row["Dunning-Kruger"] == figures.verdict
    line = table.splitlines()[2]
    assert line.startswith(f"| chance | {100 * figures.accuracy[0]:.1f} | - | {100 * figures.accuracy[2]:.1f} |")
    assert line.endswith(f" | {figures.verdict} |")


def test_a_run_without_finished_items():
    assert summarize_records([], score_records([])) == {"num_items": 0}
    assert report_markdown({"num_items": 0}) == "# MedQ-Deg report\n\nNo finished items.\n"
    empty = headline({"num_items": 0})
    assert empty.model == "?" and empty.accuracy == [None] * 3 and empty.verdict is None
