"""The pushable folder on its own: ``python app.py`` in a copy of it serves all four tabs.

This is how the Hub runs the Space (``app_file: app.py``, with ``medqdeg`` installed from
``requirements.txt``); the settings come from ``MEDQDEG_SPACE_*`` variables.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from medqdeg.space.cli import PUSH_IGNORE, SPACE_FOLDER

gradio_client = pytest.importorskip("gradio_client")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_python_app_py_serves_every_tab(tmp_path, runs_dir):
    import httpx

    folder = tmp_path / "space"
    shutil.copytree(SPACE_FOLDER, folder, ignore=shutil.ignore_patterns(*PUSH_IGNORE))
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "MEDQDEG_SPACE_RUNS": str(runs_dir), "MEDQDEG_SPACE_MAX_SAMPLES": "4", "PYTHONUNBUFFERED": "1"}
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen([sys.executable, "app.py"], cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
            try:
                if httpx.get(url + "config", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the Space did not come up in 60 s"
            time.sleep(0.25)
        config = httpx.get(url + "config", timeout=10).json()
        tabs = {c["props"].get("label") for c in config["components"] if c.get("type") == "tabitem"}
        assert {"Degrade", "Ask a model", "Leaderboard", "Calibration"} <= tabs
        client = gradio_client.Client(url, verbose=False)
        status, table, _, _ = client.predict("acc L0", True, False, api_name="/leaderboard")
        assert "2 run(s)" in status and len(table["data"]) == 2
        *_, text = client.predict("chance", "embedded-ct_small-modality", None, "Which modality?", "CT\nMRI", "A",
                                  "CT", "gaussian_noise", 4, 0, api_name="/ask")
        assert "| L2 |" in text
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
