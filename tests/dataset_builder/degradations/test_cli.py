"""The command line, end to end, on real files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from pydicom.data import get_testdata_file

from medqdeg.dataset_builder.degradations import DegradationRecord, replay
from medqdeg.dataset_builder.image_io import display, read_for_degrade, read_image
from medqdeg.eval_harness.cli import main


def test_degrade_a_dicom_file_writes_the_image_and_a_replayable_record(tmp_path, capsys):
    source = get_testdata_file("CT_small.dcm")
    out, record_path = tmp_path / "out.png", tmp_path / "record.json"
    code = main(["degrade", source, "--type", "sparse_view", "--level", "L2", "--seed", "4",
                 "--modality", "CT", "-o", str(out), "--record", str(record_path)])
    assert code == 0
    degraded = np.asarray(Image.open(out))
    clean = read_image(source)  # the display image a viewer shows
    assert degraded.shape == clean.shape and not np.array_equal(degraded, clean)
    record = DegradationRecord.from_json(record_path.read_text())
    assert record.name == "sparse_view" and record.level == 2 and record.seed == 4
    # a DICOM CT is degraded in Hounsfield units, then shown through its own window
    values, ct = read_for_degrade(source)
    assert values is ct.values and ct.modality == "CT"
    assert record.params["scale"]["low_hu"] == float(ct.values.min()) and record.params["scale"]["below_hu"] is None
    assert np.array_equal(display(replay(ct.values, record), ct.window), degraded)
    assert "sparse_view L2" in capsys.readouterr().out


def test_other_dicom_is_decoded_once_and_degraded_as_its_display_image(tmp_path, monkeypatch):
    from medqdeg.dataset_builder.image_io import files

    source = get_testdata_file("MR_small.dcm")
    decoded = []
    read = files.read_dicom
    monkeypatch.setattr(files, "read_dicom", lambda *args, **kwargs: decoded.append(args) or read(*args, **kwargs))
    out = tmp_path / "out.png"
    assert main(["degrade", source, "--type", "ghosting_artifact", "--level", "1", "--modality", "MRI",
                 "-o", str(out)]) == 0
    assert len(decoded) == 1
    image, ct = read_for_degrade(source)
    assert ct is None and np.array_equal(image, read_image(source))  # the 8-bit display image
    assert np.asarray(Image.open(out)).shape == image.shape


def test_sixteen_bit_png_stays_sixteen_bit(tmp_path):
    source = tmp_path / "in.png"
    Image.fromarray((np.arange(64 * 64).reshape(64, 64) * 7).astype(np.uint16)).save(source)
    out = tmp_path / "out.png"
    assert main(["degrade", str(source), "--type", "gaussian_blur", "--level", "1", "-o", str(out)]) == 0
    original, result = Image.open(source), Image.open(out)
    assert result.mode == original.mode and np.asarray(result).max() > 255


def test_errors_are_one_line_messages_with_exit_code_2(tmp_path, capsys):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    assert main(["degrade", str(broken), "--type", "gaussian_noise", "--level", "1", "-o", str(tmp_path / "o.png")]) == 2
    assert "broken.png" in capsys.readouterr().err
    fake_dicom = tmp_path / "fake.dcm"
    fake_dicom.write_bytes(b"\0" * 128 + b"DICM" + b"garbage")
    assert main(["degrade", str(fake_dicom), "--type", "gaussian_noise", "--level", "1", "-o", str(tmp_path / "o.png")]) == 2
    assert "DICOM" in capsys.readouterr().err
    image = tmp_path / "ok.png"
    Image.new("L", (32, 32), 100).save(image)
    assert main(["degrade", str(image), "--type", "bubble", "--level", "2", "--modality", "CT", "-o", str(tmp_path / "o.png")]) == 2
    assert "force" in capsys.readouterr().err


def test_list_shows_parameters_of_both_levels(capsys):
    assert main(["degradations", "list", "--modality", "CT"]) == 0
    text = capsys.readouterr().out
    assert "sparse_view" in text and "bubble" not in text
    assert text.count("L1:") == text.count("L2:") > 10


def test_gallery_has_a_row_per_applicable_type(tmp_path):
    out = tmp_path / "gallery.png"
    assert main(["degradations", "gallery", "--sample", "ct_small", "-o", str(out)]) == 0
    from medqdeg.dataset_builder.degradations import list_degradations
    from medqdeg.dataset_builder.quality.gallery import LABEL_HEIGHT

    picture = Image.open(out)
    rows = len(list_degradations("CT"))
    assert picture.size == (3 * 256, rows * (256 + LABEL_HEIGHT))


def test_report_rewrites_only_the_generated_part_of_the_docs(tmp_path, capsys):
    from medqdeg.dataset_builder.cli import GENERATED_MARKER
    from medqdeg.dataset_builder.degradations import ENGINE_VERSION

    doc = tmp_path / "degradations.md"
    doc.write_text("# Handwritten anchors\n\n" + GENERATED_MARKER + "\nstale table\n")
    assert main(["degradations", "report", "--types", "xray_motion_blur", "--markdown", str(doc)]) == 0
    text = doc.read_text()
    assert text.startswith("# Handwritten anchors") and "stale table" not in text
    assert "## Parameters per level" in text and f"## Measured severity (engine version {ENGINE_VERSION};" in text
    row = next(line for line in text.splitlines() if line.startswith("| xray_motion_blur | X-ray | 18 |"))
    assert row.endswith("| met |")


def test_the_committed_degradation_docs_were_measured_with_this_engine():
    from medqdeg.dataset_builder.degradations import ENGINE_VERSION

    doc = Path(__file__).resolve().parents[3] / "docs" / "degradations.md"
    assert f"## Measured severity (engine version {ENGINE_VERSION};" in doc.read_text(), (
        "regenerate: medqdeg degradations report --seeds 1 --markdown docs/degradations.md")
