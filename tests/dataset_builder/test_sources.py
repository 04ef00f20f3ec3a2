"""Clean sources on small fixtures written in exactly each source's documented layout.

Every fixture is built in ``tmp_path`` from tiny synthetic PNGs (and one real DICOM file
that pydicom ships). The same three good rows are written by one writer per source; bad
variants change one field of row 2, so every error must name the file, the row and the
field.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import pickle
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.dataset_builder.items import CAPABILITIES
from medqdeg.dataset_builder.modalities import PAPER_MODALITIES
from medqdeg.dataset_builder.sources import SkipReport, iter_source, source_names
from medqdeg.dataset_builder.sources.medxpertqa import medxpertqa_items, strip_answer_choices
from medqdeg.dataset_builder.sources.vlmevalkit_tsv import (
    gmai_capability,
    normalize_degradation,
    parse_severity,
)
from medqdeg.dataset_builder.vocabulary import OPTION_LETTERS

WIDTH, HEIGHT = 24, 16
CORRUPT = b"this is not an image file"


def png(seed: int, size: tuple[int, int] = (WIDTH, HEIGHT)) -> bytes:
    rng = np.random.default_rng(seed)
    array = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def good_rows() -> list[dict]:
    return [
        {"id": "1", "image": png(1), "question": "Which organ is shown?", "options": ["Liver", "Lung", "Heart"],
         "answer": "B"},
        {"id": "2", "image": png(2), "question": "Is there a lesion?", "options": ["Yes", "No"], "answer": "A"},
        {"id": "3", "image": png(3), "question": "Which grade?", "options": ["0", "1", "2", "3", "4"],
         "answer": "E"},
    ]


def _b64(image: bytes | None) -> str:
    return "" if image is None else base64.b64encode(image).decode()


def _letters(rows: list[dict]) -> list[str]:
    return [chr(ord("A") + i) for i in range(max(5, *(len(r["options"]) for r in rows)))]


def write_tsv_file(path: Path, rows: list[dict], columns: dict[str, Callable[[dict], str]]) -> Path:
    letters = _letters(rows)
    header = ["index", "question", *letters, "answer", "image", *columns]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(header)
        for row in rows:
            options = row["options"] + [""] * (len(letters) - len(row["options"]))
            writer.writerow([row["id"], row["question"], *options, row["answer"],
                             row.get("image_cell", _b64(row["image"])), *(f(row) for f in columns.values())])
    return path


def write_medqdeg(tmp: Path, rows: list[dict], name: str = "MedQ-Robust-good-dev.tsv") -> tuple[Path, Path]:
    path = write_tsv_file(tmp / "MedQ-DEG-Bench" / name, rows, {
        "modality": lambda r: r.get("modality", "CT"),
        "degradation_type": lambda r: r.get("degradation_type", ""),
        "degradation_severity": lambda r: r.get("severity", "L0"),
        "source": lambda r: "OmniMedVQA",
        "clean_index": lambda r: r.get("clean_index", ""),
    })
    return path.parent, path


def write_gmai(tmp: Path, rows: list[dict]) -> tuple[Path, Path]:
    path = write_tsv_file(tmp / "GMAI-MMBench" / "GMAI_mm_bench_VAL.tsv", rows, {
        "modality": lambda r: r.get("modality", "MR"),
        "clinical VQA task": lambda r: r.get("task", "Disease Diagnosis"),
        "department": lambda r: "Neurosurgery",
        "perceptual granularity": lambda r: "Image Level",
    })
    return path.parent, path


def write_omnimedvqa(tmp: Path, rows: list[dict]) -> tuple[Path, Path]:
    root = tmp / "OmniMedVQA"
    path = root / "QA_information" / "Open-access" / "Demo Set.json"
    path.parent.mkdir(parents=True)
    records = []
    for row in rows:
        image_path = f"Images/Demo Set/{row['id']}.png"
        if row["image"] is not None:
            (root / image_path).parent.mkdir(parents=True, exist_ok=True)
            (root / image_path).write_bytes(row["image"])
        index = OPTION_LETTERS.index(row["answer"])
        record = {"dataset": "Demo Set", "question_id": f"Demo_{row['id']}", "question_type": "Disease Diagnosis",
                  "question": row["question"], "image_path": image_path,
                  "gt_answer": row["options"][index] if index < len(row["options"]) else "Not an option",
                  "modality_type": row.get("modality", "MR (Mag-netic Resonance Imaging)")}
        record |= {f"option_{chr(ord('A') + i)}": option for i, option in enumerate(row["options"])}
        records.append(record)
    path.write_text(json.dumps(records, indent=1))
    return root, path


def write_medxpertqa(tmp: Path, rows: list[dict]) -> tuple[Path, Path]:
    root = tmp / "MedXpertQA"
    path = root / "MM" / "test.jsonl"
    path.parent.mkdir(parents=True)
    (root / "images").mkdir()
    modalities = {}
    with path.open("w") as handle:
        for row in rows:
            name = f"MM-{row['id']}-a.png"
            if row["image"] is not None:
                (root / "images" / name).write_bytes(row["image"])
            options = {chr(ord("A") + i): option for i, option in enumerate(row["options"])}
            choices = " ".join(f"({k}) {v}" for k, v in options.items())
            record = {"id": f"MM-{row['id']}", "question": f"{row['question']}\nAnswer Choices: {choices}",
                      "options": options, "label": row["answer"], "images": row.get("images", [name]),
                      "medical_task": "Diagnosis", "body_system": "Nervous", "question_type": "Understanding"}
            modalities[record["id"]] = row.get("modality", "X-Ray")
            handle.write(json.dumps(record) + "\n")
    (root / "modalities.json").write_text(json.dumps(modalities))
    return root, path


def _images(folder: Path, rows: list[dict]) -> None:
    (folder / "images").mkdir(parents=True, exist_ok=True)
    for row in rows:
        if row["image"] is not None:
            (folder / "images" / f"{row['id']}.png").write_bytes(row["image"])


def write_jsonl(tmp: Path, rows: list[dict]) -> tuple[Path, Path]:
    folder = tmp / "my_set"
    _images(folder, rows)
    path = folder / "items.jsonl"
    with path.open("w") as handle:
        for row in rows:
            handle.write(json.dumps({"id": row["id"], "image": f"images/{row['id']}.png", "question": row["question"],
                                     "options": row["options"], "answer": row["answer"],
                                     "modality": row.get("modality", "us"), "capability": "CU"}) + "\n")
    return folder, path


def write_csv(tmp: Path, rows: list[dict]) -> tuple[Path, Path]:
    folder = tmp / "my_set"
    _images(folder, rows)
    path = folder / "items.csv"
    letters = _letters(rows)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "image", "question", *letters, "answer", "modality", "note"])
        for row in rows:
            options = row["options"] + [""] * (len(letters) - len(row["options"]))
            writer.writerow([row["id"], f"images/{row['id']}.png", row["question"], *options, row["answer"],
                             row.get("modality", "us"), "kept"])
    return folder, path


WRITERS = {"medqdeg-tsv": write_medqdeg, "gmai-mmbench": write_gmai, "omnimedvqa": write_omnimedvqa,
           "medxpertqa": write_medxpertqa, "jsonl": write_jsonl, "csv": write_csv}
MODALITY = {"medqdeg-tsv": "CT", "gmai-mmbench": "MRI", "omnimedvqa": "MRI", "medxpertqa": "X-ray",
            "jsonl": "Ultrasound", "csv": "Ultrasound"}
IMAGE_FIELD = {"omnimedvqa": "image_path", "medxpertqa": "images"}
ANSWER_FIELD = {"omnimedvqa": "gt_answer", "medxpertqa": "label"}


def test_every_source_is_registered():
    assert set(WRITERS) | {"embedded"} <= set(source_names())


@pytest.mark.parametrize("name", WRITERS)
def test_source_reads_its_layout(name, tmp_path):
    data_dir, _ = WRITERS[name](tmp_path, good_rows())
    items = list(iter_source(name, data_dir))
    assert len(items) == 3
    assert [len(item.options) for item in items] == [3, 2, 5]
    assert [item.answer for item in items] == ["B", "A", "E"]
    assert {item.modality for item in items} == {MODALITY[name]}
    assert items[0].options == ["Liver", "Lung", "Heart"]
    assert items[1].question == "Is there a lesion?"
    assert all(item.severity == 0 and item.degradation is None for item in items)
    assert all(item.source and item.origin for item in items)
    assert len({item.id for item in items}) == 3
    for item in items:
        image = item.load_image()
        assert (image.size if isinstance(image, Image.Image) else image.shape[1::-1]) == (WIDTH, HEIGHT)
    assert np.array_equal(np.asarray(items[2].load_image()), np.asarray(Image.open(io.BytesIO(png(3)))))


BAD_CASES = {
    "answer": lambda row: row.update(answer="E"),  # 2 options
    "options": lambda row: row.update(options=list("abcdef")),
    "question": lambda row: row.update(question="   "),
    "modality": lambda row: row.update(modality="Thermography"),
    "duplicate": lambda row: row.update(id="1"),
    "missing_image": lambda row: row.update(image=None),
}


def _field(name: str, case: str) -> str:
    return {"answer": ANSWER_FIELD.get(name, "answer"), "options": "options", "question": "question",
            "modality": "modality", "duplicate": "id", "missing_image": IMAGE_FIELD.get(name, "image"),
            "corrupt_image": IMAGE_FIELD.get(name, "image")}[case]


def _message(path: Path, row: int, field: str) -> str:
    return rf"{re.escape(path.name)}:{row}\b.*field `{re.escape(field)}`"


@pytest.mark.parametrize("case", BAD_CASES)
@pytest.mark.parametrize("name", WRITERS)
def test_bad_row_names_file_row_and_field(name, case, tmp_path):
    rows = good_rows()
    BAD_CASES[case](rows[1])
    data_dir, path = WRITERS[name](tmp_path, rows)
    with pytest.raises(InvalidInputError, match=_message(path, 2, _field(name, case))):
        list(iter_source(name, data_dir))


@pytest.mark.parametrize("name", WRITERS)
def test_corrupt_image_is_reported_when_loaded(name, tmp_path):
    rows = good_rows()
    rows[1]["image"] = CORRUPT
    data_dir, path = WRITERS[name](tmp_path, rows)
    items = list(iter_source(name, data_dir))
    items[0].load_image()
    with pytest.raises(InvalidInputError, match=_message(path, 2, _field(name, "corrupt_image"))):
        items[1].load_image()


@pytest.mark.parametrize("name", WRITERS)
def test_skip_reports_exactly_the_bad_rows(name, tmp_path):
    rows = [*good_rows(), {"id": "4", "image": png(4), "question": "Which side?", "options": ["Left", "Right"],
                           "answer": "B"}]
    rows[1]["answer"] = "E"
    rows[3]["image"] = None
    data_dir, path = WRITERS[name](tmp_path, rows)
    report = SkipReport()
    items = list(iter_source(name, data_dir, on_error="skip", report=report))
    assert len(items) == 2
    assert [item.answer for item in items] == ["B", "E"]
    assert len(report) == 2
    (where2, message2), (where4, message4) = report.skipped
    assert f"{path.name}:2" in where2 and _field(name, "answer") in message2
    assert f"{path.name}:4" in where4 and _field(name, "missing_image") in message4
    assert "skipped 2 item(s)" in report.summary()


# ---- MedQ-DEG-Bench ------------------------------------------------------------------

def test_medqdeg_simulate_file_gives_degraded_items(tmp_path):
    rows = good_rows()
    for row, (kind, level) in zip(rows, [("Sparse View", "L2"), ("ghosting", "mild"), ("my_new_blur", "2")],
                                  strict=True):
        row.update(degradation_type=kind, severity=level)
    rows[0]["clean_index"] = "7"
    data_dir, _ = write_medqdeg(tmp_path, rows, "MedQ-Robust-simulate-test.tsv")
    items = list(iter_source("medqdeg-tsv", data_dir))
    assert [(item.degradation, item.severity) for item in items] == [
        ("sparse_view", 2), ("ghosting_artifact", 1), ("my_new_blur", 2)]
    assert items[0].id == "MedQ-Robust-simulate-test-1"
    assert items[0].extra["degradation_type"] == "Sparse View"
    assert items[0].extra["index"] == "1" and items[0].source == "OmniMedVQA"
    assert "apache-2.0" in items[0].license
    assert items[0].extra["clean_index"] == "7" and "clean_index" not in items[1].extra


def test_medqdeg_unknown_or_contradictory_severity_is_an_error(tmp_path):
    rows = good_rows()
    for row in rows:
        row.update(degradation_type="gaussian_noise", severity="L1")
    rows[1].update(severity="L3")
    data_dir, path = write_medqdeg(tmp_path, rows, "MedQ-Robust-simulate-dev.tsv")
    with pytest.raises(InvalidInputError, match=_message(path, 2, "degradation_severity")):
        list(iter_source("medqdeg-tsv", data_dir))
    for row in rows:
        row.update(degradation_type="", severity="")
    rows[1].update(severity="L1")
    data_dir, path = write_medqdeg(tmp_path / "good", rows, "MedQ-Robust-good-dev.tsv")
    with pytest.raises(InvalidInputError, match=_message(path, 2, "degradation_severity") + ".*good"):
        list(iter_source("medqdeg-tsv", data_dir))
    for row in rows:
        row.update(degradation_type="gaussian_noise", severity="severe")
    rows[1].update(severity="L0")
    data_dir, path = write_medqdeg(tmp_path / "sim", rows, "MedQ-Robust-simulate-dev.tsv")
    with pytest.raises(InvalidInputError, match=_message(path, 2, "degradation_severity")):
        list(iter_source("medqdeg-tsv", data_dir))


@pytest.mark.parametrize(("value", "level"), [("L0", 0), ("", 0), ("none", 0), ("l1", 1), ("Level 1", 1),
                                              ("mild", 1), ("Moderate", 1), ("1.0", 1), ("2", 2), ("SEVERE", 2)])
def test_parse_severity_accepts_documented_spellings(value, level):
    assert parse_severity(value, "f.tsv:1") == level


@pytest.mark.parametrize(("value", "name"), [("sparse_view", "sparse_view"), ("Low Dose", "low_dose"),
                                             ("bias_field", "bias_field_artifact"), ("rotation", "object_rotation"),
                                             ("downsample", "low_resolution"), ("weird thing", "weird thing")])
def test_normalize_degradation(value, name):
    assert normalize_degradation(value) == name


def test_medqdeg_folder_reads_all_files_and_ids_do_not_collide(tmp_path):
    write_medqdeg(tmp_path, good_rows(), "MedQ-Robust-good-dev.tsv")
    data_dir, test_file = write_medqdeg(tmp_path, good_rows(), "MedQ-Robust-good-test.tsv")
    items = list(iter_source("medqdeg-tsv", data_dir))
    assert len(items) == 6 and len({item.id for item in items}) == 6
    assert {item.id.rsplit("-", 1)[0] for item in items} == {"MedQ-Robust-good-dev", "MedQ-Robust-good-test"}
    subset = list(iter_source("medqdeg-tsv", test_file))
    assert [item.id for item in subset] == ["MedQ-Robust-good-test-1", "MedQ-Robust-good-test-2",
                                            "MedQ-Robust-good-test-3"]


def test_medqdeg_image_variants_list_reference_and_path(tmp_path):
    rows = good_rows()
    rows[0]["image_cell"] = repr([_b64(rows[0]["image"])])  # VLMEvalKit's list form
    rows[1]["image_cell"] = "1"  # the index of the row holding the same image
    rows[2]["image_cell"] = ""
    data_dir, path = write_medqdeg(tmp_path, rows)
    with path.open() as handle:  # add an image_path column: row 3 has its image as a file
        lines = handle.read().splitlines()
    lines = [lines[0] + "\timage_path"] + [line + "\t" for line in lines[1:3]] + [lines[3] + "\tpics/3.png"]
    path.write_text("\n".join(lines) + "\n")
    (data_dir / "pics").mkdir()
    (data_dir / "pics" / "3.png").write_bytes(png(3))
    items = list(iter_source("medqdeg-tsv", data_dir))
    # an item holds its row's byte offset, not the base64 text
    assert not any(isinstance(arg, str) and _b64(rows[0]["image"]) in arg for arg in items[0].image.args)
    assert len(pickle.dumps(items[1].image)) < 1000  # picklable, and light
    pixels = [np.asarray(item.load_image()) for item in items]
    assert np.array_equal(pixels[0], pixels[1])
    assert np.array_equal(pixels[2], np.asarray(Image.open(io.BytesIO(png(3)))))


def test_medqdeg_forward_image_reference_is_resolved(tmp_path):
    rows = good_rows()
    rows[0]["image_cell"] = "3"  # refers to a later row
    rows[1]["image_cell"] = "99"  # refers to no row
    data_dir, path = write_medqdeg(tmp_path, rows)
    items = list(iter_source("medqdeg-tsv", data_dir))
    assert np.array_equal(np.asarray(items[0].load_image()), np.asarray(items[2].load_image()))
    with pytest.raises(InvalidInputError, match=_message(path, 2, "image") + ".*'99'"):
        items[1].load_image()


def test_medqdeg_two_images_in_one_row_is_an_error(tmp_path):
    rows = good_rows()
    rows[1]["image_cell"] = repr([_b64(png(5)), _b64(png(6))])
    data_dir, path = write_medqdeg(tmp_path, rows)
    with pytest.raises(InvalidInputError, match=_message(path, 2, "image") + ".*2 images"):
        list(iter_source("medqdeg-tsv", data_dir))


def test_medqdeg_missing_column_or_files_is_an_error(tmp_path):
    path = tmp_path / "MedQ-Robust-good-dev.tsv"
    path.write_text("index\tquestion\tA\tB\tanswer\timage\n1\tq?\ta\tb\tA\tx\n")
    with pytest.raises(InvalidInputError, match=r"MedQ-Robust-good-dev\.tsv.*header.*modality"):
        list(iter_source("medqdeg-tsv", tmp_path))
    with pytest.raises(InvalidInputError, match="holds none of the expected files"):
        list(iter_source("medqdeg-tsv", tmp_path / "nothing-here"))


# ---- GMAI-MMBench --------------------------------------------------------------------

def test_gmai_capabilities_follow_the_clinical_task(tmp_path):
    rows = good_rows()
    for row, task in zip(rows, ["Disease Diagnosis", "Organ Recognition - Abdomen", "Surgeon Action Recognition"],
                         strict=True):
        row["task"] = task
    data_dir, _ = write_gmai(tmp_path, rows)
    items = list(iter_source("gmai-mmbench", data_dir))
    assert [(item.capability, item.skill) for item in items] == [
        ("CU", "Disease Diagnosis"), ("AR", "Abdominal Structures"), (None, "Surgeon Action Recognition")]
    assert items[0].extra["department"] == "Neurosurgery"
    assert items[0].source == "GMAI-MMBench" and items[0].id == "GMAI_mm_bench_VAL-1"
    assert gmai_capability("counting") == ("IP", "Counting")
    assert gmai_capability("") == (None, None)


def test_gmai_test_file_without_answers_is_refused(tmp_path):
    path = tmp_path / "GMAI_mm_bench_TEST_part_1.tsv"
    path.write_text(f"index\tquestion\tA\tB\timage\tmodality\n1\tq?\ta\tb\t{_b64(png(1))}\tCT\n")
    with pytest.raises(InvalidInputError, match=r"TEST_part_1\.tsv.*answer.*VAL"):
        list(iter_source("gmai-mmbench", path))


# ---- OmniMedVQA ----------------------------------------------------------------------

def test_omnimedvqa_fields_and_single_file_subset(tmp_path):
    root, path = write_omnimedvqa(tmp_path, good_rows())
    records = json.loads(path.read_text())
    records[0]["gt_answer"] = "lung."  # matched ignoring case and a trailing full stop
    records[1]["question_type"] = "Modality Recognition"
    records[2]["modality"] = records[2].pop("modality_type")  # the real data's one odd entry
    path.write_text(json.dumps(records))
    items = list(iter_source("omnimedvqa", path))
    assert [item.answer for item in items] == ["B", "A", "E"]
    assert [(item.capability, item.skill) for item in items[:2]] == [("CU", "Disease Diagnosis"),
                                                                    ("IP", "Modality Recognition")]
    assert items[2].modality == "MRI"
    assert items[0].id == "omnimedvqa-Demo Set-Demo_1" and items[0].source == "OmniMedVQA"
    assert next(iter_source("omnimedvqa", root)).id == items[0].id


def test_omnimedvqa_ambiguous_answer_is_an_error(tmp_path):
    rows = good_rows()
    rows[1]["options"] = ["Yes", "yes."]
    _, path = write_omnimedvqa(tmp_path, rows)
    records = json.loads(path.read_text())
    records[1]["gt_answer"] = "YES"  # equal to both options once case and full stop are ignored
    path.write_text(json.dumps(records))
    with pytest.raises(InvalidInputError, match=_message(path, 2, "gt_answer")):
        list(iter_source("omnimedvqa", path))


# ---- MedXpertQA ----------------------------------------------------------------------

def test_medxpertqa_question_capability_and_modality_sources(tmp_path):
    root, path = write_medxpertqa(tmp_path, good_rows())
    items = list(iter_source("medxpertqa", root))
    assert items[0].question == "Which organ is shown?"
    assert (items[0].capability, items[0].skill) == ("CU", "Disease Diagnosis")
    assert items[0].id == "medxpertqa-test-MM-1" and items[0].extra["body_system"] == "Nervous"
    (root / "modalities.json").unlink()
    with pytest.raises(InvalidInputError, match=_message(path, 1, "modality") + ".*modalities.json"):
        list(iter_source("medxpertqa", root))
    assert {item.modality for item in medxpertqa_items(root, default_modality="CT")} == {"CT"}
    records = [json.loads(line) for line in path.read_text().splitlines()]
    for record in records:
        record |= {"modality": "MRI", "question_type": "Reasoning", "medical_task": "Treatment"}
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    items = list(iter_source("medxpertqa", path))
    assert {(item.modality, item.capability, item.skill) for item in items} == {("MRI", "Treat", "Treatment")}


def test_medxpertqa_multi_image_records_are_skipped_with_a_report(tmp_path):
    rows = good_rows()
    rows[1]["images"] = ["MM-2-a.png", "MM-2-b.png"]
    root, path = write_medxpertqa(tmp_path, rows)
    with pytest.raises(InvalidInputError, match=_message(path, 2, "images") + ".*2 images"):
        list(iter_source("medxpertqa", root))
    report = SkipReport()
    assert [item.id for item in iter_source("medxpertqa", root, on_error="skip", report=report)] == [
        "medxpertqa-test-MM-1", "medxpertqa-test-MM-3"]
    assert len(report) == 1 and "test.jsonl:2" in report.skipped[0][0]


def test_strip_answer_choices():
    assert strip_answer_choices("What next?\nAnswer Choices: (A) x (B) y") == "What next?"
    assert strip_answer_choices("No choices here.") == "No choices here."


# ---- generic tables ------------------------------------------------------------------

def test_table_answer_as_text_json_options_and_dicom(tmp_path):
    import pydicom.data

    folder = tmp_path / "set"
    (folder / "images").mkdir(parents=True)
    shutil.copy(pydicom.data.get_testdata_file("CT_small.dcm"), folder / "images" / "ct.dcm")
    with (folder / "items.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "image", "question", "options", "answer", "modality", "skill"])
        writer.writerow(["ct1", "images/ct.dcm", "Which modality?", json.dumps(["MRI", "CT"]), "CT", "CT", "Modality"])
    (item,) = iter_source("csv", folder)
    assert (item.answer, item.options, item.skill, item.source) == ("B", ["MRI", "CT"], "Modality", "items")
    assert item.load_image().shape == (128, 128)
    (folder / "items.csv").write_text('id,image,question,options,answer,modality\nx,images/ct.dcm,q?,"[1,",A,CT\n')
    with pytest.raises(InvalidInputError, match=r"items\.csv:1\b.*`options`.*JSON"):
        list(iter_source("csv", folder))


def test_table_folder_must_hold_exactly_one_file(tmp_path):
    write_jsonl(tmp_path, good_rows())
    shutil.copy(tmp_path / "my_set" / "items.jsonl", tmp_path / "my_set" / "more.jsonl")
    with pytest.raises(InvalidInputError, match=r"holds 2 \.jsonl files"):
        list(iter_source("jsonl", tmp_path / "my_set"))
    assert len(list(iter_source("jsonl", tmp_path / "my_set" / "more.jsonl"))) == 3


def test_table_extra_columns_and_capability(tmp_path):
    data_dir, _ = write_csv(tmp_path / "c", good_rows())
    assert next(iter_source("csv", data_dir)).extra == {"note": "kept"}
    data_dir, _ = write_jsonl(tmp_path / "j", good_rows())
    assert {item.capability for item in iter_source("jsonl", data_dir)} == {"CU"}


# ---- the embedded sample -------------------------------------------------------------

def test_embedded_sample_is_large_varied_and_complete():
    items = list(iter_source("embedded"))
    assert len(items) >= 200
    assert len({item.modality for item in items} & set(PAPER_MODALITIES)) >= 5
    assert all(item.capability in CAPABILITIES for item in items)
    assert all(item.origin and item.license for item in items)
    assert all(item.answer in OPTION_LETTERS[:len(item.options)] for item in items)
    assert len({item.id for item in items}) == len(items)
