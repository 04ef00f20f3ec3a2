"""Gradio Blocks app for the Calibration Shift metric (the metric Space's front page).

evaluate's ``launch_gradio_widget`` uses Gradio 3 APIs and fails on Gradio 4 and later,
so the page is built here with ``gr.Blocks``. Paste one item per line as CSV with a header:

- ``samples,reference,num_options[,group]``: samples are letters or indices separated by
  spaces, ``?`` for an unparseable sample; or
- ``probabilities,reference[,group]``: probabilities separated by spaces, one per option.

Run ``python app.py`` to serve it.
"""

import csv
import io
import json
from functools import lru_cache
from pathlib import Path

import evaluate
import gradio as gr

HERE = Path(__file__).resolve().parent

EXAMPLE_SAMPLES = """samples,reference,num_options,group
A A B,A,4,L0
B B B,B,4,L0
C C ?,A,4,L2
A B C,A,4,L2
"""

EXAMPLE_PROBABILITIES = """probabilities,reference,group
0.9 0.05 0.05,A,L0
0.2 0.7 0.1,B,L0
0.1 0.1 0.8,A,L2
0.5 0.5,A,L2
"""

UNPARSEABLE_MARKS = {"?", "-", "none", "null", "na", ""}


@lru_cache(maxsize=2)
def load_metric(config_name: str):
    return evaluate.load(str(HERE), config_name)


def _answer(token: str):
    token = token.strip()
    if token.lower() in UNPARSEABLE_MARKS:
        return None
    return int(token) if token.lstrip("-").isdigit() else token


def parse_table(text: str) -> dict:
    """CSV text to the metric's keyword arguments (the configuration from the header)."""
    rows = list(csv.DictReader(io.StringIO(text.strip())))
    if not rows:
        raise gr.Error("Paste a header line and at least one item.")
    header = set(rows[0])
    kwargs: dict = {}
    if "samples" in header:
        kwargs["config_name"] = "samples"
        kwargs["predictions"] = [[_answer(t) for t in row["samples"].split()] for row in rows]
        kwargs["num_options"] = [int(row["num_options"]) for row in rows]
    elif "probabilities" in header:
        kwargs["config_name"] = "probabilities"
        kwargs["predictions"] = [[float(t) for t in row["probabilities"].split()] for row in rows]
    else:
        raise gr.Error("The header needs a `samples` or a `probabilities` column.")
    references = [_answer(row["reference"]) for row in rows]
    kwargs["references"] = references
    if "group" in header:
        kwargs["groups"] = [row["group"].strip() for row in rows]
    return kwargs


def summary_markdown(result: dict) -> str:
    names = ["calibration_shift", "mean_confidence", "accuracy", "sample_accuracy", "ece", "brier_score", "aurc"]
    lines = ["| group | " + " | ".join(names) + " | items |", "|---" * (len(names) + 2) + "|"]
    rows = [("all", result), *result.get("per_group", {}).items()]
    for label, figures in rows:
        cells = " | ".join(f"{figures[name]:.4f}" for name in names)
        lines.append(f"| {label} | {cells} | {figures['num_items']} |")
    verdict = result.get("dunning_kruger")
    if verdict is not None:
        lines.append("")
        lines.append(
            "**Dunning-Kruger effect (Acc(L0) > Acc(L2) and Shift(L0) <= Shift(L2)): "
            + ("yes" if verdict["effect"] else "no")
            + "**"
        )
    return "\n".join(lines)


def compute(text: str, accuracy: str, unparseable: str):
    """The button's callback: returns (result as a dict, summary as Markdown)."""
    try:
        kwargs = parse_table(text)
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
