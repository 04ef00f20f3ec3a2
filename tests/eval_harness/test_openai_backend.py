"""The OpenAI-compatible backend against a real ``transformers serve`` on loopback.

One server (the tiny LLaVA, CPU) is started per module; each fault test puts a fresh
fault-injecting proxy in front of it, so retries are exercised over real HTTP. A few unit
tests (data URLs, fill-up, letter-probs parsing, key handling) use a fake client.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import math
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.dataset_builder.image_io import png_data_url
from medqdeg.eval_harness.backends.base import Answer, GenerationSettings, Query
from medqdeg.eval_harness.backends.openai_backend import (
    LOCAL_PLACEHOLDER_KEY,
    OpenAIBackend,
    build_messages,
    letter_probs_from_top_logprobs,
    request_seed,
)

from .servers import RunningServer, fault_proxy, transformers_serve

FAKE_KEY = "sk-test-SECRET-0123456789abcdef"
KEY_ENV = "MEDQDEG_TEST_OPENAI_KEY"
PROMPT = (
    "Which organ is shown?\n\nA. liver\nB. kidney\nC. lung\n\n"
    "Answer with the option letter from the given choices directly."
)


def _image(seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, size=(30, 40, 3), dtype=np.uint8), "RGB")


def _queries(count: int, system: str | None = None) -> list[Query]:
    return [Query(f"item-{i}", _image(i), PROMPT, 3, system=system) for i in range(count)]


# ---------------------------------------------------------------- unit tests, no network


def test_data_url_is_lossless_png():
    image = _image(3)
    url = png_data_url(image)
    assert url.startswith("data:image/png;base64,")
    decoded = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert decoded.format == "PNG"
    assert np.array_equal(np.asarray(decoded.convert("RGB")), np.asarray(image))


def test_messages_hold_system_image_and_text():
    query = Query("q", _image(), "the prompt", 3, system="be brief")
    messages = build_messages(query)
    assert messages[0] == {"role": "system", "content": "be brief"}
    user = messages[1]
    assert user["role"] == "user"
    assert user["content"][0]["type"] == "image_url"
    assert user["content"][0]["image_url"]["url"].startswith("data:image/png;base64,")
    assert user["content"][1] == {"type": "text", "text": "the prompt"}
    assert [m["role"] for m in build_messages(Query("q", _image(), "p", 3))] == ["user"]


class _FakeCompletions:
    """Returns at most ``per_call`` choices whatever ``n`` asks; records every call."""

    def __init__(self, per_call: int, logprobs: list[tuple[str, float]] | None = None):
        self.per_call = per_call
        self.logprobs = logprobs
        self.calls: list[dict] = []

    def create(self, **kwargs):
        self.calls.append(kwargs)
        index = len(self.calls)
        count = min(kwargs.get("n", 1), self.per_call)
        logprobs = None
        if kwargs.get("logprobs") and self.logprobs is not None:
            top = [SimpleNamespace(token=t, logprob=lp) for t, lp in self.logprobs]
            logprobs = SimpleNamespace(content=[SimpleNamespace(token=top[0].token, logprob=top[0].logprob,
                                                                top_logprobs=top)])
        choices = [
            SimpleNamespace(message=SimpleNamespace(content=f"reply {index}.{c}"), logprobs=logprobs)
            for c in range(count)
        ]
        return SimpleNamespace(choices=choices, usage=SimpleNamespace(prompt_tokens=10, completion_tokens=count))


def _fake_backend(completions: _FakeCompletions, flavor: str = "openai", **kwargs) -> OpenAIBackend:
    client = SimpleNamespace(chat=SimpleNamespace(completions=completions), models=None)
    return OpenAIBackend("m", base_url="http://127.0.0.1:9/v1", server_flavor=flavor, client=client, **kwargs)


@pytest.mark.parametrize(("per_call", "asked_n"), [(5, [5]), (2, [5, 3, 1]), (1, [5, 4, 3, 2, 1])])
def test_fill_up_until_t_texts(per_call, asked_n):
    expected_calls = len(asked_n)
    completions = _FakeCompletions(per_call)
    backend = _fake_backend(completions)
    [answer] = backend.answer(_queries(1), GenerationSettings(samples=5, temperature=1.0, seed=7))
    assert answer.error is None
    assert len(answer.texts) == 5
    assert len(completions.calls) == expected_calls
    assert [call["n"] for call in completions.calls] == asked_n
    seeds = [call["seed"] for call in completions.calls]
    assert seeds == [request_seed(7, "item-0", r) for r in range(expected_calls)]
    assert len(set(seeds)) == expected_calls  # fill-ups do not repeat the first sample's seed
    assert answer.prompt_tokens == 10 * expected_calls and answer.completion_tokens == 5
    assert all("extra_body" not in call for call in completions.calls)  # plain OpenAI: standard fields only


def test_transformers_serve_flavour_turns_sampling_on_only_when_temperature_positive():
    completions = _FakeCompletions(1)
    backend = _fake_backend(completions, flavor="transformers-serve", extra_body={"generation_config": {"top_p": 0.9}})
    backend.answer(_queries(1), GenerationSettings(samples=1, temperature=0.7))
    config = json.loads(completions.calls[-1]["extra_body"]["generation_config"])
    assert config == {"do_sample": True, "temperature": 0.7, "top_k": 0, "top_p": 0.9}
    backend.answer(_queries(1), GenerationSettings(samples=1, temperature=0.0))
    assert "generation_config" in completions.calls[-1]["extra_body"]  # the user's own config still goes
    plain = _FakeCompletions(1)
    _fake_backend(plain, flavor="transformers-serve").answer(_queries(1), GenerationSettings(samples=1, temperature=0.0))
    assert "extra_body" not in plain.calls[-1] and plain.calls[-1]["temperature"] == 0.0


def test_letter_probs_merge_spellings_by_max_and_renormalise():
    top = [(" A", math.log(0.5)), ("A", math.log(0.1)), ("ĠB", math.log(0.2)), ("▁C", math.log(0.1)),
           ("D", math.log(0.05)), ("the", math.log(0.05))]
    probs = letter_probs_from_top_logprobs(top, 3)
    assert probs == pytest.approx([0.5 / 0.8, 0.2 / 0.8, 0.1 / 0.8])
    assert letter_probs_from_top_logprobs([("x", 0.0), ("a", -1.0)], 3) is None
    assert letter_probs_from_top_logprobs([("B", -0.1)], 2) == [0.0, 1.0]


def test_letter_probs_from_a_server_that_returns_logprobs():
    completions = _FakeCompletions(1, logprobs=[(" B", math.log(0.6)), (" A", math.log(0.3)), ("!", -1.0)])
    backend = _fake_backend(completions)
    [answer] = backend.answer(_queries(1), GenerationSettings(samples=0, want_texts=False, want_letter_probs=True))
    assert answer.texts == []
    assert answer.letter_probs == pytest.approx([1 / 3, 2 / 3, 0.0])
    call = completions.calls[-1]
    assert call["logprobs"] is True and call["top_logprobs"] == 20 and call["max_tokens"] == 1


def test_missing_key_for_a_remote_server_names_the_variable(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(InvalidInputError, match=KEY_ENV):
        OpenAIBackend("gpt-x", base_url="https://api.example.com/v1", api_key_env=KEY_ENV)
    local = OpenAIBackend("m", base_url="http://localhost:8000/v1", api_key_env=KEY_ENV)
    assert local._api_key == LOCAL_PLACEHOLDER_KEY
    monkeypatch.setenv("MEDQDEG_TEST_BASE", "https://user:pw@api.example.com:8443/v1")
    monkeypatch.setenv(KEY_ENV, FAKE_KEY)
    remote = OpenAIBackend("gpt-x", api_key_env=KEY_ENV, base_url_env="MEDQDEG_TEST_BASE")
    settings = remote.settings()
    assert settings["base_url_host"] == "api.example.com:8443"
    assert FAKE_KEY not in json.dumps(settings) and "pw" not in json.dumps(settings)
    assert remote.max_tokens_field == "max_tokens"


# ---------------------------------------------------------------- a real transformers serve


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, Path]]:
    pytest.importorskip("transformers")
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    from .tiny_models import build_tiny_model

    root = tmp_path_factory.mktemp("openai-backend")
    folder = build_tiny_model("llava", root / "llava")
    with transformers_serve(folder, log_dir=root, startup_timeout=60) as server:
        yield server, folder


@pytest.fixture
def fake_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(KEY_ENV, FAKE_KEY)
    return FAKE_KEY


def _backend(base_url: str, folder: Path, **kwargs) -> OpenAIBackend:
    kwargs.setdefault("backoff", 0.01)
    kwargs.setdefault("timeout", 30.0)
    return OpenAIBackend(str(folder), base_url=base_url, api_key_env=KEY_ENV, **kwargs)


def _assert_no_key(backend: OpenAIBackend, answers: list[Answer], caplog: pytest.LogCaptureFixture) -> None:
    assert FAKE_KEY not in json.dumps(backend.settings())
    for answer in answers:
        assert FAKE_KEY not in (answer.error or "")
        assert FAKE_KEY not in json.dumps(answer.texts)
    assert FAKE_KEY not in caplog.text
    assert all(FAKE_KEY not in record.getMessage() for record in caplog.records)


@pytest.mark.slow
def test_t_samples_per_item_through_the_fill_up_path(served, fake_key, caplog):
    server, folder = served
    caplog.set_level(logging.DEBUG)
    with fault_proxy(server.root) as proxy:
        backend = _backend(proxy.base_url, folder, server_flavor="auto", concurrency=3)
        generation = GenerationSettings(samples=3, temperature=1.0, max_new_tokens=8, seed=11)
        answers = backend.answer(_queries(3, system="You are a radiologist."), generation)
    assert backend.flavor == "transformers-serve"  # detected from GET /models
    assert [a.error for a in answers] == [None, None, None]
    assert [len(a.texts) for a in answers] == [3, 3, 3]
    chats = proxy.chat_requests()
    # The server ignores n: one choice per request, so 3 items x 3 requests (n = 3, 2, 1).
    assert len(chats) == 9 and backend.stats["requests"] == 9 + 1  # + the flavour probe
    assert sorted(r.body["n"] for r in chats) == [1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert len({r.body["seed"] for r in chats}) == 9
    for request in chats:
        assert json.loads(request.body["generation_config"])["do_sample"] is True
        user = request.body["messages"][-1]["content"]
        assert user[0]["image_url"]["url"].startswith("data:image/png;base64,")
        assert request.body["messages"][0] == {"role": "system", "content": "You are a radiologist."}
    # Sampling is really on: a random tiny model sampled at T = 1 does not repeat itself 9 times.
    texts = [t for a in answers for t in a.texts]
    assert len(set(texts)) > 1
    assert all(a.prompt_tokens and a.prompt_tokens > 0 for a in answers)
    assert all(a.completion_tokens and 0 < a.completion_tokens <= 3 * 8 for a in answers)
    _assert_no_key(backend, answers, caplog)


@pytest.mark.slow
def test_seeds_reproduce_one_at_a_time_and_greedy_is_greedy(served, fake_key):
    server, folder = served
    backend = _backend(server.base_url, folder, server_flavor="transformers-serve", concurrency=1)
    sampled = GenerationSettings(samples=3, temperature=1.0, max_new_tokens=8, seed=1)
    first = backend.answer(_queries(2), sampled)
    again = backend.answer(_queries(2), sampled)
    other = backend.answer(_queries(2), GenerationSettings(samples=3, temperature=1.0, max_new_tokens=8, seed=2))
    assert [a.texts for a in first] == [a.texts for a in again]  # same seeds, requests in series
    assert [a.texts for a in first] != [a.texts for a in other]
    greedy = backend.answer(_queries(1), GenerationSettings(samples=3, temperature=0.0, max_new_tokens=8))
    assert greedy[0].error is None and len(set(greedy[0].texts)) == 1


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["500", "429", "503", "drop"])
def test_transient_fault_is_retried(served, fake_key, fault, caplog):
    server, folder = served
    caplog.set_level(logging.DEBUG)
    with fault_proxy(server.root, [fault, fault]) as proxy:
        backend = _backend(proxy.base_url, folder, server_flavor="transformers-serve", max_retries=3)
        [answer] = backend.answer(_queries(1), GenerationSettings(samples=1, temperature=1.0, max_new_tokens=4))
    assert answer.error is None and len(answer.texts) == 1
    assert [r.action for r in proxy.chat_requests()] == [fault, fault, "forward"]
    assert backend.stats == {"requests": 3, "retries": 2, "failed_items": 0}
    _assert_no_key(backend, [answer], caplog)


@pytest.mark.slow
def test_timeout_is_retried(served, fake_key):
    server, folder = served
    with fault_proxy(server.root, ["hang"], hang_s=2.0) as proxy:
        backend = _backend(proxy.base_url, folder, server_flavor="transformers-serve", timeout=0.5)
        [answer] = backend.answer(_queries(1), GenerationSettings(samples=1, max_new_tokens=4))
    assert answer.error is None and len(answer.texts) == 1
    assert [r.action for r in proxy.chat_requests()] == ["hang", "forward"]


@pytest.mark.slow
def test_persistent_500_fails_the_item_after_the_retries(served, fake_key, caplog):
    server, folder = served
    caplog.set_level(logging.DEBUG)
    with fault_proxy(server.root, default="500") as proxy:
        backend = _backend(proxy.base_url, folder, server_flavor="auto", max_retries=2, concurrency=2)
        answers = backend.answer(_queries(2), GenerationSettings(samples=2, max_new_tokens=4))
    # The flavour probe (GET /models) fails too, so every item carries that error.
    assert all(a.error and "HTTP 500" in a.error and "3 attempts" in a.error for a in answers)
    assert all(a.texts == [] and a.letter_probs is None for a in answers)
    assert len(proxy.requests) == 3 and backend.flavor is None

    with fault_proxy(server.root, default="500") as proxy:
        backend = _backend(proxy.base_url, folder, server_flavor="transformers-serve", max_retries=2, concurrency=2)
        delays: list[float] = []
        backend.sleep = delays.append
        answers = backend.answer(_queries(2), GenerationSettings(samples=2, max_new_tokens=4))
    for answer in answers:
        assert answer.error is not None
        assert answer.error.startswith("HTTP 500 InternalServerError") and "after 3 attempts" in answer.error
    assert len(proxy.chat_requests()) == 2 * 3  # two items, 1 + 2 retries each, no fill-up after failure
    assert sorted(delays) == [0.01, 0.01, 0.02, 0.02]  # exponential backoff
    assert backend.stats["failed_items"] == 2
    _assert_no_key(backend, answers, caplog)


@pytest.mark.slow
def test_422_fails_at_once_without_retries(served, fake_key, caplog):
    server, folder = served
    caplog.set_level(logging.DEBUG)
    with fault_proxy(server.root) as proxy:
        backend = _backend(proxy.base_url, folder, server_flavor="transformers-serve",
                           extra_body={"not_a_field": 1}, max_retries=4)
        [answer] = backend.answer(_queries(1), GenerationSettings(samples=3, max_new_tokens=4))
    assert answer.error is not None and answer.error.startswith("HTTP 422")
    assert "not retried" in answer.error and "not_a_field" in answer.error
    assert len(proxy.chat_requests()) == 1 and backend.stats["retries"] == 0
    _assert_no_key(backend, [answer], caplog)


@pytest.mark.slow
def test_401_from_the_proxy_is_not_retried(served, fake_key):
    server, folder = served
    with fault_proxy(server.root, default="401") as proxy:
        backend = _backend(proxy.base_url, folder, server_flavor="openai", max_retries=4)
        [answer] = backend.answer(_queries(1), GenerationSettings(samples=1, max_new_tokens=4))
    assert answer.error is not None and answer.error.startswith("HTTP 401 AuthenticationError (not retried)")
    assert FAKE_KEY not in answer.error and len(proxy.requests) == 1


@pytest.mark.slow
def test_letter_probs_stay_none_when_the_server_gives_no_logprobs(served, fake_key, caplog):
    server, folder = served
    with fault_proxy(server.root) as proxy:
        backend = _backend(proxy.base_url, folder, server_flavor="transformers-serve", concurrency=1)
        generation = GenerationSettings(samples=1, max_new_tokens=4, want_letter_probs=True)
        with caplog.at_level(logging.WARNING, logger="medqdeg.eval_harness.backends.openai_backend"):
            answers = backend.answer(_queries(3), generation)
    assert all(a.error is None and a.letter_probs is None and len(a.texts) == 1 for a in answers)
    warnings = [r for r in caplog.records if "returned no logprobs" in r.getMessage()]
    assert len(warnings) == 1
    letter_requests = [r for r in proxy.chat_requests() if r.body.get("logprobs")]
    # Asked once (it sent logprobs=True, top_logprobs=20); after the empty reply it stops asking.
    assert len(letter_requests) == 1 and letter_requests[0].body["top_logprobs"] == 20
