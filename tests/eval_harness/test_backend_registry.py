"""The backends' registry: lazy entries, the chance baseline without a model, the CLI's and
the Space's choices."""

from __future__ import annotations

import subprocess
import sys

import pytest

from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.dataset_builder.sources import SOURCES
from medqdeg.eval_harness.backends import BACKENDS, build_backend
from medqdeg.eval_harness.backends.chance import ChanceBackend
from medqdeg.eval_harness.cli import build_parser
from medqdeg.space.settings import ModelEntry, SpaceSettings


def test_the_backends():
    assert BACKENDS.names() == ["chance", "inference-providers", "openai", "transformers"]
    assert [name for name in BACKENDS.names() if BACKENDS.metadata(name)["needs_model"]] == [
        "inference-providers", "openai", "transformers"]


def test_chance_needs_no_model_and_ignores_options():
    assert isinstance(build_backend("chance", None), ChanceBackend)
    assert isinstance(build_backend("chance", "any", base_url="http://x"), ChanceBackend)


@pytest.mark.parametrize("kind", ["transformers", "openai", "inference-providers"])
def test_a_model_backend_without_a_model_is_refused(kind):
    with pytest.raises(InvalidInputError, match=rf"field `model` is missing; expected a model id or folder for the {kind}"):
        build_backend(kind, None)


def test_an_unknown_backend_lists_the_backends():
    with pytest.raises(InvalidInputError, match=r"field `backend` is 'vllm', an unknown backend; expected one of "
                                                r"chance, inference-providers, openai, transformers"):
        build_backend("vllm", "m")


def test_listing_the_backends_imports_none_of_them():
    code = ("import sys; from medqdeg.eval_harness.backends import BACKENDS; BACKENDS.names(); "
            "print(sorted(m for m in sys.modules if m.startswith(('medqdeg', 'torch', 'transformers', 'openai'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for module in ("chance", "transformers_backend", "openai_backend", "inference_providers"):
        assert f"medqdeg.eval_harness.backends.{module}'" not in loaded
    assert "'torch'" not in loaded and "'transformers'" not in loaded


def test_the_cli_choices_come_from_the_registries(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "1000")  # no line wrapping inside the lists
    with pytest.raises(SystemExit):
        build_parser().parse_args(["evaluate", "--help"])
    shown = capsys.readouterr().out
    assert "{" + ",".join(["auto", *BACKENDS.names()]) + "}" in shown
    assert f"clean source: {', '.join(SOURCES.names())}" in shown


def test_the_space_accepts_the_registered_backends_only():
    entry = ModelEntry(label="m", backend="openai", model="m")
    assert SpaceSettings(models=(entry,)).models == (entry,)
    with pytest.raises(InvalidInputError, match=r"has backend 'vllm'; expected one of chance, inference-providers"):
        SpaceSettings(models=(ModelEntry(label="m", backend="vllm", model="m"),))
