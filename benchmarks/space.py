"""Speed of the Space, end to end through HTTP (a benchmark, not a test).

1. Page ready: ``python app.py`` started cold (imports included) until ``/`` answers 200,
   and, in process, ``build_app`` + ``launch`` until ``/`` answers.
2. Degrade preview of a 512x512 image through ``gradio_client``: upload of the PNG,
   L0/L1/L2, SSIM/PSNR, the ZIP, and the three PNGs downloaded back; the median of
   ``--repeats`` calls per type after one warm-up (target: under 1 s).
3. Ask a model: one round (L0, L1, L2, T answers each) with the tiny random LLaVA of the
   test suite through the transformers backend (built offline in a temporary folder), and
   with the chance baseline for comparison; the first tiny-model call (which loads the
   model) is reported apart.

    python benchmarks/space.py [--repeats 10] [--samples 5]

Prints a Markdown table. CPU only; wall-clock seconds.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

DEGRADE_CASES = (  # (sample, modality, type): cheap and the slowest CT physics
    ("fundus_retina", "Fundus photography", "gaussian_blur"),
    ("ct_head", "CT", "sparse_view"),
    ("ct_head", "CT", "low_dose"),
    ("ct_head", "CT", "limited_angle"),
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_ready(url: str, deadline_s: float = 120.0) -> None:
    import httpx

    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    raise SystemExit(f"{url} did not answer within {deadline_s} s")


def cold_start(work: Path) -> float:
    """Seconds from ``python app.py`` to the first 200 on ``/`` (imports included)."""
    folder = work / "space"
    shutil.copytree(REPO / "space", folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port)}
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "app.py"], cwd=folder, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        wait_ready(f"http://127.0.0.1:{port}/")
        return time.perf_counter() - start
    finally:
        process.terminate()
        process.wait(timeout=30)


def timed(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def row(name: str, times: list[float], note: str = "") -> str:
    return (f"| {name} | {statistics.median(times):.3f} | {min(times):.3f} | {max(times):.3f} | {len(times)} |"
            f" {note} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--samples", type=int, default=5, help="T for the ask-a-model round")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="medqdeg-bench-space-") as work:
        work = Path(work)
        os.environ["GRADIO_TEMP_DIR"] = str(work / "gradio")
        lines = ["| measurement | median s | min s | max s | n | note |", "|---|---|---|---|---|---|"]
        lines.append(row("page ready: `python app.py` cold start to first 200", [cold_start(work)],
                         "imports included (torch is imported only when a model is loaded)"))

        import gradio  # imported before timing the in-process launch
        from gradio_client import Client, handle_file
        from PIL import Image

        from medqdeg.dataset_builder.sample_images import load_sample
        from medqdeg.space.app import build_app, launch_options
        from medqdeg.space.settings import SpaceSettings, parse_models
        from tests.eval_harness.tiny_models import build_tiny_model

        tiny = build_tiny_model("llava", work / "tiny-llava")
        settings = SpaceSettings(models=parse_models([f"tiny={tiny}"]), device="cpu", max_samples=10)
        start = time.perf_counter()
        demo = build_app(settings)
        demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True, **launch_options(settings))
        wait_ready(demo.local_url)
        lines.append(row("page ready: `build_app` + `launch` in process", [time.perf_counter() - start],
                         "modules already imported"))
        try:
            client = Client(demo.local_url, verbose=False)
            for key, modality, name in DEGRADE_CASES:
                image = load_sample(key).image
                path = work / f"{key}.png"
                Image.fromarray(image).save(path)
                assert image.shape[:2] == (512, 512), image.shape

                def call(path=path, modality=modality, name=name):
                    return client.predict(handle_file(str(path)), None, modality, name, 0, api_name="/degrade")

                call()  # warm-up
                times = timed(call, args.repeats)
                lines.append(row(f"degrade preview 512x512, `{name}` ({modality})", times,
                                 "upload + L0/L1/L2 + SSIM/PSNR + ZIP + 3 PNGs back"))

            def ask(model: str):
                return client.predict(model, "embedded-ct_head-modality", None, "Which imaging modality is this?",
                                      "CT\nMRI\nUltrasound\nX-ray", "A", "CT", "gaussian_noise", args.samples, 0,
                                      api_name="/ask")

            first = timed(lambda: ask("tiny"), 1)
            lines.append(row(f"ask a model, tiny LLaVA, T={args.samples}, first call", first,
                             "includes loading the model"))
            lines.append(row(f"ask a model, tiny LLaVA, T={args.samples}", timed(lambda: ask("tiny"), args.repeats),
                             "3 images x T answers, vote chart, table"))
            ask("chance")
            lines.append(row(f"ask a model, chance, T={args.samples}", timed(lambda: ask("chance"), args.repeats),
                             "same round without a model"))
        finally:
            demo.close()

    print(f"Space speed on {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, gradio {gradio.__version__}\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
