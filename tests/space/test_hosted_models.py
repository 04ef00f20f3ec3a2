"""The Space's hosted ways to ask a model: Inference Providers entries and ZeroGPU.

Inference Providers: an allowlist entry ``inference-providers:ORG/NAME:PROVIDER@URL`` whose
URL is a local stand-in for the Hub's router; asked through gradio_client end to end, the
token (``HF_TOKEN``) reaches the router and nothing else. ZeroGPU: the app is built and a
tiny transformers model asked (1) with ``spaces`` made unimportable, (2) with the real
``spaces`` package off ZeroGPU (its decorator is the identity), (3) with a stand-in
``spaces`` module and ``SPACES_ZERO_GPU=true``, recording that the model was loaded at start
and that generation ran inside ``spaces.GPU(duration=...)``. The real package's ZeroGPU
branch needs the Hub's device API, so (3) replaces it (sys.modules stub).
"""

from __future__ import annotations

import sys
import types

import pytest

from medqdeg.dataset_builder.errors import InvalidInputError
from tests.eval_harness.servers import stand_in_router

from .conftest import GRADIO_PANDAS_WARNINGS, launched

gr = pytest.importorskip("gradio")
pytestmark = GRADIO_PANDAS_WARNINGS

TOKEN = "hf_fakeSpaceTokenForTheStandIn0123456"
MODEL = "Qwen/Qwen2.5-VL-7B-Instruct:hyperbolic"
ITEM = "embedded-ct_head-modality"


def ask_values(model: str, samples: int = 2) -> list:
    return [model, ITEM, None, "Which imaging modality is this?", "CT\nMRI\nUltrasound", "A", "CT", "low_dose",
            samples, 0]


def test_provider_entries_parse():
    from medqdeg.space.settings import from_environment, parse_model

    entry = parse_model(f"qwen=inference-providers:{MODEL}")
    assert (entry.label, entry.backend, entry.model, entry.base_url) == ("qwen", "inference-providers", MODEL, None)
    settings = from_environment({"MEDQDEG_SPACE_MODELS": "inference-providers:org/name@http://127.0.0.1:5/v1",
                                 "MEDQDEG_SPACE_GPU_DURATION": "30"})
    assert settings.models[0].base_url == "http://127.0.0.1:5/v1" and settings.gpu_duration == 30
    with pytest.raises(InvalidInputError, match=r"models.*inference-providers:ORG/NAME"):
        parse_model("inference-providers:no-org")
    with pytest.raises(InvalidInputError, match="MEDQDEG_SPACE_GPU_DURATION"):
        from_environment({"MEDQDEG_SPACE_GPU_DURATION": "0"})


def test_space_asks_a_provider_model_through_the_stand_in_router(monkeypatch):
    from gradio_client import Client

    from medqdeg.space.settings import SpaceSettings, parse_models

    monkeypatch.setenv("HF_TOKEN", TOKEN)
    with stand_in_router(["B", "The answer is A", "C"]) as router:
        settings = SpaceSettings(models=parse_models([f"qwen=inference-providers:{MODEL}@{router.base_url}"]),
                                 device="cpu")
        with launched(settings) as url:
            client = Client(url, verbose=False)
            gallery, _, text = client.predict(*ask_values("qwen", samples=2), api_name="/ask")
            page = client.view_api(print_info=False, return_format="str") or ""
        bodies = router.chat_bodies()
    assert len(gallery) == 3 and "**qwen**" in text
    rows = [line for line in text.splitlines() if line.startswith("| L")]
    assert len(rows) == 3 and all(len(row.split("|")[3].split()) == 2 for row in rows)  # T letters per level
    assert len(bodies) == 6 and {b["model"] for b in bodies} == {MODEL}  # 3 levels x 2 fill-up requests
    assert {r["authorization"] for r in router.requests} == {f"Bearer {TOKEN}"}
    assert TOKEN not in text and TOKEN not in page


# ----------------------------------------------------------------------------- ZeroGPU


def _ask_tiny(settings):
    from medqdeg.space import ask_tab
    from medqdeg.space.app import build_app

    build_app(settings)  # builds (and on ZeroGPU preloads) like the Space does
    pool = ask_tab.ModelPool(settings)
    if pool.zero_gpu:
        pool.preload()
    item = ask_tab.get_item(ITEM)
    entry = settings.allowlist[1]
    return pool, ask_tab.ask(pool, entry, ask_tab.item_image(item), item.question, item.options, item.answer,
                             "low_dose", "CT", 0, 2)


def test_without_spaces_the_app_runs_on_cpu(monkeypatch, tiny_model):
    from medqdeg.space import zerogpu
    from medqdeg.space.settings import SpaceSettings, parse_models

    monkeypatch.setitem(sys.modules, "spaces", None)  # `import spaces` raises ImportError
    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    assert zerogpu.gpu_function(len, 60) is len
    settings = SpaceSettings(models=parse_models([f"tiny={tiny_model}"]), device="auto")
    pool, result = _ask_tiny(settings)
    assert not pool.zero_gpu and [len(level.texts) for level in result.levels] == [2, 2, 2]
    assert str(next(iter(pool._backends.values())).device) == "cpu"
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    with pytest.raises(InvalidInputError, match=r"SPACES_ZERO_GPU.*spaces"):
        zerogpu.gpu_function(len, 60)


def test_with_the_real_spaces_package_off_zero_gpu(monkeypatch, tiny_model):
    spaces = pytest.importorskip("spaces")
    from medqdeg.space import zerogpu
    from medqdeg.space.settings import SpaceSettings, parse_models

    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    assert not spaces.config.Config.zero_gpu
    assert zerogpu.gpu_function(len, 60) is len  # spaces.GPU is the identity off ZeroGPU
    _, result = _ask_tiny(SpaceSettings(models=parse_models([f"tiny={tiny_model}"]), device="cpu"))
    assert [len(level.texts) for level in result.levels] == [2, 2, 2]


def test_on_zero_gpu_the_model_loads_at_start_and_runs_inside_spaces_gpu(monkeypatch, tiny_model):
    from medqdeg.space import ask_tab
    from medqdeg.space.settings import SpaceSettings, parse_models

    calls: list = []

    def GPU(duration=None):  # the spaces package's name
        def decorate(function):
            def wrapped(backend, queries, generation):
                calls.append(("gpu", duration, type(backend).__name__, len(queries)))
                return function(backend, queries, generation)
            return wrapped
        calls.append(("decorate", duration))
        return decorate

    monkeypatch.setitem(sys.modules, "spaces", types.SimpleNamespace(GPU=GPU))
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    built = []
    real_build = ask_tab.build_backend
    monkeypatch.setattr(ask_tab, "build_backend",
                        lambda kind, model, **options: built.append((kind, options)) or real_build(kind, model, **options))
    settings = SpaceSettings(models=parse_models([f"tiny={tiny_model}"]), device="cpu", gpu_duration=45)
    pool = ask_tab.ModelPool(settings)
    assert pool.zero_gpu and ("decorate", 45) in calls
    pool.preload()
    assert [kind for kind, _ in built] == ["transformers"] and not [c for c in calls if c[0] == "gpu"]
    item = ask_tab.get_item(ITEM)
    result = ask_tab.ask(pool, settings.allowlist[1], ask_tab.item_image(item), item.question, item.options,
                         item.answer, "low_dose", "CT", 0, 2)
    assert [len(level.texts) for level in result.levels] == [2, 2, 2]
    assert [c for c in calls if c[0] == "gpu"] == [("gpu", 45, "TransformersBackend", 3)]
    assert len(built) == 1  # loaded once, at start
    ask_tab.ask(pool, settings.allowlist[0], ask_tab.item_image(item), item.question, item.options,
                item.answer, "low_dose", "CT", 0, 2)  # the chance baseline does not take the GPU
    assert len([c for c in calls if c[0] == "gpu"]) == 1
    auto = ask_tab.ModelPool(SpaceSettings(models=settings.models, device="auto"))
    monkeypatch.setattr(ask_tab, "build_backend", lambda kind, model, **options: built.append((kind, options)))
    auto.backend(settings.allowlist[1])
    assert built[-1][1]["device"] == "cuda"  # `auto` on ZeroGPU: the GPU spaces attaches


def test_leaderboard_shows_the_paper_beside_the_runs(runs_dir):
    from gradio_client import Client

    from medqdeg.space.settings import SpaceSettings

    with launched(SpaceSettings(runs=str(runs_dir), device="cpu")) as url:
        client = Client(url, verbose=False)
        _, plain, _, _ = client.predict("acc L0", True, False, api_name="/leaderboard")
        status, table, _, gallery = client.predict("acc L0", True, True, api_name="/leaderboard")
    names = [row[0] for row in table["data"]]
    assert not any(str(name).startswith("paper: ") for name in (row[0] for row in plain["data"]))
    assert len(names) == len(plain["data"]) + 9 and names[0] == "paper: InternVL3-78B"  # 74.04, the top
    gpt4o = table["data"][names.index("paper: GPT-4o")]
    assert gpt4o[3:6] == [66.98, 65.22, 59.73] and gpt4o[6:11] == [None] * 5
    assert "published overall accuracies" in status
    assert gallery and all(not entry["caption"].startswith("paper: ") for entry in gallery)  # plots are the runs' only
