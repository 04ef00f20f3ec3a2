"""DICOM files read as values and as the 8-bit display image a viewer shows, safely.

pydicom parses data and never executes anything. Pixel data goes through its modality LUT
(rescale slope and intercept, top-level or from an enhanced file's shared functional
groups); the display image is then windowed: CT through its stored window (Hounsfield
units), every other grey modality through the 0.5-99.5 percentile window; MONOCHROME1 is
inverted; colour (three samples per pixel) is kept as its RGB pixels.

A deflated file (transfer syntax ``DEFLATED``) is checked by ``check_deflated`` before
pydicom inflates it whole: its inflated size is bounded (``MAX_INFLATED_BYTES`` by default).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInputError


def _frame_attributes(dataset) -> dict[str, float]:
    """Rescale and window values, top-level or from an enhanced file's shared functional groups."""
    found: dict[str, float] = {}
    sources = [dataset]
    for group in dataset.get("SharedFunctionalGroupsSequence", []):
        for name in ("PixelValueTransformationSequence", "FrameVOILUTSequence"):
            sources.extend(group.get(name, []))
    for source in sources:
        for key in ("RescaleSlope", "RescaleIntercept", "WindowCenter", "WindowWidth"):
            if key in source and key not in found:
                value = source[key].value
                found[key] = float(value[0] if isinstance(value, list | tuple) or (hasattr(value, "__len__")
                                   and not isinstance(value, str | bytes)) else value)
    return found


def _pixel_spacing(dataset) -> float | None:
    """The mean of row and column spacing in mm, top-level or from an enhanced file's shared groups."""
    sources = [dataset] + [measures for group in dataset.get("SharedFunctionalGroupsSequence", [])
                           for measures in group.get("PixelMeasuresSequence", [])]
    for source in sources:
        if source.get("PixelSpacing"):
            return float(np.mean([float(v) for v in source.PixelSpacing]))
    return None


DEFLATED = "1.2.840.10008.1.2.1.99"
MAX_INFLATED_BYTES = 1 << 30  # read_dicom's default hard limit on a deflated file's inflated dataset
_HEADER_BYTES = 256 * 1024  # the inflated prefix kept to read the declared image size from
_CHUNK = 1 << 20


def _declared_pixel_bytes(prefix: bytes) -> int | None:
    """Rows x Columns x SamplesPerPixel x frames x bytes per sample, from an inflated dataset's
    prefix (read up to the pixel data only); None where the prefix does not hold them."""
    from pydicom.filebase import DicomBytesIO
    from pydicom.filereader import read_dataset

    try:
        header = read_dataset(DicomBytesIO(prefix), False, True, stop_when=lambda tag, vr, length: tag >= 0x7FE00010)
        rows, columns = int(header.Rows), int(header.Columns)
        samples = int(header.get("SamplesPerPixel", 1) or 1)
        frames = int(header.get("NumberOfFrames", 1) or 1)
        bits = int(header.get("BitsAllocated", 16) or 16)
    except Exception:  # a truncated or odd prefix: only the hard limit applies
        return None
    return rows * columns * samples * frames * max(1, (bits + 7) // 8)


def check_deflated(path: str, max_bytes: int = MAX_INFLATED_BYTES) -> int | None:
    """Refuse a deflated DICOM file whose dataset inflates past ``max_bytes`` or past four times
    its declared pixel data (plus 256 KiB for the header); the inflated size otherwise, None for a
    file that is not deflated.

    Why: pydicom inflates a deflated file's whole dataset in memory before it reads a single
    element, even with ``stop_before_pixels``, so a 1 MB upload could take gigabytes. Here the
    stream is inflated in 1 MiB pieces that are counted and dropped (only the first 256 KiB are
    kept, to read the declared size), so the check itself costs about 2 MB whatever the file.
    """
    import zlib

    from pydicom.filereader import _read_file_meta_info, read_preamble

    with open(path, "rb") as handle:
        try:
            read_preamble(handle, False)
            meta = _read_file_meta_info(handle)
        except Exception:  # not a file-format DICOM: pydicom reports it when it reads the file
            return None
        if str(meta.get("TransferSyntaxUID", "")) != DEFLATED:
            return None
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        total, prefix = 0, b""
        while True:
            data = inflater.unconsumed_tail or handle.read(_CHUNK)
            if not data:
                break
            try:
                out = inflater.decompress(data, _CHUNK)
            except zlib.error as error:
                raise InvalidInputError("file", f"holds a broken deflated dataset ({error})",
                                        "a readable DICOM file", item=str(path)) from error
            total += len(out)
            if len(prefix) < _HEADER_BYTES:
                prefix += out[:_HEADER_BYTES - len(prefix)]
            if total > max_bytes:
                raise InvalidInputError("file", f"is a deflated DICOM file whose dataset inflates past "
                                        f"{max_bytes:,} bytes; refused as a possible decompression bomb",
                                        f"a deflated dataset of at most {max_bytes:,} bytes", item=str(path))
            if inflater.eof:
                break
    declared = _declared_pixel_bytes(prefix)
    if declared is not None and total > 4 * declared + _HEADER_BYTES:
        raise InvalidInputError("file", f"is a deflated DICOM file whose dataset inflates to {total:,} bytes "
                                f"for {declared:,} bytes of declared pixel data; refused as a possible "
                                "decompression bomb", "a dataset at most four times its pixel data",
                                item=str(path))
    return total


@dataclass(frozen=True)
class DicomImage:
    """One DICOM frame: its values in the modality's units, the display image, and the window."""

    values: np.ndarray  # grey: stored values through the modality LUT (HU for CT); colour: the RGB pixels
    display: np.ndarray  # uint8, the image a viewer shows (see the module docstring)
    window: tuple[float, float] | None  # (center, width) of the display, in the values' units; None for colour
    pixel_spacing: float | None  # mm, the mean of the row and column spacing, where the file states it
    modality: str | None

    @property
    def acquisition(self) -> dict[str, object]:
        """``degrade``'s keyword arguments for the display image of a CT (its window and pixel
        size); empty for other modalities."""
        if self.modality != "CT":
            return {}
        return {"display_window": self.window, "pixel_spacing": self.pixel_spacing}


def read_dicom(path: str, frame: int = 0, max_inflated_bytes: int = MAX_INFLATED_BYTES) -> DicomImage:
    """Read a DICOM file (``frame`` of a multi-frame one) as values and display image.

    A deflated file is checked by ``check_deflated`` (with ``max_inflated_bytes``) before
    pydicom inflates it; then ``dicom_image`` (see the module docstring for the windows).
    """
    import pydicom

    check_deflated(path, max_inflated_bytes)
    try:
        dataset = pydicom.dcmread(path)
    except pydicom.errors.InvalidDicomError:  # its advice, force=True, would read any file as DICOM
        raise InvalidInputError("file", "is not a DICOM file: it has no 'DICM' marker after its 128-byte "
                                "preamble", "a DICOM (Part 10) file; other images need their own suffix "
                                "(.png, .jpg, .tif, .npy)", item=str(path)) from None
    return dicom_image(dataset, frame)


def dicom_image(dataset, frame: int = 0) -> DicomImage:
    """``frame`` of a parsed pydicom dataset as values and display image: its pixels are decoded
    here (one frame of a multi-frame dataset), not when the dataset was read."""
    from pydicom.pixels import pixel_array

    frames = int(dataset.get("NumberOfFrames", 1) or 1)
    pixels = pixel_array(dataset, index=frame) if frames > 1 else dataset.pixel_array  # decodes one frame
    pixel_spacing = _pixel_spacing(dataset)
    modality = dataset.get("Modality")
    if dataset.get("SamplesPerPixel", 1) == 3:
        rgb = pixels.astype(np.uint8)
        return DicomImage(values=rgb, display=rgb, window=None, pixel_spacing=pixel_spacing, modality=modality)
    attributes = _frame_attributes(dataset)
    values = pixels * attributes.get("RescaleSlope", 1.0) + attributes.get("RescaleIntercept", 0.0)
    if modality == "CT" and "WindowCenter" in attributes and "WindowWidth" in attributes:
        low = attributes["WindowCenter"] - attributes["WindowWidth"] / 2
        high = attributes["WindowCenter"] + attributes["WindowWidth"] / 2
    else:
        low, high = (float(v) for v in np.percentile(values, [0.5, 99.5]))
    high = max(high, low + 1e-9)
    scaled = np.clip((values - low) / (high - low), 0.0, 1.0)
    if dataset.get("PhotometricInterpretation") == "MONOCHROME1":
        scaled = 1.0 - scaled
    return DicomImage(values=values.astype(np.float32), display=np.rint(scaled * 255).astype(np.uint8),
                      window=((low + high) / 2, high - low), pixel_spacing=pixel_spacing, modality=modality)


def dicom_display(path: str, frame: int = 0) -> np.ndarray:
    """A DICOM file (``frame`` of a multi-frame one) as the 8-bit display image."""
    return read_dicom(path, frame).display


