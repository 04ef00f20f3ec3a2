"""The paper's published results, to show beside a user's run (always labelled as the paper's).

Overall accuracy in percent at L0 / L1 / L2 on MedQ-Deg (arXiv 2603.07769, the headline
table), for the models the paper reports by name, and the mean of its 40 models.
``match_paper_model`` finds the row of a run's model id (a Hub id or an API model name).
"""

from __future__ import annotations

from dataclasses import dataclass

from medqdeg.dataset_builder.vocabulary import LEVEL_NAMES

PAPER = "MedQ-Deg paper (arXiv 2603.07769)"


@dataclass(frozen=True)
class PaperResult:
    """One model's published overall accuracy (%), by severity."""

    model: str
    accuracy: dict[str, float]  # {"L0": .., "L1": .., "L2": ..}, in %
    aliases: tuple[str, ...] = ()  # lower-case model ids that are this model


def _by_level(*accuracies: float) -> dict[str, float]:
    """The accuracies at L0, L1, L2, keyed by level name."""
    return dict(zip(LEVEL_NAMES, accuracies, strict=True))


PAPER_RESULTS: tuple[PaperResult, ...] = (
    PaperResult("InternVL3-78B", _by_level(74.04, 72.46, 68.63), ("opengvlab/internvl3-78b",)),
    PaperResult("Qwen3-VL-235B", _by_level(73.15, 71.87, 66.40),
                ("qwen/qwen3-vl-235b-a22b-instruct", "qwen/qwen3-vl-235b-a22b-thinking")),
    PaperResult("Gemini-2.5-Pro", _by_level(71.39, 69.93, 65.20), ("gemini-2.5-pro",)),
    PaperResult("GPT-5", _by_level(70.27, 69.09, 64.30), ("gpt-5",)),
    PaperResult("Hulu-Med-14B", _by_level(70.04, 70.20, 65.40), ("zju-alibaba-ccl/hulu-med-14b",)),
    PaperResult("GPT-4o", _by_level(66.98, 65.22, 59.73), ("gpt-4o",)),
    PaperResult("MedGemma-4B", _by_level(58.48, 58.12, 53.77), ("google/medgemma-4b-it",)),
    PaperResult("Qwen2.5-VL-3B", _by_level(46.86, 44.72, 40.43), ("qwen/qwen2.5-vl-3b-instruct",)),
    PaperResult("mean of the paper's 40 models", _by_level(61.52, 60.35, 55.74)),
)


def match_paper_model(model_id: str) -> PaperResult | None:
    """The paper's row for ``model_id`` (case-insensitive, exact id or alias), or None."""
    wanted = model_id.strip().lower()
    for result in PAPER_RESULTS:
        if wanted == result.model.lower() or wanted in result.aliases:
            return result
    return None
