"""What keeps a public page safe: upload limits, the model allowlist, short error messages.

Uploads
    ``load_upload`` checks the file's size in bytes first, then reads the image header
    (Pillow opens lazily; pydicom parses the DICOM file, which decodes no pixel until asked;
    a deflated DICOM file is first inflated in counted pieces and refused past
    ``image_io.max_inflated_bytes``, because pydicom inflates it whole before any header
    check) and refuses an image larger than the pixel limit before a single pixel is
    decoded, so a decompression bomb (a small PNG that claims 40000 x 40000 pixels) costs
    nothing. Only PNG, JPEG, TIFF and DICOM are read; DICOM goes through
    pydicom, which parses data and never executes anything. A file that is none of these,
    or is broken, is refused with a one-line message. Images wider or taller than
    ``max_side`` are shrunk (``image_io.shrink``) before they are degraded.

Models
    ``resolve_model`` accepts only a label of the host's allowlist. Free text is accepted
    only when the host turned ``allow_any_model`` on, and then only as a Hub id
    (``owner/name``), never a path on the server; the transformers backend is always built
    with ``trust_remote_code=False``. API keys are read by the backend from the server's
    environment.

Errors
    ``friendly`` wraps every callback: the project's own errors become their message,
    anything else a short "something went wrong" line; the full traceback goes to the
    server log only, and every text shown or logged passes through ``redact``, which masks
    the values of environment variables that look like secrets (``*KEY*``, ``*TOKEN*``,
    ``*SECRET*``, ``*PASSWORD*``) and key-shaped strings.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import traceback
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from PIL import Image, UnidentifiedImageError

from medqdeg.dataset_builder.degradations import MIN_SIDE
from medqdeg.dataset_builder.errors import MedQDegError
from medqdeg.dataset_builder.image_io import (
    check_deflated,
    dicom_image,
    is_dicom,
    max_inflated_bytes,
)

from .settings import ModelEntry, SpaceSettings

LOGGER = logging.getLogger("medqdeg.space")

PIL_FORMATS = ("PNG", "JPEG", "TIFF")
MAX_MESSAGE_CHARS = 400
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}$")
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD", re.IGNORECASE)
_SECRET_SHAPES = re.compile(r"\b(?:sk-[A-Za-z0-9_-]{8,}|hf_[A-Za-z0-9]{8,})")

F = TypeVar("F", bound=Callable[..., Any])


class SpaceError(MedQDegError):
    """A request the page refuses; the message is shown to the visitor as it is."""


class UploadRejected(SpaceError):
    """An upload that is too large, of a refused kind, or unreadable."""


class ModelNotAllowed(SpaceError):
    """A model that is not on the host's allowlist."""


@dataclass(frozen=True)
class LoadedImage:
    """An accepted upload: the image, the modality its header names (DICOM), a description, and
    what the image's physics needs as ``degrade`` keyword arguments (a CT's display window and
    pixel spacing)."""

    image: Image.Image | np.ndarray
    modality: str | None
    description: str
    acquisition: dict = field(default_factory=dict)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _check_pixels(width: int, height: int, max_pixels: int, name: str) -> None:
    if width * height > max_pixels:
        raise UploadRejected(f"{name} is {width}x{height} pixels; this page accepts at most "
                             f"{max_pixels:,} pixels (height x width).")
    if min(width, height) < MIN_SIDE:
        raise UploadRejected(f"{name} is {width}x{height} pixels; each side needs at least {MIN_SIDE}.")


def _load_dicom(path: Path, max_pixels: int, name: str) -> LoadedImage:
    import pydicom

    from medqdeg.dataset_builder.modalities import normalize_modality

    limit = max_inflated_bytes(max_pixels)
    try:
        check_deflated(str(path), limit)
    except MedQDegError as error:
        raise UploadRejected(f"{name} is a deflated DICOM file that inflates past what this page accepts "
                             f"(at most {limit:,} bytes, or four times its pixel data); refused as a "
                             "possible decompression bomb.") from error
    try:
        dataset = pydicom.dcmread(path)  # parsed (and a deflated file inflated, once), no pixel decoded yet
        rows, columns = int(dataset.Rows), int(dataset.Columns)
    except Exception as error:  # pydicom raises many types for broken files
        raise UploadRejected(f"{name} is not a readable DICOM image ({type(error).__name__}).") from error
    _check_pixels(columns, rows, max_pixels, name)
    try:
        dicom = dicom_image(dataset)
        pixels = dicom.display
    except Exception as error:
        raise UploadRejected(f"{name} is not a readable DICOM image ({type(error).__name__}).") from error
    if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] != 3):
        raise UploadRejected(f"{name} holds pixel data of shape {pixels.shape}; expected one grey or RGB frame.")
    modality = None
    code = str(dataset.get("Modality", "") or "")
    if code:
        try:
            modality = normalize_modality(code)
        except MedQDegError:
            modality = None
    return LoadedImage(pixels, modality, f"DICOM {code or '?'} {columns}x{rows}", dicom.acquisition)


def _load_pillow(path: Path, max_pixels: int, name: str) -> LoadedImage:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:  # reads the header only
                if image.format not in PIL_FORMATS:
                    raise UploadRejected(f"{name} is a {image.format} image; this page reads PNG, JPEG, "
                                         "TIFF and DICOM.")
                _check_pixels(image.width, image.height, max_pixels, name)
                image.load()
                loaded = image.copy() if image.mode != "P" else image.convert("RGBA")
    except UploadRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise UploadRejected(f"{name} claims more pixels than this page accepts (at most {max_pixels:,}); "
                             "refused as a possible decompression bomb.") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise UploadRejected(f"{name} is not a readable image; this page reads PNG, JPEG, TIFF and "
                             "DICOM.") from error
    return LoadedImage(loaded, None, f"{path.suffix.lstrip('.').upper() or 'image'} {loaded.mode} "
                                     f"{loaded.width}x{loaded.height}")


def load_upload(path: str | os.PathLike | None, settings: SpaceSettings) -> LoadedImage:
    """Read an uploaded file within the host's limits (see the module docstring)."""
    if path is None or str(path) == "":
        raise UploadRejected("Upload an image first (PNG, JPEG, TIFF or DICOM).")
    path = Path(path)
    name = "The file"
    if not path.is_file():
        raise UploadRejected("The upload did not arrive; please upload the file again.")
    size = path.stat().st_size
    if size > settings.max_upload_bytes:
        raise UploadRejected(f"{name} is {_megabytes(size)}; this page accepts at most "
                             f"{_megabytes(settings.max_upload_bytes)}.")
    if size == 0:
        raise UploadRejected(f"{name} is empty.")
    if is_dicom(path):
        return _load_dicom(path, settings.max_pixels, name)
    return _load_pillow(path, settings.max_pixels, name)


# ----------------------------------------------------------------------------- models


def resolve_model(choice: str | None, settings: SpaceSettings) -> ModelEntry:
    """The allowlist entry named ``choice``; free Hub ids only when the host allows them."""
    choice = (choice or "").strip()
    for entry in settings.allowlist:
        if entry.label == choice:
            return entry
    if settings.allow_any_model and HUB_ID.fullmatch(choice) and ".." not in choice:
        return ModelEntry(label=choice, backend="transformers", model=choice)
    shown = choice if len(choice) <= 80 else choice[:77] + "..."
    raise ModelNotAllowed(f"The model {shown!r} is not on this page's list; choose one of: "
                          f"{', '.join(settings.model_labels)}.")


# ----------------------------------------------------------------------------- errors


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    """``text`` with secret-looking environment values and key-shaped strings masked."""
    env = os.environ if environ is None else environ
    for name, value in env.items():
        if _SECRET_NAME.search(name) and value and len(value) >= 8:
            text = text.replace(value, "***")
    return _SECRET_SHAPES.sub("***", text)


def user_message(error: BaseException) -> str:
    """The short text a visitor sees for ``error`` (never a traceback)."""
    if isinstance(error, MedQDegError):
        message = str(error)
    else:
        message = (f"Something went wrong ({type(error).__name__}); the details are in the server log. "
                   "Please try again or with other inputs.")
    message = redact(" ".join(message.split()))
    return message if len(message) <= MAX_MESSAGE_CHARS else message[:MAX_MESSAGE_CHARS - 3] + "..."


def friendly(function: F) -> F:
    """Wrap a Gradio callback so that any error reaches the page as a short ``gr.Error``."""
    import gradio as gr

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except gr.Error as error:
            raise gr.Error(redact(str(error.message))) from None
        except MedQDegError as error:
            LOGGER.info("refused: %s", redact(str(error)))
            raise gr.Error(user_message(error)) from None
        except Exception as error:
            LOGGER.error("%s failed:\n%s", function.__name__, redact("".join(traceback.format_exception(error))))
            raise gr.Error(user_message(error)) from None

    return wrapper  # type: ignore[return-value]
