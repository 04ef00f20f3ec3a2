"""Bad records and bad arguments at the command line (issue 11 items 4 and 5): a one-line
message naming the file, line or argument, exit code 2, no traceback, nothing written first."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from medqdeg.eval_harness.cli import main
from medqdeg.eval_harness.records import RecordWriter, finished_keys

from .record_factory import make_record

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
        writer.finished(make_record("a"))
    path = next(tmp_path.glob("records-*.jsonl"))
    with path.open("a") as handle:
        handle.write("[1, 2]\n")
    with pytest.raises(ValueError, match=rf"{path.name}:2: field `record` is not a record"):
        finished_keys(tmp_path)


@pytest.mark.parametrize("argv, message", [
    (["--limit", "-3"], "field `limit` is -3"),
    (["--limit", "0"], "field `limit` is 0"),
    (["--max-new-tokens", "0"], "field `max_new_tokens` is 0"),
    (["--config", "no_such_config"], "field `config` is 'no_such_config'"),
    (["--source", "nowhere"], "field `source` is 'nowhere'"),
    (["--template", "/no/such/template.txt"], "field `template`"),
])
def test_bad_arguments_are_refused_before_anything_is_written(argv, message, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["evaluate", "--output", str(out), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_output_naming_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    for out in (target, target / "run"):
        assert main(["evaluate", "--limit", "1", "--output", str(out)]) == 2
        err = capsys.readouterr().err
        assert "field `output`" in err and "is a file" in err and "Traceback" not in err
    assert target.read_text() == "mine"


def test_output_in_a_read_only_folder_is_refused(tmp_path, capsys, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        if os.access(locked, os.W_OK):  # root ignores permissions: check what a read-only mount answers
            real_access = os.access
            monkeypatch.setattr(os, "access", lambda path, mode: False if Path(path) == locked
                                else real_access(path, mode))
        assert main(["evaluate", "--limit", "1", "--output", str(locked / "run")]) == 2
        err = capsys.readouterr().err
        assert "field `output`" in err and "read-only" in err and "Traceback" not in err
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_an_unwritable_output_found_only_when_writing_is_still_a_clear_error(tmp_path, capsys, monkeypatch):
    from medqdeg.eval_harness import run as run_module

    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(run_module, "_write_run_file", read_only)
    assert main(["evaluate", "--limit", "1", "--output", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "field `output`" in err and "Read-only file system" in err and "Traceback" not in err


def test_a_rank_ignores_the_files_its_own_launch_is_writing(tmp_path):
    """torchrun ranks start at different moments: rank 1's records of this launch must not make
    rank 0 refuse to start, while an earlier run's records (other world size, or its own file) count."""
    from medqdeg.eval_harness.records import earlier_finished_keys, rank_file

    def write(name: str, keys: list[str]) -> None:
        (tmp_path / name).write_text("".join(json.dumps({"key": key}) + "\n" for key in keys))

    write(rank_file(tmp_path, "records", 1, 2).name, ["b"])  # the other rank, this launch
    assert earlier_finished_keys(tmp_path, 0, 2) == set()
    write(rank_file(tmp_path, "records", 0, 1).name, ["a"])  # an earlier single-process run
    write(rank_file(tmp_path, "records", 0, 2).name, ["c"])  # this rank's own file: an earlier launch
    assert earlier_finished_keys(tmp_path, 0, 2) == {"a", "c"}
    assert earlier_finished_keys(tmp_path, 0, 1) == {"a", "b", "c"}
