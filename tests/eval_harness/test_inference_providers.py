"""The Inference Providers backend against a local stand-in for the Hub's router (no network).

The stand-in (``servers.stand_in_router``) answers like a provider that ignores ``n``: one
choice per request, so T samples come through the OpenAI backend's fill-up; a fault proxy
in front of it injects a 503 to show the retries; the token is a fake ``HF_TOKEN`` that must
reach the router as a Bearer token and appear nowhere else.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.eval_harness.backends import BACKENDS, build_backend
from medqdeg.eval_harness.backends.base import GenerationSettings, Query
from medqdeg.eval_harness.backends.inference_providers import (
    ROUTER_URL,
    InferenceProvidersBackend,
    split_model,
)
from medqdeg.eval_harness.backends.openai_backend import OpenAIBackend
from medqdeg.eval_harness.cli import build_parser, main

from .servers import fault_proxy, stand_in_router

pytest.importorskip("openai")

TOKEN = "hf_fakeTokenForTheStandInRouter0123"
MODEL = "Qwen/Qwen2.5-VL-7B-Instruct:hyperbolic"


@pytest.fixture
def token(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.delenv("MEDQDEG_INFERENCE_PROVIDERS_URL", raising=False)
    return TOKEN


def _query(item_id: str) -> Query:
    from PIL import Image

    return Query(item_id=item_id, image=Image.new("RGB", (8, 8), (40, 80, 120)), prompt="Which? A. x B. y",
                 num_options=2)


def test_model_ids_and_defaults(token):
    assert split_model("org/name") == ("org/name", None)
    assert split_model("org/name:novita") == ("org/name", "novita")
    for bad in ("name-only", "org/name:", "org/../x", "org/name:a:b", ""):
        with pytest.raises(InvalidInputError, match="model"):
            split_model(bad)
    backend = build_backend("inference-providers", MODEL)
    assert isinstance(backend, InferenceProvidersBackend) and isinstance(backend, OpenAIBackend)
    assert backend.base_url == ROUTER_URL and backend.flavor == "openai"
    settings = backend.settings()
    assert settings["backend"] == "inference-providers" and settings["base_url_host"] == "router.huggingface.co"
    assert settings["hub_model"] == "Qwen/Qwen2.5-VL-7B-Instruct" and settings["provider"] == "hyperbolic"
    assert TOKEN not in json.dumps(settings)
    assert "inference-providers" in BACKENDS


def test_the_token_comes_only_from_hf_token(monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-this-one-0123456789")
    with pytest.raises(InvalidInputError, match=r"HF_TOKEN.*router\.huggingface\.co"):
        build_backend("inference-providers", MODEL)
    with pytest.raises(InvalidInputError, match="api_key_env"):
        InferenceProvidersBackend(MODEL, api_key_env="OPENAI_API_KEY")


def test_samples_fill_up_through_the_router(token, caplog):
    with stand_in_router(["A", "The answer is B", "A"]) as router:
        backend = build_backend("inference-providers", MODEL, base_url=router.base_url, backoff=0.0)
        answers = backend.answer([_query("q1"), _query("q2")],
                                 GenerationSettings(samples=3, temperature=1.0, max_new_tokens=8, seed=4))
    assert [len(a.texts) for a in answers] == [3, 3] and all(a.error is None for a in answers)
    assert {t for a in answers for t in a.texts} <= {"A", "The answer is B"}
    assert answers[0].prompt_tokens == 30 and answers[0].completion_tokens == 3  # summed over 3 requests
    bodies = router.chat_bodies()
    assert len(bodies) == 6 and {b["model"] for b in bodies} == {MODEL}
    assert sorted(b["n"] for b in bodies) == [1, 1, 2, 2, 3, 3]  # fill-up asks for what is missing
    assert len({b["seed"] for b in bodies}) == 6
    assert {r["authorization"] for r in router.requests} == {f"Bearer {TOKEN}"}
    assert bodies[0]["messages"][-1]["content"][0]["image_url"]["url"].startswith("data:image/png;base64,")
    assert TOKEN not in caplog.text


def test_a_503_is_retried_and_a_401_fails_the_item_without_the_token(token, monkeypatch):
    with stand_in_router(["B"]) as router, fault_proxy(router.root, ["503"]) as proxy:
        backend = build_backend("inference-providers", MODEL, base_url=proxy.base_url, backoff=0.0)
        (answer,) = backend.answer([_query("q1")], GenerationSettings(samples=1, temperature=1.0, seed=0))
        assert answer.texts == ["B"] and backend.stats["retries"] == 1
    monkeypatch.setenv("HF_TOKEN", "")  # loopback: a placeholder key, which this router refuses as 401
    with stand_in_router() as router, fault_proxy(router.root, ["401"]) as proxy:
        backend = build_backend("inference-providers", MODEL, base_url=proxy.base_url, max_retries=3)
        (answer,) = backend.answer([_query("q1")], GenerationSettings(samples=1, temperature=1.0, seed=0))
    assert answer.texts == [] and "HTTP 401" in answer.error and "not retried" in answer.error
    assert TOKEN not in answer.error


def test_cli_evaluate_through_the_router_writes_records(token, tmp_path, capsys):
    assert "inference-providers" in build_parser()._subparsers._group_actions[0].choices["evaluate"].format_help()
    out = tmp_path / "run"
    with stand_in_router(["A", "B"]) as router:
        code = main(["evaluate", "--backend", "inference-providers", "--model", MODEL, "--base-url", router.base_url,
                     "--limit", "1", "--samples", "2", "--output", str(out), "--cache-dir", str(tmp_path / "cache")])
    assert code == 0, capsys.readouterr().err
    records = [json.loads(line) for path in sorted(Path(out).glob("records-*.jsonl"))
               for line in path.read_text().splitlines()]
    assert records and all(len(r["raw_outputs"]) == 2 for r in records)
    assert {r["backend"]["backend"] for r in records} == {"inference-providers"}
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".jsonl", ".md"):
            assert TOKEN not in path.read_text(), path
