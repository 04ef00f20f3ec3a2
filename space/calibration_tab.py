"""The Calibration tab: the Calibration Shift calculator of the metric module.

Same input as the metric Space (``metrics/calibration_shift/app.py``): one item per line
as CSV with a header, either ``samples,reference,num_options[,group]`` (samples are
letters or indices separated by spaces, ``?`` for an unparseable one) or
``probabilities,reference[,group]``, parsed by ``medqdeg.metrics.pasted`` as the metric
Space does. The figures come from ``medqdeg.metrics.calibration.calibration_report``, the
function the ``calibration_shift`` evaluate module calls, so the numbers are the
module's (without needing ``evaluate`` in the Space).
"""

from __future__ import annotations

from typing import Any

from medqdeg.metrics.calibration import calibration_report
from medqdeg.metrics.pasted import (
    EXAMPLE_PROBABILITIES,
    EXAMPLE_SAMPLES,
    parse_calibration_table,
    summary_markdown,
)

__all__ = ["EXAMPLE_PROBABILITIES", "EXAMPLE_SAMPLES", "compute", "summary_markdown"]


def compute(text: str | None, accuracy: str = "majority", unparseable: str = "count") -> dict[str, Any]:
    """Calibration Shift and its companions for the pasted items."""
    return calibration_report(**parse_calibration_table(text), accuracy=accuracy, unparseable=unparseable)
