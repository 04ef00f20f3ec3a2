# Copyright 2026 The MedQ-Deg toolkit developers.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""MedQ-Deg accuracy table: overall, per group, degradation drops, bootstrap intervals.

This file is the public face of ``medqdeg.metrics.accuracy``, where every formula lives;
evaluate copies this file alone into its cache, so it imports the installed package and
nothing relative.
"""

import datasets
import evaluate

from medqdeg.dataset_builder.vocabulary import CITATION
from medqdeg.metrics import accuracy as accuracy_table
from medqdeg.metrics import validation

_DESCRIPTION = """
The accuracy table of MedQ-Deg (arXiv 2603.07769): accuracy overall and per any grouping
column (modality, degradation type, category, severity, capability, source...), the
unweighted mean over the groups of a column (the paper's "Avg" column), and the paired
degradation drops L1-L0 and L2-L0: every degraded item is compared with the clean item
it was made from (same clean_id), and the drop is the mean difference of correctness
over these pairs (negative when accuracy falls). Seeded bootstrap percentile intervals
(95% by default) come with every figure; the bootstrap resamples clean images, each with
all its degraded versions. An item may carry one answer or T sampled answers; with
samples its correctness is the majority vote (m outcomes tied at the top score 1/m if the
reference is among them) or the fraction of correct samples. Unparseable answers are
wrong.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions: per item one answer, or a list of T sampled answers: option indices
        (0 = A, -1 or None for unparseable) or letters "A".."Z" ("" or None for unparseable).
    references: the correct option of each item, index or letter (as the predictions).
    groups (optional): {column name: one label per item}, e.g.
        {"modality": [...], "degradation_type": [...]}, or a single list of labels.
    severities (optional): per item 0/1/2 or "L0"/"L1"/"L2"; adds the column "severity".
    clean_ids (optional): per item the id of the clean item it derives from (its own id
        for L0 items). With severities it gives the paired drops; it also makes the
        bootstrap resample clean images instead of single items.
    num_options (optional): K per item or one K; answers are then checked against it.
    accuracy (`str`, default "majority"): with samples, "majority" or "samples".
    unparseable (`str`, default "count"): with samples, "count" (an unparseable sample is a
        wrong answer of its own) or "ignore" (dropped; an item with none readable is wrong).
    n_bootstrap (`int`, default 1000): bootstrap resamples (0: no intervals).
    confidence_level (`float`, default 0.95): of the intervals.
    seed (`int`, default 0): of the bootstrap's numpy Generator.
    With add_batch, give the per-item keyword arguments (groups, severities, clean_ids,
    num_options) to compute, for all items.

Returns:
    accuracy, accuracy_ci ([low, high]), num_items;
    by: {column: {"groups": {label: {"accuracy", "accuracy_ci", "num_items", and with
        drops "drop_L1_L0", "drop_L1_L0_ci", "num_pairs_L1_L0", "drop_L2_L0", ...}},
        "mean_over_groups", "mean_over_groups_ci"}};
    drops: {"L1-L0": {"drop", "ci", "num_pairs", "num_unmatched"}, "L2-L0": {...}} or None;
    bootstrap: the settings used.

Examples:

        >>> metric = evaluate.load("metrics/medqdeg_accuracy")
        >>> result = metric.compute(
        ...     predictions=["A", "B", "B", "C", "A", "D"],
        ...     references=["A", "B", "A", "C", "C", "D"],
        ...     severities=["L0", "L0", "L1", "L1", "L2", "L2"],
        ...     clean_ids=["x", "y", "x", "y", "x", "y"],
        ...     n_bootstrap=200,
        ... )
        >>> round(result["accuracy"], 4), result["drops"]["L1-L0"]["drop"], result["drops"]["L2-L0"]["drop"]
        (0.6667, -0.5, -0.5)
        >>> result["by"]["severity"]["mean_over_groups"]
        0.6666666666666666
"""


def _features(prediction, reference):
    return datasets.Features({"predictions": prediction, "references": reference})


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class MedqdegAccuracy(evaluate.Metric):
    """Accuracy with breakdowns, paired degradation drops and bootstrap intervals."""

    def _info(self):
        validation.check_choice("config_name", self.config_name, ("default",))
        integer = datasets.Value("int32")
        text = datasets.Value("string")
        info = evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=[
                _features(integer, integer),
                _features(text, text),
                _features(datasets.Sequence(integer), integer),
                _features(datasets.Sequence(text), text),
            ],
            reference_urls=["https://arxiv.org/abs/2603.07769"],
        )
        # Hand the stored inputs to _compute as Arrow columns (zero-copy to NumPy).
        info.format = "arrow"
        return info

    def add_batch(self, *, predictions=None, references=None, **kwargs):
        """Add a batch of items; lengths are checked first, and a first batch may not be empty."""
        validation.check_batch({"predictions": predictions, "references": references, **kwargs},
                               first=self.writer is None)
        if isinstance(predictions, (list, tuple)) and any(isinstance(x, str) for x in predictions):
            # Letters: spell an unparseable answer "" so that the string features accept it.
            predictions = ["" if x is None else x for x in predictions]
        return super().add_batch(predictions=predictions, references=references, **kwargs)

    def _compute(
        self,
        predictions,
        references,
        groups=None,
        severities=None,
        clean_ids=None,
        num_options=None,
        accuracy="majority",
        unparseable="count",
        n_bootstrap=1000,
        confidence_level=0.95,
        seed=0,
    ):
        validation.check_nonempty("predictions", len(predictions))
        correct = accuracy_table.item_correctness(
            predictions,
            references,
            num_options=num_options,
            accuracy=accuracy,
            unparseable=unparseable,
        )
        return accuracy_table.accuracy_report(
            correct,
            groups=groups,
            severities=severities,
            clean_ids=clean_ids,
            n_bootstrap=n_bootstrap,
            confidence_level=confidence_level,
            seed=seed,
        )
