"""Gradio Blocks app for the MedQ-Deg accuracy metric (the metric Space's front page, laid
out by ``medqdeg.metrics.metric_page``). Paste one item per line as CSV with a header: ``prediction`` (one letter/index, or several separated by spaces for T samples,
``?`` for unparseable) and ``reference`` are required; ``severity`` (L0/L1/L2) and
``clean_id`` give the paired drops; every other column is a grouping column.

Run ``python app.py`` to serve it.
"""

import csv
import io
from functools import lru_cache
from pathlib import Path

import evaluate
import gradio as gr

from medqdeg.metrics.metric_page import metric_page, page_result
from medqdeg.metrics.modules import module_script

HERE = Path(__file__).resolve().parent

EXAMPLE = """prediction,reference,severity,clean_id,modality
A,A,L0,x1,CT
B,B,L0,x2,MRI
C,C,L0,x3,CT
A,A,L1,x1,CT
B,C,L1,x2,MRI
C,C,L1,x3,CT
D,A,L2,x1,CT
B,C,L2,x2,MRI
C,C,L2,x3,CT
"""

UNPARSEABLE_MARKS = {"?", "-", "none", "null", "na", ""}
SPECIAL = {"prediction", "reference", "severity", "clean_id"}


@lru_cache(maxsize=1)
def load_metric():
    return evaluate.load(str(module_script(HERE)))


def _answer(token: str):
    token = token.strip()
    if token.lower() in UNPARSEABLE_MARKS:
        return None
    return int(token) if token.lstrip("-").isdigit() else token


def parse_table(text: str) -> dict:
    """CSV text to the metric's keyword arguments."""
    rows = list(csv.DictReader(io.StringIO(text.strip())))
    if not rows:
        raise gr.Error("Paste a header line and at least one item.")
    header = list(rows[0])
    if "prediction" not in header or "reference" not in header:
        raise gr.Error("The header needs `prediction` and `reference` columns.")
    predictions = [[_answer(t) for t in (row["prediction"].split() or ["?"])] for row in rows]
    if all(len(p) == 1 for p in predictions):
        predictions = [p[0] for p in predictions]
    kwargs: dict = {"predictions": predictions, "references": [_answer(row["reference"]) for row in rows]}
    if "severity" in header:
        kwargs["severities"] = [row["severity"].strip() for row in rows]
    if "clean_id" in header:
        kwargs["clean_ids"] = [row["clean_id"].strip() for row in rows]
    groups = {name: [row[name].strip() for row in rows] for name in header if name not in SPECIAL}
    if groups:
        kwargs["groups"] = groups
    return kwargs


def _interval(ci) -> str:
    return "" if ci is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def summary_markdown(result: dict) -> str:
    lines = [
        f"**Accuracy {result['accuracy']:.4f}** {_interval(result['accuracy_ci'])} over {result['num_items']} items",
        "",
    ]
    if result["drops"]:
        for name, drop in result["drops"].items():
            value = "n/a" if drop["drop"] is None else f"{drop['drop']:+.4f}"
            lines.append(f"- drop {name}: {value} {_interval(drop['ci'])} over {drop['num_pairs']} pairs")
        lines.append("")
    for column, table in result["by"].items():
        lines.append(f"| {column} | accuracy | 95% interval | items |")
        lines.append("|---|---|---|---|")
        for label, row in table["groups"].items():
            lines.append(f"| {label} | {row['accuracy']:.4f} | {_interval(row['accuracy_ci'])} | {row['num_items']} |")
        lines.append(
            f"| *mean over groups* | {table['mean_over_groups']:.4f} | {_interval(table['mean_over_groups_ci'])} | |"
        )
        lines.append("")
    return "\n".join(lines)


def compute(text: str, accuracy: str, n_bootstrap: float, seed: float):
    """The button's callback: returns (result as a dict, summary as Markdown)."""
    def result() -> dict:
        kwargs = parse_table(text)
        return load_metric().compute(**kwargs, accuracy=accuracy, n_bootstrap=int(n_bootstrap), seed=int(seed))

    return page_result(result, summary_markdown)


def controls() -> list:
    return [gr.Radio(["majority", "samples"], value="majority", label="accuracy (with samples)"),
            gr.Number(value=1000, precision=0, label="bootstrap resamples"),
            gr.Number(value=0, precision=0, label="seed")]


def build_demo() -> gr.Blocks:
    return metric_page(
        title="MedQ-Deg accuracy",
        markdown="# MedQ-Deg accuracy\n"
                 "Accuracy overall and per group, paired drops L1-L0 and L2-L0 (matched through "
                 "`clean_id`), unweighted means over groups and seeded bootstrap intervals.",
        examples=(EXAMPLE,), lines=12, controls=controls, compute=compute)


if __name__ == "__main__":
    build_demo().launch()
