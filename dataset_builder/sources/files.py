"""Helpers shared by the file sources: places, cells, paths, JSON files and lazy image loaders.

Every message names the place as ``file:row`` (``place``), or ``file:row (item 'id')``
once the row's id is known (``where``); an image is checked to exist when its row is read
(``check_image_file``) and read only when first loaded (``image_file_loader``).
"""

from __future__ import annotations

import csv
import functools
import json
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..errors import InvalidInputError
from ..image_io import read_image

CSV_FIELD_LIMIT = min(sys.maxsize, 2**31 - 1)
"""Base64 images make fields far larger than the csv module's default 128 KiB limit."""


def raise_csv_field_limit() -> None:
    """Let the csv module read fields as large as a base64-encoded image."""
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)


def place(path: Path, row: int) -> str:
    """The ``file:row`` location used in every message."""
    return f"{path}:{row}"


def where(location: str, item_id: object | None = None) -> str:
    """``location (item 'id')``, the same form ``validate_item`` uses."""
    return f"{location} (item {str(item_id)!r})" if item_id not in (None, "") else location


def text(value: Any) -> str:
    """A cell as stripped text; None (a missing JSON key or CSV cell) is empty."""
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN
        return ""
    return str(value).strip()


def resolve(base: Path, value: str) -> Path:
    """``value`` relative to ``base``, or as it is when absolute."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _load_image_file(path: Path, location: str, field: str) -> Image.Image | np.ndarray:
    try:
        return read_image(path)
    except InvalidInputError as error:
        problem = error.problem
    except (OSError, ValueError) as error:  # e.g. a truncated .npy
        problem = f"cannot be read ({error})"
    raise InvalidInputError(field, f"names {str(path)!r}, which {problem}",
                            "a readable PNG, JPEG, TIFF, DICOM or .npy image", item=location)


def image_file_loader(path: Path, location: str, field: str = "image"):
    """A picklable zero-argument loader; a corrupt file raises naming ``location`` and ``field``."""
    return functools.partial(_load_image_file, path, location, field)


def check_image_file(path: Path, location: str, field: str, expected: str) -> None:
    """Raise naming the place and field when the image file does not exist (a cheap check)."""
    if not os.path.isfile(path):
        raise InvalidInputError(field, f"names {str(path)!r}, which does not exist", expected, item=location)


def options_from_letters(record: Mapping[str, Any], location: str, *, key=lambda letter: letter) -> list[str]:
    """Options from one key per letter (A, B, ... or ``option_A``...): stop at the first empty one.

    Letters past E are read too, so that six options are refused by ``validate_item``
    rather than dropped; a non-empty option after an empty one is an error.
    """
    options: list[str] = []
    ended_at = None
    for letter in map(chr, range(ord("A"), ord("Z") + 1)):
        value = text(record.get(key(letter)))
        if not value:
            ended_at = ended_at or letter
            continue
        if ended_at:
            raise InvalidInputError(key(letter), f"is given but {key(ended_at)} is empty",
                                    "options filled from A without gaps", item=location)
        options.append(value)
    return options


def json_file(path: Path, kind: type, expected: str) -> Any:
    """The JSON value of a whole file, which must be a ``kind`` (an error naming the file otherwise)."""
    try:
        value = json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InvalidInputError("file", f"is not valid JSON ({error})", expected, item=str(path)) from None
    if not isinstance(value, kind):
        raise InvalidInputError("file", f"holds a JSON {type(value).__name__}", expected, item=str(path))
    return value


def jsonl_records(path: Path) -> Iterator[tuple[str, dict[str, Any] | InvalidInputError]]:
    """(location "file:line", the line's JSON object or the error naming it) per non-empty line."""
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            location = place(path, number)
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                yield location, InvalidInputError("line", f"is not valid JSON ({error.msg})",
                                                  "one JSON object per line", item=location)
                continue
            if not isinstance(record, dict):
                yield location, InvalidInputError("line", f"is a JSON {type(record).__name__}",
                                                  "one JSON object per line", item=location)
                continue
            yield location, record
