"""MedQ-Deg metrics: accuracy tables and Calibration Shift, each formula written once.

- :mod:`medqdeg.metrics.calibration`: consistency confidence C = 1 - H/ln K, Calibration
  Shift, majority/sample accuracy, ECE, Brier score, AURC, per-group figures and the
  Dunning-Kruger verdict.
- :mod:`medqdeg.metrics.accuracy`: accuracy per group, unweighted means over groups,
  paired degradation drops through ``clean_id`` and seeded bootstrap intervals.
- :mod:`medqdeg.metrics.validation`: argument checks and input conversion
  (:class:`MetricInputError`).

The ``evaluate`` modules in the repository folders ``metrics/calibration_shift`` and
``metrics/medqdeg_accuracy`` are thin faces over these functions; the harness calls the
functions directly.
"""

from medqdeg.metrics.accuracy import (
    accuracy_report,
    bootstrap_accuracy_interval,
    grouped_accuracy,
    item_correctness,
    mean_over_groups,
)
from medqdeg.metrics.calibration import (
    ItemScores,
    aurc,
    brier_score,
    calibration_report,
    calibration_shift,
    confidence,
    dunning_kruger,
    expected_calibration_error,
    inter_model_dunning_kruger,
    score_probabilities,
    score_samples,
)
from medqdeg.metrics.validation import UNPARSEABLE, MetricInputError

__all__ = [
    "UNPARSEABLE",
    "ItemScores",
    "MetricInputError",
    "accuracy_report",
    "aurc",
    "bootstrap_accuracy_interval",
    "brier_score",
    "calibration_report",
    "calibration_shift",
    "confidence",
    "dunning_kruger",
    "expected_calibration_error",
    "grouped_accuracy",
    "inter_model_dunning_kruger",
    "item_correctness",
    "mean_over_groups",
    "score_probabilities",
    "score_samples",
]
