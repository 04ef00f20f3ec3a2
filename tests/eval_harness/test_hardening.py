"""Bad records and bad arguments at the command line (issue 11 items 4 and 5): a one-line
message naming the file, line or argument, exit code 2, no traceback, nothing written first."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from medqdeg.eval_harness.cli import main
from medqdeg.eval_harness.records import RecordWriter, finished_keys

LIMIT = 2


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("hardening-cache"))


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, cache_dir) -> Path:
    out = tmp_path_factory.mktemp("run") / "chance"
    assert main(["evaluate", "--limit", str(LIMIT), "--output", str(out), "--cache-dir", cache_dir]) == 0
    return out


def _corrupt_middle_line(folder: Path) -> tuple[Path, int]:
    path = next(folder.glob("records-*.jsonl"))
    lines = path.read_bytes().splitlines(keepends=True)
    assert len(lines) >= 3
    lines[1] = lines[1][:20] + b"\x00garbage" + lines[1][40:]  # damaged in the middle, newline kept
    path.write_bytes(b"".join(lines))
    return path, 2


def test_corrupt_middle_record_is_refused_with_its_line_number(finished_run, tmp_path, cache_dir, capsys):
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    path, line = _corrupt_middle_line(run)
    before = path.read_bytes()
    for argv in (["evaluate", "--limit", str(LIMIT), "--output", str(run), "--cache-dir", cache_dir, "--resume"],
                 ["report", str(run)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert f"{path}:{line}: field `record` is not valid JSON" in err and "Traceback" not in err
        assert "repair or delete that line" in err
    assert path.read_bytes() == before  # nothing appended, nothing dropped


def test_a_line_that_is_json_but_not_a_record_is_refused(tmp_path):
    with RecordWriter(tmp_path) as writer:
        writer.finished({"key": "a", "id": "a", "severity": "L0"})
    path = next(tmp_path.glob("records-*.jsonl"))
    with path.open("a") as handle:
        handle.write("[1, 2]\n")
    with pytest.raises(ValueError, match=rf"{path.name}:2: field `record` is not a record"):
        finished_keys(tmp_path)
