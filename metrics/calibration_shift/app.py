"""Gradio Blocks app for the Calibration Shift metric (the metric Space's front page).

evaluate's ``launch_gradio_widget`` uses Gradio 3 APIs and fails on Gradio 4 and later,
so the page is built here with ``gr.Blocks``. Paste one item per line as CSV with a header:

- ``samples,reference,num_options[,group]``: samples are letters or indices separated by
  spaces, ``?`` for an unparseable sample; or
- ``probabilities,reference[,group]``: probabilities separated by spaces, one per option.

Run ``python app.py`` to serve it.
"""

import json
from functools import lru_cache
from pathlib import Path

import evaluate
import gradio as gr

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
    try:
        kwargs = metric_arguments(text)
        metric = load_metric(kwargs.pop("config_name"))
        result = metric.compute(**kwargs, accuracy=accuracy, unparseable=unparseable)
    except (KeyError, ValueError) as error:
        raise gr.Error(str(error)) from error
    return json.loads(json.dumps(result)), summary_markdown(result)


def build_demo() -> gr.Blocks:
    with gr.Blocks(title="Calibration Shift") as demo:
        gr.Markdown(
            "# Calibration Shift (MedQ-Deg)\n"
            "Confidence = consistency of T sampled answers, C = 1 - H/ln K; "
            "Calibration Shift = mean C - accuracy (> 0: overconfident). "
            "One item per line; `?` marks an unparseable sample. Groups L0/L1/L2 give the "
            "Dunning-Kruger verdict."
        )
        table = gr.Textbox(label="Items (CSV)", value=EXAMPLE_SAMPLES, lines=10)
        with gr.Row():
            accuracy = gr.Radio(["majority", "samples"], value="majority", label="accuracy")
            unparseable = gr.Radio(["count", "ignore"], value="count", label="unparseable")
        gr.Examples([[EXAMPLE_SAMPLES], [EXAMPLE_PROBABILITIES]], inputs=[table])
        button = gr.Button("Compute", variant="primary")
        summary = gr.Markdown()
        output = gr.JSON(label="Result")
        button.click(compute, inputs=[table, accuracy, unparseable], outputs=[output, summary])
    return demo


if __name__ == "__main__":
    build_demo().launch()
