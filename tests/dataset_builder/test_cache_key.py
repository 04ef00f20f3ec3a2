"""The generated-data cache key holds a fingerprint of the source's files: edits are read again."""

from __future__ import annotations

import json
import os

from medqdeg.dataset_builder import load_dataset
from medqdeg.dataset_builder.sources import source_fingerprint
from tests.dataset_builder.test_sources import good_rows, png, write_jsonl
from tests.released_fixture import GOOD, write_released


def test_an_added_jsonl_row_is_read_on_the_next_load(tmp_path):
    cache = str(tmp_path / "cache")
    folder, path = write_jsonl(tmp_path, good_rows())
    first = load_dataset("medqdeg", "clean", split="L0", source="jsonl", data_dir=str(folder), cache_dir=cache)
    assert first.num_rows == 3
    again = load_dataset("medqdeg", "clean", split="L0", source="jsonl", data_dir=str(folder), cache_dir=cache)
    assert again.cache_files == first.cache_files  # unchanged source: served from the cache
    (folder / "images" / "4.png").write_bytes(png(4))
    with path.open("a") as handle:
        handle.write(json.dumps({"id": "4", "image": "images/4.png", "question": "Added later?",
                                 "options": ["Yes", "No"], "answer": "B", "modality": "us"}) + "\n")
    edited = load_dataset("medqdeg", "clean", split="L0", source="jsonl", data_dir=str(folder), cache_dir=cache)
    assert edited.num_rows == 4
    assert "4" in list(edited["id"])
    assert edited.cache_files != first.cache_files


def test_an_edited_released_tsv_is_read_again(tmp_path):
    cache = str(tmp_path / "cache")
    folder = write_released(tmp_path / "MedQ-DEG-Bench")
    before = load_dataset("medqdeg", split="L0", source="medqdeg-tsv", data_dir=str(folder), cache_dir=cache)
    lines = (folder / GOOD).read_text().splitlines()
    (folder / GOOD).write_text("\n".join(lines[:-1]) + "\n")  # the last clean row removed
    after = load_dataset("medqdeg", split="L0", source="medqdeg-tsv", data_dir=str(folder), cache_dir=cache)
    assert (before.num_rows, after.num_rows) == (7, 6)


def test_fingerprint_sees_size_and_time_and_ignores_nothing_else(tmp_path):
    folder, path = write_jsonl(tmp_path, good_rows())
    first = source_fingerprint("jsonl", folder)
    assert source_fingerprint("jsonl", folder) == first
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    touched = source_fingerprint("jsonl", folder)
    assert touched != first
    (folder / "images" / "1.png").write_bytes(png(9))  # an image replaced
    assert source_fingerprint("jsonl", folder) != touched
    assert source_fingerprint("jsonl", path) != source_fingerprint("jsonl", folder)
