"""Source ``medxpertqa``: the multimodal (MM) subset of MedXpertQA.

Layout (``data_dir`` is the MedXpertQA root, as on Hugging Face ``TsinghuaC3I/MedXpertQA``
with ``images.zip`` unpacked; without ``data_dir`` ``MM/dev.jsonl``, ``MM/test.jsonl`` and
``images.zip`` are downloaded from that Hub dataset and laid out so, see ``sources.hub``)::

    MedXpertQA/
      MM/dev.jsonl            read when present
      MM/test.jsonl           read when present (dev first)
      images/MM-26-a.jpeg     the files the records name
      modalities.json         optional: {"<record id>": "<modality>", ...} (see below)

``data_dir`` may also be one of the JSONL files (a subset); the root is then the folder
above ``MM`` (or the file's own folder when it is not in ``MM``). One record per line::

    {"id": "MM-26", "question": "A 45-year-old man ... Which is the diagnosis?\\nAnswer
     Choices: (A) Gout (B) Pseudogout (C) Septic arthritis (D) Psoriatic arthritis
     (E) Reactive arthritis", "options": {"A": "Gout", "B": "Pseudogout", ...},
     "label": "B", "images": ["MM-26-a.jpeg"], "medical_task": "Diagnosis",
     "body_system": "Skeletal", "question_type": "Reasoning"}

Choices made where MedQ-Deg and MedXpertQA differ:

* One image per item: a record with several images (or none) is an error naming the file,
  the line and ``images``; with ``on_error="skip"`` such records are skipped and listed in
  the report. Multi-image questions refer to their images by letter ("Figure B shows"),
  so keeping only the first would change the question; MedQ-Deg items have one image.
* The question text loses its trailing ``Answer Choices: (A) ...`` block (the toolkit's
  prompt lists the options itself); the options come from ``options``.
* Modality: MedXpertQA records carry none, and ``body_system`` / ``medical_task`` are not
  modalities, so nothing is guessed. The modality is, in this order, a ``modality`` key
  of the record, the record's entry in ``<root>/modalities.json``, or the
  ``default_modality`` passed to ``medxpertqa_items`` (Python only; the registered source
  has none). A record with none of these is an error naming the file, the line and
  ``modality``.
* Capability (the paper's T2 codes): question_type ``Understanding`` -> CU with the
  paper's T3 skill of the same task (Diagnosis -> Disease Diagnosis, Treatment ->
  Treatment Understanding, Basic Science -> Basic Science Understanding);
  ``Reasoning`` -> by medical_task: Diagnosis -> Diag, Treatment -> Treat, Basic Science
  -> BS, with skill = medical_task (the paper's reasoning skills are finer than MedXpertQA's
  labels). Anything else: no capability, skill = medical_task.
* id: ``medxpertqa-<file stem>-<id>`` (``medxpertqa-test-MM-26``); body_system,
  medical_task and question_type are kept in ``item.extra``. Licence: MIT (the
  MedXpertQA project's).
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
    jsonl_records,
    options_from_letters,
    text,
    where,
)

SOURCE = "MedXpertQA"
LICENSE = "MIT (the MedXpertQA project's licence)"
SPLITS = ("dev.jsonl", "test.jsonl")
MODALITY_FILE = "modalities.json"
CHOICES_MARK = "Answer Choices:"
UNDERSTANDING_SKILLS = {"Diagnosis": "Disease Diagnosis", "Treatment": "Treatment Understanding",
                        "Basic Science": "Basic Science Understanding"}
REASONING_CAPABILITIES = {"Diagnosis": "Diag", "Treatment": "Treat", "Basic Science": "BS"}


def strip_answer_choices(question: str) -> str:
    """The question without its trailing ``Answer Choices: (A) ...`` block."""
    at = question.rfind(CHOICES_MARK)
    if at >= 0 and "(A)" in question[at:]:
        return question[:at].rstrip()
    return question.strip()


def capability_of(question_type: str, medical_task: str) -> tuple[str | None, str | None]:
    """(capability, skill) from MedXpertQA's labels (see the module docstring)."""
    if question_type == "Understanding" and medical_task in UNDERSTANDING_SKILLS:
        return "CU", UNDERSTANDING_SKILLS[medical_task]
    if question_type == "Reasoning" and medical_task in REASONING_CAPABILITIES:
        return REASONING_CAPABILITIES[medical_task], medical_task
    return None, medical_task or None


def _files(data_dir: Path | None) -> tuple[Path, list[Path]]:
    expected = "the MedXpertQA root (holding MM/test.jsonl and/or MM/dev.jsonl, and images/) or one such file"
    if data_dir is None:
        raise InvalidInputError("data_dir", "is not given", expected, item="source 'medxpertqa'")
    if data_dir.is_file():
        if data_dir.suffix.lower() != ".jsonl":
            raise InvalidInputError("data_dir", f"is {str(data_dir)!r}, not a .jsonl file", expected,
                                    item="source 'medxpertqa'")
        return (data_dir.parent.parent if data_dir.parent.name == "MM" else data_dir.parent), [data_dir]
    files = [data_dir / "MM" / name for name in SPLITS if (data_dir / "MM" / name).is_file()]
    if not files:
        raise InvalidInputError("data_dir", f"{str(data_dir)!r} has neither MM/dev.jsonl nor MM/test.jsonl",
                                expected, item="source 'medxpertqa'")
    return data_dir, files


def _modality_table(root: Path) -> dict[str, str]:
    path = root / MODALITY_FILE
    if not path.is_file():
        return {}
    table = json_file(path, dict, 'an object {"<id>": "<modality>"}')
    return {str(key): text(value) for key, value in table.items()}


def _item(record: Any, location: str, root: Path, stem: str, modalities: dict[str, str],
          default_modality: str | None) -> CleanItem:
    if not isinstance(record, dict):
        raise InvalidInputError("line", f"is a JSON {type(record).__name__}", "one JSON object per line",
                                item=location)
    record_id = text(record.get("id"))
    if not record_id:
        raise InvalidInputError("id", "is missing or empty", "the record's id, e.g. MM-26", item=location)
    item_id = f"medxpertqa-{stem}-{record_id}"
    here = where(location, item_id)
    raw_options = record.get("options")
    if not isinstance(raw_options, dict):
        raise InvalidInputError("options", f"is a {type(raw_options).__name__}", 'an object {"A": "...", ...}',
                                item=here)
    options = options_from_letters(raw_options, here)
    label = text(record.get("label")).upper()
    letters = [chr(ord("A") + index) for index in range(len(options))]
    if label not in letters:
        raise InvalidInputError("label", f"is {record.get('label')!r}",
                                f"one of the option letters {', '.join(letters)}", item=here)
    images = record.get("images")
    if not isinstance(images, list) or len(images) != 1:
        count = len(images) if isinstance(images, list) else 0
        raise InvalidInputError("images", f"holds {count} images",
                                "exactly one image: MedQ-Deg items have one image (on_error='skip' skips "
                                "multi-image records and lists them)", item=here)
    image_path = root / "images" / text(images[0])
    check_image_file(image_path, here, "images", "an image file in the images/ folder of the MedXpertQA root")
    modality = text(record.get("modality")) or modalities.get(record_id) or text(default_modality)
    if not modality:
        raise InvalidInputError("modality", "is not given: MedXpertQA records carry none",
                                f"a `modality` key in the record, an entry for {record_id!r} in "
                                f"{root / MODALITY_FILE}, or medxpertqa_items(..., default_modality=...)", item=here)
    question_type, medical_task = text(record.get("question_type")), text(record.get("medical_task"))
    capability, skill = capability_of(question_type, medical_task)
    extra = {"record_id": record_id, "body_system": text(record.get("body_system")), "medical_task": medical_task,
             "question_type": question_type, "images": str(len(images))}
    return CleanItem(
        id=item_id, image=image_file_loader(image_path, here, "images"),
        question=strip_answer_choices(text(record.get("question"))), options=options, answer=label,
        modality=modality, source=SOURCE, capability=capability, skill=skill,
        origin=f"MedXpertQA MM {stem} {record_id}, images/{text(images[0])}", license=LICENSE,
        location=location, extra=extra,
    )


def medxpertqa_items(data_dir: Path | None, default_modality: str | None = None
                     ) -> Iterator[CleanItem | MedQDegError]:
    """MedXpertQA MM items (see the module docstring); a bad record is yielded as an error.

    ``default_modality`` is the modality of every record that names none itself (neither
    a ``modality`` key nor an entry in ``modalities.json``): pass it only when you know it.
    """
    root, files = _files(data_dir)
    modalities = _modality_table(root)
    for path in files:
        for location, record in jsonl_records(path):
            if isinstance(record, InvalidInputError):
                yield record
                continue
            try:
                yield _item(record, location, root, path.stem, modalities, default_modality)
            except InvalidInputError as error:
                yield error
