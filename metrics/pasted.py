"""Items pasted as CSV text, as the Gradio calculators take them: parsing and a summary.

One line per item. Sampled answers: columns ``samples`` (space-separated letters or
option indices; ``?``, ``-``, ``none``, ``na`` or nothing mark an unparseable sample),
``reference``, ``num_options`` and an optional ``group``. Letter distributions: columns
``probabilities`` (space-separated), ``reference`` and an optional ``group``. The result
is the keyword arguments of ``calibration.calibration_report``.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from .validation import MetricInputError

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
MAX_TABLE_CHARS = 1_000_000
FIGURES = ("calibration_shift", "mean_confidence", "accuracy", "sample_accuracy", "ece", "brier_score", "aurc")


def _fail(field: str, problem: str, expected: str, line: int | None = None) -> None:
    raise MetricInputError(field, problem, expected, item=f"line {line}" if line else None)


def _answer(token: str) -> int | str | None:
    token = token.strip()
    if token.lower() in UNPARSEABLE_MARKS:
        return None
    return int(token) if token.lstrip("-").isdigit() else token


def _number(text: str, kind, field: str, line: int):
    try:
        return kind(text)
    except (TypeError, ValueError):
        _fail(field, f"is {text!r}, not a number", "a number", line)


def parse_calibration_table(text: str | None) -> dict[str, Any]:
    """CSV text to ``calibration_report`` keyword arguments (samples or probabilities, from the header)."""
    text = (text or "").strip()
    if len(text) > MAX_TABLE_CHARS:
        _fail("table", f"has {len(text):,} characters", f"at most {MAX_TABLE_CHARS:,}")
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows:
        _fail("table", "is empty", "a header line and at least one item")
    header = set(rows[0])
    if "reference" not in header:
        _fail("header", f"is {sorted(header)}", "a `reference` column")
    kwargs: dict[str, Any] = {}
    if "samples" in header:
        if "num_options" not in header:
            _fail("header", "has `samples` but no `num_options`", "a `num_options` column with `samples`")
        kwargs["samples"] = [[_answer(t) for t in (row["samples"] or "").split()] for row in rows]
        kwargs["num_options"] = [_number(row["num_options"], int, "num_options", i + 2) for i, row in enumerate(rows)]
    elif "probabilities" in header:
        kwargs["probabilities"] = [[_number(t, float, "probabilities", i + 2) for t in (row["probabilities"] or "").split()]
                                   for i, row in enumerate(rows)]
    else:
        _fail("header", f"is {sorted(header)}", "a `samples` or a `probabilities` column")
    kwargs["references"] = [_answer(row["reference"] or "") for row in rows]
    if "group" in header:
        kwargs["groups"] = [(row["group"] or "").strip() for row in rows]
    return kwargs


def summary_markdown(result: dict[str, Any]) -> str:
    """The figures overall and per group as a Markdown table, with the Dunning-Kruger verdict."""
    lines = ["| group | " + " | ".join(FIGURES) + " | items |", "|---" * (len(FIGURES) + 2) + "|"]
    for label, figures in [("all", result), *result.get("per_group", {}).items()]:
        lines.append(f"| {label} | " + " | ".join(f"{figures[name]:.4f}" for name in FIGURES)
                     + f" | {figures['num_items']} |")
    verdict = result.get("dunning_kruger")
    if verdict is not None:
        lines += ["", "**Dunning-Kruger effect (Acc(L0) > Acc(L2) and Shift(L0) <= Shift(L2)): "
                  + ("yes" if verdict["effect"] else "no") + "**"]
    return "\n".join(lines)
