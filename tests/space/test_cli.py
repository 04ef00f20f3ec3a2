"""``medqdeg space`` and ``medqdeg push-space`` (with a fake HfApi: no network)."""

from __future__ import annotations

import argparse
import typing

import pytest

from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.space import cli


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="medqdeg")
    commands = parser.add_subparsers(dest="command", required=True)
    cli.add_commands(commands)
    return parser.parse_args(argv)


def test_space_command_builds_and_launches(monkeypatch, runs_dir):
    gr = pytest.importorskip("gradio")
    launched = {}
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kwargs: launched.update(kwargs))
    monkeypatch.setenv("MEDQDEG_SPACE_MODELS", "from-env=org/env")
    monkeypatch.setenv("MEDQDEG_SPACE_CONCURRENCY", "4")
    args = parse(["space", "--port", "7999", "--runs", str(runs_dir), "--models", "tiny=/m", "org/x",
                  "--max-upload-mb", "5"])
    settings = cli.settings_from_args(args)
    assert settings.model_labels == ["chance", "tiny", "org/x"]  # the command line wins
    assert settings.concurrency == 4 and settings.max_upload_bytes == 5 * 2**20
    assert settings.runs == str(runs_dir) and settings.allow_any_model is False
    assert args.run(args) == 0
    assert launched["server_port"] == 7999 and launched["server_name"] == "127.0.0.1"
    assert launched["max_file_size"] == 5 * 2**20


class FakeHfApi:
    calls: typing.ClassVar[list] = []

    def __init__(self, token=None):
        self.calls.append(("init", token))

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", repo_id, kwargs))

    def upload_folder(self, *, folder_path, repo_id, repo_type, **kwargs):
        from pathlib import Path

        folder = Path(folder_path)
        files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        self.calls.append(("upload_folder", repo_id, repo_type, files,
                           (folder / "requirements.txt").read_text(), (folder / "README.md").read_text()))


def test_push_space_with_a_fake_hub(monkeypatch, capsys):
    import huggingface_hub

    FakeHfApi.calls = []
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeHfApi)
    requirement = "medqdeg[hf,space] @ git+https://github.com/org/medqdeg.git@v1"
    args = parse(["push-space", "--repo", "org/medqdeg", "--requirement", requirement])
    assert args.run(args) == 0
    assert capsys.readouterr().out.strip() == "https://huggingface.co/spaces/org/medqdeg"
    (_, create, upload) = FakeHfApi.calls
    assert create == ("create_repo", "org/medqdeg",
                      {"repo_type": "space", "space_sdk": "gradio", "private": False, "exist_ok": True})
    _, repo, repo_type, files, requirements, readme = upload
    assert repo == "org/medqdeg" and repo_type == "space"
    assert {"app.py", "README.md", "requirements.txt", "settings.py", "safety.py"} <= set(files)
    assert not any("__pycache__" in name for name in files)
    lines = [line for line in requirements.splitlines() if line and not line.startswith("#")]
    assert lines[0] == requirement and not any("YOUR-ORG" in line for line in lines)
    assert "sdk: gradio" in readme and "app_file: app.py" in readme
    assert "YOUR-ORG" in (cli.SPACE_FOLDER / "requirements.txt").read_text()  # the source is untouched


def test_push_space_refuses(tmp_path, monkeypatch):
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeHfApi)
    with pytest.raises(InvalidInputError, match=r"lacks app\.py"):
        cli.push_space("org/name", folder=tmp_path)
    with pytest.raises(InvalidInputError, match="ORG/NAME"):
        cli.push_space("just-a-name")


def test_space_folder_is_complete():
    readme = (cli.SPACE_FOLDER / "README.md").read_text()
    header = readme.split("---")[1]
    assert "sdk: gradio" in header and "app_file: app.py" in header
    assert (cli.SPACE_FOLDER / "app.py").is_file()
    assert any(line.startswith("medqdeg") for line in (cli.SPACE_FOLDER / "requirements.txt").read_text().splitlines())
