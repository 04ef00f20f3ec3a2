"""Real medical images that ship inside PyPI packages, with their provenance.

Nothing is downloaded: pydicom and pydicom-data carry public DICOM sample images (most
from NEMA's WG04 sets: CT, MR, CR X-ray, ultrasound, nuclear medicine) and scikit-image carries a fundus
photograph and an immunohistochemistry slide. Each image is returned as the 8-bit
display image a vision-language model would see: DICOM pixel data goes through its
modality LUT (rescale slope and intercept), then CT uses its stored window (Hounsfield
units) and every other modality the 0.5-99.5 percentile window; MONOCHROME1 is inverted, and the longer
side is limited to ``max_side`` pixels (Lanczos resampling).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image

from .errors import InvalidInputError

DICOM_ORIGIN = "DICOM test file {file} shipped in the {package} package (its test-files README names the source)"
DICOM_LICENSE = "public DICOM sample data redistributed in {package} (MIT-licensed package)"


@dataclass(frozen=True)
class SampleImage:
    """One real image with what is certain about it and where it comes from."""

    key: str
    modality: str
    body_region: str
    description: str
    origin: str
    license: str
    image: np.ndarray  # uint8, HxW or HxWx3
    acquisition: dict[str, object]  # ``degrade`` keyword arguments the image's physics needs (CT: window, spacing)


@dataclass(frozen=True)
class _Entry:
    modality: str
    body_region: str
    description: str
    origin: str
    license: str
    load: Callable[[], np.ndarray]
    acquisition: Callable[[], dict[str, object]] = dict


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

    See the module docstring for the windows; a deflated file is checked by ``check_deflated``
    (with ``max_inflated_bytes``) before pydicom inflates it.
    """
    import pydicom
    from pydicom.pixels import pixel_array

    check_deflated(path, max_inflated_bytes)
    try:
        dataset = pydicom.dcmread(path)
    except pydicom.errors.InvalidDicomError:  # its advice, force=True, would read any file as DICOM
        raise InvalidInputError("file", "is not a DICOM file: it has no 'DICM' marker after its 128-byte "
                                "preamble", "a DICOM (Part 10) file; other images need their own suffix "
                                "(.png, .jpg, .tif, .npy)", item=str(path)) from None
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


def _testdata_path(filename: str) -> str:
    from pydicom.data import get_testdata_file

    path = get_testdata_file(filename)
    if path is None:
        raise InvalidInputError("file", f"{filename!r} is not in pydicom's test data",
                                "pydicom and pydicom-data installed (pip install pydicom-data)")
    return path


def testdata_dicom(filename: str, frame: int = 0) -> np.ndarray:
    """A DICOM file of pydicom's test data (pydicom-data included) as an 8-bit display image."""
    return dicom_display(_testdata_path(filename), frame)


@cache
def testdata_ct_acquisition(filename: str) -> dict[str, object]:
    """The facts a CT simulation needs about a test-data CT's display image: the window
    it was shown in (``display_window``, HU) and ``pixel_spacing`` (mm), as ``degrade``
    keyword arguments."""
    return read_dicom(_testdata_path(filename)).acquisition


def _skimage(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        import skimage.data

        return getattr(skimage.data, name)()

    return load


def _dicom(filename: str) -> Callable[[], np.ndarray]:
    return lambda: testdata_dicom(filename)


def _ct(filename: str, spacing: bool = True) -> tuple[Callable[[], np.ndarray], Callable[[], dict[str, object]]]:
    """Loader and acquisition facts of a test-data CT; ``spacing=False`` where the file's
    pixel spacing is wrong (an image downsized without updating it)."""
    def acquisition() -> dict[str, object]:
        facts = testdata_ct_acquisition(filename)
        return facts if spacing else {**facts, "pixel_spacing": None}
    return _dicom(filename), acquisition


def _dicom_provenance(package: str, filename: str) -> tuple[str, str]:
    return DICOM_ORIGIN.format(package=package, file=filename), DICOM_LICENSE.format(package=package)


CATALOGUE: dict[str, _Entry] = {
    "ct_head": _Entry("CT", "head", "axial head CT slice at the skull base, 512x512",
                      *_dicom_provenance("pydicom-data", "J2K_pixelrep_mismatch.dcm"), *_ct("J2K_pixelrep_mismatch.dcm")),
    "ct_brain": _Entry("CT", "head", "axial brain CT slice (enhanced CT, first frame), 512x512",
                       *_dicom_provenance("pydicom-data", "eCT_Supplemental.dcm"), *_ct("eCT_Supplemental.dcm")),
    "ct_small": _Entry("CT", "abdomen", "axial CT slice downsized to 128x128",
                       *_dicom_provenance("pydicom", "CT_small.dcm"), *_ct("CT_small.dcm", spacing=False)),
    "mr_abdomen": _Entry("MRI", "abdomen", "abdominal MR slice, 300x484",
                         *_dicom_provenance("pydicom", "examples_overlay.dcm"), _dicom("examples_overlay.dcm")),
    "mr_shoulder": _Entry("MRI", "shoulder", "shoulder MR slice, 1024x1024",
                          *_dicom_provenance("pydicom-data", "MR2_UNCI.dcm"), _dicom("MR2_UNCI.dcm")),
    "xray_chest": _Entry("X-ray", "chest", "computed radiograph of the chest",
                         *_dicom_provenance("pydicom-data", "RG1_UNCI.dcm"), _dicom("RG1_UNCI.dcm")),
    "xray_tibia": _Entry("X-ray", "lower leg", "computed radiograph of the distal tibia",
                         *_dicom_provenance("pydicom-data", "RG3_UNCI.dcm"), _dicom("RG3_UNCI.dcm")),
    "us_doppler": _Entry("Ultrasound", "unspecified", "colour Doppler ultrasound frame, RGB",
                         *_dicom_provenance("pydicom", "examples_rgb_color.dcm"), _dicom("examples_rgb_color.dcm")),
    "us_abdomen": _Entry("Ultrasound", "unspecified", "ultrasound frame, RGB 480x640",
                         *_dicom_provenance("pydicom-data", "US1_UNCI.dcm"), _dicom("US1_UNCI.dcm")),
    "nm_bone_scan": _Entry("Nuclear medicine", "whole body", "whole-body bone scintigraphy",
                           *_dicom_provenance("pydicom", "JPEG2000.dcm"), _dicom("JPEG2000.dcm")),
    "histo_ihc": _Entry(
        "Histopathology", "colon", "colonic glands, IHC (DAB) with hematoxylin counterstain",
        "scikit-image skimage.data.immunohistochemistry (Center for Microscopy and Molecular Imaging)",
        "no known copyright restrictions (as stated by scikit-image)", _skimage("immunohistochemistry")),
    "fundus_retina": _Entry(
        "Fundus photography", "eye", "fundus photograph of a normal left eye",
        "scikit-image skimage.data.retina (Häggström, Wikimedia Commons)",
        "CC0 1.0 Universal Public Domain Dedication", _skimage("retina")),
}


@cache
def load_sample(key: str, max_side: int = 512) -> SampleImage:
    """Load one catalogue image (cached per process) as an 8-bit display image."""
    try:
        entry = CATALOGUE[key]
    except KeyError:
        raise InvalidInputError("sample", f"is {key!r}", f"one of {', '.join(CATALOGUE)}") from None
    image = entry.load()
    height, width = image.shape[:2]
    scale = max_side / max(height, width)
    if scale < 1:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS))
    image.setflags(write=False)
    acquisition = entry.acquisition() if scale >= 1 else {}  # a resampled CT no longer has the file's spacing
    return SampleImage(key=key, modality=entry.modality, body_region=entry.body_region,
                       description=entry.description, origin=entry.origin, license=entry.license, image=image,
                       acquisition=acquisition)
