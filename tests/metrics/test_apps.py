"""The metric Spaces' Gradio apps: build the Blocks and call the callbacks (no server)."""

from __future__ import annotations

import importlib.util

import pytest

from .conftest import METRICS

gr = pytest.importorskip("gradio")


def load_app(name: str):
    spec = importlib.util.spec_from_file_location(f"_app_{name}", METRICS / name / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_calibration_shift_app():
    app = load_app("calibration_shift")
    assert isinstance(app.build_demo(), gr.Blocks)
    result, summary = app.compute(app.EXAMPLE_SAMPLES, "majority", "count")
    assert result["num_items"] == 4 and result["num_unparseable"] == 1
    assert result["accuracy"] == pytest.approx((1 + 1 + 0 + 1 / 3) / 4)
    assert result["dunning_kruger"]["effect"] is True
    assert "| L2 |" in summary and "Dunning-Kruger" in summary
    result, _ = app.compute(app.EXAMPLE_PROBABILITIES, "samples", "count")
    assert result["sample_accuracy"] == pytest.approx((0.9 + 0.7 + 0.1 + 0.5) / 4)
    with pytest.raises(gr.Error, match="num_options"):
        app.compute("samples,reference,num_options\nA B,A,1\n", "majority", "count")


def test_medqdeg_accuracy_app():
    app = load_app("medqdeg_accuracy")
    assert isinstance(app.build_demo(), gr.Blocks)
    result, summary = app.compute(app.EXAMPLE, "majority", 100, 0)
    assert result["accuracy"] == pytest.approx(6 / 9)
    assert result["drops"]["L2-L0"]["drop"] == pytest.approx(-2 / 3)
    assert set(result["by"]) == {"modality", "severity"}
    assert "drop L1-L0" in summary and "| CT |" in summary
    with pytest.raises(gr.Error, match="prediction"):
        app.compute("answer,reference\nA,A\n", "majority", 0, 0)
