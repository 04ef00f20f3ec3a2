"""Sampling does not depend on batching (issue 11 item 9): a run interrupted and resumed, which
batches the remaining items differently, gives the same sampled answers as a run never stopped."""

from __future__ import annotations

import shutil

import pytest

from medqdeg.eval_harness.records import merge_records
from medqdeg.eval_harness.run import EvalConfig, evaluate


def test_resumed_run_samples_what_an_uninterrupted_run_samples(tiny_model_dir, tmp_path):
    pytest.importorskip("torch")
    model = str(tiny_model_dir("llava"))

    def config(output, resume=False):
        return EvalConfig(model=model, backend="transformers", limit=2, splits=("L0", "L1"), samples=3,
                          temperature=1.0, batch_size=4, max_new_tokens=6, output=output, resume=resume,
                          cache_dir=str(tmp_path / "cache"), backend_options={"device": "cpu"})

    whole = tmp_path / "whole"
    evaluate(config(whole), report=False)
    reference = {r.key: r.raw_outputs for r in merge_records(whole)}
    assert len(reference) >= 4

    stopped = tmp_path / "stopped"  # killed after its first record: the rest is batched anew on resume
    shutil.copytree(whole, stopped)
    for path in stopped.glob("records-*.jsonl"):
        lines = path.read_text().splitlines(keepends=True)
        path.write_text("".join(lines[:1]))
    summary = evaluate(config(stopped, resume=True), report=False)
    assert summary.skipped == 1 and summary.answered == len(reference) - 1
    resumed = {r.key: r.raw_outputs for r in merge_records(stopped)}
    assert resumed == reference
    assert len({tuple(texts) for texts in reference.values()}) > 1  # real samples, not one constant answer
