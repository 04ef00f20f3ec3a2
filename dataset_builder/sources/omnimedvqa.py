"""Source ``omnimedvqa``: the OmniMedVQA benchmark as it is downloaded.

Layout (``data_dir`` is the OmniMedVQA root; without ``data_dir`` the archive
``OmniMedVQA.zip`` of the Hub dataset ``foreverbeliever/OmniMedVQA`` is downloaded and
unpacked once, see ``sources.hub``)::

    OmniMedVQA/
      QA_information/
        Open-access/<dataset>.json          one JSON list per original dataset
        Restricted-access/<dataset>.json    read too when present
      Images/<dataset>/...                  the images the entries point to

``data_dir`` may also be one of the JSON files, which selects that dataset only; the
root is then the folder above ``QA_information``. Files are read in name order, Open-
access first. Each file is a list of objects like::

    {"dataset": "Chest CT Scan", "question_id": "Chest CT Scan_0001",
     "question_type": "Modality Recognition", "question": "What imaging technique is this?",
     "gt_answer": "CT", "option_A": "CT", "option_B": "MRI", "option_C": "PET",
     "option_D": "Ultrasound", "image_path": "Images/Chest CT Scan/test/1.png",
     "modality_type": "CT(Computed Tomography)"}

* options: ``option_A``, ``option_B``, ... in order; an empty or absent one ends them.
* answer: OmniMedVQA gives the answer TEXT (``gt_answer``); its letter is that of the one
  option equal to it, compared after stripping spaces, and if no option is equal then
  ignoring case and a trailing full stop. No match, or several, is an error naming the
  file, the row (1-based position in the list) and ``gt_answer``.
* modality: ``modality_type`` (one entry of the real data spells it ``modality``),
  normalised by ``modalities.normalize_modality``, which knows OmniMedVQA's spellings
  (``MR (Mag-netic Resonance Imaging)``, ``CT(Computed Tomography)``, ...). ``unknown``
  and modalities outside the toolkit's list are errors (skip them with
  ``on_error="skip"``; the report lists them).
* capability from ``question_type`` (``QUESTION_TYPES``): Modality Recognition -> IP,
  Anatomy Identification -> AR, Disease Diagnosis, Lesion Grading and Other Biological
  Attributes -> CU; skill = ``question_type`` as written.
* id: ``omnimedvqa-<file stem>-<question_id>``; the image path is relative to the root.
  Licence: that of the original dataset, which OmniMedVQA does not restate per item.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError, MedQDegError
from ..items import CleanItem
from .files import (
    check_image_file,
    image_file_loader,
    json_file,
    options_from_letters,
    place,
    resolve,
    text,
    where,
)

SOURCE = "OmniMedVQA"
ACCESS_FOLDERS = ("Open-access", "Restricted-access")
QUESTION_TYPES = {
    "Modality Recognition": "IP",
    "Anatomy Identification": "AR",
    "Disease Diagnosis": "CU",
    "Lesion Grading": "CU",
    "Other Biological Attributes": "CU",
}


def _loose(value: str) -> str:
    return value.strip().rstrip(".").strip().casefold()


def _answer(gt_answer: Any, options: list[str], location: str) -> str:
    value = text(gt_answer)
    matches = [index for index, option in enumerate(options) if option.strip() == value]
    if not matches:
        matches = [index for index, option in enumerate(options) if _loose(option) == _loose(value)]
    if value and len(matches) == 1:
        return chr(ord("A") + matches[0])  # past E only with >5 options, which validate_item refuses
    found = f"{len(matches)} options" if matches else "no option"
    raise InvalidInputError("gt_answer", f"is {value!r}, which equals {found}",
                            "the text of exactly one of the options option_A, option_B, ...", item=location)


def _qa_files(data_dir: Path | None) -> tuple[Path, list[Path]]:
    expected = "the OmniMedVQA root (holding QA_information/Open-access/*.json) or one of those JSON files"
    if data_dir is None:
        raise InvalidInputError("data_dir", "is not given", expected, item="source 'omnimedvqa'")
    if data_dir.is_file():
        root = next((parent.parent for parent in data_dir.parents if parent.name == "QA_information"), None)
        if data_dir.suffix.lower() != ".json" or root is None:
            raise InvalidInputError("data_dir", f"is {str(data_dir)!r}, not a JSON file under QA_information/",
                                    expected, item="source 'omnimedvqa'")
        return root, [data_dir]
    files = [path for folder in ACCESS_FOLDERS
             for path in sorted((data_dir / "QA_information" / folder).glob("*.json"))]
    if not files:
        raise InvalidInputError("data_dir", f"{str(data_dir)!r} has no QA_information/Open-access/*.json",
                                expected, item="source 'omnimedvqa'")
    return data_dir, files


def _item(record: Any, location: str, root: Path, stem: str) -> CleanItem:
    if not isinstance(record, dict):
        raise InvalidInputError("row", f"is a JSON {type(record).__name__}", "a JSON object", item=location)
    question_id = text(record.get("question_id"))
    if not question_id:
        raise InvalidInputError("question_id", "is missing or empty", "the entry's question id", item=location)
    item_id = f"omnimedvqa-{stem}-{question_id}"
    here = where(location, item_id)
    options = options_from_letters(record, here, key=lambda letter: f"option_{letter}")
    answer = _answer(record.get("gt_answer"), options, here)
    image_name = text(record.get("image_path"))
    if not image_name:
        raise InvalidInputError("image_path", "is missing or empty", "an image path relative to the OmniMedVQA root",
                                item=here)
    image_path = resolve(root, image_name)
    check_image_file(image_path, here, "image_path", "an image path relative to the OmniMedVQA root")
    question_type = text(record.get("question_type"))
    modality = text(record.get("modality_type")) or text(record.get("modality"))
    dataset = text(record.get("dataset")) or stem
    extra = {"question_id": question_id, "dataset": dataset, "question_type": question_type,
             "modality_type": modality, "gt_answer": text(record.get("gt_answer"))}
    return CleanItem(
        id=item_id, image=image_file_loader(image_path, here, "image_path"), question=text(record.get("question")),
        options=options, answer=answer, modality=modality, source=SOURCE,
        capability=QUESTION_TYPES.get(question_type), skill=question_type or None,
        origin=f"OmniMedVQA dataset {dataset!r}, {image_name}",
        license=f"that of the original dataset {dataset!r} (not restated by OmniMedVQA)",
        location=location, extra=extra,
    )


def omnimedvqa_items(data_dir: Path | None) -> Iterator[CleanItem | MedQDegError]:
    """OmniMedVQA items (see the module docstring); a bad entry is yielded as an error."""
    root, files = _qa_files(data_dir)
    for path in files:
        records = json_file(path, list, "a JSON list of QA entries")
        for number, record in enumerate(records, 1):
            try:
                yield _item(record, place(path, number), root, path.stem)
            except InvalidInputError as error:
                yield error
