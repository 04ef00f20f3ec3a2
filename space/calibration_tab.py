"""The Calibration tab: the Calibration Shift calculator of the metric module.

Same input as the metric Space (``metrics/calibration_shift/app.py``): one item per line
as CSV with a header, either ``samples,reference,num_options[,group]`` (samples are
letters or indices separated by spaces, ``?`` for an unparseable one) or
``probabilities,reference[,group]``. The figures come from
``medqdeg.metrics.calibration.calibration_report``, the function the ``calibration_shift``
evaluate module calls, so the numbers are the module's. (The metric Space's file is not
imported: it is not part of the installed package and needs ``evaluate``, which a Space
would then have to install for no gain.)
"""

from __future__ import annotations

import csv
import io
from typing import Any

from medqdeg.metrics.calibration import calibration_report

from .safety import SpaceError

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


def _answer(token: str) -> int | str | None:
    token = token.strip()
    if token.lower() in UNPARSEABLE_MARKS:
        return None
    return int(token) if token.lstrip("-").isdigit() else token


def _number(text: str, kind, what: str, line: int):
    try:
        return kind(text)
    except (TypeError, ValueError):
        raise SpaceError(f"Line {line}: {what} {text!r} is not a number.") from None


def parse_table(text: str | None) -> dict[str, Any]:
    """CSV text to ``calibration_report`` keyword arguments (the kind from the header)."""
    text = (text or "").strip()
    if len(text) > MAX_TABLE_CHARS:
        raise SpaceError(f"The table has {len(text):,} characters; at most {MAX_TABLE_CHARS:,}.")
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows:
        raise SpaceError("Paste a header line and at least one item.")
    header = set(rows[0])
    if "reference" not in header:
        raise SpaceError("The header needs a `reference` column.")
    kwargs: dict[str, Any] = {}
    if "samples" in header:
        if "num_options" not in header:
            raise SpaceError("With `samples`, the header needs a `num_options` column.")
        kwargs["samples"] = [[_answer(t) for t in (row["samples"] or "").split()] for row in rows]
        kwargs["num_options"] = [_number(row["num_options"], int, "num_options", i + 2) for i, row in enumerate(rows)]
    elif "probabilities" in header:
        kwargs["probabilities"] = [[_number(t, float, "probability", i + 2) for t in (row["probabilities"] or "").split()]
                                   for i, row in enumerate(rows)]
    else:
        raise SpaceError("The header needs a `samples` or a `probabilities` column.")
    kwargs["references"] = [_answer(row["reference"] or "") for row in rows]
    if "group" in header:
        kwargs["groups"] = [(row["group"] or "").strip() for row in rows]
    return kwargs


def compute(text: str | None, accuracy: str = "majority", unparseable: str = "count") -> dict[str, Any]:
    """Calibration Shift and its companions for the pasted items."""
    return calibration_report(**parse_table(text), accuracy=accuracy, unparseable=unparseable)


def summary_markdown(result: dict[str, Any]) -> str:
    lines = ["| group | " + " | ".join(FIGURES) + " | items |", "|---" * (len(FIGURES) + 2) + "|"]
    for label, figures in [("all", result), *result.get("per_group", {}).items()]:
        lines.append(f"| {label} | " + " | ".join(f"{figures[name]:.4f}" for name in FIGURES)
                     + f" | {figures['num_items']} |")
    verdict = result.get("dunning_kruger")
    if verdict is not None:
        lines += ["", "**Dunning-Kruger effect (Acc(L0) > Acc(L2) and Shift(L0) <= Shift(L2)): "
                  + ("yes" if verdict["effect"] else "no") + "**"]
    return "\n".join(lines)
