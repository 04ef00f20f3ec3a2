"""The runner end to end with the chance baseline: CLI, records, resume, failures, shards, torchrun."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from medqdeg.eval_harness.backends.base import Answer
from medqdeg.eval_harness.backends.chance import ChanceBackend
from medqdeg.eval_harness.cli import main
from medqdeg.eval_harness.records import RecordWriter, finished_keys, iter_records, merge_records
from medqdeg.eval_harness.run import EvalConfig, evaluate

from .record_factory import make_record

LIMIT = 5


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("harness-cache"))


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory, cache_dir) -> Path:
    """One uninterrupted chance run through the CLI (the README's command, limited)."""
    out = tmp_path_factory.mktemp("run") / "chance"
    assert main(["evaluate", "--limit", str(LIMIT), "--output", str(out), "--cache-dir", cache_dir]) == 0
    return out


def _items(cache_dir: str) -> Counter:
    from medqdeg.dataset_builder import load_dataset

    splits = load_dataset("medqdeg", "default", cache_dir=cache_dir, limit=LIMIT)
    return Counter({name: len(split) for name, split in splits.items()})


def test_cli_default_writes_records_report_and_plots(reference_run, cache_dir, capsys):
    records = merge_records(reference_run)
    assert Counter(r.severity for r in records) == _items(cache_dir)
    record = records[0]
    written = json.loads(next(reference_run.glob("records-*.jsonl")).read_text().splitlines()[0])
    for field in ("key", "id", "clean_id", "model", "backend", "prompt_hash", "raw_outputs", "letters", "votes",
                  "confidence", "correct", "latency_s", "prompt_tokens", "completion_tokens"):
        assert field in written, field
    assert len(record.raw_outputs) == 3 and record.model == "chance"
    results = json.loads((reference_run / "results.json").read_text())
    assert results["num_items"] == len(records) and results["num_failed"] == 0
    report = (reference_run / "report.md").read_text()
    for heading in ("## Overall", "## By degradation category", "## By modality", "## By capability",
                    "## Calibration (sampled answers)", "Dunning-Kruger"):
        assert heading in report, heading
    assert sorted(p.name for p in (reference_run / "plots").glob("*.png")) == [
        "accuracy_by_category.png", "accuracy_by_modality.png", "confidence_vs_accuracy.png", "reliability.png"]


def test_chance_accuracy_is_near_one_over_k(reference_run):
    records = merge_records(reference_run)
    expected = sum(1 / r.num_options for r in records) / len(records)
    observed = sum(r.sample_correct for r in records) / len(records)
    assert abs(observed - expected) < 0.15


def test_existing_output_needs_resume(reference_run, cache_dir, capsys):
    assert main(["evaluate", "--limit", str(LIMIT), "--output", str(reference_run), "--cache-dir", cache_dir]) == 2
    assert "--resume" in capsys.readouterr().err
    before = len(list(iter_records(reference_run)))
    assert main(["evaluate", "--limit", str(LIMIT), "--output", str(reference_run), "--cache-dir", cache_dir,
                 "--resume"]) == 0
    assert len(list(iter_records(reference_run))) == before  # nothing asked twice


def test_a_torn_last_line_is_cut_before_appending(tmp_path):
    with RecordWriter(tmp_path) as writer:
        writer.finished(make_record("a"))
    path = next(tmp_path.glob("records-*.jsonl"))
    with path.open("a") as handle:
        handle.write('{"key": "b", "id": "b", "sev')  # a crash in the middle of a write
    assert finished_keys(tmp_path) == {"a"}
    with RecordWriter(tmp_path) as writer:
        writer.finished(make_record("c"))
    assert [r.key for r in iter_records(tmp_path)] == ["a", "c"]


class FlakyBackend(ChanceBackend):
    """The chance baseline (same settings, so the same cache keys) failing on chosen items."""

    def __init__(self, fail_ids: set[str]):
        self.fail_ids = fail_ids

    def answer(self, queries, generation):
        answers = super().answer(queries, generation)
        return [Answer(error="HTTP 500 after 3 retries") if q.item_id in self.fail_ids else a
                for q, a in zip(queries, answers, strict=True)]


def test_failures_are_recorded_not_guessed_and_resume_asks_them_again(tmp_path, cache_dir, reference_run):
    reference = {r.key: r for r in merge_records(reference_run)}
    fail = {r.id for r in list(reference.values())[:3]}
    config = EvalConfig(limit=LIMIT, output=tmp_path / "run", cache_dir=cache_dir)
    summary = evaluate(config, backend=FlakyBackend(fail))
    assert sorted(item for item, _ in summary.failed) == sorted(fail)
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["num_failed"] == 3 and results["num_items"] == len(reference) - 3
    assert "3 item(s) failed" in (tmp_path / "run" / "report.md").read_text()
    config.resume = True
    second = evaluate(config, backend=ChanceBackend())
    assert second.answered == 3 and second.skipped == len(reference) - 3 and not second.failed
    merged = {r.key: r for r in merge_records(tmp_path / "run")}
    assert merged.keys() == reference.keys()
    assert all(merged[k].letters == reference[k].letters for k in merged)


SLOW_RUN = """
import sys, time
from medqdeg.eval_harness.backends.chance import ChanceBackend
from medqdeg.eval_harness.run import EvalConfig, evaluate

class Slow(ChanceBackend):
    def answer(self, queries, generation):
        time.sleep(0.15)
        return super().answer(queries, generation)

evaluate(EvalConfig(limit=LIMIT, output=sys.argv[1], cache_dir=sys.argv[2], batch_size=1), backend=Slow())
""".replace("LIMIT", str(LIMIT))


def test_resume_after_killing_the_process_loses_nothing_and_duplicates_nothing(tmp_path, cache_dir,
                                                                                reference_run):
    out = tmp_path / "killed"
    child = subprocess.Popen([sys.executable, "-c", SLOW_RUN, str(out), cache_dir])
    deadline = time.monotonic() + 120
    while len(finished_keys(out)) < 4 and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    partial = len(list(iter_records(out)))
    assert 4 <= partial < len(merge_records(reference_run))
    assert main(["evaluate", "--limit", str(LIMIT), "--output", str(out), "--cache-dir", cache_dir,
                 "--resume"]) == 0
    keys = [r.key for r in iter_records(out)]
    assert len(keys) == len(set(keys))  # none twice
    assert set(keys) == {r.key for r in merge_records(reference_run)}  # none lost


def _letters(folder: Path) -> dict[str, list]:
    return {r.key: r.letters for r in merge_records(folder)}


def test_manual_shards_merge_to_the_single_process_result(tmp_path, cache_dir, reference_run):
    out = tmp_path / "sharded"
    for shard in ("0/2", "1/2"):
        assert main(["evaluate", "--limit", str(LIMIT), "--output", str(out), "--cache-dir", cache_dir,
                     "--shard", shard, "--resume"]) == 0
    assert sorted(p.name for p in out.glob("records-*.jsonl")) == ["records-000-of-002.jsonl",
                                                                   "records-001-of-002.jsonl"]
    assert main(["report", str(out)]) == 0
    assert _letters(out) == _letters(reference_run)
    ours = json.loads((out / "results.json").read_text())["accuracy"]["accuracy"]
    theirs = json.loads((reference_run / "results.json").read_text())["accuracy"]["accuracy"]
    assert ours == theirs


@pytest.mark.slow
def test_two_processes_under_torchrun_merge_to_the_single_process_result(tmp_path, cache_dir, reference_run):
    out = tmp_path / "torchrun"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "0",
                    "-m", "medqdeg.eval_harness.cli", "evaluate", "--limit", str(LIMIT), "--output", str(out),
                    "--cache-dir", cache_dir], check=True, env=env, timeout=300, capture_output=True)
    assert len(list(out.glob("records-*-of-002.jsonl"))) == 2
    assert (out / "report.md").exists()
    assert _letters(out) == _letters(reference_run)


def test_compare_builds_a_leaderboard(tmp_path, reference_run, cache_dir):
    other = tmp_path / "other"
    assert main(["evaluate", "--limit", str(LIMIT), "--output", str(other), "--cache-dir", cache_dir,
                 "--seed", "1"]) == 0
    assert main(["compare", str(reference_run), str(other), "--out", str(tmp_path / "board")]) == 0
    table = (tmp_path / "board" / "leaderboard.md").read_text()
    assert table.count("| chance |") == 2
    assert (tmp_path / "board" / "leaderboard.png").stat().st_size > 1000


class GibberishBackend(ChanceBackend):
    """Answers that name no option: they must be recorded as unparseable, never guessed."""

    def answer(self, queries, generation):
        return [Answer(texts=["I cannot tell from this image."] * generation.samples) for _ in queries]


def test_unparseable_answers_are_recorded_and_score_zero(tmp_path, cache_dir):
    evaluate(EvalConfig(limit=2, output=tmp_path / "run", cache_dir=cache_dir, splits=("L0",)),
             backend=GibberishBackend())
    records = merge_records(tmp_path / "run")
    assert records and all(r.letters == [None, None, None] and r.num_unparseable == 3 for r in records)
    assert all(r.correct == 0.0 and r.confidence == 0.0 and r.votes == {} for r in records)
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["calibration"]["sampling"]["num_unparseable"] == 3 * len(records)
