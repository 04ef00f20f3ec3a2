"""The engine's edges: every input value reaches [0, 1] as the window says and comes back unchanged."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from medqdeg.dataset_builder.degradations.conversion import from_engine, to_engine


def test_every_eight_bit_value_is_v_over_255_and_comes_back():
    values = np.arange(256, dtype=np.uint8).reshape(16, 16)
    for image in (values, np.dstack([values, values[::-1], values.T]), Image.fromarray(values)):
        engine, fmt = to_engine(image)
        assert engine.dtype == np.float32
        expected = np.asarray(image).astype(np.float64) / 255
        assert np.abs(engine - expected).max() <= 2 ** -24  # the correctly rounded float32 of v / 255
        assert np.array_equal(np.asarray(from_engine(engine, fmt)), np.asarray(image))


@pytest.mark.parametrize("dtype", ["uint16", "int16", "int32"])
def test_wider_integers_span_their_own_range_and_come_back_exactly(dtype):
    info = np.iinfo(dtype)
    low, high = max(info.min, -40000), min(info.max, 65535)
    image = np.random.default_rng(0).integers(low, high, (24, 24), endpoint=True).astype(dtype)
    image[0, 0], image[0, 1] = low, high
    engine, fmt = to_engine(image)
    assert engine.min() == 0.0 and engine.max() == 1.0
    assert np.array_equal(from_engine(engine, fmt), image)


def test_results_outside_zero_one_are_clipped_into_the_dtype():
    _, fmt = to_engine(np.full((8, 8), 65535, np.uint16))  # a constant image: its window passes the maximum
    assert fmt.high > 65535
    pushed = np.full((8, 8), 1.5, np.float32)
    assert (from_engine(pushed, fmt) == 65535).all()
    assert (from_engine(-pushed, fmt) == 65535).all()  # 0 maps to the constant value itself
