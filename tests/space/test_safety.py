"""Upload limits, the model allowlist and error messages, without a server."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from PIL import Image

from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.space.safety import (
    ModelNotAllowed,
    UploadRejected,
    load_upload,
    redact,
    resolve_model,
    user_message,
)
from medqdeg.space.settings import SpaceSettings, parse_models

from .conftest import SECRET, bomb_png

LIMITS = SpaceSettings(max_upload_bytes=2 * 2**20, max_pixels=600 * 600)


def test_reads_every_accepted_kind(image_files):
    png = load_upload(image_files["png"], LIMITS)
    assert isinstance(png.image, Image.Image) and png.image.mode == "RGB" and png.modality is None
    assert load_upload(image_files["jpeg"], LIMITS).image.format is None  # a loaded copy, file closed
    sixteen = load_upload(image_files["png16"], LIMITS).image
    assert sixteen.mode in ("I;16", "I") and np.asarray(sixteen).max() > 255
    dicom = load_upload(image_files["dicom"], LIMITS)
    assert dicom.modality == "CT" and dicom.image.dtype == np.uint8 and dicom.image.shape == (128, 128)
    # the CT's display window and pixel size travel with it, for the CT types' physics
    _, width = dicom.acquisition["display_window"]
    assert width > 0 and dicom.acquisition["pixel_spacing"] == pytest.approx(0.661468)
    assert png.acquisition == {}


@pytest.mark.parametrize("kind, message", [
    ("corrupt", "not a readable image"),
    ("text", "not a readable image"),
    ("bomb", "decompression bomb"),
    ("large", "900x900 pixels"),
    ("huge", "at most 2.0 MB"),
])
def test_refuses_bad_uploads(image_files, kind, message):
    with pytest.raises(UploadRejected, match=message):
        load_upload(image_files[kind], LIMITS)


def test_bomb_refused_before_decoding(image_files, monkeypatch, tmp_path):
    moderate = bomb_png(tmp_path / "moderate.png", 5000, 5000)  # under Pillow's own limit, over ours

    def no_decoding(self, *args, **kwargs):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(Image.Image, "load", no_decoding)
    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", no_decoding)
    with pytest.raises(UploadRejected, match="decompression bomb"):
        load_upload(image_files["bomb"], SpaceSettings())
    with pytest.raises(UploadRejected, match="5000x5000 pixels"):
        load_upload(moderate, SpaceSettings())


def test_refuses_broken_dicom_and_other_formats(tmp_path):
    broken = tmp_path / "broken.dcm"
    broken.write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\xff\xff")
    with pytest.raises(UploadRejected, match="not a readable DICOM"):
        load_upload(broken, LIMITS)
    Image.new("RGB", (32, 32)).save(tmp_path / "x.gif")
    with pytest.raises(UploadRejected, match="GIF image"):
        load_upload(tmp_path / "x.gif", LIMITS)
    with pytest.raises(UploadRejected, match="Upload an image"):
        load_upload(None, LIMITS)


def test_allowlist():
    settings = SpaceSettings(models=parse_models("tiny=/srv/models/tiny"))
    assert resolve_model("chance", settings).backend == "chance"
    assert resolve_model("tiny", settings).model == "/srv/models/tiny"
    for refused in ("/srv/models/tiny", "org/name", "", None):
        with pytest.raises(ModelNotAllowed, match="not on this page's list; choose one of: chance, tiny"):
            resolve_model(refused, settings)
    open_settings = SpaceSettings(allow_any_model=True)
    assert resolve_model("org/name", open_settings).backend == "transformers"
    for refused in ("/etc/passwd", "../secret/x", "a/b/c", "org/..", "~/models"):
        with pytest.raises(ModelNotAllowed):
            resolve_model(refused, open_settings)


def test_trust_remote_code_never_on(monkeypatch):
    import medqdeg.eval_harness.backends.transformers_backend as module
    from medqdeg.space.ask_tab import ModelPool

    seen = {}

    class Recorder:
        def __init__(self, model, **kwargs):
            seen.update(kwargs, model=model)

    monkeypatch.setattr(module, "TransformersBackend", Recorder)
    settings = SpaceSettings(allow_any_model=True, device="cpu")
    ModelPool(settings).backend(resolve_model("org/name", settings))
    assert seen == {"model": "org/name", "device": "cpu", "trust_remote_code": False, "batch_size": 3}


def test_secrets_are_redacted(monkeypatch, caplog):
    gr = pytest.importorskip("gradio")
    from medqdeg.space.safety import friendly

    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    assert SECRET not in redact(f"401: key {SECRET} refused")
    assert redact("token hf_abcdefghijklmnop") == "token ***"

    @friendly
    def leaky():
        raise RuntimeError(f"Incorrect API key provided: {SECRET}")

    @friendly
    def refused():
        raise InvalidInputError("samples", "is 0", "an integer >= 1")

    with caplog.at_level(logging.ERROR, logger="medqdeg.space"), pytest.raises(gr.Error) as error:
        leaky()
    assert error.value.message.startswith("Something went wrong (RuntimeError)")
    assert SECRET not in caplog.text and "Traceback" in caplog.text and "***" in caplog.text
    with pytest.raises(gr.Error, match="samples"):
        refused()


def test_user_message_is_short():
    message = user_message(InvalidInputError("x", "is " + "y" * 2000, "z"))
    assert len(message) <= 400 and message.endswith("...")
    assert "\n" not in user_message(ValueError("a\nb"))


def _deflated_dicom(path, rows, columns, pixel_bytes):
    """A deflated CT DICOM file declaring rows x columns 16-bit pixels and holding ``pixel_bytes``
    zero bytes of pixel data (zeros deflate about 1000:1, the shape of a deflate bomb)."""
    import pydicom
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import CTImageStorage, DeflatedExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = CTImageStorage, meta.MediaStorageSOPInstanceUID, "CT"
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = rows, columns, 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.PixelData = bytes(pixel_bytes)
    ds.save_as(path, enforce_file_format=True)
    return path


def test_deflated_dicom_bomb_refused_before_pydicom_inflates_it(tmp_path, monkeypatch):
    """Issue 11 item 1: pydicom inflates a deflated dataset whole, even with stop_before_pixels,
    so a small upload took gigabytes; the stream is now counted in pieces first."""
    import pydicom

    bomb = _deflated_dicom(tmp_path / "bomb.dcm", 64, 64, 300 * 2**20)  # 300 MB of zeros, ~0.3 MB on disk
    assert bomb.stat().st_size < LIMITS.max_upload_bytes

    def no_reading(*args, **kwargs):
        raise AssertionError("pydicom read the deflated file before its size was checked")

    monkeypatch.setattr(pydicom, "dcmread", no_reading)
    with pytest.raises(UploadRejected, match=r"deflated DICOM .* decompression bomb"):
        load_upload(bomb, LIMITS)


def test_deflated_dicom_past_its_declared_size_refused(tmp_path):
    """Under the hard limit but far more than the declared 16x16 pixels: refused too."""
    from medqdeg.dataset_builder.image_io import read_dicom

    padded = _deflated_dicom(tmp_path / "padded.dcm", 16, 16, 4 * 2**20)
    with pytest.raises(InvalidInputError, match=r"padded\.dcm: field `file` .*for 512 bytes of declared pixel data"):
        read_dicom(str(padded))


def test_honest_deflated_dicom_is_read_with_one_count_and_one_inflation(tmp_path, monkeypatch):
    import pydicom

    from medqdeg.space import safety

    honest = _deflated_dicom(tmp_path / "honest.dcm", 32, 32, 32 * 32 * 2)
    calls = {"counted": 0, "parsed": 0}
    count, parse = safety.check_deflated, pydicom.dcmread

    def counted(*args, **kwargs):
        calls["counted"] += 1
        return count(*args, **kwargs)

    def parsed(*args, **kwargs):
        calls["parsed"] += 1
        return parse(*args, **kwargs)

    monkeypatch.setattr(safety, "check_deflated", counted)
    monkeypatch.setattr(pydicom, "dcmread", parsed)
    loaded = load_upload(honest, LIMITS)
    assert loaded.modality == "CT" and loaded.image.shape == (32, 32)
    assert calls == {"counted": 1, "parsed": 1}  # the stream counted once, then inflated once by pydicom
