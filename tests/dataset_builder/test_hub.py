"""External sources from the Hub, offline from a Hub cache filled here in huggingface_hub's layout.

``<HF_HUB_CACHE>/datasets--<owner>--<name>/refs/main`` holds the commit and
``snapshots/<commit>/<path>`` the files; ``HF_HUB_OFFLINE=1`` (set for every test in
``tests/conftest.py``) means nothing touches the network.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from huggingface_hub import constants

from medqdeg.dataset_builder import load_dataset
from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.dataset_builder.sources import iter_source
from medqdeg.dataset_builder.sources.hub import HUB_LAYOUTS
from tests.dataset_builder.test_sources import good_rows, write_omnimedvqa
from tests.released_fixture import EXPECTED_TWINS, PUBLISHED_COUNTS, write_released

COMMIT = "0123456789abcdef0123456789abcdef01234567"
OTHER = "fedcba9876543210fedcba9876543210fedcba98"


@pytest.fixture()
def hub_cache(tmp_path, monkeypatch):
    cache = tmp_path / "hub"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("MEDQDEG_CACHE", str(tmp_path / "medqdeg"))
    assert constants.HF_HUB_OFFLINE
    return cache


def snapshot(cache: Path, repo_id: str, commit: str = COMMIT, *, main: bool = True) -> Path:
    repo = cache / f"datasets--{repo_id.replace('/', '--')}"
    folder = repo / "snapshots" / commit
    folder.mkdir(parents=True, exist_ok=True)
    if main:
        (repo / "refs").mkdir(parents=True, exist_ok=True)
        (repo / "refs" / "main").write_text(commit)
    return folder


def fill_medqdeg(cache: Path, commit: str = COMMIT, *, main: bool = True) -> Path:
    folder = snapshot(cache, HUB_LAYOUTS["medqdeg-tsv"].repo_id, commit, main=main)
    write_released(folder)
    for name in ("MedQ-Robust-good-test.tsv", "MedQ-Robust-simulate-test.tsv"):  # the test files: header only
        header = (folder / name.replace("test", "dev")).read_text().splitlines()[0]
        (folder / name).write_text(header + "\n")
    return folder


def test_medqdeg_tsv_without_data_dir_loads_from_the_hub_cache(hub_cache, tmp_path):
    fill_medqdeg(hub_cache)
    ds = load_dataset("medqdeg", source="medqdeg-tsv", cache_dir=str(tmp_path / "ds"))
    assert {split: ds[split].num_rows for split in ds} == PUBLISHED_COUNTS
    twins = {i: c for split in ("L1", "L2") for i, c in zip(ds[split]["id"], ds[split]["clean_id"], strict=True)}
    assert twins == EXPECTED_TWINS


def test_a_pinned_revision_reads_that_commit(hub_cache, tmp_path):
    fill_medqdeg(hub_cache)
    old = fill_medqdeg(hub_cache, OTHER, main=False)
    lines = (old / "MedQ-Robust-good-dev.tsv").read_text().splitlines()
    (old / "MedQ-Robust-good-dev.tsv").write_text("\n".join(lines[:3]) + "\n")  # 2 clean rows at that commit
    pinned = load_dataset("medqdeg", split="L0", source="medqdeg-tsv", revision=OTHER,
                          cache_dir=str(tmp_path / "ds"))
    latest = load_dataset("medqdeg", split="L0", source="medqdeg-tsv", cache_dir=str(tmp_path / "ds"))
    assert (pinned.num_rows, latest.num_rows) == (2, 7)


def test_missing_from_the_offline_cache_is_a_clear_error(hub_cache):
    with pytest.raises(InvalidInputError, match=r"jiyaoliufd/MedQ-DEG-Bench.*not in the Hub cache.*offline"):
        list(iter_source("medqdeg-tsv"))
    with pytest.raises(InvalidInputError, match=r"revision"):
        fill_medqdeg(hub_cache)
        list(iter_source("medqdeg-tsv", revision="no-such-branch"))


def test_omnimedvqa_archive_is_unpacked_once_and_read(hub_cache, tmp_path):
    root, _ = write_omnimedvqa(tmp_path / "src", good_rows())
    folder = snapshot(hub_cache, HUB_LAYOUTS["omnimedvqa"].repo_id)
    with zipfile.ZipFile(folder / "OmniMedVQA.zip", "w") as bundle:
        for path in sorted(root.rglob("*")):
            bundle.write(path, Path("OmniMedVQA") / path.relative_to(root))
    items = list(iter_source("omnimedvqa"))
    assert [item.answer for item in items] == ["B", "A", "E"]
    assert all(item.load_image() is not None for item in items)
    unpacked = tmp_path / "medqdeg" / "hub" / "foreverbeliever--OmniMedVQA" / COMMIT / "unpacked"
    assert (unpacked / ".complete").exists()
    (folder / "OmniMedVQA.zip").unlink()
    (folder / "OmniMedVQA.zip").write_bytes(b"")  # not read again: the unpacked copy is used
    assert len(list(iter_source("omnimedvqa"))) == 3


def test_medxpertqa_jsonl_and_images_zip_are_laid_out_for_the_source(hub_cache, tmp_path):
    folder = snapshot(hub_cache, HUB_LAYOUTS["medxpertqa"].repo_id)
    (folder / "MM").mkdir()
    images = tmp_path / "images"
    images.mkdir()
    for split, rows in (("dev", good_rows()[:1]), ("test", good_rows()[1:])):
        with (folder / "MM" / f"{split}.jsonl").open("w") as handle:
            for row in rows:
                name = f"MM-{row['id']}-a.png"
                (images / name).write_bytes(row["image"])
                options = {chr(65 + i): text for i, text in enumerate(row["options"])}
                handle.write(json.dumps({"id": f"MM-{row['id']}", "question": row["question"], "options": options,
                                         "label": row["answer"], "images": [name], "modality": "X-ray",
                                         "medical_task": "Diagnosis", "question_type": "Understanding"}) + "\n")
    with zipfile.ZipFile(folder / "images.zip", "w") as bundle:
        for path in sorted(images.iterdir()):
            bundle.write(path, Path("images") / path.name)
    shutil.rmtree(images)
    items = list(iter_source("medxpertqa"))
    assert [item.id for item in items] == ["medxpertqa-dev-MM-1", "medxpertqa-test-MM-2", "medxpertqa-test-MM-3"]
    assert items[0].load_image().size == (24, 16)


def test_evaluate_released_source_from_the_hub_cache(hub_cache, tmp_path):
    from medqdeg.eval_harness.cli import main
    from medqdeg.eval_harness.records import merge_records

    fill_medqdeg(hub_cache)
    out = tmp_path / "run"
    assert main(["evaluate", "--source", "medqdeg-tsv", "--revision", COMMIT, "--output", str(out),
                 "--cache-dir", str(tmp_path / "ds"), "--samples", "2"]) == 0
    records = merge_records(out)
    assert {level: sum(r.severity == level for r in records) for level in PUBLISHED_COUNTS} == PUBLISHED_COUNTS
    assert {r.id: r.clean_id for r in records if r.severity != "L0"} == EXPECTED_TWINS
    assert "published by the" not in (out / "report.md").read_text()
