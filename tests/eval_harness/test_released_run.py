"""`medqdeg evaluate --source medqdeg-tsv` end to end; paired statistics that do not cry wolf;
the paper's published figures beside a run of a model it reports."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from medqdeg.eval_harness.cli import main
from medqdeg.eval_harness.paper import match_paper_model
from medqdeg.eval_harness.records import merge_records
from medqdeg.eval_harness.report import report_markdown, summarize_records
from medqdeg.eval_harness.scoring import score_records
from medqdeg.metrics.accuracy import paired_dunning_kruger
from tests.released_fixture import EXPECTED_TWINS, PUBLISHED_COUNTS, write_released


@pytest.fixture(scope="module")
def released_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("released-run")
    data = write_released(root / "MedQ-DEG-Bench")
    out = root / "run"
    assert main(["evaluate", "--source", "medqdeg-tsv", "--data-dir", str(data), "--output", str(out),
                 "--cache-dir", str(root / "cache")]) == 0
    return out


def test_evaluate_released_source_end_to_end(released_run):
    records = merge_records(released_run)
    counts = {level: sum(r.severity == level for r in records) for level in ("L0", "L1", "L2")}
    assert counts == PUBLISHED_COUNTS
    assert {r.id: r.clean_id for r in records if r.severity != "L0"} == EXPECTED_TWINS
    results = json.loads((released_run / "results.json").read_text())
    assert results["pairing"] == {"degraded": 15, "without_twin": 1}
    drop = results["accuracy"]["drops"]["L2-L0"]
    assert drop["num_pairs"] == 6 and drop["num_unmatched"] == 1
    # the paired drop is the difference of the two paired accuracies the report prints
    assert drop["drop"] == pytest.approx(drop["degraded_accuracy"] - drop["clean_accuracy"])
    pairs = [(r.correct, next(t.correct for t in records if t.id == r.clean_id))
             for r in records if r.severity == "L2" and r.clean_id]
    assert drop["drop"] == pytest.approx(np.mean([a - b for a, b in pairs]))
    report = (released_run / "report.md").read_text()
    assert "A *paired drop*" in report and "6 pairs over" in report
    assert "1 of them with no clean twin" in report
    assert "published by the" not in report  # the chance baseline is not a paper model


def test_category_table_l0_is_the_twins_accuracy_the_plot_draws(released_run):
    results = json.loads((released_run / "results.json").read_text())
    report = (released_run / "report.md").read_text()
    for label, group in results["accuracy"]["by"]["category"]["groups"].items():
        if label == "none" or group.get("twin_accuracy_L2_L0") is None:
            continue
        row = next(line for line in report.splitlines() if line.startswith(f"| {label} |"))
        assert row.split(" | ")[1].startswith(f"{100 * group['twin_accuracy_L2_L0']:.1f}†")


def test_paper_figures_sit_beside_a_run_of_a_paper_model(released_run):
    records = [replace(r, model="gpt-4o") for r in merge_records(released_run)]
    results = summarize_records(records, score_records(records), n_bootstrap=50)
    paper = match_paper_model("gpt-4o")
    assert results["paper"]["accuracy"] == paper.accuracy
    report = report_markdown(results)
    assert "published by the MedQ-Deg paper" in report
    row = next(line for line in report.splitlines() if line.startswith("| paper, published"))
    assert all(f"{paper.accuracy[level]:.2f}" in row for level in ("L0", "L1", "L2"))


def _synthetic(n_clean: int, p0: float, p2: float, c0: float, c2: float, seed: int):
    rng = np.random.default_rng(seed)
    correct, conf, severities, clean_ids = [], [], [], []
    for i in range(n_clean):
        correct.append(float(rng.random() < p0))
        conf.append(c0)
        severities.append("L0")
        clean_ids.append(f"c{i}")
        for _ in range(2):
            correct.append(float(rng.random() < p2))
            conf.append(c2)
            severities.append("L2")
            clean_ids.append(f"c{i}")
    return correct, conf, severities, clean_ids


def test_paired_verdict_yes_no_and_not_significant():
    strong = paired_dunning_kruger(*_synthetic(400, 0.8, 0.5, 0.9, 0.9, 1)[:2],
                                   severities=_synthetic(400, 0.8, 0.5, 0.9, 0.9, 1)[2],
                                   clean_ids=_synthetic(400, 0.8, 0.5, 0.9, 0.9, 1)[3])
    assert strong["verdict"] == "yes" and strong["num_pairs"] == 800 and strong["num_clean_items"] == 400
    rising = _synthetic(400, 0.5, 0.8, 0.9, 0.9, 2)
    assert paired_dunning_kruger(rising[0], rising[1], severities=rising[2], clean_ids=rising[3])["verdict"] == "no"
    same = _synthetic(40, 0.5, 0.5, 0.6, 0.6, 3)
    result = paired_dunning_kruger(same[0], same[1], severities=same[2], clean_ids=same[3])
    assert result["verdict"] in ("not significant", "no")
    assert result["accuracy_drop_ci"][0] < result["accuracy_drop"] < result["accuracy_drop_ci"][1]


@pytest.mark.slow
def test_chance_baseline_on_the_embedded_default_is_not_a_dunning_kruger_yes(tmp_path):
    out = tmp_path / "chance"
    assert main(["evaluate", "--output", str(out), "--cache-dir", str(tmp_path / "cache")]) == 0
    results = json.loads((out / "results.json").read_text())
    verdict = results["calibration"]["sampling"]["dunning_kruger_paired"]
    print({k: verdict[k] for k in ("verdict", "accuracy_drop", "accuracy_drop_ci", "shift_change",
                                   "shift_change_ci", "num_pairs", "num_clean_items")})
    assert verdict["verdict"] != "yes"
    assert f"**{verdict['verdict']}**" in (out / "report.md").read_text()
