"""`medqdeg evaluate` end to end with a tiny local model and against a real `transformers serve`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medqdeg.eval_harness.cli import main
from medqdeg.eval_harness.records import iter_records, merge_records

from .servers import free_port, transformers_serve
from .tiny_models import build_tiny_model


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("cli-models-cache"))


@pytest.mark.parametrize("kind", ["llava", "idefics3", "paligemma"])
def test_local_tiny_model_with_both_confidences(kind, tiny_model_dir, tmp_path, cache_dir):
    out = tmp_path / kind
    code = main(["evaluate", "--model", str(tiny_model_dir(kind)), "--limit", "2", "--samples", "2",
                 "--confidence", "both", "--max-new-tokens", "4", "--batch-size", "4",
                 "--output", str(out), "--cache-dir", cache_dir])
    assert code == 0
    records = merge_records(out)
    assert records and all(len(r.raw_outputs) == 2 for r in records)
    assert all(abs(sum(r.letter_probs) - 1) < 1e-5 and len(r.letter_probs) == r.num_options
               for r in records)
    assert all(0.0 <= r.confidence_letter_probs <= 1.0 for r in records)
    results = json.loads((out / "results.json").read_text())
    assert set(results["calibration"]) == {"sampling", "letter_probs"}
    assert records[0].backend["model"] == str(tiny_model_dir(kind))
    report = (out / "report.md").read_text()
    assert "## Calibration (letter probabilities)" in report


def test_unknown_model_folder_is_a_clear_error(tmp_path, cache_dir, capsys):
    code = main(["evaluate", "--model", str(tmp_path / "no-such-model"), "--limit", "1",
                 "--output", str(tmp_path / "out"), "--cache-dir", cache_dir])
    assert code == 2
    err = capsys.readouterr().err
    assert "no-such-model" in err and "Traceback" not in err


@pytest.mark.slow
def test_against_transformers_serve_and_a_server_that_is_down(tmp_path_factory, cache_dir, capsys, monkeypatch):
    root = tmp_path_factory.mktemp("serve-cli")
    folder = build_tiny_model("llava", root / "llava")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    with transformers_serve(folder, log_dir=root, startup_timeout=60) as server:
        out = root / "served"
        code = main(["evaluate", "--backend", "openai", "--model", str(folder), "--base-url", server.base_url,
                     "--limit", "2", "--splits", "L0", "L2", "--samples", "2", "--max-new-tokens", "4",
                     "--output", str(out), "--cache-dir", cache_dir])
        assert code == 0
        records = merge_records(out)
        assert records and all(len(r.raw_outputs) == 2 for r in records)
        assert {r.severity for r in records} == {"L0", "L2"}
    down = f"http://127.0.0.1:{free_port()}/v1"
    out = root / "down"
    code = main(["evaluate", "--backend", "openai", "--model", str(folder), "--base-url", down, "--limit", "1",
                 "--splits", "L0", "--samples", "1", "--max-retries", "1", "--timeout", "2",
                 "--output", str(out), "--cache-dir", cache_dir])
    assert code == 1  # partial results kept, failures summarised
    err = capsys.readouterr().err
    assert "failed" in err and "--resume" in err and "sk-test-not-a-real-key" not in err
    assert not list(iter_records(out))
    failures = [json.loads(line) for path in Path(out).glob("failures-*.jsonl") for line in path.read_text().splitlines()]
    assert failures and all("error" in f for f in failures)
