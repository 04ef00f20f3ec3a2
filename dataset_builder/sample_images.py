"""Real medical images that ship inside PyPI packages, with their provenance.

Nothing is downloaded: pydicom and pydicom-data carry public DICOM sample images (most
from NEMA's WG04 sets: CT, MR, CR X-ray, ultrasound, nuclear medicine) and scikit-image carries a fundus
photograph and an immunohistochemistry slide. Each image is returned as the 8-bit
display image a vision-language model would see (DICOM files through ``image_io.dicom``:
modality LUT, then CT's stored window or the 0.5-99.5 percentile window), its longer side
limited to ``max_side`` pixels (``image_io.shrink``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

from .errors import InvalidInputError
from .image_io import dicom_display, read_dicom, shrink

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
    image, shrunk = shrink(entry.load(), max_side)
    image.setflags(write=False)
    acquisition = {} if shrunk else entry.acquisition()  # a resampled CT no longer has the file's spacing
    return SampleImage(key=key, modality=entry.modality, body_region=entry.body_region,
                       description=entry.description, origin=entry.origin, license=entry.license, image=image,
                       acquisition=acquisition)
