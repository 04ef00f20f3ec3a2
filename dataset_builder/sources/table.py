"""Generic sources ``jsonl`` and ``csv``: a table of questions next to a folder of images.

``data_dir`` is the ``.jsonl`` (source ``jsonl``) or ``.csv`` (source ``csv``) file, or a
folder holding exactly one file with that suffix; a folder with none or several is an
error that names the folder and the files found. Layout::

    my_set/
      items.jsonl              (or items.csv)
      images/case1.png         image paths are relative to the file's folder
      images/case2.dcm         DICOM, TIFF, JPEG, PNG and .npy are read by image_io.read_image

Keys (JSONL) or columns (CSV):

==========  =========================================================================
id          required, unique in the file
image       required: a path relative to the file's folder (an absolute path is kept)
question    required, non-empty
options     2 to 5 option texts: a list in JSONL, a JSON list in CSV (``["CT", "MRI"]``)
A .. E      or, instead of ``options``, one key per option letter; an empty one ends
            the options (a gap such as A, B, D is an error). Give one form, not both.
answer      the correct option's letter (A-E, any case); any other value must be the
            exact text (spaces at the ends ignored) of exactly one option
modality    required; any spelling ``modalities.normalize_modality`` accepts (MR, CT...)
capability  optional, one of AR IP CU BS Diag Treat (the paper's T2 codes)
skill       optional text (the paper's T3 skill, or your own label)
source      optional; defaults to the file's stem (``items``)
origin      optional provenance of the image; defaults to the image path
license     optional licence of the image
==========  =========================================================================

Any other key is kept, as text, in ``item.extra``. Example JSONL line::

    {"id": "q1", "image": "images/case1.png", "question": "Which modality is this?",
     "options": ["CT", "MRI", "X-ray"], "answer": "A", "modality": "CT"}

Example CSV::

    id,image,question,A,B,C,answer,modality
    q1,images/case1.png,Which modality is this?,CT,MRI,X-ray,CT,CT

Errors name the place as ``file:N``: N is the line number in a JSONL file and the data
row number (1-based, the header not counted) in a CSV file. A missing image file is
reported when the row is read; a corrupt one when its image is loaded.

The helpers below (image loaders, option handling) are shared by the other file sources.
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

from ..errors import InvalidInputError, MedQDegError
from ..image_io import read_image
from ..items import CleanItem
from ..vocabulary import OPTION_LETTERS
from . import register_source

CSV_FIELD_LIMIT = min(sys.maxsize, 2**31 - 1)
"""Base64 images make fields far larger than the csv module's default 128 KiB limit."""

TABLE_KEYS = ("id", "image", "question", "options", "answer", "modality", "capability", "skill",
              "source", "origin", "license")


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


def answer_letter(answer: Any, options: list[str], location: str, field: str = "answer") -> str:
    """A letter as it is (``validate_item`` checks it is among the options); else the letter
    of the one option whose text equals ``answer``."""
    value = text(answer)
    if len(value) == 1 and value.upper() in OPTION_LETTERS:
        return value.upper()
    matches = [index for index, option in enumerate(options) if option.strip() == value]
    if value and len(matches) == 1:
        return chr(ord("A") + matches[0])  # past E only with >5 options, which validate_item refuses
    found = "no option" if not matches else f"{len(matches)} options"
    raise InvalidInputError(field, f"is {value!r}, which is not a letter A-E and matches {found}",
                            "the correct option's letter, or the exact text of exactly one option",
                            item=location)


def _single_file(data_dir: Path | None, suffix: str, source: str) -> Path:
    if data_dir is None:
        raise InvalidInputError("data_dir", "is not given", f"a {suffix} file or a folder holding one",
                                item=f"source {source!r}")
    if data_dir.is_file():
        if data_dir.suffix.lower() != suffix:
            raise InvalidInputError("data_dir", f"is {str(data_dir)!r}, not a {suffix} file",
                                    f"a {suffix} file or a folder holding exactly one", item=f"source {source!r}")
        return data_dir
    if not data_dir.is_dir():
        raise InvalidInputError("data_dir", f"{str(data_dir)!r} does not exist",
                                f"a {suffix} file or a folder holding exactly one", item=f"source {source!r}")
    found = sorted(p for p in data_dir.iterdir() if p.is_file() and p.suffix.lower() == suffix)
    if len(found) != 1:
        names = ", ".join(p.name for p in found) or "none"
        raise InvalidInputError("data_dir", f"{str(data_dir)!r} holds {len(found)} {suffix} files ({names})",
                                f"exactly one {suffix} file, or the file's own path", item=f"source {source!r}")
    return found[0]


def _table_item(record: Mapping[str, Any], location: str, folder: Path, stem: str, *,
                options_json: bool) -> CleanItem:
    item_id = text(record.get("id"))
    here = where(location, item_id)
    if not item_id:
        raise InvalidInputError("id", "is missing or empty", "a unique identifier per row", item=location)
    letter_keys = [letter for letter in OPTION_LETTERS if letter in record]
    raw_options = record.get("options")
    if raw_options not in (None, "") and any(text(record.get(k)) for k in letter_keys):
        raise InvalidInputError("options", "is given together with letter columns A-E",
                                "either `options` or the columns A-E, not both", item=here)
    if raw_options not in (None, ""):
        if options_json and isinstance(raw_options, str):
            try:
                raw_options = json.loads(raw_options)
            except json.JSONDecodeError as error:
                raise InvalidInputError("options", f"is not a JSON list ({error.msg})",
                                        'a JSON list of option texts such as ["CT", "MRI"]', item=here) from None
        if not isinstance(raw_options, list):
            raise InvalidInputError("options", f"is a {type(raw_options).__name__}", "a list of option texts",
                                    item=here)
        options = [text(option) for option in raw_options]
    else:
        options = options_from_letters(record, here)
    image_name = text(record.get("image"))
    if not image_name:
        raise InvalidInputError("image", "is missing or empty", "an image path relative to the file's folder",
                                item=here)
    image_path = resolve(folder, image_name)
    check_image_file(image_path, here, "image", "an image path relative to the file's folder")
    extra = {str(k): text(v) if not isinstance(v, list | dict) else json.dumps(v)
             for k, v in record.items() if k not in TABLE_KEYS and k not in OPTION_LETTERS and k is not None}
    return CleanItem(
        id=item_id, image=image_file_loader(image_path, here), question=text(record.get("question")),
        options=options, answer=answer_letter(record.get("answer"), options, here),
        modality=text(record.get("modality")), source=text(record.get("source")) or stem,
        capability=text(record.get("capability")) or None, skill=text(record.get("skill")) or None,
        origin=text(record.get("origin")) or str(image_path), license=text(record.get("license")) or None,
        location=location, extra=extra,
    )


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


@register_source("jsonl")
def jsonl_items(data_dir: Path | None) -> Iterator[CleanItem | MedQDegError]:
    """Items of a JSONL file (see the module docstring); a bad line is yielded as an error."""
    path = _single_file(data_dir, ".jsonl", "jsonl")
    for location, record in jsonl_records(path):
        if isinstance(record, InvalidInputError):
            yield record
            continue
        try:
            yield _table_item(record, location, path.parent, path.stem, options_json=False)
        except InvalidInputError as error:
            yield error


@register_source("csv")
def csv_items(data_dir: Path | None) -> Iterator[CleanItem | MedQDegError]:
    """Items of a CSV file with a header row (see the module docstring)."""
    path = _single_file(data_dir, ".csv", "csv")
    raise_csv_field_limit()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        for number, row in enumerate(reader, 1):
            location = place(path, number)
            try:
                if None in row:
                    raise InvalidInputError("row", f"has {len(row[None])} more cell(s) than the header",
                                            "one cell per header column", item=location)
                yield _table_item(row, location, path.parent, path.stem, options_json=True)
            except InvalidInputError as error:
                yield error
