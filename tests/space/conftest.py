"""Fixtures of the Space tests: image files (good and bad), harness run folders, a tiny model.

Gradio reads its settings when imported, so they are set here, before any test module
imports it: no analytics, and its upload/output cache in a temporary folder.
"""

from __future__ import annotations

import os
import struct
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["GRADIO_TEMP_DIR"] = tempfile.mkdtemp(prefix="medqdeg-test-gradio-")
os.environ.setdefault("MPLBACKEND", "Agg")

# Gradio's queue calls pandas APIs that pandas 3 deprecates; not ours to fix.
GRADIO_PANDAS_WARNINGS = [
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting' is deprecated"),
]

SECRET = "sk-test-Space-secret-0123456789"
"""A fake API key put into the server's environment: it must never reach a page."""


def bomb_png(path: Path, width: int = 40_000, height: int = 40_000) -> Path:
    """A 1x1 PNG whose header claims ``width`` x ``height`` pixels (valid CRC)."""
    Image.new("L", (1, 1)).save(path)
    data = bytearray(path.read_bytes())
    start = data.index(b"IHDR")
    data[start + 4:start + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[start:start + 17]))
    data[start + 17:start + 21] = struct.pack(">I", crc)
    path.write_bytes(bytes(data))
    return path


@pytest.fixture(scope="session")
def image_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Uploads: 8-bit PNG, 16-bit PNG, JPEG, DICOM (pydicom's CT), corrupt, bomb, oversized."""
    from pydicom.data import get_testdata_file

    from medqdeg.dataset_builder.sample_images import load_sample

    folder = tmp_path_factory.mktemp("uploads")
    fundus = load_sample("fundus_retina").image
    Image.fromarray(fundus).save(folder / "fundus.png")
    Image.fromarray(fundus).save(folder / "fundus.jpg", quality=90)
    ramp = (np.add.outer(np.arange(64), np.arange(96)) * 300).astype(np.uint16)
    Image.fromarray(ramp).save(folder / "ramp16.png")
    (folder / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(2000))
    (folder / "notes.png").write_bytes(b"just some text, not an image\n" * 10)
    bomb_png(folder / "bomb.png")
    Image.new("L", (900, 900), 128).save(folder / "large.png")  # over the tests' 600x600 pixel limit
    (folder / "huge.dcm").write_bytes(b"\0" * 128 + b"DICM" + os.urandom(3 * 1024 * 1024))  # over 2 MiB
    return {
        "png": folder / "fundus.png", "jpeg": folder / "fundus.jpg", "png16": folder / "ramp16.png",
        "dicom": Path(get_testdata_file("CT_small.dcm")), "corrupt": folder / "corrupt.png",
        "text": folder / "notes.png", "bomb": folder / "bomb.png", "large": folder / "large.png",
        "huge": folder / "huge.dcm",
    }


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two run folders written by the harness with the chance baseline (3 clean items)."""
    from medqdeg.eval_harness.run import EvalConfig, evaluate

    root = tmp_path_factory.mktemp("runs")
    cache = tmp_path_factory.mktemp("datasets-cache")
    evaluate(EvalConfig(limit=3, output=root / "chance", cache_dir=str(cache)))
    evaluate(EvalConfig(limit=3, samples=5, seed=1, output=root / "chance-T5", cache_dir=str(cache)))
    return root


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random LLaVA saved like a Hub checkpoint (built offline)."""
    pytest.importorskip("transformers")
    from tests.eval_harness.tiny_models import build_tiny_model

    return build_tiny_model("llava", tmp_path_factory.mktemp("tiny") / "llava")


@contextmanager
def launched(settings) -> Iterator[str]:
    """The Space built with ``settings`` and served on 127.0.0.1; yields its URL, closes it after."""
    from medqdeg.space.app import build_app, launch_options

    demo = build_app(settings)
    demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True, **launch_options(settings))
    try:
        yield demo.local_url
    finally:
        demo.close()
