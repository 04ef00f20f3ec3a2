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
"""Calibration Shift (MedQ-Deg): confidence from answer consistency minus accuracy.

This file is the public face of ``medqdeg.metrics.calibration``, where every formula
lives; evaluate copies this file alone into its cache, so it imports the installed
package and nothing relative.
"""

import os

import datasets
import evaluate

from medqdeg.dataset_builder.vocabulary import CITATION
from medqdeg.metrics import calibration, validation

_DESCRIPTION = """
Calibration Shift (MedQ-Deg, arXiv 2603.07769) measures how far a model's confidence sits
above its accuracy. The confidence of an item is the consistency of T answers sampled at
temperature 1: with p the share of samples that chose each of the K options,
C = 1 - H(p) / ln K, where H is the entropy (1 when all samples agree, 0 when they are
spread evenly over the K options). Calibration Shift = mean C - accuracy: positive means
overconfident, negative underconfident. Beside it: the accuracy of the majority vote
(m outcomes tied at the top score 1/m if the reference is among them), the accuracy
averaged over the samples, the expected calibration error over 15 equal-width bins of C
(right-closed, as scikit-learn's calibration_curve), the Brier score of C and the area
under the risk-coverage curve (ties in C taken in expectation).

Configurations: "samples" (default) takes the T sampled answers per item; "probabilities"
takes one probability vector over the item's options (the exact letter distribution of a
local model in one pass), whose C is the limit of the sample consistency as T grows.
With `groups` every figure is also given per group; when the groups are the severities
L0/L1/L2 the intra-model Dunning-Kruger verdict is given: Acc(L0) > Acc(L2) and
Calibration Shift(L0) <= Calibration Shift(L2).
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions: configuration "samples": for each item the list of its T sampled answers,
        as option indices (0 = A) with -1 or None for an unparseable sample, or as letters
        "A".."Z" with None or "" for an unparseable sample. Every item has the same T.
        Configuration "probabilities": for each item a list of K probabilities, one per
        option, summing to 1 (within 1e-5); its length is the item's K.
    references: the correct option of each item, index or letter (as the predictions).
    num_options: (configuration "samples" only) K, the number of options of each item, 2..26.
    groups (optional): one label per item (e.g. its severity "L0"/"L1"/"L2", or its
        modality); with add_batch, pass the labels of all items to compute.
    accuracy (`str`, default "majority"): the accuracy the shift, ECE, Brier score and AURC
        are computed against: "majority" (majority vote per item, ties split 1/m) or
        "samples" (fraction of correct samples; the probability of the reference for
        probability input).
    unparseable (`str`, default "count"): "count": an unparseable sample stays in T, is
        wrong, and spreads its mass evenly over the K options in the confidence;
        "ignore": unparseable samples are dropped (an item with none readable is wrong,
        with C = 0).
    n_bins (`int`, default 15): bins of the expected calibration error.
    clean_ids (optional, with severity groups): the clean item each item derives from (its
        own id for an L0 item): adds the Dunning-Kruger verdict with paired bootstrap 95%
        intervals over clean items ("yes" / "no" / "not significant").

Returns:
    calibration_shift: mean confidence - accuracy, in [-1, 1].
    mean_confidence: mean C, in [0, 1].
    accuracy: majority-vote accuracy, in [0, 1].
    sample_accuracy: accuracy averaged over the samples, in [0, 1].
    ece: expected calibration error, in [0, 1].
    brier_score: mean (C - correct)^2, in [0, 1].
    aurc: area under the risk-coverage curve, in [0, 1], lower is better.
    num_items, num_samples, num_unparseable: counts (num_samples is 0 for probabilities).
    per_group (with groups): {label: the figures above}.
    dunning_kruger (with groups): the point-estimate verdict dict when the labels are
        L0/L1/L2, else None.
    dunning_kruger_paired (with groups and clean_ids): {"verdict", "accuracy_drop",
        "accuracy_drop_ci", "shift_change", "shift_change_ci", "num_pairs", ...}.

Examples:

    Three samples A, A, B of a four-option item whose answer is A:
        >>> metric = evaluate.load("metrics/calibration_shift")
        >>> result = metric.compute(predictions=[["A", "A", "B"]], references=["A"], num_options=[4])
        >>> round(result["mean_confidence"], 4), result["accuracy"], round(result["sample_accuracy"], 4)
        (0.5409, 1.0, 0.6667)

    Option indices, an unparseable sample (-1) and severity groups:
        >>> result = metric.compute(
        ...     predictions=[[0, 0, 0], [1, 1, -1], [2, 2, 2], [0, 1, 2]],
        ...     references=[0, 1, 0, 0],
        ...     num_options=[4, 4, 4, 4],
        ...     groups=["L0", "L0", "L2", "L2"],
        ... )
        >>> round(result["accuracy"], 4), result["num_unparseable"], result["dunning_kruger"]["effect"]
        (0.5833, 1, True)

    A probability vector per item:
        >>> metric = evaluate.load("metrics/calibration_shift", "probabilities")
        >>> result = metric.compute(predictions=[[1.0, 0.0], [0.5, 0.5]], references=[0, 1])
        >>> result["mean_confidence"], result["accuracy"], result["sample_accuracy"]
        (0.5, 0.75, 0.75)
"""
_CONFIGS = ("default", "samples", "probabilities")


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class CalibrationShift(evaluate.Metric):
    """Calibration Shift of sampled answers or of probability vectors."""

    def _info(self):
        validation.check_choice("config_name", self.config_name, _CONFIGS)
        if self.config_name == "probabilities":
            features = [
                datasets.Features(
                    {
                        "predictions": datasets.Sequence(datasets.Value("float64")),
                        "references": datasets.Value("int32"),
                    }
                ),
                datasets.Features(
                    {
                        "predictions": datasets.Sequence(datasets.Value("float64")),
                        "references": datasets.Value("string"),
                    }
                ),
            ]
        else:
            features = [
                datasets.Features(
                    {
                        "predictions": datasets.Sequence(datasets.Value("int32")),
                        "references": datasets.Value("int32"),
                        "num_options": datasets.Value("int32"),
                    }
                ),
                datasets.Features(
                    {
                        "predictions": datasets.Sequence(datasets.Value("string")),
                        "references": datasets.Value("string"),
                        "num_options": datasets.Value("int32"),
                    }
                ),
            ]
        info = evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=features,
            reference_urls=["https://arxiv.org/abs/2603.07769"],
        )
        # Hand the stored inputs to _compute as Arrow columns, not Python lists: the
        # conversion to NumPy is then zero-copy for a million items. (MetricInfo only
        # accepts a format for plain Value features when it is built, so set it after.)
        info.format = "arrow"
        return info

    def add_batch(self, *, predictions=None, references=None, **kwargs):
        """Add a batch of items; lengths are checked first, and a first batch may not be empty.

        The batch is checked and turned into option indices here (the project's errors,
        naming the item and the field), so evaluate's format check always sees integers:
        letters, None and all-unparseable items need no guessing of the format. When a
        call fails anyway, the batches stored so far are discarded and the object stays
        usable (evaluate would otherwise keep a half-initialised writer).
        """
        validation.check_batch({"predictions": predictions, "references": references, **kwargs},
                               first=self.writer is None)
        if predictions is not None and references is not None:
            predictions, references = self._as_indices(predictions, references)
        try:
            return super().add_batch(predictions=predictions, references=references, **kwargs)
        except Exception:
            self._discard()
            raise

    def add(self, *, prediction=None, reference=None, **kwargs):
        """Add one item (see ``add_batch``)."""
        extra = {key: [value] for key, value in kwargs.items()}
        return self.add_batch(predictions=[prediction], references=[reference], **extra)

    def compute(self, *, predictions=None, references=None, **kwargs):
        """Compute over the stored and the given items; a failure leaves the object usable."""
        try:
            return super().compute(predictions=predictions, references=references, **kwargs)
        except Exception:
            self._discard()
            raise

    def _as_indices(self, predictions, references):
        refs = validation.answers_to_indices(references, "references", ndim=1).tolist()
        if self.config_name == "probabilities":
            return predictions, refs
        answers, lengths = validation.samples_to_indices(predictions, "predictions")
        return [row[:length] for row, length in zip(answers.tolist(), lengths.tolist(), strict=True)], refs

    def _discard(self):
        """Forget every stored batch and release evaluate's writer, cache file and locks."""
        writer, self.writer = self.writer, None
        if writer is not None:
            try:
                writer.close()
            except Exception:  # the writer may be half-initialised; nothing is kept from it
                pass
        self.buf_writer = None
        self.selected_feature_format = None
        self.data = None
        locks = list(zip(getattr(self, "filelocks", None) or [], getattr(self, "file_paths", None) or [],
                         strict=False))
        if self.filelock is not None and self.cache_file_name:
            locks.append((self.filelock, self.cache_file_name))
        for lock, path in locks:
            try:
                if os.path.exists(path):
                    os.remove(path)
                lock.release()
            except Exception:  # already released or removed
                pass
        self.filelocks, self.file_paths = [], []
        self.filelock = None
        self.cache_file_name = None

    def _compute(
        self,
        predictions,
        references,
        num_options=None,
        groups=None,
        accuracy="majority",
        unparseable="count",
        n_bins=calibration.ECE_BINS,
        clean_ids=None,
    ):
        validation.check_nonempty("predictions", len(predictions))
        if self.config_name == "probabilities":
            given = {"probabilities": predictions}
        else:
            given = {"samples": predictions, "num_options": num_options}
        return calibration.calibration_report(
            **given, references=references, groups=groups, accuracy=accuracy, unparseable=unparseable, n_bins=n_bins,
            clean_ids=clean_ids,
        )
