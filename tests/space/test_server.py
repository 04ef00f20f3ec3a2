"""The app served on 127.0.0.1 and every endpoint called through gradio_client.

One server for the module, configured like a small public page: a 2 MiB upload limit,
at most 600x600 pixels, the tiny offline LLaVA on the allowlist (through the
transformers backend), an OpenAI-compatible entry, the harness's chance runs on the
leaderboard, and a fake API key in the server's environment that must never show.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from .conftest import GRADIO_PANDAS_WARNINGS, SECRET, launched

gr = pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

ITEM = "embedded-ct_head-modality"
pytestmark = GRADIO_PANDAS_WARNINGS


@pytest.fixture(scope="module")
def server(runs_dir, tiny_model):
    from medqdeg.space.settings import SpaceSettings, parse_models

    mp = pytest.MonkeyPatch()
    mp.setenv("OPENAI_API_KEY", SECRET)
    settings = SpaceSettings(
        models=parse_models([f"tiny={tiny_model}", "remote=openai:some-model@http://127.0.0.1:9/v1"]),
        runs=str(runs_dir), max_upload_bytes=2 * 2**20, max_pixels=600 * 600, max_samples=6, device="cpu",
    )
    try:
        with launched(settings) as url:
            yield url
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def client(server):
    return Client(server, verbose=False)


def assert_short_error(error: pytest.ExceptionInfo, *fragments: str) -> None:
    message = str(error.value)
    assert "Traceback" not in message and 'File "' not in message and len(message) <= 400, message
    assert SECRET not in message
    for fragment in fragments:
        assert fragment in message, message


def test_all_endpoints_are_listed(client):
    endpoints = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/degrade", "/degradations", "/sample", "/upload", "/item", "/ask", "/leaderboard", "/reload",
            "/calibration"} <= endpoints


def test_page_and_config_hold_no_secret(server):
    import httpx

    page = httpx.get(server, timeout=10)
    config = httpx.get(server.rstrip("/") + "/config", timeout=10)
    assert page.status_code == 200 and config.status_code == 200
    assert SECRET not in page.text and SECRET not in config.text
    assert "Degrade" in config.text and "Leaderboard" in config.text and "Calibration" in config.text


def test_degradations_follow_modality(client):
    ct = client.predict("CT", "sparse_view", api_name="/degradations")
    assert ct["value"] == "sparse_view" and ["low_dose (noise)", "low_dose"] in ct["choices"]
    mri = client.predict("MRI", "sparse_view", api_name="/degradations")
    names = [name for _, name in mri["choices"]]
    assert "sparse_view" not in names and mri["value"] in names and "ghosting_artifact" in names
    assert client.predict("fundus_retina", api_name="/sample") == "Fundus photography"


def test_degrade_sample(client):
    *images, table, archive = client.predict(None, "ct_head", "CT", "sparse_view", 0, api_name="/degrade")
    arrays = [np.asarray(Image.open(path)) for path in images]
    assert all(a.shape == (512, 512) for a in arrays)
    assert not np.array_equal(arrays[0], arrays[2])
    assert "| L1 |" in table and "SSIM" in table
    with zipfile.ZipFile(archive) as zipped:
        records = json.loads(zipped.read("records.json"))
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(zipped.read("L2.png")))), arrays[2])
    assert [level["record"]["level"] for level in records["levels"]] == [0, 1, 2]
    assert records["levels"][2]["ssim"] < records["levels"][1]["ssim"] < 1


@pytest.mark.parametrize("kind, modality, degradation", [
    ("png", "Fundus photography", "gaussian_blur"),
    ("jpeg", "Fundus photography", "exposure"),
    ("png16", "X-ray", "xray_motion_blur"),
    ("dicom", "CT", "low_dose"),
])
def test_degrade_uploads(client, image_files, kind, modality, degradation):
    *images, table, archive = client.predict(handle_file(str(image_files[kind])), "ct_head", modality,
                                             degradation, 1, api_name="/degrade")
    assert len(images) == 3 and f"`{degradation}`" in table
    with zipfile.ZipFile(archive) as zipped:
        level0 = Image.open(io.BytesIO(zipped.read("L0.png")))
    if kind == "png16":
        assert level0.mode in ("I;16", "I") and np.asarray(level0).max() > 255


def test_upload_sets_the_modality_from_dicom(client, image_files):
    modality, note = client.predict(handle_file(str(image_files["dicom"])), "MRI", api_name="/upload")
    assert modality == "CT" and "DICOM CT 128x128" in note
    modality, note = client.predict(handle_file(str(image_files["png"])), "MRI", api_name="/upload")
    assert modality == "MRI" and "Using the upload" in note


@pytest.mark.parametrize("kind, fragment", [
    ("corrupt", "not a readable image"),
    ("text", "not a readable image"),
    ("bomb", "decompression bomb"),
    ("large", "900x900 pixels"),
])
def test_bad_uploads_are_refused_with_a_message(client, image_files, kind, fragment):
    with pytest.raises(AppError) as error:
        client.predict(handle_file(str(image_files[kind])), "ct_head", "CT", "gaussian_noise", 0, api_name="/degrade")
    assert_short_error(error, fragment)
    with pytest.raises(AppError) as error:
        client.predict(handle_file(str(image_files[kind])), "CT", api_name="/upload")
    assert_short_error(error, fragment)


def test_oversized_file_is_refused_at_upload(client, image_files):
    with pytest.raises(Exception) as error:  # the server refuses the transfer itself (HTTP 413)
        client.predict(handle_file(str(image_files["huge"])), "ct_head", "CT", "gaussian_noise", 0,
                       api_name="/degrade")
    assert SECRET not in str(error.value)


def test_degrade_refuses_bad_choices(client):
    with pytest.raises(AppError) as error:
        client.predict(None, "ct_head", "CT", "ghosting_artifact", 0, api_name="/degrade")
    assert_short_error(error, "does not apply")
    with pytest.raises(AppError) as error:
        client.predict(None, "ct_head", "CT", "sparse_view", -3, api_name="/degrade")
    assert_short_error(error)


def test_item_prefills(client):
    question, options, answer, modality, image = client.predict(ITEM, api_name="/item")
    assert question.startswith("Which imaging modality") and modality == "CT"
    assert options.splitlines()["ABCDE".index(answer)] == "CT"
    assert np.asarray(Image.open(image)).shape[:2] == (512, 512)


def ask(client, model, **overrides):
    values = {"model": model, "item": ITEM, "upload": None, "question": "Which imaging modality is this?",
              "options": "CT\nMRI\nUltrasound", "answer": "A", "modality": "CT", "degradation": "low_dose",
              "samples": 3, "seed": 0}
    values.update(overrides)
    return client.predict(*values.values(), api_name="/ask")


def test_ask_chance(client):
    gallery, plot, text = ask(client, "chance", samples=4)
    assert [entry["caption"].split()[0] for entry in gallery] == ["L0", "L1", "L2"]
    assert plot is not None and "| L0 |" in text and "| L2 |" in text and "**chance**" in text


def test_ask_tiny_model_through_transformers(client, image_files):
    gallery, _, text = ask(client, "tiny", samples=2)
    assert len(gallery) == 3 and "**tiny**" in text
    rows = [line for line in text.splitlines() if line.startswith("| L")]
    assert len(rows) == 3 and all(len(row.split("|")[3].split()) == 2 for row in rows)  # T letters per level
    _, _, text = ask(client, "tiny", upload=handle_file(str(image_files["png"])), modality="Fundus photography",
                     degradation="gaussian_blur", samples=1)
    assert "gaussian_blur" in text


@pytest.mark.parametrize("overrides, fragment", [
    ({"model": "org/not-allowed"}, "not in the list of choices"),
    ({"options": "only one"}, "2 to 5 options"),
    ({"answer": "D"}, "one of A, B, C"),
    ({"samples": 7}, "maximum value 6"),  # the slider refuses it before our check
    ({"question": ""}, "Write a question"),
    ({"degradation": "ghosting_artifact"}, "does not apply"),
])
def test_ask_refuses(client, overrides, fragment):
    with pytest.raises(AppError) as error:
        ask(client, **{"model": "chance", **overrides})
    assert_short_error(error, fragment)


def test_unreachable_endpoint_fails_briefly_without_the_key(client):
    with pytest.raises(AppError) as error:
        ask(client, "remote", samples=1)
    assert_short_error(error, "remote")


def test_leaderboard(client):
    status, table, plot, gallery = client.predict("acc L0", True, False, api_name="/leaderboard")
    assert "2 run(s)" in status and table["headers"][:3] == ["run", "model", "items"]
    assert sorted(row[0] for row in table["data"]) == ["chance", "chance-T5"]
    column = table["headers"].index("shift L2")
    _, ascending, _, _ = client.predict("shift L2", False, False, api_name="/reload")
    shifts = [row[column] for row in ascending["data"]]
    assert shifts == sorted(shifts)
    assert plot is not None and len(gallery) == 8


def test_calibration(client):
    from medqdeg.space.calibration_tab import EXAMPLE_SAMPLES

    result, summary = client.predict(EXAMPLE_SAMPLES, "majority", "count", api_name="/calibration")
    assert result["num_items"] == 4 and result["dunning_kruger"]["effect"] is True
    assert "| L2 |" in summary
    with pytest.raises(AppError) as error:
        client.predict("samples,reference\nA,A", "majority", "count", api_name="/calibration")
    assert_short_error(error, "num_options")


def test_downloads_stay_in_temp(client):
    *_, archive = client.predict(None, "ct_small", "CT", "gaussian_noise", 0, api_name="/degrade")
    assert Path(archive).suffix == ".zip"
