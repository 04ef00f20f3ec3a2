r"""Calibration Shift and the calibration measures beside it: every formula, written once.

MedQ-Deg (arXiv 2603.07769, section 4) measures a model's *confidence* in an item as the
consistency of T answers sampled at temperature 1. With K answer options and sampled
answers :math:`y^{(1..T)}`:

.. math::

    p_i(x) = \frac{1}{T}\sum_t 1[y^{(t)} = i], \qquad
    H(x) = -\sum_i p_i(x) \ln p_i(x), \qquad
    C(x) = 1 - \frac{H(x)}{\ln K} \in [0, 1]

    \Delta_{calib}(f, D) = \overline{C} - Acc(f, D)
    \quad (> 0 \text{ overconfident}, < 0 \text{ underconfident})

All quantities are dimensionless fractions in [0, 1] (the shift in [-1, 1]); logarithms
are natural, and the base cancels in :math:`H / \ln K`.

Choices the paper leaves open, made here and exposed as arguments:

``accuracy`` (which correctness enters the shift, ECE, Brier score and AURC)
    ``"majority"`` (default): the item's answer is the plurality vote of its T samples.
    **Tie rule**: when m outcomes share the top count the item scores 1/m if the reference
    is among them, else 0 -- the expected accuracy of breaking the tie uniformly at
    random. It is deterministic, favours no letter, and does not change when the options
    are renamed. ``"samples"``: the fraction of the T samples that are correct (the
    accuracy of a single sampled answer). Both are always reported (``accuracy`` and
    ``sample_accuracy``); the argument picks the one the shift is computed against.

``unparseable`` (a sample the answer extraction could not read, index ``-1``)
    ``"count"`` (default): the sample stays in T. It is a wrong answer: in the vote it is
    an outcome of its own ("no answer", never correct; if it has the top count the item
    is wrong, ties split as above), and in the sample accuracy it counts as incorrect. In
    the confidence it expresses no preference between the options, so its mass 1/T is
    spread evenly over the K options: :math:`p_i = (n_i + u/K)/T` with u unparseable
    samples. C stays in [0, 1], and an item with no readable answer has C = 0.
    ``"ignore"``: unparseable samples are dropped and T becomes the number of readable
    ones. An item with no readable sample keeps its place in D: it is wrong, with C = 0.

    (The literal reading of the formula, :math:`p_i = n_i / T` with no mass for
    unparseable samples, is not offered: its C can fall below 0, e.g. K = 2 with samples
    A, A, B, ?, ?.)

Probability input (one pass of a local model: the exact distribution over the option
letters) uses the same C of the given distribution, which is what the sample
consistency converges to as T -> infinity. There the majority answer is the arg-max
(exact ties split 1/m) and the sample accuracy is the probability of the reference,
:math:`p_{y^*}`, the expected accuracy of one sampled answer.

Calibration measures of the confidence C against the per-item correctness c in [0, 1]:

- Expected calibration error, :math:`ECE = \sum_b \frac{n_b}{N} |\bar c_b - \bar C_b|`, over
  15 equal-width bins of C on [0, 1]; bin b is :math:`((b-1)/15, b/15]`, the first bin
  also holds C = 0 -- the right-closed convention of Guo et al. (2017) and of
  ``sklearn.calibration.calibration_curve(strategy="uniform")``.
- Brier score of C as the probability of being correct, :math:`\frac{1}{N}\sum (C - c)^2`.
- Area under the risk-coverage curve (Geifman et al. 2018): sort items by C, highest
  first; :math:`AURC = \frac{1}{N}\sum_{k=1}^{N} risk(k)` with risk(k) the mean error
  :math:`1 - c` of the k most confident items. Items with equal C enter in expectation
  over their random order, so the value does not depend on input order. Lower is better;
  with a constant C it equals the error rate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import xlogy

from medqdeg.dataset_builder.vocabulary import level_or_none
from medqdeg.metrics import validation as v

ACCURACY_MODES = ("majority", "samples")
UNPARSEABLE_POLICIES = ("count", "ignore")
ECE_BINS = 15


# --------------------------------------------------------------------------- per item


def vote_counts(samples: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Count the votes per option.

    Args:
        samples: int array (N, T) of option indices, ``-1`` for unparseable, all < ``width``.
        width: number of option columns to return (the largest K).

    Returns:
        ``(counts, unparseable)``: int64 arrays of shape (N, width) -- ``counts[x, i]`` is
        the number of samples of item x that chose option i -- and (N,), the number of
        unparseable samples per item.
    """
    n, t = samples.shape
    # One pass per (option, sample position) over contiguous int8 rows: several times
    # faster than np.bincount on row-offset indices for the small K and T used here.
    dtype = np.int16 if t < np.iinfo(np.int16).max else np.int64
    by_position = np.ascontiguousarray(samples.T, dtype=np.int8 if width < 127 else np.int64)
    counts = np.zeros((width + 1, n), dtype=dtype)
    for option in range(-1, width):
        row = counts[option + 1]
        for position in range(t):
            row += by_position[position] == option
    return counts[1:].T, counts[0]


def option_mask(num_options: np.ndarray, width: int) -> np.ndarray:
    """Boolean (N, width): True where column i is one of item x's K options."""
    return np.arange(width)[None, :] < num_options[:, None]


def sample_distribution(
    counts: np.ndarray,
    unparseable: np.ndarray,
    num_options: np.ndarray,
    policy: str = "count",
) -> np.ndarray:
    """The empirical answer distribution p(x) over the K options, shape (N, width).

    ``"count"``: :math:`p_i = (n_i + u/K) / T`; ``"ignore"``: :math:`p_i = n_i / (T - u)`,
    uniform 1/K when no sample is readable. Each row sums to 1 over the item's K options.
    """
    counts = counts.astype(np.float64)
    mask = option_mask(num_options, counts.shape[1])
    k = num_options.astype(np.float64)[:, None]
    total = counts.sum(axis=1) + unparseable
    if policy == "count":
        p = counts
        if np.any(unparseable):
            p += mask * (unparseable[:, None] / k)
        p /= total[:, None]
    else:
        readable = total - unparseable
        with np.errstate(invalid="ignore", divide="ignore"):
            p = counts / readable[:, None]
        none = readable == 0
        p[none] = mask[none] / k[none]
    return p


def confidence(p: np.ndarray, num_options: np.ndarray) -> np.ndarray:
    r"""Consistency confidence :math:`C = 1 - H(p)/\ln K`, per item, in [0, 1].

    ``p`` is (N, width), zero outside each item's K options; natural logarithms. The
    result is clipped to [0, 1] only to absorb floating-point rounding (e.g. -1e-16 for a
    uniform row).
    """
    # Summing in sorted order makes C a function of the multiset of probabilities, bit for
    # bit: renaming the options cannot split a tie in C by rounding (which AURC would see).
    entropy = -xlogy(p, p)
    entropy.sort(axis=1)
    entropy = entropy.sum(axis=1)
    c = 1.0 - entropy / np.log(num_options.astype(np.float64))
    return np.clip(c, 0.0, 1.0)


def majority_correctness(
    votes: np.ndarray,
    references: np.ndarray,
    unparseable: np.ndarray | None = None,
    policy: str = "count",
) -> np.ndarray:
    """Per-item correctness of the plurality vote, in {0, 1/m, 1}.

    ``votes`` holds counts (or probabilities) per option, shape (N, width). Under
    ``policy="count"`` the ``unparseable`` count is an extra outcome that is never
    correct. With m outcomes tied at the top the item scores 1/m if the reference is
    among them (the expected accuracy of a uniformly random tie break). An item with no
    vote at all scores 0.
    """
    n = votes.shape[0]
    top = votes.max(axis=1)
    ties = (votes == top[:, None]).sum(axis=1)
    if unparseable is not None and policy == "count":
        top_with_none = np.maximum(top, unparseable)
        ties = np.where(top_with_none > top, 0, ties) + (unparseable == top_with_none)
        top = top_with_none
    reference_votes = votes[np.arange(n), references]
    hit = (reference_votes == top) & (top > 0)
    return np.where(hit, 1.0 / np.maximum(ties, 1), 0.0)


def sample_correctness(
    counts: np.ndarray,
    references: np.ndarray,
    unparseable: np.ndarray,
    policy: str = "count",
) -> np.ndarray:
    """Fraction of an item's samples that are correct: :math:`n_{y^*} / T` (``"count"``) or
    :math:`n_{y^*} / (T - u)` (``"ignore"``, 0 when no sample is readable)."""
    n = counts.shape[0]
    hits = counts[np.arange(n), references].astype(np.float64)
    total = counts.sum(axis=1) + (unparseable if policy == "count" else 0)
    return np.divide(hits, total, out=np.zeros(n), where=total > 0)


# --------------------------------------------------------------------------- measures
#
# Each measure is a public door (its inputs checked by ``_check_pair``) over a formula on
# checked float64 arrays of shape (N,), N >= 1 (``_ece``, ``_brier``, ``_aurc``, ``_shift``),
# which ``_summarize`` calls directly.


def _check_pair(conf: Any, correct: Any) -> tuple[np.ndarray, np.ndarray]:
    conf = np.asarray(conf, dtype=np.float64)
    correct = np.asarray(correct, dtype=np.float64)
    v.check_same_length(confidence=conf.shape[0], correct=correct.shape[0])
    v.check_nonempty("confidence", conf.shape[0])
    return conf, correct


def _ece(conf: np.ndarray, correct: np.ndarray, n_bins: int) -> float:
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.searchsorted(edges[1:-1], conf, side="left")
    gap = np.bincount(bins, weights=correct - conf, minlength=n_bins)
    return float(np.abs(gap).sum() / conf.shape[0])


def _brier(conf: np.ndarray, correct: np.ndarray) -> float:
    return float(np.mean((conf - correct) ** 2))


def _aurc(conf: np.ndarray, correct: np.ndarray) -> float:
    n = conf.shape[0]
    order = np.argsort(-conf, kind="stable")
    c = conf[order]
    error = 1.0 - correct[order]
    new_block = np.empty(n, dtype=bool)
    new_block[0] = True
    new_block[1:] = c[1:] != c[:-1]
    starts = np.flatnonzero(new_block)
    block = np.cumsum(new_block) - 1
    sizes = np.diff(np.append(starts, n))
    cumulative = np.concatenate([[0.0], np.cumsum(error)])
    block_error = cumulative[starts + sizes] - cumulative[starts]
    position = np.arange(n)
    within = position - starts[block] + 1
    expected_cumulative = cumulative[starts][block] + within * (block_error / sizes)[block]
    return float(np.mean(expected_cumulative / (position + 1)))


def _shift(conf: np.ndarray, correct: np.ndarray) -> float:
    return float(conf.mean() - correct.mean())


def expected_calibration_error(conf: Any, correct: Any, n_bins: int = ECE_BINS) -> float:
    """ECE over ``n_bins`` equal-width, right-closed bins of the confidence on [0, 1].

    :math:`\\sum_b |\\sum_{x \\in b} (c_x - C_x)| / N`, which equals
    :math:`\\sum_b (n_b/N) |acc_b - conf_b|`. Bin edges are ``linspace(0, 1, n_bins + 1)``;
    a confidence on an edge goes to the lower bin, 0 to the first (as scikit-learn's
    ``calibration_curve``).
    """
    conf, correct = _check_pair(conf, correct)
    return _ece(conf, correct, v.check_positive_int("n_bins", n_bins))


def brier_score(conf: Any, correct: Any) -> float:
    """Mean squared difference between the confidence and the correctness, in [0, 1]."""
    return _brier(*_check_pair(conf, correct))


def aurc(conf: Any, correct: Any) -> float:
    """Area under the risk-coverage curve, ties in confidence taken in expectation.

    Items are sorted by confidence, highest first. At coverage k/N the risk is the mean
    error of the first k items; AURC is the mean risk over k = 1..N. Inside a block of
    equal confidence the cumulative error grows linearly (its expectation over the
    block's random orders).
    """
    return _aurc(*_check_pair(conf, correct))


def calibration_shift(conf: Any, correct: Any) -> float:
    """:math:`\\Delta_{calib} = mean(C) - mean(c)`: > 0 overconfident, < 0 underconfident."""
    return _shift(*_check_pair(conf, correct))


# --------------------------------------------------------------------------- items -> scores


@dataclass(frozen=True)
class ItemScores:
    """Per-item quantities, each of shape (N,).

    ``confidence`` C in [0, 1]; ``majority_correct`` and ``sample_correct`` in [0, 1];
    ``num_samples`` T per item (0 for probability input); ``num_unparseable`` u per item.
    """

    confidence: np.ndarray
    majority_correct: np.ndarray
    sample_correct: np.ndarray
    num_samples: np.ndarray
    num_unparseable: np.ndarray

    def __len__(self) -> int:
        return int(self.confidence.shape[0])

    def subset(self, mask: np.ndarray) -> ItemScores:
        return ItemScores(*(getattr(self, name)[mask] for name in self.__dataclass_fields__))


def score_samples(
    samples: Any,
    references: Any,
    num_options: Any,
    unparseable: str = "count",
) -> ItemScores:
    """Validate T sampled answers per item and score every item.

    Args:
        samples: T_i answers per item (T_i may differ between items: C, the vote and the
            sample accuracy are per item): option indices or letters, -1/None/'' for
            unparseable. An item whose samples are all unparseable is wrong (majority and
            samples) with C = 0 under both policies: its readable answers show no preference.
        references: (N,) correct option, index or letter.
        num_options: K per item (N,) or one K for all, 2 <= K <= 26.
        unparseable: ``"count"`` or ``"ignore"`` (see the module docstring).
    """
    v.check_choice("unparseable", unparseable, UNPARSEABLE_POLICIES)
    v.check_given("num_options", num_options, "the number of options K per item (or one K for all)")
    samples = v.check_samples(samples, references, num_options)
    k = samples.num_options
    counts, unread = vote_counts(samples.answers, samples.width)
    p = sample_distribution(counts, unread, k, unparseable)
    refs = samples.references
    return ItemScores(
        confidence=confidence(p, k),
        majority_correct=majority_correctness(counts, refs, unread, unparseable),
        sample_correct=sample_correctness(counts, refs, unread, unparseable),
        num_samples=samples.num_samples,
        num_unparseable=unread,
    )


def score_probabilities(probabilities: Any, references: Any) -> ItemScores:
    """Validate one probability row over the K_i options per item and score every item.

    ``probabilities`` rows may differ in length; a row's length is the item's K. Rows
    must be finite, in [0, 1] and sum to 1 within 1e-5 (they are then renormalised).
    """
    p, k = v.probabilities_to_array(probabilities, "predictions")
    refs = v.answers_to_indices(references, "references", ndim=1)
    n = v.check_same_length(predictions=p.shape[0], references=refs.shape[0])
    v.check_nonempty("predictions", n)
    k = v.check_num_options(k, n, field="predictions (row length K)")
    p = v.check_probabilities(p, k)
    v.check_references(refs, k)
    zeros = np.zeros(n, dtype=np.int64)
    return ItemScores(
        confidence=confidence(p, k),
        majority_correct=majority_correctness(p, refs),
        sample_correct=p[np.arange(n), refs],
        num_samples=zeros,
        num_unparseable=zeros,
    )


# --------------------------------------------------------------------------- summaries


def summarize(scores: ItemScores, accuracy: str = "majority", n_bins: int = ECE_BINS) -> dict[str, float | int]:
    """Every figure for one set of items, as plain Python numbers.

    ``calibration_shift``, ``ece``, ``brier_score`` and ``aurc`` use the correctness named
    by ``accuracy``; ``accuracy`` (majority vote) and ``sample_accuracy`` are both given.
    """
    v.check_choice("accuracy", accuracy, ACCURACY_MODES)
    v.check_nonempty("confidence", len(scores))
    return _summarize(scores, accuracy, v.check_positive_int("n_bins", n_bins))


def _summarize(scores: ItemScores, accuracy: str, n_bins: int) -> dict[str, float | int]:
    """:func:`summarize` on checked arguments (``scores`` not empty)."""
    correct = scores.majority_correct if accuracy == "majority" else scores.sample_correct
    conf = scores.confidence
    return {
        "calibration_shift": _shift(conf, correct),
        "mean_confidence": float(conf.mean()),
        "accuracy": float(scores.majority_correct.mean()),
        "sample_accuracy": float(scores.sample_correct.mean()),
        "ece": _ece(conf, correct, n_bins),
        "brier_score": _brier(conf, correct),
        "aurc": _aurc(conf, correct),
        "num_items": len(scores),
        "num_samples": int(scores.num_samples.sum()),
        "num_unparseable": int(scores.num_unparseable.sum()),
    }


def dunning_kruger(
    per_group: Mapping[str, Mapping[str, float]], accuracy_key: str = "accuracy"
) -> dict[str, Any] | None:
    """Intra-model Dunning-Kruger verdict from per-severity results, or None.

    Applies when every group label is a severity (0, 1, 2 or 'L0', 'L1', 'L2', any case),
    one label per level, and L0 and L2 are both present. The effect holds when
    ``Acc(L0) > Acc(L2)`` and ``Delta_calib(L0) <= Delta_calib(L2)``: the model gets
    worse on degraded images while its overconfidence does not shrink.

    ``per_group`` maps labels to results of :func:`summarize`; ``accuracy_key`` names the
    accuracy the shifts were computed against (``"accuracy"`` or ``"sample_accuracy"``).
    """
    by_level: dict[int, Mapping[str, float]] = {}
    for label, figures in per_group.items():
        level = level_or_none(label)
        if level is None or level in by_level:
            return None
        by_level[level] = figures
    if 0 not in by_level or 2 not in by_level:
        return None
    acc0, acc2 = by_level[0][accuracy_key], by_level[2][accuracy_key]
    shift0, shift2 = by_level[0]["calibration_shift"], by_level[2]["calibration_shift"]
    falls = acc0 > acc2
    grows = shift0 <= shift2
    return {
        "effect": bool(falls and grows),
        "accuracy_L0": acc0,
        "accuracy_L2": acc2,
        "calibration_shift_L0": shift0,
        "calibration_shift_L2": shift2,
        "accuracy_falls": bool(falls),
        "shift_does_not_shrink": bool(grows),
    }


def inter_model_dunning_kruger(model_1: Mapping[str, float], model_2: Mapping[str, float]) -> bool:
    """Inter-model effect: ``Acc(f1) < Acc(f2)`` and ``Delta_calib(f1) > Delta_calib(f2)``.

    Each argument is a result of :func:`calibration_report` (or any mapping with
    ``accuracy`` and ``calibration_shift``) computed with the same settings.
    """
    return bool(
        model_1["accuracy"] < model_2["accuracy"]
        and model_1["calibration_shift"] > model_2["calibration_shift"]
    )


def calibration_report(
    *,
    references: Any,
    samples: Any = None,
    probabilities: Any = None,
    num_options: Any = None,
    groups: Sequence[Any] | None = None,
    accuracy: str = "majority",
    unparseable: str = "count",
    n_bins: int = ECE_BINS,
    clean_ids: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """Calibration Shift, confidence, accuracies, ECE, Brier score and AURC, optionally per group.

    With severity ``groups`` and ``clean_ids`` (the clean item each item derives from, its
    own id for L0 items) the result also has ``dunning_kruger_paired``: the verdict
    "yes"/"no"/"not significant" with paired bootstrap intervals over clean items (see
    :func:`medqdeg.metrics.accuracy.paired_dunning_kruger`). The point-estimate
    ``dunning_kruger`` alone does not say whether the difference is more than noise.

    Give either ``samples`` (N, T) with ``num_options``, or ``probabilities`` (one row of
    K_i probabilities per item). With ``groups`` (one label per item) the result also has
    ``per_group`` {label: figures}; when the labels are the severities L0/L1/L2 it has
    ``dunning_kruger`` (see :func:`dunning_kruger`), else that key is None.

    Returns plain Python numbers: ``calibration_shift``, ``mean_confidence``,
    ``accuracy`` (majority vote, ties split), ``sample_accuracy``, ``ece``,
    ``brier_score``, ``aurc``, ``num_items``, ``num_samples``, ``num_unparseable``.
    """
    v.check_choice("accuracy", accuracy, ACCURACY_MODES)
    v.check_choice("unparseable", unparseable, UNPARSEABLE_POLICIES)
    n_bins = v.check_positive_int("n_bins", n_bins)
    if v.check_exactly_one("predictions", samples=samples, probabilities=probabilities) == "samples":
        scores = score_samples(samples, references, num_options, unparseable)
    else:
        scores = score_probabilities(probabilities, references)
    v.check_pairing_groups(clean_ids, groups)
    return _report(scores, groups, accuracy, n_bins, clean_ids)


def report_from_scores(
    scores: ItemScores,
    *,
    groups: Sequence[Any] | None = None,
    accuracy: str = "majority",
    n_bins: int = ECE_BINS,
    clean_ids: Sequence[Any] | None = None,
    n_bootstrap: int = 1000,
) -> dict[str, Any]:
    """:func:`calibration_report` for callers that already hold ItemScores; ``n_bootstrap``
    resamples of the paired verdict (with ``clean_ids``)."""
    v.check_choice("accuracy", accuracy, ACCURACY_MODES)
    v.check_nonempty("confidence", len(scores))
    v.check_pairing_groups(clean_ids, groups)
    return _report(scores, groups, accuracy, v.check_positive_int("n_bins", n_bins), clean_ids, n_bootstrap)


def _report(scores: ItemScores, groups: Sequence[Any] | None, accuracy: str, n_bins: int,
            clean_ids: Sequence[Any] | None = None, n_bootstrap: int = 1000) -> dict[str, Any]:
    """:func:`report_from_scores` on checked arguments; the group labels are checked here."""
    result: dict[str, Any] = _summarize(scores, accuracy, n_bins)
    if groups is not None:
        per_group = {
            label: _summarize(scores.subset(mask), accuracy, n_bins)
            for label, mask in v.group_masks(groups, len(scores)).items()
        }
        key = "accuracy" if accuracy == "majority" else "sample_accuracy"
        result["per_group"] = per_group
        result["dunning_kruger"] = dunning_kruger(per_group, accuracy_key=key)
    if clean_ids is not None:
        from medqdeg.metrics.accuracy import paired_dunning_kruger  # accuracy imports this module

        correct = scores.majority_correct if accuracy == "majority" else scores.sample_correct
        result["dunning_kruger_paired"] = paired_dunning_kruger(
            correct, scores.confidence, severities=groups, clean_ids=clean_ids, n_bootstrap=n_bootstrap)
    return result
