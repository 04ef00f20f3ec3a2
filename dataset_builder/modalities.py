"""Canonical modality names and the spellings real sources use for them.

The paper's seven modalities come first; real sources also carry others (fundus
photography, nuclear medicine, PET...). ``normalize_modality`` maps common spellings,
including DICOM ``Modality`` codes, onto the canonical names and refuses anything else
with the list of accepted names.
"""

from __future__ import annotations

from .errors import InvalidInputError

PAPER_MODALITIES: tuple[str, ...] = (
    "CT",
    "MRI",
    "X-ray",
    "Ultrasound",
    "Histopathology",
    "Dermoscopy",
    "Endoscopy",
)
OTHER_MODALITIES: tuple[str, ...] = (
    "Fundus photography",
    "Nuclear medicine",
    "PET",
    "OCT",
    "Microscopy",
)
MODALITIES: tuple[str, ...] = PAPER_MODALITIES + OTHER_MODALITIES

_ALIASES: dict[str, str] = {
    # CT
    "ct": "CT", "computed tomography": "CT", "cbct": "CT",
    # MRI
    "mr": "MRI", "mri": "MRI", "magnetic resonance": "MRI", "magnetic resonance imaging": "MRI",
    # X-ray (DICOM codes CR, DX, MG, RG)
    "x-ray": "X-ray", "xray": "X-ray", "x ray": "X-ray", "radiograph": "X-ray",
    "radiography": "X-ray", "cr": "X-ray", "dx": "X-ray", "rg": "X-ray", "mg": "X-ray",
    "mammography": "X-ray", "cxr": "X-ray",
    # Ultrasound
    "us": "Ultrasound", "ultrasound": "Ultrasound", "ultrasonography": "Ultrasound",
    "sonography": "Ultrasound", "echocardiography": "Ultrasound",
    # Histopathology
    "histopathology": "Histopathology", "pathology": "Histopathology",
    "histology": "Histopathology", "wsi": "Histopathology", "sm": "Histopathology",
    "immunohistochemistry": "Histopathology", "ihc": "Histopathology",
    # Dermoscopy
    "dermoscopy": "Dermoscopy", "dermatoscopy": "Dermoscopy", "dermatology": "Dermoscopy",
    # Endoscopy
    "endoscopy": "Endoscopy", "es": "Endoscopy", "colonoscopy": "Endoscopy",
    "gastroscopy": "Endoscopy",
    # others
    "fundus photography": "Fundus photography", "fundus": "Fundus photography",
    "fundus photograph": "Fundus photography", "op": "Fundus photography",
    "nuclear medicine": "Nuclear medicine", "nm": "Nuclear medicine",
    "scintigraphy": "Nuclear medicine", "bone scan": "Nuclear medicine",
    "pet": "PET", "pt": "PET", "oct": "OCT", "optical coherence tomography": "OCT",
    "microscopy": "Microscopy",
    # OmniMedVQA's `modality_type` spellings (typos and unclosed bracket included)
    "ct(computed tomography)": "CT", "ct (computed tomography)": "CT",
    "mr (mag-netic resonance imaging)": "MRI", "mr (magnetic resonance imaging)": "MRI",
    "oct (optical coherence tomography": "OCT", "oct (optical coherence tomography)": "OCT",
    "microscopy images": "Microscopy",
}


def normalize_modality(name: str, *, item: str | None = None) -> str:
    """Return the canonical modality for ``name`` (case and spacing ignored).

    >>> normalize_modality("MR")
    'MRI'
    >>> normalize_modality(" x ray ")
    'X-ray'
    """
    if not isinstance(name, str):
        raise InvalidInputError("modality", f"is {type(name).__name__}, not a string",
                                f"one of {', '.join(MODALITIES)}", item=item)
    key = " ".join(name.replace("_", " ").split()).lower()
    try:
        return _ALIASES[key]
    except KeyError:
        raise InvalidInputError(
            "modality", f"is {name!r}, which is not a known modality",
            f"one of {', '.join(MODALITIES)} (or a common spelling such as MR, US, CR, DX)",
            item=item,
        ) from None
