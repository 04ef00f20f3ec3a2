"""Sources in VLMEvalKit's TSV convention: ``medqdeg-tsv`` and ``gmai-mmbench``.

The convention (VLMEvalKit ``ImageMCQDataset``): one tab-separated file with a header
row; columns ``index``, ``question``, one column per option letter (``A`` .. ``E``,
empty where a question has fewer options), ``answer`` (a letter), and the image as
either

* ``image``: the base64-encoded image file (PNG, JPEG...); or a list of them written as
  ``['<b64>', ...]`` (MedQ-Deg items have one image, so a list must hold exactly one);
  or, as VLMEvalKit allows to save space, a short value (at most 64 characters) that is
  the ``index`` of another row of the same file whose image is the same; or
* ``image_path``: a path (or a one-element list of paths) relative to the TSV's folder.
  ``image`` wins when both are filled.

Files are read row by row with the csv module (its field-size limit raised), and an
item keeps only the byte offset of its row: the base64 text is read again and decoded
when the image is first loaded, so a multi-gigabyte file never sits in memory. Errors
name ``file:N`` where N is the data row (1-based, header not counted). Column names
are matched ignoring case, ``_``, ``-`` and repeated spaces (``clinical VQA task`` =
``clinical_vqa_task``).

medqdeg-tsv
-----------
The released MedQ-DEG-Bench (Hugging Face ``jiyaoliufd/MedQ-DEG-Bench``)::

    MedQ-DEG-Bench/
      MedQ-Robust-good-dev.tsv        clean (L0) items
      MedQ-Robust-good-test.tsv
      MedQ-Robust-simulate-dev.tsv    degraded (L1, L2) items
      MedQ-Robust-simulate-test.tsv

``data_dir`` is the folder (every one of the four files present is read, in the order
above; none present is an error) or one TSV file, which selects a subset. Without
``data_dir`` the four files are downloaded from the Hub dataset
``jiyaoliufd/MedQ-DEG-Bench`` (repository root, as VLMEvalKit's ``MedQDEGBenchDataset``
reads a snapshot of it; ``sources.hub``). The builder serves the rows as published and
pairs each degraded row with its clean twin (``medqdeg.dataset_builder.released``). Columns:
``index image question A B C D E answer modality degradation_type degradation_severity
source``; optional ``capability``, ``skill`` (taken when present), ``image_path``. Every
other column is kept, as text, in ``item.extra``. Example (tabs shown as ``|``)::

    index|image|question|A|B|C|D|E|answer|modality|degradation_type|degradation_severity|source
    17|iVBORw0KGgo...|Which organ is shown?|Liver|Lung|Heart|||B|CT|sparse_view|L2|OmniMedVQA

* id: ``<file stem>-<index>`` (``MedQ-Robust-simulate-dev-17``), so dev and test, good
  and simulate never collide; ``extra["index"]`` keeps the raw index.
* clean or degraded: a file whose name contains ``good`` is clean (severity 0,
  degradation None; a severity other than 0 is an error); one whose name contains
  ``simulate`` is degraded (severity must be 1 or 2, degradation_type non-empty); a file
  named otherwise is decided row by row from its severity.
* severity (``degradation_severity``), case, spaces, ``_`` and ``-`` ignored: 0 = ``0``,
  ``L0``, ``level 0``, ``none``, ``clean``, ``good``, ``original`` or empty; 1 = ``1``,
  ``L1``, ``level 1``, ``mild``, ``moderate`` (the project site calls L1 "moderate");
  2 = ``2``, ``L2``, ``level 2``, ``severe``; ``1.0`` / ``2.0`` as numbers. Anything else
  is an error naming the file, the row and the field.
* degradation (``degradation_type``): mapped onto the toolkit's registered names when it
  is one of them up to case and separators (``Sparse View`` -> ``sparse_view``) or one of
  their aliases, the paper's own words (``ghosting`` -> ``ghosting_artifact``, ``rotation``,
  ``random motion``, ``brightness``, ``contrast``, ``downsample``; see the degradation
  registry); any other value is kept as written. ``extra["degradation_type"]``
  keeps the raw value.
* the link from a degraded row to its clean row is not part of the published format
  (``released.pair_twins`` finds it from the content); when a column ``clean_index`` / ``clean_id`` / ``original_index`` / ``orig_index`` /
  ``l0_index`` / ``good_index`` exists, its value is kept in ``extra["clean_index"]``.
* source: the ``source`` column (GMAI-MMBench, OmniMedVQA, MedXpertQA), else
  ``MedQ-DEG-Bench``; licence: apache-2.0 (the dataset card's).

gmai-mmbench
------------
GMAI-MMBench's VAL split (Hugging Face ``OpenGVLab/GMAI-MMBench``, gated: without
``data_dir`` the file ``GMAI_mm_bench_VAL.tsv`` at the repository root is downloaded with
``HF_TOKEN``; the TEST parts withhold ``answer`` and are refused with an error naming the file)::

    GMAI-MMBench/
      GMAI_mm_bench_VAL.tsv       (or GMAI_mm_bench_VAL_local.tsv with image_path)

``data_dir`` is that folder or a TSV file. Columns: ``index question A B C D E answer
image modality``, and the metadata ``clinical VQA task``, ``department``, ``perceptual
granularity``, ``category`` (the label text) and others, all kept in ``item.extra``.
Example::

    index|question|A|B|C|D|E|answer|image|modality|clinical VQA task|department|perceptual granularity
    3|What is the abnormality?|Normal|Glioma|||||B|iVBOR...|MR|Disease Diagnosis|Neurosurgery|Image Level

Capability and skill come from ``clinical VQA task`` through ``GMAI_TASKS`` where the
paper's T2/T3 hierarchy names the same thing (Disease Diagnosis -> CU / Disease
Diagnosis, Counting -> IP / Counting, Bone -> AR / Skeletal System, organ, vessel and
nervous-tissue recognition -> AR with the GMAI task as skill...). Surgeon Action
Recognition and unknown tasks get no capability (the paper assigns none we can see);
their skill is the task name. Ids are ``<file stem>-<index>``.
"""

from __future__ import annotations

import ast
import csv
import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from ..errors import InvalidInputError, MedQDegError
from ..image_io import decode_base64_image
from ..items import CleanItem
from ..vocabulary import level_or_none
from .files import (
    check_image_file,
    image_file_loader,
    options_from_letters,
    place,
    raise_csv_field_limit,
    resolve,
    text,
    where,
)

MEDQDEG_FILES = ("MedQ-Robust-good-dev.tsv", "MedQ-Robust-good-test.tsv",
                 "MedQ-Robust-simulate-dev.tsv", "MedQ-Robust-simulate-test.tsv")
MEDQDEG_LICENSE = "apache-2.0 (Hugging Face dataset jiyaoliufd/MedQ-DEG-Bench)"
GMAI_FILES = ("GMAI_mm_bench_VAL.tsv", "GMAI_mm_bench_VAL_local.tsv")
IMAGE_REFERENCE_MAX = 64
"""VLMEvalKit reads an ``image`` value this short as the index of the row holding the image."""

SEVERITY_WORDS = {  # the published files' words besides the vocabulary's 0, 1, 2 and L0, L1, L2
    0: ("level0", "none", "clean", "good", "original", ""),
    1: ("level1", "mild", "moderate"),
    2: ("level2", "severe"),
}
CLEAN_LINK_COLUMNS = ("clean index", "clean id", "original index", "orig index", "l0 index", "good index")

GMAI_TASKS: dict[str, tuple[str | None, str]] = {
    "disease diagnosis": ("CU", "Disease Diagnosis"),
    "severity grading": ("CU", "Severity Grading"),
    "attribute recognition": ("CU", "Attribute Recognition"),
    "counting": ("IP", "Counting"),
    "image quality grading": ("IP", "Image Quality Grading"),
    "surgical workflow recognition": ("IP", "Surgical Workflow Recognition"),
    "surgical instrument recognition": ("IP", "Surgical Instrument Recognition"),
    "muscle recognition": ("AR", "Muscle Recognition"),
    "cell recognition": ("AR", "Cell and Microbes"),
    "microorganism recognition": ("AR", "Cell and Microbes"),
    "bone": ("AR", "Skeletal System"),
    "organ recognition abdomen": ("AR", "Abdominal Structures"),
    "organ recognition head and neck": ("AR", "Organ Recognition - Head and Neck"),
    "organ recognition pelvic": ("AR", "Organ Recognition - Pelvic"),
    "organ recognition thorax": ("AR", "Organ Recognition - Thorax"),
    "blood vessels recognition": ("AR", "Blood Vessels Recognition"),
    "nervous tissue": ("AR", "Nervous Tissue"),
}
"""GMAI ``clinical VQA task`` (normalised) -> (the paper's T2 capability, skill). The skill
is the paper's T3 name where it names the same task, else GMAI's own task name: the
paper does not publish which of its AR skills each organ task went to."""


def column_key(name: str) -> str:
    """A column name compared ignoring case, ``_``, ``-`` and repeated spaces."""
    return " ".join(name.replace("_", " ").replace("-", " ").split()).lower()


def _task_key(name: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", name.lower()).split())


class _Lines:
    """The lines of a binary file as text, with the byte offset where the next one starts."""

    def __init__(self, handle, offset: int):
        self.handle = handle
        self.offset = offset

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.handle.readline()
        if not line:
            raise StopIteration
        self.offset += len(line)
        return line.decode("utf-8")


@dataclass
class TsvFile:
    """One TSV file: its path, header, and the byte offset of each row read so far, by index."""

    path: Path
    header: list[str]
    columns: dict[str, int]
    offsets: dict[str, int] = field(default_factory=dict)

    def column(self, name: str) -> int | None:
        return self.columns.get(column_key(name))

    def has(self, name: str) -> bool:
        return column_key(name) in self.columns


def read_tsv(path: Path) -> tuple[TsvFile, Iterator[tuple[int, int, dict[str, str] | MedQDegError]]]:
    """The file's header and an iterator of (row number, byte offset, row by column key)."""
    raise_csv_field_limit()
    with path.open("rb") as handle:
        try:
            header = next(csv.reader(_Lines(handle, 0), delimiter="\t"))
        except StopIteration:
            raise InvalidInputError("header", "is missing: the file is empty", "a TSV file with a header row",
                                    item=str(path)) from None
        except (csv.Error, UnicodeDecodeError) as error:
            raise InvalidInputError("header", f"cannot be read ({error})", "a UTF-8 TSV header row",
                                    item=str(path)) from None
        start = handle.tell()
    header = [name.lstrip("\ufeff") for name in header]
    tsv = TsvFile(path, header, {column_key(name): index for index, name in enumerate(header)})
    return tsv, _rows(tsv, start)


def _rows(tsv: TsvFile, start: int) -> Iterator[tuple[int, int, dict[str, str] | MedQDegError]]:
    keys = [column_key(name) for name in tsv.header]
    with tsv.path.open("rb") as handle:
        handle.seek(start)
        lines = _Lines(handle, start)
        reader = csv.reader(lines, delimiter="\t")
        number = 0
        while True:
            offset = lines.offset
            try:
                row = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as error:
                # the reader cannot resynchronise inside a broken record: stop here, loudly
                raise InvalidInputError("row", f"cannot be parsed ({error})", "a well-formed UTF-8 TSV row",
                                        item=place(tsv.path, number + 1)) from None
            if not row:
                continue
            number += 1
            if len(row) != len(keys):
                yield number, offset, InvalidInputError(
                    "row", f"has {len(row)} cells but the header has {len(keys)}", "one cell per header column",
                    item=place(tsv.path, number))
                continue
            yield number, offset, dict(zip(keys, row, strict=True))


def _read_cell(path: Path, offset: int, column: int) -> str:
    raise_csv_field_limit()
    with path.open("rb") as handle:
        handle.seek(offset)
        return next(csv.reader(_Lines(handle, offset), delimiter="\t"))[column]


def _as_list(value: str) -> list[str] | None:
    """A ``['a', 'b']`` list written in a cell (VLMEvalKit's ``toliststr``), else None."""
    if not (value.startswith("[") and value.endswith("]")):
        return None
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return None
    return [str(element) for element in parsed] if isinstance(parsed, list) else None


def _one(values: list[str], field_name: str, location: str) -> str:
    if len(values) != 1:
        raise InvalidInputError(field_name, f"holds {len(values)} images",
                                "exactly one image (MedQ-Deg items have one image)", item=location)
    return values[0]


def _image_cell(path: Path, offset: int, column: int, location: str) -> str:
    value = text(_read_cell(path, offset, column))
    listed = _as_list(value)
    return _one(listed, "image", location) if listed is not None else value


def _find_row(path: Path, index: str) -> int | None:
    """The byte offset of the row whose ``index`` is ``index`` (a scan: forward references only)."""
    _, rows = read_tsv(path)
    for _, offset, row in rows:
        if isinstance(row, dict) and text(row.get("index")) == index:
            return offset
    return None


def _load_tsv_image(path: Path, offset: int, column: int, location: str,
                    reference_offset: int | None = None) -> Image.Image:
    value = _image_cell(path, offset, column, location)
    if len(value) <= IMAGE_REFERENCE_MAX:  # VLMEvalKit: the index of the row holding the image
        target = reference_offset if reference_offset is not None else _find_row(path, value)
        if target is None:
            raise InvalidInputError("image", f"is {value!r}, a reference to no row of the file",
                                    "a base64 image, or the index of a row holding one", item=location)
        value = _image_cell(path, target, column, location)
        if len(value) <= IMAGE_REFERENCE_MAX:
            raise InvalidInputError("image", f"refers to row index {value!r}, whose image is a reference too",
                                    "a reference to a row holding a base64 image", item=location)
    return decode_base64_image(value, location)


def _image(tsv: TsvFile, row: dict[str, str], offset: int, location: str):
    """A loader of the row's image; checks what is cheap to check now.

    The loader holds the row's byte offset (and that of the row a short reference points
    to, when that row came earlier), never the base64 text or the file's index table.
    """
    value = text(row.get("image"))
    if value:
        listed = _as_list(value)
        value = _one(listed, "image", location) if listed is not None else value
        reference = tsv.offsets.get(value) if len(value) <= IMAGE_REFERENCE_MAX else None
        return functools.partial(_load_tsv_image, tsv.path, offset, tsv.column("image"), location, reference)
    paths = text(row.get("image path"))
    if not paths:
        raise InvalidInputError("image", "is empty (and there is no image_path)",
                                "a base64-encoded image, or an image_path relative to the TSV's folder",
                                item=location)
    listed = _as_list(paths)
    path = resolve(tsv.path.parent, _one(listed, "image_path", location) if listed is not None else paths)
    check_image_file(path, location, "image_path", "an image path relative to the TSV's folder")
    return image_file_loader(path, location, "image_path")


def _base_item(tsv: TsvFile, number: int, offset: int, row: dict[str, str], *, source: str,
               origin: str) -> CleanItem:
    """The fields every VLMEvalKit MCQ row has; the source-specific ones are filled by the caller."""
    location = place(tsv.path, number)
    index = text(row.get("index"))
    if not index:
        raise InvalidInputError("index", "is empty", "a row index, unique in the file", item=location)
    item_id = f"{tsv.path.stem}-{index}"
    here = where(location, item_id)
    image = _image(tsv, row, offset, here)
    options = options_from_letters({key.upper(): value for key, value in row.items() if len(key) == 1}, here)
    extra = {"index": index, "file": tsv.path.name}
    skip = {"index", "image", "image path", "question", "answer", *(chr(c).lower() for c in range(65, 91))}
    for name, key in zip(tsv.header, (column_key(n) for n in tsv.header), strict=True):
        if key not in skip and text(row.get(key)):
            extra[name] = text(row[key])
    return CleanItem(
        id=item_id, image=image, question=text(row.get("question")), options=options,
        answer=text(row.get("answer")), modality=text(row.get("modality")), source=source,
        origin=f"{origin} {tsv.path.name}, index {index}", location=location, extra=extra,
    )


def _open_checked(path: Path, required: tuple[str, ...]) -> tuple[TsvFile, Iterator]:
    tsv, rows = read_tsv(path)
    missing = [name for name in required if not tsv.has(name)]
    if not (tsv.has("image") or tsv.has("image path")):
        missing.append("image (or image_path)")
    if missing:
        hint = " (GMAI-MMBench TEST files withhold `answer`: use the VAL file)" if "answer" in missing else ""
        raise InvalidInputError("header", f"lacks the column(s) {', '.join(missing)}{hint}",
                                f"the columns {', '.join(required)} and image or image_path", item=str(path))
    return tsv, rows


def _tsv_paths(data_dir: Path | None, names: tuple[str, ...], source: str, *, every: bool) -> list[Path]:
    """The file itself, or the named files present in the folder (all of them, or the first)."""
    expected = f"a folder holding {' or '.join(names)}, or one such .tsv file"
    if data_dir is None:
        raise InvalidInputError("data_dir", "is not given", expected, item=f"source {source!r}")
    if data_dir.is_file():
        if data_dir.suffix.lower() != ".tsv":
            raise InvalidInputError("data_dir", f"is {str(data_dir)!r}, not a .tsv file", expected,
                                    item=f"source {source!r}")
        return [data_dir]
    found = [data_dir / name for name in names if (data_dir / name).is_file()] if data_dir.is_dir() else []
    if not found:
        raise InvalidInputError("data_dir", f"{str(data_dir)!r} holds none of the expected files", expected,
                                item=f"source {source!r}")
    return found if every else found[:1]


# ---- MedQ-DEG-Bench ------------------------------------------------------------------

def parse_severity(value: str, location: str) -> int:
    """The severity level of a ``degradation_severity`` cell (see the module docstring)."""
    key = re.sub(r"[\s_\-]+", "", value.lower())
    level = next((level for level, words in SEVERITY_WORDS.items() if key in words), level_or_none(key))
    if level is None and re.fullmatch(r"[0-9]+\.0*", key):  # 1.0, 2.0 as numbers
        level = level_or_none(key.split(".")[0])
    if level is None:
        raise InvalidInputError("degradation_severity", f"is {value!r}",
                                "0/1/2, L0/L1/L2, level 1, mild/moderate (L1), severe (L2), or none/clean (L0)",
                                item=location)
    return level


def normalize_degradation(value: str) -> str:
    """The toolkit's name for a ``degradation_type`` value when it names a type or one of its
    aliases (the paper's spellings) up to case and separators, else ``value``."""
    from ..degradations import DEGRADATIONS

    key = re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")
    return DEGRADATIONS.canonical(key) if key in DEGRADATIONS else value.strip()


def _medqdeg_item(tsv: TsvFile, number: int, offset: int, row: dict[str, str]) -> CleanItem:
    item = _base_item(tsv, number, offset, row, source=text(row.get("source")) or "MedQ-DEG-Bench",
                      origin="MedQ-DEG-Bench")
    here = where(item.location, item.id)
    stem = tsv.path.stem.lower()
    severity = parse_severity(text(row.get("degradation severity")), here)
    if "good" in stem and severity != 0:
        raise InvalidInputError("degradation_severity", f"is {row['degradation severity']!r} in a clean (good) file",
                                "0, L0 or empty: good files hold the clean images", item=here)
    if "simulate" in stem and severity == 0:
        raise InvalidInputError("degradation_severity", f"is {text(row.get('degradation severity'))!r} in a "
                                "degraded (simulate) file", "1 or 2 (L1, L2, mild, severe...)", item=here)
    if severity:
        kind = text(row.get("degradation type"))
        if not kind:
            raise InvalidInputError("degradation_type", "is empty for a degraded row",
                                    "the degradation's name, e.g. sparse_view", item=here)
        item.degradation = normalize_degradation(kind)
        item.severity = severity
    for key in CLEAN_LINK_COLUMNS:
        if text(row.get(key)):
            item.extra["clean_index"] = text(row[key])
            break
    item.capability = text(row.get("capability")) or None
    item.skill = text(row.get("skill")) or None
    item.license = MEDQDEG_LICENSE
    return item


def _tsv_source(paths: list[Path], required: tuple[str, ...], build) -> Iterator[CleanItem | MedQDegError]:
    for path in paths:
        tsv, rows = _open_checked(path, required)
        for number, offset, row in rows:
            if isinstance(row, MedQDegError):
                yield row
                continue
            index = text(row.get("index"))
            if index and index not in tsv.offsets:
                tsv.offsets[index] = offset
            try:
                yield build(tsv, number, offset, row)
            except InvalidInputError as error:
                yield error


def medqdeg_tsv_items(data_dir: Path | None) -> Iterator[CleanItem | MedQDegError]:
    """MedQ-DEG-Bench items: the four released files in a folder, or one of them."""
    paths = _tsv_paths(data_dir, MEDQDEG_FILES, "medqdeg-tsv", every=True)
    yield from _tsv_source(paths, ("index", "question", "answer", "modality"), _medqdeg_item)


# ---- GMAI-MMBench --------------------------------------------------------------------

def gmai_capability(task: str) -> tuple[str | None, str | None]:
    """(capability, skill) for a GMAI ``clinical VQA task`` (see ``GMAI_TASKS``)."""
    if not task:
        return None, None
    return GMAI_TASKS.get(_task_key(task), (None, task))


def _gmai_item(tsv: TsvFile, number: int, offset: int, row: dict[str, str]) -> CleanItem:
    item = _base_item(tsv, number, offset, row, source="GMAI-MMBench", origin="GMAI-MMBench")
    item.capability, item.skill = gmai_capability(text(row.get("clinical vqa task")))
    return item


def gmai_mmbench_items(data_dir: Path | None) -> Iterator[CleanItem | MedQDegError]:
    """GMAI-MMBench VAL items from a folder holding GMAI_mm_bench_VAL.tsv, or a TSV file."""
    paths = _tsv_paths(data_dir, GMAI_FILES, "gmai-mmbench", every=False)
    yield from _tsv_source(paths, ("index", "question", "answer", "modality"), _gmai_item)


