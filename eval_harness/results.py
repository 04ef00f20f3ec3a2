"""The one reader of a run's ``results.json``, and the figures a leaderboard shows of it.

``report.write_report`` writes ``results.json``; ``report.compare_runs`` (``medqdeg
compare``) and the Space's Leaderboard tab (``space/leaderboard_tab.py``) read it here, with
:func:`read_results`, and take their row from :func:`headline`, so both show the same
numbers for a run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medqdeg.dataset_builder.vocabulary import DROP_NAMES, LEVEL_NAMES

RESULTS_FILE = "results.json"


def read_results(folder: str | Path) -> dict[str, Any]:
    """The results dict of the run folder ``folder``.

    Raises OSError when the file cannot be read and ValueError when it is not JSON; the
    callers word those for their users."""
    return json.loads((Path(folder) / RESULTS_FILE).read_text())


@dataclass(frozen=True)
class Headline:
    """A run's row on a leaderboard; accuracies, drops and shifts as fractions, None where unknown.

    ``accuracy``: at L0, L1, L2; ``drops``: the paired drops L1-L0 and L2-L0 (negative when
    accuracy falls); ``shifts``: Calibration Shift (mean confidence minus accuracy) at L0,
    L1, L2; ``verdict``: the paired Dunning-Kruger verdict, None without calibration.
    """

    model: str
    num_items: int
    accuracy: list[float | None]
    drops: list[float | None]
    shifts: list[float | None]
    verdict: str | None


def dunning_kruger_verdict(calibration: dict[str, Any]) -> str | None:
    """The run's Dunning-Kruger verdict as its report states it: "yes", "no" or "not significant"
    from the paired bootstrap (``dunning_kruger_paired``); None when no calibration was measured."""
    if not calibration:
        return None
    paired = calibration.get("dunning_kruger_paired")
    return paired["verdict"] if paired else "not significant"


def headline(results: dict[str, Any]) -> Headline:
    """The leaderboard row of a results dict; the calibration is the sampled one, else the
    letter probabilities'. A run without finished items gives a row of None."""
    accuracy = results.get("accuracy") or {}
    severity = ((accuracy.get("by") or {}).get("severity") or {}).get("groups", {})
    drops = accuracy.get("drops") or {}
    calibration = results.get("calibration") or {}
    calibration = calibration.get("sampling") or calibration.get("letter_probs") or {}
    shifts = {level: figures.get("calibration_shift") for level, figures in (calibration.get("per_group") or {}).items()}
    return Headline(
        model=results.get("model", "?"), num_items=results.get("num_items", 0),
        accuracy=[severity.get(level, {}).get("accuracy") for level in LEVEL_NAMES],
        drops=[drops.get(name, {}).get("drop") for name in DROP_NAMES],
        shifts=[shifts.get(level) for level in LEVEL_NAMES],
        verdict=dunning_kruger_verdict(calibration),
    )
