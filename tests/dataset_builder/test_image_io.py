"""Image input and output: size limits and PNG bytes (files, DICOM and base64 are tested
through the command line, the sources and the Space's uploads)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.dataset_builder.image_io import png_bytes, shrink


def test_shrink_keeps_depth():
    big = Image.fromarray((np.arange(2000 * 100) % 60000).astype(np.uint16).reshape(100, 2000))
    small, shrunk = shrink(big, 500)
    assert shrunk and small.size == (500, 25) and small.mode == "I;16"
    array, shrunk = shrink(np.zeros((300, 200, 3), np.uint8), 1024)
    assert not shrunk and array.shape == (300, 200, 3)


def test_shrink_keeps_the_shorter_side_at_least_min_side():
    thin = np.zeros((8, 4000), np.uint8)
    assert shrink(thin, 1000)[0].shape == (2, 1000)
    assert shrink(thin, 1000, min_side=8)[0].shape == (8, 1000)


def test_png_bytes_are_lossless_in_the_image_depth():
    rng = np.random.default_rng(0)
    sixteen = rng.integers(0, 65536, (20, 30), dtype=np.uint16)
    decoded = Image.open(io.BytesIO(png_bytes(Image.fromarray(sixteen))))
    assert np.array_equal(np.asarray(decoded), sixteen)
    cmyk = Image.fromarray(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)).convert("CMYK")
    assert Image.open(io.BytesIO(png_bytes(cmyk))).mode == "RGB"  # PNG has no CMYK


def test_png_bytes_refuses_float_pixels_instead_of_truncating_them():
    ramp = np.linspace(0.0, 1.0, 64, dtype=np.float32).reshape(8, 8)
    with pytest.raises(InvalidInputError, match="floating-point"):
        png_bytes(ramp)
