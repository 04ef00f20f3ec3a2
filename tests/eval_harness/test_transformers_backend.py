"""The transformers backend on tiny offline LLaVA, Idefics3 and PaliGemma models."""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

from medqdeg.dataset_builder.errors import InvalidInputError  # noqa: E402
from medqdeg.eval_harness.backends import GenerationSettings, Query  # noqa: E402
from medqdeg.eval_harness.backends.transformers_backend import (  # noqa: E402
    BackendLoadError,
    TransformersBackend,
)

from .tiny_models import KINDS  # noqa: E402

# PaliGemma's processor trips a NumPy 2 DeprecationWarning (np.array(..., copy=False)).
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:transformers")

OPTIONS = ["pneumonia", "normal", "effusion", "fracture", "nodule"]


def make_queries(n: int = 5) -> list[Query]:
    """Items of different prompt lengths (so a batch is padded), K = 2..5, some with a system."""
    rng = np.random.default_rng(7)
    queries = []
    for i in range(n):
        k = 2 + i % 4
        options = "\n".join(f"{'ABCDE'[j]}. {OPTIONS[j]}" for j in range(k))
        prompt = (
            "What is shown in this chest X-ray?"
            + " Describe the image." * (i % 3)
            + f"\n\n{options}\n\nAnswer with the option letter from the given choices directly."
        )
        pixels = rng.integers(0, 256, size=(24 + 3 * i, 40, 3), dtype=np.uint8)
        queries.append(
            Query(
                item_id=f"item-{i}",
                image=Image.fromarray(pixels),
                prompt=prompt,
                num_options=k,
                system="You are a radiologist." if i % 2 else None,
            )
        )
    return queries


@pytest.fixture(scope="module")
def backend(tiny_models):
    cache: dict[tuple[str, int], TransformersBackend] = {}

    def get(kind: str, batch_size: int = 3) -> TransformersBackend:
        key = (kind, batch_size)
        if key not in cache:
            cache[key] = TransformersBackend(
                str(tiny_models[kind]), device="cpu", batch_size=batch_size
            )
        return cache[key]

    return get


SAMPLE = GenerationSettings(samples=3, temperature=1.0, max_new_tokens=4, seed=11)
GREEDY = GenerationSettings(samples=1, temperature=0.0, max_new_tokens=5)
LETTERS_ONLY = GenerationSettings(samples=1, want_texts=False, want_letter_probs=True)


@pytest.mark.parametrize("kind", KINDS)
def test_answer_returns_t_texts_per_item(backend, kind):
    queries = make_queries(4)
    answers = backend(kind).answer(queries, SAMPLE)
    assert len(answers) == len(queries)
    for answer in answers:
        assert answer.error is None
        assert len(answer.texts) == 3
        assert all(isinstance(t, str) for t in answer.texts)
        assert answer.prompt_tokens > 0
        assert 3 <= answer.completion_tokens <= 3 * SAMPLE.max_new_tokens
        assert answer.letter_probs is None


@pytest.mark.parametrize("kind", KINDS)
def test_letter_probs_sum_to_one_over_the_options(backend, kind):
    queries = make_queries(5)
    answers = backend(kind).answer(queries, LETTERS_ONLY)
    for query, answer in zip(queries, answers, strict=True):
        assert answer.texts == []
        assert len(answer.letter_probs) == query.num_options
        assert math.isclose(sum(answer.letter_probs), 1.0, abs_tol=1e-6)
        assert all(0.0 < p < 1.0 for p in answer.letter_probs)
    # random weights still give a non-uniform distribution: the logits were really read
    assert any(max(a.letter_probs) - min(a.letter_probs) > 1e-3 for a in answers)


@pytest.mark.parametrize("kind", KINDS)
def test_batched_letter_probs_equal_unbatched(backend, kind):
    queries = make_queries(5)
    batched = backend(kind, 3).answer(queries, LETTERS_ONLY)
    single = backend(kind, 1).answer(queries, LETTERS_ONLY)
    lengths = {a.prompt_tokens for a in single}
    assert len(lengths) > 1  # the batch really was padded
    for a, b in zip(batched, single, strict=True):
        assert np.allclose(a.letter_probs, b.letter_probs, atol=1e-5, rtol=0)


@pytest.mark.parametrize("kind", KINDS)
def test_letter_probs_match_a_plain_forward_pass(backend, kind):
    """The probabilities are the softmax, over the K letter tokens, of the next-token logits."""
    be = backend(kind, 1)
    query = make_queries(4)[3]
    tokens = be.letter_token_ids(query)
    inputs = be._encode([query])
    with torch.inference_mode():
        logits = be.model(**inputs).logits[0, -1].float()
    expected = torch.softmax(logits[tokens], dim=0).tolist()
    got = be.answer([query], LETTERS_ONLY)[0].letter_probs
    assert np.allclose(got, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    ("kind", "spelling"),
    [("llava", "ĠA"), ("idefics3", "ĠA"), ("paligemma", "A")],
)
def test_letter_spelling_is_the_one_the_template_produces(backend, kind, spelling):
    """The tiny templates end "ASSISTANT:" (answer after a space) or "\\n" (PaliGemma)."""
    be = backend(kind)
    query = make_queries(1)[0]
    ids = be.letter_token_ids(query)
    tokens = be.tokenizer.convert_ids_to_tokens(ids)
    assert tokens == [spelling[:-1] + c for c in "AB"]


@pytest.mark.parametrize("kind", KINDS)
def test_greedy_batched_texts_equal_unbatched(backend, kind):
    queries = make_queries(5)
    batched = backend(kind, 3).answer(queries, GREEDY)
    single = backend(kind, 1).answer(queries, GREEDY)
    assert [a.texts for a in batched] == [a.texts for a in single]
    assert all(len(a.texts) == 1 for a in batched)
    assert len({a.texts[0] for a in single}) > 1  # different items, different answers


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_samples(backend, kind):
    be = backend(kind)
    queries = make_queries(4)
    state = torch.random.get_rng_state()
    first = [a.texts for a in be.answer(queries, SAMPLE)]
    torch.manual_seed(12345)  # global state must not matter
    second = [a.texts for a in be.answer(queries, SAMPLE)]
    other = [a.texts for a in be.answer(queries, dataclasses.replace(SAMPLE, seed=12))]
    assert first == second
    assert first != other
    torch.random.set_rng_state(state)
    be.answer(queries, SAMPLE)
    assert torch.equal(torch.random.get_rng_state(), state)  # the caller's RNG is untouched


def test_settings_describe_the_model(backend, tiny_models):
    settings = backend("llava").settings()
    json.dumps(settings)
    assert settings["model"] == str(tiny_models["llava"])
    assert settings["dtype"] == "float32"
    assert settings["device"] == "cpu"
    assert settings["trust_remote_code"] is False
    assert settings["batch_size"] == 3
    assert not any("token" in key or "secret" in key for key in settings)


def test_too_few_or_too_many_options_are_refused(backend):
    query = make_queries(1)[0]
    bad = Query(query.item_id, query.image, query.prompt, num_options=12)
    with pytest.raises(InvalidInputError, match="num_options"):
        backend("llava").answer([bad], LETTERS_ONLY)


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(BackendLoadError, match="no model folder"):
        TransformersBackend(str(tmp_path / "no-such-model"), device="cpu")


def test_unknown_hub_id_offline_is_a_clear_error():
    with pytest.raises(BackendLoadError, match=r"could not be found locally.*HF_HUB_OFFLINE"):
        TransformersBackend("medqdeg-tests/no-such-model", device="cpu")


def test_model_without_chat_template_is_a_clear_error(tiny_models, tmp_path):
    folder = tmp_path / "no-template"
    shutil.copytree(tiny_models["llava"], folder)
    (folder / "chat_template.jinja").unlink()
    for name in ("tokenizer_config.json", "processor_config.json"):
        path = folder / name
        config = json.loads(path.read_text())
        config.pop("chat_template", None)
        path.write_text(json.dumps(config))
    with pytest.raises(BackendLoadError, match=r"chat_template.*missing.*chat_template\.jinja"):
        TransformersBackend(str(folder), device="cpu")


def test_missing_torchvision_says_how_to_install_it(tiny_models, monkeypatch):
    import transformers
    from transformers.utils.import_utils import TORCHVISION_IMPORT_ERROR

    def needs_torchvision(*args, **kwargs):
        raise ImportError(TORCHVISION_IMPORT_ERROR.format("Qwen2VLVideoProcessor"))

    monkeypatch.setattr(transformers.AutoProcessor, "from_pretrained", needs_torchvision)
    with pytest.raises(BackendLoadError, match="pip install torchvision"):
        TransformersBackend(str(tiny_models["llava"]), device="cpu")


def test_trust_remote_code_is_passed_only_when_asked(tiny_models, monkeypatch):
    import transformers

    seen: list[dict] = []
    original = transformers.AutoProcessor.from_pretrained.__func__

    def spy(cls, *args, **kwargs):
        seen.append(kwargs)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(transformers.AutoProcessor, "from_pretrained", classmethod(spy))
    TransformersBackend(str(tiny_models["paligemma"]), device="cpu")
    assert seen and "trust_remote_code" not in seen[0]


def test_tiny_models_are_small(tiny_models):
    for folder in tiny_models.values():
        size = sum(p.stat().st_size for p in Path(folder).iterdir())
        assert size < 1_000_000
