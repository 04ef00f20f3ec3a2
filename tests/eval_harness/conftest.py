"""Fixtures for the evaluation-harness tests: tiny offline vision-language models.

``tiny_models`` maps each kind ("llava", "idefics3", "paligemma") to a model folder
built once per test session (about 0.5 s for all three); ``tiny_model_dir(kind)`` gives
one of them. The folders load through ``AutoProcessor`` / ``AutoModelForImageTextToText``
exactly as a Hub model would, with no network.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .tiny_models import KINDS, build_tiny_model


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    pytest.importorskip("transformers")
    root = tmp_path_factory.mktemp("tiny-vlms")
    return {kind: build_tiny_model(kind, root / kind) for kind in KINDS}


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_models: dict[str, Path]) -> Callable[[str], Path]:
    def get(kind: str) -> Path:
        return tiny_models[kind]

    return get
