"""The paper's published results, to show beside a user's run (always labelled as the paper's).

Overall accuracy in percent at L0 / L1 / L2 on MedQ-Deg (arXiv 2603.07769, the headline
table), for the models the paper reports by name, and the mean of its 40 models.
``match_paper_model`` finds the row of a run's model id (a Hub id or an API model name).
"""

from __future__ import annotations

from dataclasses import dataclass

PAPER = "MedQ-Deg paper (arXiv 2603.07769)"


@dataclass(frozen=True)
class PaperResult:
    """One model's published overall accuracy (%), by severity."""

    model: str
    accuracy: dict[str, float]  # {"L0": .., "L1": .., "L2": ..}
    aliases: tuple[str, ...] = ()  # lower-case model ids that are this model


PAPER_RESULTS: tuple[PaperResult, ...] = (
    PaperResult("InternVL3-78B", {"L0": 74.04, "L1": 72.46, "L2": 68.63}, ("opengvlab/internvl3-78b",)),
    PaperResult("Qwen3-VL-235B", {"L0": 73.15, "L1": 71.87, "L2": 66.40},
                ("qwen/qwen3-vl-235b-a22b-instruct", "qwen/qwen3-vl-235b-a22b-thinking")),
    PaperResult("Gemini-2.5-Pro", {"L0": 71.39, "L1": 69.93, "L2": 65.20}, ("gemini-2.5-pro",)),
    PaperResult("GPT-5", {"L0": 70.27, "L1": 69.09, "L2": 64.30}, ("gpt-5",)),
    PaperResult("Hulu-Med-14B", {"L0": 70.04, "L1": 70.20, "L2": 65.40}, ("zju-alibaba-ccl/hulu-med-14b",)),
    PaperResult("GPT-4o", {"L0": 66.98, "L1": 65.22, "L2": 59.73}, ("gpt-4o",)),
    PaperResult("MedGemma-4B", {"L0": 58.48, "L1": 58.12, "L2": 53.77}, ("google/medgemma-4b-it",)),
    PaperResult("Qwen2.5-VL-3B", {"L0": 46.86, "L1": 44.72, "L2": 40.43}, ("qwen/qwen2.5-vl-3b-instruct",)),
    PaperResult("mean of the paper's 40 models", {"L0": 61.52, "L1": 60.35, "L2": 55.74}),
)


def match_paper_model(model_id: str) -> PaperResult | None:
    """The paper's row for ``model_id`` (case-insensitive, exact id or alias), or None."""
    wanted = model_id.strip().lower()
    for result in PAPER_RESULTS:
        if wanted == result.model.lower() or wanted in result.aliases:
            return result
    return None
