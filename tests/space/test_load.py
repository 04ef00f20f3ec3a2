"""Fault injection under load: the Space served by ``medqdeg space`` in its own process on
127.0.0.1, 20 concurrent degrade requests with two decompression bombs sent in the middle.

The server runs as a subprocess so that its memory is measured from outside, as the
kernel counts it: ``VmHWM`` (peak resident set) in ``/proc/PID/status``. See
``test_degrade_under_load_with_bombs`` for the bound and why it holds.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .conftest import GRADIO_PANDAS_WARNINGS, bomb_png
from .test_safety import _deflated_dicom

gradio_client = pytest.importorskip("gradio_client")
httpx = pytest.importorskip("httpx")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

pytestmark = [*GRADIO_PANDAS_WARNINGS, pytest.mark.slow,
              pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads /proc/PID/status (Linux)")]

GOOD_REQUESTS = 20
MAX_PIXELS = 600 * 600
MAX_UPLOAD_MB = 2
MARGIN_MIB = 224
"""Peak RSS allowed above the idle peak (see the test's docstring)."""
DEFLATED_BOMB_BYTES = 300 * 2**20
"""Zeros in the deflated DICOM bomb: about 0.3 MB on disk, 300 MiB inflated (over the margin)."""
READY_TIMEOUT_S = 120
REQUEST_TIMEOUT_S = 240


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _memory_mib(pid: int) -> dict[str, float]:
    """``VmRSS`` (now) and ``VmHWM`` (peak since start) of process ``pid``, in MiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024  # kB
    return values


@pytest.fixture
def space_process(tmp_path):
    """``medqdeg space`` in a subprocess on 127.0.0.1 (limits like a small public page);
    yields (process, url, log path); terminated in teardown whatever happened."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {name: value for name, value in os.environ.items() if not name.startswith("MEDQDEG_SPACE_")}
    env.update(GRADIO_ANALYTICS_ENABLED="False", GRADIO_TEMP_DIR=str(tmp_path / "gradio"), HF_HUB_OFFLINE="1",
               MPLBACKEND="Agg", PYTHONUNBUFFERED="1")
    log = tmp_path / "server.log"
    command = [sys.executable, "-m", "medqdeg.eval_harness.cli", "space", "--host", "127.0.0.1",
               "--port", str(port), "--max-upload-mb", str(MAX_UPLOAD_MB), "--max-pixels", str(MAX_PIXELS),
               "--device", "cpu"]
    with open(log, "wb") as output:
        process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(url, timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer within {READY_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield process, url, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


def _assert_degraded(result) -> None:
    """Three level images (files that exist) and the quality table."""
    *images, table, archive = result
    assert len(images) == 3 and all(Path(path).is_file() for path in images), result
    assert "| L0 |" in table and "| L2 |" in table and "SSIM" in table, table
    assert Path(archive).is_file()


def _assert_refused(error: BaseException, fragment: str) -> None:
    """Refused with the Space's own one-line message, not a traceback."""
    assert isinstance(error, AppError), repr(error)
    message = str(error)
    assert fragment in message, message
    assert "Traceback" not in message and 'File "' not in message and len(message) <= 400, message


def test_degrade_under_load_with_bombs(space_process, image_files, tmp_path):
    """20 concurrent degrade requests (the CT sample, a fundus PNG, a 16-bit PNG, a CT DICOM)
    with a PNG bomb (1x1 claiming 40000x40000 pixels: 1.6 GB if decoded) and a deflated
    DICOM bomb (300 MiB of zeros, ~0.3 MB on disk) sent among them. Every good request
    answers with its three images and quality table; each bomb is refused with the Space's
    message; the server still answers afterwards and is still running.

    Memory bound: peak RSS (``VmHWM``) after the load <= idle peak + 224 MiB, the idle peak
    taken after one warm-up degrade (so the degrade code and its imports are counted).
    Why 224 MiB is enough for good requests: the server works on at most 2 requests at once
    (``--concurrency`` default; the rest wait in the queue as files on disk), and one request
    at <= 600x600 pixels holds a few dozen arrays of 600x600 float64 (2.7 MiB each) for
    L0/L1/L2, the metrics, the PNGs and the zip: tens of MiB each (measured on a 2-core
    machine: 100 to 135 MiB over the idle peak for the whole load). Why it catches a bomb:
    decoding either one takes more than the margin on top of the idle RSS (1.6 GB for the
    PNG's pixels, 300 MiB for the inflated DICOM, which pydicom inflates whole).
    """
    process, url, log = space_process
    bombs = {
        "png bomb": (bomb_png(tmp_path / "bomb.png"), "decompression bomb"),
        "deflated DICOM bomb": (_deflated_dicom(tmp_path / "bomb.dcm", 64, 64, DEFLATED_BOMB_BYTES),
                                "deflated DICOM file that inflates past"),
    }
    assert all(path.stat().st_size < MAX_UPLOAD_MB * 2**20 for path, _ in bombs.values())

    client = Client(url, verbose=False)
    _assert_degraded(client.predict(None, "ct_head", "CT", "sparse_view", 0, api_name="/degrade"))  # warm-up
    idle = _memory_mib(process.pid)

    uploads = [
        (None, "ct_head", "CT", "low_dose"),
        (image_files["png"], "ct_head", "Fundus photography", "gaussian_blur"),
        (image_files["png16"], "ct_head", "X-ray", "xray_motion_blur"),
        (image_files["dicom"], "ct_head", "CT", "low_dose"),
    ]

    def good(index: int):
        path, sample, modality, degradation = uploads[index % len(uploads)]
        upload = None if path is None else handle_file(str(path))
        return client.predict(upload, sample, modality, degradation, index % 3, api_name="/degrade")

    def bad(path: Path):
        return client.predict(handle_file(str(path)), "ct_head", "CT", "gaussian_noise", 0, api_name="/degrade")

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=GOOD_REQUESTS + len(bombs)) as pool:
        goods = [pool.submit(good, index) for index in range(GOOD_REQUESTS // 2)]
        bad_futures = {name: pool.submit(bad, path) for name, (path, _) in bombs.items()}
        goods += [pool.submit(good, index) for index in range(GOOD_REQUESTS // 2, GOOD_REQUESTS)]
        good_errors = [future.exception(timeout=REQUEST_TIMEOUT_S) for future in goods]
        bad_errors = {name: future.exception(timeout=REQUEST_TIMEOUT_S) for name, future in bad_futures.items()}
    wall = time.monotonic() - started
    peak = _memory_mib(process.pid)
    bound = idle["VmHWM"] + MARGIN_MIB
    print(f"\nload: {GOOD_REQUESTS} degrade requests + {len(bombs)} bombs in {wall:.1f} s; server RSS MiB: "
          f"idle {idle['VmRSS']:.0f} (idle peak {idle['VmHWM']:.0f}), peak {peak['VmHWM']:.0f}, "
          f"after {peak['VmRSS']:.0f}; bound {bound:.0f} (idle peak + {MARGIN_MIB})")

    assert good_errors == [None] * GOOD_REQUESTS, f"{good_errors}\n{log.read_text()[-3000:]}"
    for future in goods:
        _assert_degraded(future.result())
    for name, (_, fragment) in bombs.items():
        assert bad_errors[name] is not None, f"the {name} was accepted"
        _assert_refused(bad_errors[name], fragment)

    assert process.poll() is None, log.read_text()[-3000:]
    _assert_degraded(client.predict(None, "ct_head", "CT", "sparse_view", 1, api_name="/degrade"))
    assert peak["VmHWM"] <= bound, f"peak RSS {peak['VmHWM']:.0f} MiB over the bound {bound:.0f} MiB"
