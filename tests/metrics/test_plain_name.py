"""The metrics by name: ``evaluate.load("calibration_shift")`` from any folder, and ``push-metric``.

Every load runs in a fresh Python process, in a temporary folder (no ``calibration_shift/``
below it), with an empty Hub home. Offline: ``HF_HUB_OFFLINE=1``. Online: ``HF_ENDPOINT``
points at a stand-in Hub on 127.0.0.1 that answers 404 for what it does not hold (as the
real Hub does for ``evaluate-metric/calibration_shift``) and serves the files a fake
``HfApi`` received from ``push-metric``, so ``evaluate.load("ORG/NAME")`` goes through
evaluate's real Hub path.
"""

from __future__ import annotations

import http.server
import json
import math
import os
import shutil
import subprocess
import sys
import threading
import typing
from pathlib import Path

import pytest

from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.metrics import modules

pytest.importorskip("evaluate")

LOAD_BOTH = """
import json, evaluate
shift = evaluate.load("calibration_shift")
accuracy = evaluate.load("medqdeg_accuracy")
print(json.dumps({
    "shift": shift.compute(predictions=[["A", "A", "B"], ["C", "C", "C"]], references=["A", "D"],
                           num_options=[4, 4])["calibration_shift"],
    "accuracy": accuracy.compute(predictions=["A", "B", "C"], references=["A", "B", "D"])["accuracy"],
}))
"""


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment minus every HF_*/HUGGINGFACE_* variable, with an empty Hub home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    env.update(HF_HOME=str(home), PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def expected() -> dict[str, float]:
    """By hand: C = 1 - H(2/3, 1/3)/ln 4 and 1; majority right on item 1 only; accuracy 2 of 3."""
    entropy = -(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3))
    return {"shift": (1 - entropy / math.log(4) + 1) / 2 - 0.5, "accuracy": 2 / 3}


@pytest.mark.slow
def test_plain_names_offline_after_install(tmp_path):
    work, home = tmp_path / "anywhere", tmp_path / "hf-home"
    work.mkdir()
    env = clean_env(home, HF_HUB_OFFLINE="1")
    before = run(["-c", LOAD_BOTH], work, env)
    assert before.returncode != 0
    assert "Module 'calibration_shift' doesn't exist on the Hugging Face Hub either" in before.stderr

    install = run(["-m", "medqdeg.eval_harness.cli", "metrics", "install"], work, env)
    assert install.returncode == 0, install.stderr
    assert "evaluate.load('calibration_shift') now finds" in install.stdout
    cached = home / "modules" / "evaluate_modules" / "metrics" / "evaluate-metric--calibration_shift"
    assert len(list(cached.glob("*/calibration_shift.py"))) == 1

    after = run(["-c", LOAD_BOTH], work, env)
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout) == pytest.approx(expected())
    assert "Using the latest cached version of the module" in after.stderr  # what the user sees
    assert not (work / "calibration_shift").exists()  # nothing was written where the user stands


def test_install_again_after_an_upgrade_takes_the_newest():
    """In this process, into the tests' module cache (conftest): evaluate imports from one cache only."""
    first = modules.install_modules(["calibration_shift"])[0]
    old = first.parent.parent / ("0" * 64)
    old.mkdir()
    try:
        shutil.copyfile(first, old / first.name)  # another version's copy, written later
        again = modules.install_modules(["calibration_shift"])[0]
        assert again == first
        assert again.stat().st_mtime >= (old / first.name).stat().st_mtime
    finally:
        shutil.rmtree(old)


def test_install_refuses_an_unknown_name():
    with pytest.raises(InvalidInputError, match=r"metric.*'accuracy'.*calibration_shift, medqdeg_accuracy"):
        modules.install_modules(["accuracy"])


# ----------------------------------------------------------------------------- the Hub


class StandInHub:
    """A Hub on 127.0.0.1: ``/spaces/ORG/NAME/resolve/REV/FILE`` from ``files``, else 404."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}  # "ORG/NAME/FILE" -> bytes
        self.requests: list[str] = []
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self, body: bool) -> None:
                hub.requests.append(self.path)
                parts = self.path.split("?")[0].strip("/").split("/")
                key = None
                if len(parts) == 6 and parts[0] == "spaces" and parts[3] == "resolve":
                    key = f"{parts[1]}/{parts[2]}/{parts[5]}"
                data = hub.files.get(key or "")
                if data is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("ETag", f'"{hash(data)}"')
                self.end_headers()
                if body:
                    self.wfile.write(data)

            def do_GET(self):
                self._answer(True)

            def do_HEAD(self):
                self._answer(False)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hub():
    stand_in = StandInHub()
    yield stand_in
    stand_in.close()


@pytest.mark.slow
def test_plain_name_online_falls_back_to_the_installed_copy(tmp_path, hub):
    work, home = tmp_path / "anywhere", tmp_path / "hf-home"
    work.mkdir()
    env = clean_env(home, HF_ENDPOINT=hub.url)
    assert run(["-m", "medqdeg.eval_harness.cli", "metrics", "install"], work, env).returncode == 0
    loaded = run(["-c", LOAD_BOTH], work, env)
    assert loaded.returncode == 0, loaded.stderr
    assert json.loads(loaded.stdout) == pytest.approx(expected())
    assert any("/spaces/evaluate-metric/calibration_shift/" in path for path in hub.requests)  # asked the Hub first


class FakeHfApi:
    calls: typing.ClassVar[list] = []
    hub: typing.ClassVar[StandInHub | None] = None

    def __init__(self, token=None):
        self.calls.append(("init", token))

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", repo_id, kwargs))

    def upload_folder(self, *, folder_path, repo_id, repo_type, **kwargs):
        folder = Path(folder_path)
        files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
        self.calls.append(("upload_folder", repo_id, repo_type, sorted(files)))
        if self.hub is not None:
            for name, data in files.items():
                self.hub.files[f"{repo_id}/{name}"] = data


@pytest.mark.slow
def test_push_metric_then_load_by_org_name(tmp_path, hub, monkeypatch, capsys):
    import huggingface_hub

    from medqdeg.eval_harness.cli import main

    FakeHfApi.calls, FakeHfApi.hub = [], hub
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeHfApi)
    assert main(["push-metric", "--repo", "my-org/mq-shift", "--metric", "calibration_shift",
                 "--requirement", "medqdeg @ git+https://example.org/medqdeg.git"]) == 0
    assert "https://huggingface.co/spaces/my-org/mq-shift" in capsys.readouterr().out
    (_, create, upload) = FakeHfApi.calls
    assert create == ("create_repo", "my-org/mq-shift",
                      {"repo_type": "space", "space_sdk": "gradio", "private": False, "exist_ok": True})
    assert upload[:3] == ("upload_folder", "my-org/mq-shift", "space")
    assert upload[3] == ["README.md", "app.py", "mq-shift.py", "requirements.txt"]  # evaluate fetches NAME.py
    requirements = hub.files["my-org/mq-shift/requirements.txt"].decode().splitlines()
    assert requirements[0] == "medqdeg @ git+https://example.org/medqdeg.git"
    assert sum(line.startswith("medqdeg") for line in requirements) == 1
    assert hub.files["my-org/mq-shift/mq-shift.py"] == (modules.module_folder("calibration_shift")
                                                          / "calibration_shift.py").read_bytes()

    work = tmp_path / "anywhere"
    work.mkdir()
    code = ('import evaluate; m = evaluate.load("my-org/mq-shift"); '
            'print(m.compute(predictions=[["A", "A", "B"], ["C", "C", "C"]], references=["A", "D"], '
            'num_options=[4, 4])["calibration_shift"])')
    loaded = run(["-c", code], work, clean_env(tmp_path / "hf-home", HF_ENDPOINT=hub.url))
    assert loaded.returncode == 0, loaded.stderr
    assert float(loaded.stdout) == pytest.approx(expected()["shift"])


def test_pushed_space_app_finds_its_renamed_script(tmp_path):
    staged = modules._stage(modules.module_folder("medqdeg_accuracy"), "acc", None, tmp_path)
    assert modules.module_script(staged) == staged / "acc.py"
    app = staged.parent / "app"  # a Space's folder is named after nothing in particular
    staged.rename(app)
    assert modules.module_script(app) == app / "acc.py"


def test_push_metric_refuses(monkeypatch):
    import huggingface_hub

    FakeHfApi.calls, FakeHfApi.hub = [], None
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeHfApi)
    with pytest.raises(InvalidInputError, match=r"repo.*'just-a-name'.*ORG/NAME"):
        modules.push_metric("just-a-name")
    with pytest.raises(InvalidInputError, match=r"repo.*'my.shift'"):
        modules.push_metric("org/my.shift", metric="calibration_shift")
    with pytest.raises(InvalidInputError, match=r"metric.*'other' is no packaged metric"):
        modules.push_metric("org/other")
    assert FakeHfApi.calls == []  # nothing created on a refusal
    modules.push_metric("org/calibration_shift")  # NAME names the metric
    assert FakeHfApi.calls[1][1] == "org/calibration_shift"


@pytest.mark.slow
def test_the_wheel_holds_the_module_folders(tmp_path):
    """A wheel built from the tracked files (as a clean clone has them) ships every module folder."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
    clone = tmp_path / "clone"
    for name in filter(None, tracked.decode().split("\0")):
        if (root / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / name, clone / name)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "dist"), str(clone)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    import zipfile

    (wheel,) = (tmp_path / "dist").glob("medqdeg-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for metric in modules.MODULES:
        for file in (f"{metric}.py", *modules.SPACE_FILES):
            assert f"medqdeg/metrics/{metric}/{file}" in names
