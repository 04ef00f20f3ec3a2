"""The table sources ``jsonl`` and ``csv``: a table of questions next to a folder of images.

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
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError, MedQDegError
from ..items import CleanItem
from ..vocabulary import OPTION_LETTERS
from . import files
from .files import place, text, where

TABLE_KEYS = ("id", "image", "question", "options", "answer", "modality", "capability", "skill",
              "source", "origin", "license")


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
        options = files.options_from_letters(record, here)
    image_name = text(record.get("image"))
    if not image_name:
        raise InvalidInputError("image", "is missing or empty", "an image path relative to the file's folder",
                                item=here)
    image_path = files.resolve(folder, image_name)
    files.check_image_file(image_path, here, "image", "an image path relative to the file's folder")
    extra = {str(k): text(v) if not isinstance(v, list | dict) else json.dumps(v)
             for k, v in record.items() if k not in TABLE_KEYS and k not in OPTION_LETTERS and k is not None}
    return CleanItem(
        id=item_id, image=files.image_file_loader(image_path, here), question=text(record.get("question")),
        options=options, answer=answer_letter(record.get("answer"), options, here),
        modality=text(record.get("modality")), source=text(record.get("source")) or stem,
        capability=text(record.get("capability")) or None, skill=text(record.get("skill")) or None,
        origin=text(record.get("origin")) or str(image_path), license=text(record.get("license")) or None,
        location=location, extra=extra,
    )


def jsonl_items(data_dir: Path | None) -> Iterator[CleanItem | MedQDegError]:
    """Items of a JSONL file (see the module docstring); a bad line is yielded as an error."""
    path = _single_file(data_dir, ".jsonl", "jsonl")
    for location, record in files.jsonl_records(path):
        if isinstance(record, InvalidInputError):
            yield record
            continue
        try:
            yield _table_item(record, location, path.parent, path.stem, options_json=False)
        except InvalidInputError as error:
            yield error


def csv_items(data_dir: Path | None) -> Iterator[CleanItem | MedQDegError]:
    """Items of a CSV file with a header row (see the module docstring)."""
    path = _single_file(data_dir, ".csv", "csv")
    files.raise_csv_field_limit()
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
