r"""Accuracy tables: overall, per group, unweighted means over groups, paired degradation
drops and seeded bootstrap confidence intervals. Every formula, written once.

Per-item correctness ``c`` is in [0, 1]: 1 or 0 for one answer per item, and for T
sampled answers the majority vote (ties split 1/m) or the fraction of correct samples,
exactly as in :mod:`medqdeg.metrics.calibration` (same ``accuracy`` and ``unparseable``
arguments, same code). An unparseable answer is wrong.

- Accuracy of a set S: :math:`Acc(S) = \frac{1}{|S|}\sum_{x \in S} c_x`.
- Mean over groups (the paper's "Avg" column over capabilities or categories): the
  unweighted mean of the group accuracies, :math:`\frac{1}{G}\sum_g Acc(S_g)`, so a
  small group weighs as much as a large one.
- Paired drop L\ *k*-L0 (k = 1, 2): every degraded item x at level k is matched with the
  clean item of the same ``clean_id``; :math:`drop_k = \frac{1}{|P_k|}\sum_{x \in P_k}
  (c_x - c_{clean(x)})`, over the matched pairs P_k. Negative when accuracy falls. A clean
  item with several degradations takes part in several pairs. Degraded items whose clean
  item is absent are left out and counted (``num_unmatched``). Per group, a pair belongs
  to the group of its *degraded* item (so "drop for sparse_view" compares sparse-view
  items with their own clean originals).
- Bootstrap intervals: B resamples (default 1000) of the *clean images* (``clean_id``
  clusters; of single items when no ``clean_id`` is given) with replacement, drawn from
  ``numpy.random.default_rng(seed)``; each figure is recomputed on every resample and the
  interval is the percentile interval at ``confidence_level`` (default 95%). Resampling
  whole clusters keeps each clean item with its degraded versions, which are not
  independent. Resamples in which a figure is undefined (a group left empty) are
  skipped for that figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from medqdeg.dataset_builder.vocabulary import DROP_NAMES, LEVEL_NAMES
from medqdeg.metrics import calibration as cal
from medqdeg.metrics import validation as v

# --------------------------------------------------------------------------- correctness


def item_correctness(
    predictions: Any,
    references: Any,
    *,
    num_options: Any = None,
    accuracy: str = "majority",
    unparseable: str = "count",
) -> np.ndarray:
    """Per-item correctness in [0, 1], shape (N,).

    Args:
        predictions: one answer per item (N,) or T_i sampled answers per item (T_i may
            differ between items):
            option indices or letters, -1/None/'' for unparseable.
        references: the correct option per item (N,).
        num_options: optional K per item (or one K); when given, answers are checked to
            lie among the options.
        accuracy: ``"majority"`` (plurality vote, ties split 1/m) or ``"samples"``
            (fraction of correct samples); equal for one answer per item.
        unparseable: ``"count"`` or ``"ignore"``, see :mod:`medqdeg.metrics.calibration`.
    """
    v.check_choice("accuracy", accuracy, cal.ACCURACY_MODES)
    v.check_choice("unparseable", unparseable, cal.UNPARSEABLE_POLICIES)
    if _per_item_lists(predictions):  # T_i samples per item, T_i free to differ
        answers, _ = v.samples_to_indices(predictions, "predictions")
    else:
        answers = v.answers_to_indices(predictions, "predictions", ndim=None)
    if answers.ndim == 1:
        answers = answers[:, None]
    refs = v.answers_to_indices(references, "references", ndim=1)
    n = v.check_same_length(predictions=answers.shape[0], references=refs.shape[0])
    v.check_nonempty("predictions", n)
    if answers.shape[1] == 0:
        v._fail("predictions", "has no answers", "at least one answer per item")
    if num_options is not None:
        k = v.check_num_options(num_options, n)
        v.check_answers_in_options(answers, k, "predictions")
        v.check_references(refs, k)
        width = int(k.max())
    else:
        v.check_references(refs)
        width = int(max(answers.max(), refs.max())) + 1
    counts, unread = cal.vote_counts(answers, width)
    if accuracy == "majority":
        return cal.majority_correctness(counts, refs, unread, unparseable)
    return cal.sample_correctness(counts, refs, unread, unparseable)


def _per_item_lists(predictions: Any) -> bool:
    """Whether ``predictions`` holds one list of answers per item (Arrow list, nested lists)."""
    if type(predictions).__module__.startswith("pyarrow"):
        import pyarrow as pa

        kind = predictions.type
        return pa.types.is_list(kind) or pa.types.is_large_list(kind)
    if isinstance(predictions, np.ndarray):
        return predictions.ndim == 2
    first = next(iter(predictions), None) if not isinstance(predictions, (str, bytes)) else None
    return isinstance(first, (list, tuple, np.ndarray))


def _as_correct(correct: Any) -> np.ndarray:
    array = np.asarray(correct, dtype=np.float64)
    if array.ndim != 1:
        v._fail("correct", f"has shape {array.shape}", "one correctness value per item")
    v.check_nonempty("correct", array.shape[0])
    bad = ~np.isfinite(array) | (array < 0) | (array > 1)
    if bad.any():
        v._fail("correct", f"holds {v.plain(array[bad][0])!r}", "values in [0, 1]", bad)
    return array


# --------------------------------------------------------------------------- point figures


def grouped_accuracy(correct: Any, labels: Any, field: str = "groups") -> dict[str, dict[str, float | int]]:
    """``{label: {"accuracy": Acc(S_label), "num_items": |S_label|}}``, labels as sorted strings."""
    c = _as_correct(correct)
    return {
        label: {"accuracy": float(c[mask].mean()), "num_items": int(mask.sum())}
        for label, mask in cal.group_indices(labels, c.shape[0], field).items()
    }


def mean_over_groups(per_group: Mapping[str, Mapping[str, float]]) -> float:
    """Unweighted mean of the group accuracies (the paper's "Avg" column)."""
    if not per_group:
        v._fail("groups", "is empty", "at least one group")
    return float(np.mean([figures["accuracy"] for figures in per_group.values()]))


def match_clean_items(severities: Any, clean_ids: Any, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Levels, cluster index and clean partner of every item.

    Returns ``(level, cluster, partner)``: ``level`` 0/1/2 per item; ``cluster`` an
    integer per distinct ``clean_id``; ``partner`` the index of the L0 item with the same
    ``clean_id`` for degraded items (-1 when there is none, and for L0 items).
    """
    level = v.severities_to_levels(severities)
    ids = v.labels_to_array(clean_ids, "clean_ids")
    v.check_same_length(predictions=n, severities=level.shape[0], clean_ids=ids.shape[0])
    cluster = _codes(ids)
    clean = np.flatnonzero(level == 0)
    clean_cluster = cluster[clean]
    seen = np.bincount(clean_cluster, minlength=int(cluster.max()) + 1)
    if np.any(seen > 1):
        bad = (level == 0) & (seen[cluster] > 1)
        first = int(np.flatnonzero(bad)[0])
        v._fail(
            "clean_ids",
            f"is {v.plain(ids[first])!r}, shared by {int(seen[cluster[first]])} clean (L0) items",
            "at most one L0 item per clean_id",
            bad,
        )
    clean_of_cluster = np.full(seen.shape[0], -1, dtype=np.int64)
    clean_of_cluster[clean_cluster] = clean
    partner = np.where(level > 0, clean_of_cluster[cluster], -1)
    return level, cluster, partner


# --------------------------------------------------------------------------- bootstrap


class _RatioFigures:
    """Figures of the form sum(a) / sum(b) over items, bootstrapped together."""

    def __init__(self, n: int):
        self.n = n
        self.names: list[tuple[str, ...]] = []
        self.numerators: list[np.ndarray] = []
        self.denominators: list[np.ndarray] = []

    def add(self, name: tuple[str, ...], numerator: np.ndarray, denominator: np.ndarray) -> None:
        self.names.append(name)
        self.numerators.append(numerator.astype(np.float64))
        self.denominators.append(denominator.astype(np.float64))

    def point(self) -> np.ndarray:
        num = np.array([a.sum() for a in self.numerators])
        den = np.array([b.sum() for b in self.denominators])
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)

    def resample(self, cluster: np.ndarray, n_resamples: int, seed: int) -> np.ndarray:
        """(n_resamples, n_figures) values on cluster resamples (NaN where undefined)."""
        n_clusters = int(cluster.max()) + 1
        num = np.stack([np.bincount(cluster, weights=a, minlength=n_clusters) for a in self.numerators], axis=1)
        den = np.stack([np.bincount(cluster, weights=b, minlength=n_clusters) for b in self.denominators], axis=1)
        rng = np.random.default_rng(seed)
        out = np.empty((n_resamples, len(self.names)))
        chunk = max(1, min(n_resamples, 4_000_000 // n_clusters))
        for start in range(0, n_resamples, chunk):
            size = min(chunk, n_resamples - start)
            draws = rng.integers(0, n_clusters, size=(size, n_clusters))
            draws += (np.arange(size) * n_clusters)[:, None]
            weights = np.bincount(draws.ravel(), minlength=size * n_clusters).reshape(size, n_clusters)
            weights = weights.astype(np.float64)
            top, bottom = weights @ num, weights @ den
            with np.errstate(invalid="ignore", divide="ignore"):
                out[start : start + size] = np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1), np.nan)
        return out


def percentile_interval(values: np.ndarray, confidence_level: float = 0.95) -> list[float] | None:
    """Percentile interval of bootstrap values along axis 0, ignoring NaN; None if all NaN."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    alpha = (1.0 - confidence_level) / 2
    out = []
    for column in values.T:
        column = column[~np.isnan(column)]
        out.append(None if column.size == 0 else [float(x) for x in np.quantile(column, [alpha, 1 - alpha])])
    return out if len(out) > 1 else out[0]


def bootstrap_accuracy_interval(
    correct: Any,
    *,
    clusters: Any = None,
    n_resamples: int = 1000,
    confidence_level: float = 0.95,
    seed: int = 0,
) -> list[float]:
    """Seeded percentile bootstrap interval of the mean correctness (one number's CI)."""
    c = _as_correct(correct)
    figures = _RatioFigures(c.shape[0])
    figures.add(("accuracy",), c, np.ones_like(c))
    cluster = _clusters(clusters, c.shape[0])
    values = figures.resample(cluster, v.check_positive_int("n_resamples", n_resamples), seed)
    return percentile_interval(values[:, 0], v.check_fraction("confidence_level", confidence_level))


def _clusters(clusters: Any, n: int) -> np.ndarray:
    if clusters is None:
        return np.arange(n)
    ids = v.labels_to_array(clusters, "clean_ids")
    v.check_same_length(correct=n, clean_ids=ids.shape[0])
    return _codes(ids)


def _codes(ids: np.ndarray) -> np.ndarray:
    """Integer code per distinct id (ids of mixed types are compared as text)."""
    try:
        return np.unique(ids, return_inverse=True)[1].ravel()
    except TypeError:
        return np.unique(np.asarray([repr(x) for x in ids.tolist()]), return_inverse=True)[1].ravel()


# --------------------------------------------------------------------------- the report


def _normalise_groups(groups: Any) -> dict[str, Any]:
    if groups is None:
        return {}
    if isinstance(groups, Mapping):
        for name in groups:
            if not isinstance(name, str) or not name:
                v._fail("groups", f"has the column name {name!r}", "a mapping from column names (str) to labels")
        return dict(groups)
    return {"group": groups}


def accuracy_report(
    correct: Any,
    *,
    groups: Mapping[str, Sequence[Any]] | Sequence[Any] | None = None,
    severities: Sequence[Any] | None = None,
    clean_ids: Sequence[Any] | None = None,
    n_bootstrap: int = 1000,
    confidence_level: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """The accuracy table with bootstrap intervals.

    Args:
        correct: per-item correctness in [0, 1] (see :func:`item_correctness`).
        groups: ``{column: labels}`` (e.g. ``{"modality": [...], "capability": [...]}``)
            or one list of labels (reported as column ``"group"``).
        severities: 0/1/2 or 'L0'/'L1'/'L2' per item: adds the column ``"severity"``.
        clean_ids: the clean item each item derives from (its own id for L0 items):
            enables the paired drops, and makes the bootstrap resample clean images.
        n_bootstrap: number of resamples B (0 turns the intervals off).
        confidence_level: of the percentile intervals.
        seed: of ``numpy.random.default_rng``; the same inputs and seed give the same
            intervals.

    Returns:
        ``accuracy``, ``accuracy_ci``, ``num_items``; ``by`` {column: {"groups": {label:
        {"accuracy", "accuracy_ci", "num_items", and with drops "drop_L1_L0",
        "drop_L1_L0_ci", "drop_L2_L0", "drop_L2_L0_ci", "num_pairs_L1_L0",
        "num_pairs_L2_L0"}}, "mean_over_groups", "mean_over_groups_ci"}}; ``drops``
        {"L1-L0"/"L2-L0": {"drop", "ci", "num_pairs", "num_unmatched"}} or None; and
        ``bootstrap`` (its settings). Intervals are ``[low, high]`` or None. A drop also
        gives ``clean_accuracy`` (the twins' accuracy, each twin counted once per pair),
        ``degraded_accuracy`` (over the paired degraded items; drop = the difference) and
        ``num_clean_items``; a group row gives ``twin_accuracy_L1_L0``/``_L2_L0``.
    """
    c = _as_correct(correct)
    n = c.shape[0]
    n_bootstrap = v.check_positive_int("n_bootstrap", n_bootstrap, minimum=0)
    confidence_level = v.check_fraction("confidence_level", confidence_level)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        v._fail("seed", f"is {seed!r}", "an integer")
    columns = _normalise_groups(groups)
    if severities is not None:
        if "severity" in columns:
            v._fail("groups", "has a column named 'severity' and `severities` was given", "one of the two")
        levels = v.severities_to_levels(severities)
        v.check_same_length(correct=n, severities=levels.shape[0])
        columns["severity"] = np.asarray(LEVEL_NAMES, dtype=object)[levels]
    if clean_ids is not None and severities is not None:
        level, cluster, partner = match_clean_items(severities, clean_ids, n)
    else:
        level = partner = None
        cluster = _clusters(clean_ids, n)

    figures = _RatioFigures(n)
    ones = np.ones(n)
    figures.add(("accuracy",), c, ones)
    pair_values = {}
    if partner is not None:
        matched = partner >= 0
        difference = np.where(matched, c - c[np.maximum(partner, 0)], 0.0)
        twin_correct = np.where(matched, c[np.maximum(partner, 0)], 0.0)
        twin_values = {}
        for k, name in ((1, "L1-L0"), (2, "L2-L0")):
            in_pairs = matched & (level == k)
            pair_values[name] = (difference * in_pairs, in_pairs.astype(np.float64))
            twin_values[name] = (twin_correct * in_pairs, in_pairs.astype(np.float64))
            figures.add(("drop", name), *pair_values[name])
            figures.add(("twin", name), *twin_values[name])
            figures.add(("paired degraded", name), c * in_pairs, in_pairs.astype(np.float64))
    masks_by_column = {}
    for column, labels in columns.items():
        masks = cal.group_indices(labels, n, field=f"groups[{column!r}]")
        masks_by_column[column] = masks
        for label, mask in masks.items():
            figures.add(("group", column, label), c * mask, mask.astype(np.float64))
            for name, (num, den) in pair_values.items():
                figures.add(("group drop", column, label, name), num * mask, den * mask)
                figures.add(("group twin", column, label, name), twin_values[name][0] * mask, den * mask)

    index = {name: i for i, name in enumerate(figures.names)}
    point = figures.point()
    if n_bootstrap:
        replicates = figures.resample(cluster, n_bootstrap, seed)
    else:
        replicates = None

    def interval(values: np.ndarray | None) -> list[float] | None:
        if values is None:
            return None
        return percentile_interval(values, confidence_level)

    def ci(name: tuple[str, ...]) -> list[float] | None:
        return None if replicates is None else interval(replicates[:, index[name]])

    def number(x: float) -> float | None:
        return None if np.isnan(x) else float(x)

    result: dict[str, Any] = {
        "accuracy": float(point[index[("accuracy",)]]),
        "accuracy_ci": ci(("accuracy",)),
        "num_items": n,
    }
    by: dict[str, Any] = {}
    for column, masks in masks_by_column.items():
        table = {}
        for label, mask in masks.items():
            row: dict[str, Any] = {
                "accuracy": float(point[index[("group", column, label)]]),
                "accuracy_ci": ci(("group", column, label)),
                "num_items": int(mask.sum()),
            }
            for name in pair_values:
                key = name.replace("-", "_")
                figure = ("group drop", column, label, name)
                row[f"drop_{key}"] = number(point[index[figure]])
                row[f"drop_{key}_ci"] = ci(figure)
                row[f"num_pairs_{key}"] = int(pair_values[name][1][mask].sum())
                row[f"twin_accuracy_{key}"] = number(point[index[("group twin", column, label, name)]])
            table[label] = row
        columns_of_groups = [index[("group", column, label)] for label in masks]
        mean_replicates = None if replicates is None else replicates[:, columns_of_groups].mean(axis=1)
        by[column] = {
            "groups": table,
            "mean_over_groups": float(point[columns_of_groups].mean()),
            "mean_over_groups_ci": interval(mean_replicates),
        }
    result["by"] = by
    if pair_values:
        result["drops"] = {
            name: {
                "drop": number(point[index[("drop", name)]]),
                "ci": ci(("drop", name)),
                "num_pairs": int(pair_values[name][1].sum()),
                "num_clean_items": int(np.unique(cluster[pair_values[name][1] > 0]).size),
                "clean_accuracy": number(point[index[("twin", name)]]),
                "degraded_accuracy": number(point[index[("paired degraded", name)]]),
                "num_unmatched": int(((level == int(name[1])) & (partner < 0)).sum()),
            }
            for name in DROP_NAMES
        }
    else:
        result["drops"] = None
    result["bootstrap"] = {
        "n_resamples": n_bootstrap,
        "confidence_level": confidence_level,
        "seed": int(seed),
        "unit": "clean_id" if clean_ids is not None else "item",
        "method": "percentile",
    }
    return result


# --------------------------------------------------------------------------- Dunning-Kruger


VERDICTS = ("yes", "no", "not significant")


def paired_dunning_kruger(
    correct: Any,
    confidence: Any,
    *,
    severities: Sequence[Any],
    clean_ids: Sequence[Any],
    n_bootstrap: int = 1000,
    confidence_level: float = 0.95,
    seed: int = 0,
) -> dict[str, Any] | None:
    r"""The intra-model Dunning-Kruger verdict with paired bootstrap intervals over clean items.

    The paper's definition: :math:`Acc(L0) > Acc(L2)` and :math:`\Delta_{calib}(L0) \le
    \Delta_{calib}(L2)`. Both sides are measured on the *pairs* (an L2 item and the L0
    item of the same ``clean_id``; a clean item with several degradations is in several
    pairs): the accuracy drop :math:`\frac{1}{|P|}\sum_P (c_{L2} - c_{L0})` and the change
    of Calibration Shift :math:`\frac{1}{|P|}\sum_P ((C_{L2} - c_{L2}) - (C_{L0} - c_{L0}))`.
    Intervals: seeded percentile bootstrap, resampling clean items (each with its L0 item
    and all its L2 items together).

    Verdict: ``"yes"`` when the drop's interval lies below 0 and the shift change's lies
    at or above 0 (both conditions hold at the confidence level); ``"no"`` when the data
    contradict one condition at that level (the drop's interval above 0, or the shift
    change's below 0); ``"not significant"`` otherwise. None when no L2 item has a twin.
    """
    c = _as_correct(correct)
    conf = _as_correct(confidence)
    n = v.check_same_length(correct=c.shape[0], confidence=conf.shape[0])
    level, cluster, partner = match_clean_items(severities, clean_ids, n)
    pairs = (level == 2) & (partner >= 0)
    if not pairs.any():
        return None
    twin = np.maximum(partner, 0)
    weight = pairs.astype(np.float64)
    figures = _RatioFigures(n)
    figures.add(("drop",), (c - c[twin]) * weight, weight)
    figures.add(("shift change",), ((conf - c) - (conf[twin] - c[twin])) * weight, weight)
    figures.add(("acc L0",), c[twin] * weight, weight)
    figures.add(("acc L2",), c * weight, weight)
    figures.add(("shift L0",), (conf[twin] - c[twin]) * weight, weight)
    figures.add(("shift L2",), (conf - c) * weight, weight)
    point = figures.point()
    n_bootstrap = v.check_positive_int("n_bootstrap", n_bootstrap)
    level_ = v.check_fraction("confidence_level", confidence_level)
    intervals = percentile_interval(figures.resample(cluster, n_bootstrap, seed), level_)
    drop_ci, shift_ci = intervals[0], intervals[1]
    if drop_ci[1] < 0 and shift_ci[0] >= 0:
        verdict = "yes"
    elif drop_ci[0] > 0 or shift_ci[1] < 0:
        verdict = "no"
    else:
        verdict = "not significant"
    return {
        "verdict": verdict,
        "effect_point_estimate": bool(point[0] < 0 and point[1] >= 0),
        "accuracy_drop": float(point[0]), "accuracy_drop_ci": drop_ci,
        "shift_change": float(point[1]), "shift_change_ci": shift_ci,
        "accuracy_L0": float(point[2]), "accuracy_L2": float(point[3]),
        "calibration_shift_L0": float(point[4]), "calibration_shift_L2": float(point[5]),
        "num_pairs": int(pairs.sum()), "num_clean_items": int(np.unique(cluster[pairs]).size),
        "n_resamples": n_bootstrap, "confidence_level": level_, "seed": int(seed),
    }
