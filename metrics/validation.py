"""Argument checks and input conversion for the metrics, kept apart from the formulas.

Every check raises :class:`MetricInputError`, a subclass of the project's
:class:`~medqdeg.dataset_builder.errors.InvalidInputError` (so also a ``ValueError``). The
message names the first item at fault, the field, what was found and what is accepted,
for example::

    item 3: field `num_options` is 1 (and 2 more items); expected an integer K of at least 2

Answers are converted once, here, to integer option indices: ``0`` is option A, ``1`` is
option B, and :data:`UNPARSEABLE` (``-1``) marks a sample that the answer extraction could
not read. Accepted spellings of an answer:

- an integer option index ``0..K-1``, or ``-1`` for unparseable;
- a single letter ``"A".."Z"`` (any case), or ``None`` / ``""`` for unparseable;
- in float arrays, ``NaN`` for unparseable (integral values only otherwise).

Containers: Python lists, NumPy arrays and PyArrow (chunked) arrays, which is what an
``evaluate`` module hands over.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.dataset_builder.vocabulary import level_or_none

UNPARSEABLE = -1
"""The option index that marks an unparseable sample."""

LETTER_LABELS = string.ascii_uppercase
"""The letters a label may be given as (A = option 0); the metrics are not limited to the
benchmark's ``OPTION_LETTERS`` A-E, so K is at most 26."""

NO_SAMPLE = -2
"""Padding after the last sample of an item whose T is smaller than the largest T."""

PROBABILITY_ATOL = 1e-5
"""A probability row may differ from a sum of 1 by at most this much; it is then renormalised."""


class MetricInputError(InvalidInputError):
    """An input of a metric is not acceptable (wrong length, option, probability...)."""


def plain(value: Any) -> Any:
    """A NumPy scalar as the Python value it holds (for messages: 2.0, not np.float64(2.0))."""
    return value.item() if isinstance(value, np.generic) else value


def _fail(field: str, problem: str, expected: str, bad: np.ndarray | None = None) -> None:
    """Raise for the first flagged item of ``bad`` (a boolean mask), or with no item."""
    item = None
    if bad is not None:
        where = np.flatnonzero(bad)
        item = f"item {int(where[0])}"
        if where.size > 1:
            problem = f"{problem} (and {where.size - 1} more items)"
    raise MetricInputError(field, problem, expected, item=item)


# --------------------------------------------------------------------------- choices


def check_choice(name: str, value: Any, allowed: Iterable[str]) -> str:
    """``value`` must be one of ``allowed``: 'Expected argument `name` to be one of ...'."""
    allowed = tuple(allowed)
    if not isinstance(value, str) or value not in allowed:
        _fail(name, f"is {value!r}", "one of " + ", ".join(repr(a) for a in allowed))
    return value


def check_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        _fail(name, f"is {value!r}", f"an integer of at least {minimum}")
    return int(value)


def check_fraction(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        _fail(name, f"is {value!r}", "a number strictly between 0 and 1")
    return float(value)


def check_nonempty(field: str, n: int) -> None:
    if n == 0:
        _fail(field, "is empty", "at least one item")


def check_same_length(**columns: int) -> int:
    """All columns must have the same number of items; returns that number."""
    lengths = {name: n for name, n in columns.items() if n is not None}
    values = set(lengths.values())
    if len(values) > 1:
        first, *rest = lengths.items()
        for name, n in rest:
            if n != first[1]:
                _fail(
                    name,
                    f"has {n} items but `{first[0]}` has {first[1]}",
                    "one entry per item, the same number in every input",
                )
    n = values.pop() if values else 0
    return n


# --------------------------------------------------------------------------- answers


def _letters_to_codes(text: np.ndarray, field: str) -> np.ndarray:
    """Map a string array: one letter -> index, '' -> UNPARSEABLE, anything else -> error."""
    uniques, inverse = np.unique(text, return_inverse=True)
    codes = np.empty(uniques.shape[0], dtype=np.int64)
    for position, value in enumerate(uniques.tolist()):
        if value == "":
            codes[position] = UNPARSEABLE
        elif len(value) == 1 and value.upper() in LETTER_LABELS:
            codes[position] = LETTER_LABELS.index(value.upper())
        else:
            bad = (inverse == position).reshape(text.shape)
            if bad.ndim > 1:
                bad = bad.any(axis=tuple(range(1, bad.ndim)))
            _fail(
                field,
                f"holds {value!r}",
                "an option letter A-Z, an option index 0..K-1, or None/''/-1 for an unparseable answer",
                bad,
            )
    return codes[inverse].reshape(text.shape)


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _object_to_codes(array: np.ndarray, field: str) -> np.ndarray:
    """Slow path for object arrays (lists mixing None with ints or letters)."""
    flat = array.ravel()
    missing = np.fromiter((_is_missing(v) for v in flat), dtype=bool, count=flat.size)
    present = flat[~missing]
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in present):
        codes = np.full(flat.size, UNPARSEABLE, dtype=np.int64)
        codes[~missing] = np.asarray(present.tolist(), dtype=np.int64)
        return _check_integer_codes(codes.reshape(array.shape), field)
    if all(isinstance(v, str) for v in present):
        text = np.where(missing, "", flat).astype(str)
        return _letters_to_codes(text.reshape(array.shape), field)
    kinds = sorted({type(v).__name__ for v in present})
    _fail(
        field,
        f"mixes value types {kinds}",
        "only option indices (int) or only option letters (str), with None for unparseable",
    )
    raise AssertionError  # unreachable


def _check_integer_codes(codes: np.ndarray, field: str) -> np.ndarray:
    bad = codes < UNPARSEABLE
    if bad.any():
        if bad.ndim > 1:
            bad = bad.any(axis=tuple(range(1, bad.ndim)))
        _fail(
            field,
            f"holds the negative option index {int(codes[codes < UNPARSEABLE].flat[0])}",
            "an option index 0..K-1, or -1 for an unparseable answer",
            bad,
        )
    return codes


def _arrow_to_numpy(values: Any) -> Any:
    """Turn a PyArrow (chunked) array into NumPy; lists must all have one length."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if pa.types.is_list(values.type) or pa.types.is_large_list(values.type):
        lengths = pc.list_value_length(values).to_numpy(zero_copy_only=False)
        if len(values) and np.any(lengths != lengths[0]):
            return None  # ragged: let the caller report it
        width = int(lengths[0]) if len(values) else 0
        flat = _arrow_to_numpy(pc.list_flatten(values))
        return flat.reshape(len(values), width)
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return values.fill_null("").to_numpy(zero_copy_only=False).astype(str)
    if pa.types.is_integer(values.type):
        return values.fill_null(UNPARSEABLE).to_numpy(zero_copy_only=False).astype(np.int64)
    return values.to_numpy(zero_copy_only=False)


def _is_arrow(values: Any) -> bool:
    return type(values).__module__.startswith("pyarrow")


def to_array(values: Any, field: str, ndim: int | None) -> np.ndarray:
    """Any container of answers or numbers to a NumPy array with ``ndim`` dimensions.

    ``ndim=None`` accepts one value per item (1-D) or one list per item (2-D).
    """
    if _is_arrow(values):
        array = _arrow_to_numpy(values)
        if array is None:
            _fail(field, "has items with different numbers of entries", "the same number T for every item")
    else:
        try:
            array = np.asarray(values)
        except ValueError:
            _fail(field, "has items with different numbers of entries", "the same number T for every item")
    if array.ndim == 1 and ndim in (2, None) and array.dtype == object and array.size:
        if ndim is None and not all(isinstance(x, (list, tuple, np.ndarray)) for x in array.tolist()):
            return array
        # A list of per-item arrays (a ragged or object column): stack if rectangular.
        try:
            array = np.stack([np.asarray(row) for row in array])
        except ValueError:
            _fail(field, "has items with different numbers of entries", "the same number T for every item")
    if array.size == 0 and array.ndim == 1:
        return array.reshape((0, 0) if ndim == 2 else (0,))
    if ndim is None:
        ndim = array.ndim if array.ndim in (1, 2) else 1
    if array.ndim != ndim:
        shape = "one value per item" if ndim == 1 else "one list of T values per item"
        _fail(field, f"has {array.ndim} dimensions (shape {array.shape})", shape)
    return array


def answers_to_indices(values: Any, field: str, ndim: int | None = 1) -> np.ndarray:
    """Answers (indices, letters, None/-1/NaN for unparseable) to int64 option indices.

    ``ndim=1``: one answer per item, shape (N,). ``ndim=2``: T sampled answers per item,
    shape (N, T), the same T for every item. ``ndim=None``: either.
    """
    array = to_array(values, field, ndim)
    if array.size == 0:
        return np.zeros(array.shape, dtype=np.int64)
    kind = array.dtype.kind
    if kind in "iu":
        return _check_integer_codes(array.astype(np.int64, copy=False), field)
    if kind == "b":
        _fail(field, "holds booleans", "option indices (int) or option letters (str)")
    if kind == "f":
        missing = np.isnan(array)
        if np.any(array[~missing] != np.round(array[~missing])):
            bad = (array != np.round(array)) & ~missing
            if bad.ndim > 1:
                bad = bad.any(axis=1)
            _fail(field, "holds non-integral numbers", "integer option indices 0..K-1", bad)
        codes = np.where(missing, UNPARSEABLE, array).astype(np.int64)
        return _check_integer_codes(codes, field)
    if kind in "US":
        return _letters_to_codes(array.astype(str), field)
    if kind == "O":
        return _object_to_codes(array, field)
    _fail(field, f"has dtype {array.dtype}", "option indices (int) or option letters (str)")
    raise AssertionError  # unreachable


def samples_to_indices(values: Any, field: str = "predictions") -> tuple[np.ndarray, np.ndarray]:
    """T_i sampled answers per item, T_i free to differ between items, as padded indices.

    Returns ``(answers, lengths)``: int64 ``answers`` of shape (N, max T_i) holding option
    indices, ``UNPARSEABLE`` (-1) for unparseable samples and ``NO_SAMPLE`` (-2) after an
    item's last sample; ``lengths`` the T_i. An item with no sample at all is an error.
    Errors name the item (its position in ``values``) and the field.
    """
    rows: list[Any] | None = None
    if _is_arrow(values):
        import pyarrow as pa
        import pyarrow.compute as pc

        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
        if not (pa.types.is_list(values.type) or pa.types.is_large_list(values.type)):
            _fail(field, f"has Arrow type {values.type}", "one list of T sampled answers per item")
        lengths = pc.list_value_length(values).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        flat_values: Any = pc.list_flatten(values)
        if pa.types.is_null(flat_values.type):
            flat_values = flat_values.cast(pa.int64())
    else:
        if isinstance(values, np.ndarray) and values.ndim == 2:
            answers = answers_to_indices(values, field, ndim=2)
            return answers, np.full(answers.shape[0], answers.shape[1], dtype=np.int64)
        rows = list(values)
        for i, row in enumerate(rows):
            if isinstance(row, (str, bytes)) or not hasattr(row, "__len__"):
                _fail(field, f"is {row!r}", "a list of the item's T sampled answers", np.arange(len(rows)) == i)
        lengths = np.fromiter((len(row) for row in rows), dtype=np.int64, count=len(rows))
        flat_values = np.empty(int(lengths.sum()), dtype=object)
        flat_values[:] = [answer for row in rows for answer in row]
    empty = lengths == 0
    if empty.any():
        _fail(field, "has no samples", "at least one sampled answer per item (an unparseable one counts)", empty)
    try:
        flat = answers_to_indices(flat_values, field, ndim=1)
    except MetricInputError as error:  # name the item, not the position in the flattened samples
        owner = np.repeat(np.arange(lengths.size), lengths)
        sample = int(error.item.split()[-1]) if error.item else 0
        raise MetricInputError(field, error.problem, error.expected, item=f"item {int(owner[sample])}") from None
    width = int(lengths.max()) if lengths.size else 0
    answers = np.full((lengths.size, width), NO_SAMPLE, dtype=np.int64)
    answers[np.arange(width)[None, :] < lengths[:, None]] = flat
    return answers, lengths


def check_num_options(num_options: Any, n: int, field: str = "num_options") -> np.ndarray:
    """K per item (or one K for all) to an int64 array of shape (N,); 2 <= K <= 26."""
    array = np.asarray(num_options.to_numpy(zero_copy_only=False) if _is_arrow(num_options) else num_options)
    if array.ndim == 0:
        array = np.full(n, array.item() if array.size else 0)
    if array.ndim != 1:
        _fail(field, f"has shape {array.shape}", "one integer K per item, or a single integer")
    if array.dtype.kind == "f" and np.all(array == np.round(array)):
        array = array.astype(np.int64)
    if array.dtype.kind not in "iu":
        _fail(field, f"has dtype {array.dtype}", "integers (the number of answer options K)")
    check_same_length(**{field: array.shape[0], "references": n})
    array = array.astype(np.int64, copy=False)
    bad = array < 2
    if bad.any():
        _fail(field, f"is {int(array[bad][0])}", "an integer K of at least 2", bad)
    bad = array > len(LETTER_LABELS)
    if bad.any():
        _fail(field, f"is {int(array[bad][0])}", f"an integer K of at most {len(LETTER_LABELS)} (letters A-Z)", bad)
    return array


def check_answers_in_options(answers: np.ndarray, num_options: np.ndarray, field: str) -> None:
    """Every parseable answer of item i must be an index below K_i."""
    k = num_options if answers.ndim == 1 else num_options[:, None]
    bad = answers >= k
    if bad.any():
        value = int(answers[bad].flat[0])
        if bad.ndim > 1:
            bad = bad.any(axis=1)
        first = int(np.flatnonzero(bad)[0])
        shown = LETTER_LABELS[value] if value < len(LETTER_LABELS) else str(value)
        _fail(
            field,
            f"holds option {shown!r} (index {value}) but the item has K={int(num_options[first])} options",
            "an option among the item's K options (index 0..K-1, letter A..), or unparseable",
            bad,
        )


def check_references(references: np.ndarray, num_options: np.ndarray | None = None) -> None:
    """References must be real options: never unparseable, and below K when K is known."""
    bad = references == UNPARSEABLE
    if bad.any():
        _fail("references", "is missing or unparseable", "the correct option (letter or index) of every item", bad)
    if num_options is not None:
        check_answers_in_options(references, num_options, "references")


def probabilities_to_array(values: Any, field: str = "predictions") -> tuple[np.ndarray, np.ndarray]:
    """Probability rows (one per item, possibly of different lengths K_i) to a padded array.

    Returns ``(P, K)``: ``P`` of shape (N, max K) with zeros after each row's end, ``K``
    the length of each row.
    """
    if _is_arrow(values):
        import pyarrow as pa
        import pyarrow.compute as pc

        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
        lengths = pc.list_value_length(values).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        flat = pc.list_flatten(values).to_numpy(zero_copy_only=False).astype(np.float64)
        rows = [flat]
    else:
        array = values if isinstance(values, np.ndarray) else None
        if array is not None and array.ndim == 2 and array.dtype.kind in "fiu":
            n, width = array.shape
            return array.astype(np.float64), np.full(n, width, dtype=np.int64)
        rows = [np.asarray(row, dtype=np.float64).ravel() if row is not None else np.zeros(0) for row in values]
        lengths = np.fromiter((row.size for row in rows), dtype=np.int64, count=len(rows))
        flat = np.concatenate(rows) if rows else np.zeros(0)
    n = lengths.shape[0]
    width = int(lengths.max()) if n else 0
    padded = np.zeros((n, width), dtype=np.float64)
    if n:
        row_index = np.repeat(np.arange(n), lengths)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        column = np.arange(flat.size) - np.repeat(starts, lengths)
        padded[row_index, column] = flat
    return padded, lengths


def check_probabilities(probabilities: np.ndarray, num_options: np.ndarray, atol: float = PROBABILITY_ATOL) -> np.ndarray:
    """Rows must be finite, non-negative and sum to 1 (within ``atol``); returns them renormalised."""
    bad = np.isnan(probabilities).any(axis=1)
    if bad.any():
        _fail("predictions", "holds NaN probabilities", "finite probabilities in [0, 1] for every option", bad)
    bad = ~np.isfinite(probabilities).all(axis=1) | (probabilities < 0).any(axis=1) | (probabilities > 1 + atol).any(axis=1)
    if bad.any():
        _fail("predictions", "holds a probability outside [0, 1]", "finite probabilities in [0, 1] for every option", bad)
    sums = probabilities.sum(axis=1)
    bad = np.abs(sums - 1.0) > atol
    if bad.any():
        first = float(sums[bad][0])
        _fail(
            "predictions",
            f"has a probability row summing to {first:.6g}",
            f"each item's probabilities over its K options to sum to 1 (within {atol:g})",
            bad,
        )
    return probabilities / sums[:, None]


# --------------------------------------------------------------------------- groups


def labels_to_array(labels: Sequence[Any] | Any, field: str) -> np.ndarray:
    """Group labels (strings, integers or other hashable scalars) to a 1-D array.

    ``None`` and NaN are not labels: every item needs one.
    """
    if _is_arrow(labels):
        import pyarrow.compute as pc

        if pc.sum(pc.is_null(labels)).as_py():
            bad = pc.is_null(labels).to_numpy(zero_copy_only=False)
            _fail(field, "is missing (None)", "a group label for every item", np.asarray(bad, dtype=bool))
        array = labels.to_numpy(zero_copy_only=False)
    else:
        array = np.asarray(labels)
    if array.ndim != 1:
        _fail(field, f"has shape {array.shape}", "one group label per item (a flat list)")
    if array.dtype.kind == "f":
        bad = np.isnan(array)
    elif array.dtype.kind == "O":
        bad = np.fromiter((_is_missing(x) for x in array), dtype=bool, count=array.size)
    else:
        bad = None
    if bad is not None and bad.any():
        _fail(field, "is missing (None/NaN)", "a group label for every item", bad)
    return array


def severities_to_levels(labels: Any, field: str = "severities") -> np.ndarray:
    """Severity labels to integer levels 0, 1, 2; anything else is an error."""
    array = labels_to_array(labels, field)
    levels = np.fromiter(
        (-1 if (level := level_or_none(v)) is None else level for v in array.tolist()),
        dtype=np.int64,
        count=array.size,
    )
    bad = levels < 0
    if bad.any():
        _fail(field, f"is {plain(array[bad][0])!r}", "a severity 0, 1, 2 or 'L0', 'L1', 'L2'", bad)
    return levels


def check_batch(columns: dict[str, Any], *, first: bool) -> int:
    """Before an evaluate ``add_batch``: every given column has the same length, and the
    first batch of a computation is not empty. Returns the batch's length."""
    n = check_same_length(**{name: len(column) for name, column in columns.items() if column is not None})
    if first:
        check_nonempty("predictions", n)
    return n
