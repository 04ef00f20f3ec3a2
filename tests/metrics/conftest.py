"""Metrics tests: evaluate's caches in a temporary folder, offline, and shared helpers.

evaluate copies module files into ``HF_MODULES_CACHE`` and writes its Arrow buffers to
``HF_METRICS_CACHE``; both are read when evaluate is imported, so they are set here, at
import time, and patched into ``evaluate.config`` if evaluate was imported earlier.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

_CACHE = tempfile.mkdtemp(prefix="medqdeg-metrics-hf-")
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)

_PATHS = {
    "HF_MODULES_CACHE": os.path.join(_CACHE, "modules"),
    "HF_METRICS_CACHE": os.path.join(_CACHE, "metrics"),
    "HF_EVALUATE_CACHE": os.path.join(_CACHE, "evaluate"),
}
os.environ.setdefault("HF_HOME", _CACHE)
os.environ.update(_PATHS)
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_EVALUATE_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

if "evaluate" in sys.modules:  # imported by an earlier test module: point it here too
    import evaluate.config

    for _name, _value in _PATHS.items():
        setattr(evaluate.config, _name, Path(_value))
    evaluate.config.HF_EVALUATE_OFFLINE = True

REPO = Path(__file__).resolve().parents[2]
METRICS = REPO / "metrics"


def metric_dir(name: str) -> str:
    """Absolute path of a repository metric folder, as evaluate.load takes it."""
    return str(METRICS / name)


@pytest.fixture(scope="session")
def cache_dir() -> str:
    return _CACHE
