"""Gradio Blocks app for the Calibration Shift metric (the metric Space's front page, laid out
by ``medqdeg.metrics.metric_page``). Paste one item per line as CSV with a header:

- ``samples,reference,num_options[,group]``: samples are letters or indices separated by
  spaces, ``?`` for an unparseable sample; or
- ``probabilities,reference[,group]``: probabilities separated by spaces, one per option.

Run ``python app.py`` to serve it.
"""

from functools import lru_cache
from pathlib import Path

import evaluate
import gradio as gr

from medqdeg.metrics.metric_page import metric_page, page_result
from medqdeg.metrics.modules import module_script
from medqdeg.metrics.pasted import (
    EXAMPLE_PROBABILITIES,
    EXAMPLE_SAMPLES,
    parse_calibration_table,
    summary_markdown,
)

HERE = Path(__file__).resolve().parent

@lru_cache(maxsize=2)
def load_metric(config_name: str):
    return evaluate.load(str(module_script(HERE)), config_name)


def metric_arguments(text: str) -> dict:
    """CSV text to the evaluate module's keyword arguments (the configuration from the header)."""
    kwargs = parse_calibration_table(text)
    config_name = "samples" if "samples" in kwargs else "probabilities"
    kwargs["config_name"] = config_name
    kwargs["predictions"] = kwargs.pop(config_name)
    return kwargs


def compute(text: str, accuracy: str, unparseable: str):
    """The button's callback: returns (result as a dict, summary as Markdown)."""
    def result() -> dict:
        kwargs = metric_arguments(text)
        metric = load_metric(kwargs.pop("config_name"))
        return metric.compute(**kwargs, accuracy=accuracy, unparseable=unparseable)

    return page_result(result, summary_markdown)


def controls() -> list:
    return [gr.Radio(["majority", "samples"], value="majority", label="accuracy"),
            gr.Radio(["count", "ignore"], value="count", label="unparseable")]


def build_demo() -> gr.Blocks:
    return metric_page(
        title="Calibration Shift",
        markdown="# Calibration Shift (MedQ-Deg)\n"
                 "Confidence = consistency of T sampled answers, C = 1 - H/ln K; "
                 "Calibration Shift = mean C - accuracy (> 0: overconfident). "
                 "One item per line; `?` marks an unparseable sample. Groups L0/L1/L2 give the "
                 "Dunning-Kruger verdict.",
        examples=(EXAMPLE_SAMPLES, EXAMPLE_PROBABILITIES), lines=10, controls=controls, compute=compute)


if __name__ == "__main__":
    build_demo().launch()
