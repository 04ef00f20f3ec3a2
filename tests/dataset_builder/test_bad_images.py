"""Bombs, tiny and corrupt images in any source: the project's error naming file, row and
field under ``on_error="raise"``; skipped, counted and placed under ``on_error="skip"``
(issue 11 items 2 and 3), for clean rows and for already-degraded released rows alike."""

from __future__ import annotations

import base64
import csv
import io
import logging
import re
import struct
import zlib

import pytest
from PIL import Image

from medqdeg.dataset_builder import load_dataset, medqdeg_builder
from medqdeg.dataset_builder.errors import InvalidInputError
from tests.dataset_builder.test_sources import WRITERS, _field, good_rows
from tests.released_fixture import SIMULATE, write_released


def bomb_png_bytes(width: int = 20_000, height: int = 20_000) -> bytes:
    """A 1x1 PNG whose header claims ``width`` x ``height`` pixels (valid CRC)."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    start = data.index(b"IHDR")
    data[start + 4:start + 12] = struct.pack(">II", width, height)
    data[start + 17:start + 21] = struct.pack(">I", zlib.crc32(bytes(data[start:start + 17])))
    return bytes(data)


def tiny_png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (4, 4), 100).save(buffer, format="PNG")
    return buffer.getvalue()


SOURCES = ("jsonl", "csv", "medqdeg-tsv", "omnimedvqa")


def _bad_source(name, tmp_path):
    rows = good_rows()
    rows[1]["image"] = bomb_png_bytes()
    rows[2]["image"] = tiny_png_bytes()
    return WRITERS[name](tmp_path, rows)


@pytest.mark.parametrize("name", SOURCES)
def test_bomb_and_tiny_images_are_skipped_with_count_and_places(name, tmp_path, caplog):
    data_dir, path = _bad_source(name, tmp_path)
    builder = medqdeg_builder(source=name, data_dir=str(data_dir), on_error="skip", cache_dir=str(tmp_path / "c"))
    with caplog.at_level(logging.WARNING):
        builder.download_and_prepare()
    (good,) = builder.as_dataset("L0")["id"]  # only row 1 is good
    if name != "medqdeg-tsv":  # a released source adds no L1/L2 of its own to clean rows
        degraded = [row_id for split in ("L1", "L2") for row_id in builder.as_dataset(split)["id"]]
        assert degraded and all(row_id.startswith(f"{good}|") for row_id in degraded)
    log = caplog.text
    assert "skipped 2 item(s)" in log
    field = _field(name, "corrupt_image")
    assert re.search(rf"{re.escape(path.name)}:2\b.*field `{re.escape(field)}`.*(pixels|bomb)", log)
    assert re.search(rf"{re.escape(path.name)}:3\b.*field `image` is 4x4 pixels", log)


@pytest.mark.parametrize("name", SOURCES)
def test_bomb_raises_the_projects_error_naming_file_row_and_field(name, tmp_path):
    data_dir, path = _bad_source(name, tmp_path)
    with pytest.raises(InvalidInputError, match=rf"{re.escape(path.name)}:2\b.*field `"
                       rf"{re.escape(_field(name, 'corrupt_image'))}`"):
        load_dataset("medqdeg", "default", source=name, data_dir=str(data_dir), cache_dir=str(tmp_path / "cache"))


def test_tiny_image_raises_naming_file_and_row(tmp_path):
    rows = good_rows()
    rows[2]["image"] = tiny_png_bytes()
    data_dir, path = WRITERS["jsonl"](tmp_path, rows)
    with pytest.raises(InvalidInputError, match=rf"{re.escape(path.name)}:3\b.*field `image` is 4x4 pixels"):
        load_dataset("medqdeg", "default", source="jsonl", data_dir=str(data_dir), cache_dir=str(tmp_path / "c"))


def test_bad_image_in_a_released_degraded_row_is_skipped(tmp_path, caplog):
    folder = write_released(tmp_path / "released")
    path = folder / SIMULATE
    rows = list(csv.reader(path.open(newline=""), delimiter="\t"))
    bad = rows[1][0]
    rows[1][1] = base64.b64encode(b"not an image at all " * 100).decode()
    with path.open("w", newline="") as handle:
        csv.writer(handle, delimiter="\t", lineterminator="\n").writerows(rows)
    with pytest.raises(InvalidInputError, match=rf"{re.escape(SIMULATE)}:1\b.*field `image`"):
        load_dataset("medqdeg", source="medqdeg-tsv", data_dir=str(folder), cache_dir=str(tmp_path / "c1"))
    with caplog.at_level(logging.WARNING):
        ds = load_dataset("medqdeg", source="medqdeg-tsv", data_dir=str(folder), cache_dir=str(tmp_path / "c2"),
                          on_error="skip")
    ids = {row_id for split in ds for row_id in ds[split]["id"]}
    assert f"MedQ-Robust-simulate-dev-{bad}" not in ids and len(ids) == 7 + 15 - 1
    assert "skipped 1 item(s)" in caplog.text and f"{SIMULATE}:1" in caplog.text
