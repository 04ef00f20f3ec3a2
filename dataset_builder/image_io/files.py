"""Reading and writing image files: the command line's and the file sources' edge.

PNG, JPEG, TIFF and other formats Pillow reads come back as PIL images in their own
mode (16-bit PNGs as ``I;16`` or ``I``); ``.npy`` files as NumPy arrays; DICOM files
(``.dcm`` or the ``DICM`` magic at byte 128) as 8-bit display arrays through pydicom,
which only parses data and never executes anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import InvalidInputError
from .dicom import DicomImage, read_dicom


def is_dicom(path: Path) -> bool:
    """True for a ``.dcm`` name or a file with the DICOM preamble magic."""
    if path.suffix.lower() == ".dcm":
        return True
    with path.open("rb") as handle:
        handle.seek(128)
        return handle.read(4) == b"DICM"


def _read_dicom_file(path: Path) -> DicomImage:
    """``read_dicom``, with any error of a broken file (pydicom raises many types) as an InvalidInputError."""
    try:
        return read_dicom(str(path))
    except InvalidInputError:
        raise
    except Exception as error:
        raise InvalidInputError("file", f"is not a readable DICOM image ({error})",
                                "a DICOM file with pixel data", item=str(path)) from error


def read_for_degrade(path: str | Path) -> tuple[Image.Image | np.ndarray, DicomImage | None]:
    """A file's image to degrade, the file read once: a DICOM CT's Hounsfield units (through its
    rescale slope and intercept) with its ``DicomImage`` (window and pixel spacing, to show the
    result as a viewer would); any other file as ``read_image`` reads it, with None."""
    image = _read_file(Path(path))
    if not isinstance(image, DicomImage):
        return image, None
    if image.modality == "CT" and image.window is not None:
        return image.values, image
    return image.display, None


def display(values: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    """8-bit display of ``values`` through ``window`` = (center, width), as a viewer shows it."""
    center, width = window
    return np.rint(np.clip((values - (center - width / 2)) / width, 0.0, 1.0) * 255).astype(np.uint8)


def read_image(path: str | Path) -> Image.Image | np.ndarray:
    """Read an image file (see the module docstring for the formats)."""
    image = _read_file(Path(path))
    return image.display if isinstance(image, DicomImage) else image


def _read_file(path: Path) -> Image.Image | np.ndarray | DicomImage:
    """The file decoded by its kind: ``.npy`` as an array, DICOM as a ``DicomImage``, the rest by Pillow."""
    if not path.is_file():
        raise InvalidInputError("path", f"{str(path)!r} is not a file", "an existing image file", item=str(path))
    if path.suffix.lower() == ".npy":
        return np.load(path, allow_pickle=False)
    if is_dicom(path):
        return _read_dicom_file(path)
    try:
        return open_pillow(path, field="file", item=str(path))
    except (UnidentifiedImageError, OSError) as error:
        raise InvalidInputError("file", f"is not a readable image ({error})",
                                "PNG, JPEG, TIFF, DICOM or .npy", item=str(path)) from error


def open_pillow(file: str | Path | IO[bytes], *, field: str, item: str) -> Image.Image:
    """The image in ``file`` (a path or a binary stream), decoded by Pillow and loaded.

    An image that claims more than ``Image.MAX_IMAGE_PIXELS`` pixels is refused before it is
    decoded (Pillow's ``DecompressionBombError``, not an ``OSError``) as an ``InvalidInputError``
    naming ``item`` and ``field``; Pillow's own errors for an unreadable file propagate.
    """
    try:
        with Image.open(file) as image:
            image.load()
            return image
    except Image.DecompressionBombError as error:
        raise InvalidInputError(field, f"claims more pixels than Pillow decodes safely ({error})",
                                f"at most {Image.MAX_IMAGE_PIXELS:,} pixels (Pillow's MAX_IMAGE_PIXELS)",
                                item=item) from None


def write_image(image: Image.Image | np.ndarray, path: str | Path) -> Path:
    """Write ``image`` to ``path``: ``.npy`` keeps an array exactly, other suffixes go through Pillow."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".npy":
        np.save(path, np.asarray(image), allow_pickle=False)
    else:
        (image if isinstance(image, Image.Image) else Image.fromarray(image)).save(path)
    return path
