"""The embedded source: multiple-choice items on real images that ship in PyPI packages.

Every answer is certain from the image's own metadata, never from a guess:
- the modality, from the DICOM ``Modality`` tag or the package's description;
- the body region, from ``BodyPartExamined`` / ``StudyDescription`` or the description;
- the anatomical plane of a slice cut from the MNI152 T1 template (nilearn), which is
  known because the slice was cut along that axis; its weighting (T1) from its name;
- the stain of the immunohistochemistry slide and the eye of the fundus photograph,
  from scikit-image's description;
- that a colour Doppler overlay shows blood flow, from the file's description.
Crops keep at least 70% of each side, so the region stays visible. Distractors and
option order are drawn from a generator seeded by the item id, so the sample is the
same on every machine. The images are assembled from the packages on first use and
kept in ``cache_folder()``.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..image_io import shrink
from ..items import CleanItem
from ..sample_images import CATALOGUE, testdata_ct_acquisition, testdata_dicom
from ..vocabulary import OPTION_LETTERS, stable_hash

SOURCE = "embedded"
MNI_FILE = "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"
MNI_ORIGIN = f"MNI ICBM152 2009a symmetric T1 template as shipped in nilearn (nilearn/datasets/data/{MNI_FILE})"
MNI_LICENSE = "ICBM 2009a licence: free use with the McConnell Brain Imaging Centre copyright notice kept"

MODALITY_CHOICES = ("CT", "MRI", "X-ray", "Ultrasound", "Histopathology", "Fundus photography",
                    "Nuclear medicine", "Dermoscopy", "Endoscopy")
REGION_CHOICES = ("Head", "Chest", "Abdomen", "Shoulder", "Lower leg", "Whole body", "Pelvis", "Neck", "Heart")
REGION_SKILL = {
    "Head": "Neurovascular", "Chest": "Respiratory System", "Abdomen": "Abdominal Structures",
    "Shoulder": "Skeletal System", "Lower leg": "Skeletal System", "Whole body": "Skeletal System",
    "Heart": "Cardiovascular",
}
PLANES = ("Axial", "Coronal", "Sagittal")
WEIGHTINGS = ("T1-weighted", "T2-weighted", "FLAIR", "Diffusion-weighted")
STAINS = ("Immunohistochemistry (DAB) with hematoxylin counterstain", "Hematoxylin and eosin",
          "Gram stain", "Papanicolaou stain", "Periodic acid-Schiff")


@dataclass(frozen=True)
class EmbeddedImage:
    """One image of the sample with the facts its metadata makes certain."""

    key: str
    modality: str
    load: Callable[[], np.ndarray]
    origin: str
    license: str
    region: str | None = None
    plane: str | None = None
    weighting: str | None = None
    stain: str | None = None
    doppler: bool = False
    eye: str | None = None
    acquisition: Callable[[], dict[str, object]] = dict  # ``degrade`` keyword arguments (CT: window, spacing)


def _crop(load: Callable[[], np.ndarray], top: float, left: float, size: float) -> Callable[[], np.ndarray]:
    """A loader of the crop starting at (top, left) fractions, ``size`` of each side."""
    def cropped() -> np.ndarray:
        image = load()
        height, width = image.shape[:2]
        y, x = round(top * height), round(left * width)
        return np.ascontiguousarray(image[y:y + round(size * height), x:x + round(size * width)])
    return cropped


def _limit(load: Callable[[], np.ndarray], max_side: int = 512) -> Callable[[], np.ndarray]:
    """A loader of the image with its longer side at most ``max_side`` (``image_io.shrink``)."""
    def limited() -> np.ndarray:
        return shrink(load(), max_side)[0]
    return limited


CROPS = ((0.0, 0.0, 1.0), (0.0, 0.0, 0.75), (0.25, 0.25, 0.75), (0.0, 0.25, 0.75), (0.25, 0.0, 0.75),
         (0.125, 0.125, 0.75), (0.0, 0.0, 0.85), (0.15, 0.15, 0.85), (0.075, 0.075, 0.85))
"""(top, left, side) of the full image and of crops, as fractions of the height and width."""


def _catalogue_images() -> list[EmbeddedImage]:
    """The catalogue's images (and crops of the large ones), with their certain facts."""
    facts = {
        "ct_head": {"region": "Head", "plane": "Axial"},
        "ct_brain": {"region": "Head", "plane": "Axial"},
        "ct_small": {"plane": "Axial"},
        "mr_abdomen": {"region": "Abdomen", "plane": "Axial"},
        "mr_shoulder": {"region": "Shoulder"},
        "xray_chest": {"region": "Chest"},
        "xray_tibia": {"region": "Lower leg"},
        "us_doppler": {"doppler": True},
        "us_abdomen": {},
        "nm_bone_scan": {"region": "Whole body"},
        "histo_ihc": {"stain": STAINS[0]},
        "fundus_retina": {"eye": "Left eye"},
    }
    crops = {"xray_chest", "xray_tibia", "mr_shoulder", "histo_ihc", "fundus_retina", "ct_head"}
    images = []
    for key, fact in facts.items():
        entry = CATALOGUE[key]
        load = functools.cache(_limit(entry.load))  # decoded once for the image and all its crops
        for index, (top, left, size) in enumerate(CROPS if key in crops else CROPS[:1]):
            images.append(EmbeddedImage(
                key=key if index == 0 else f"{key}-crop{index}", modality=entry.modality,
                load=load if index == 0 else _crop(load, top, left, size),
                origin=entry.origin + ("" if index == 0 else f", crop {index}"), license=entry.license,
                acquisition=entry.acquisition, **fact))  # crops keep the window and the pixel size
    return images


def _dicom_frames() -> list[EmbeddedImage]:
    """Frames of multi-frame ultrasound and MR files, and more single DICOM files."""
    provenance = "DICOM test file {file} shipped in the pydicom{data} package"
    licence = "public DICOM sample data redistributed in pydicom{data} (MIT-licensed package)"
    images = []
    for file, modality, frames, data, fact in [
        ("examples_ybr_color.dcm", "Ultrasound", range(0, 30, 2), "", {}),
        ("color3d_jpeg_baseline.dcm", "Ultrasound", range(0, 120, 8), "-data", {}),
        ("emri_small.dcm", "MRI", range(0, 10, 2), "-data", {"region": "Head"}),
        ("OBXXXX1A.dcm", "Ultrasound", range(1), "-data", {}),
        ("gdcm-US-ALOKA-16.dcm", "Ultrasound", range(1), "-data", {}),
        ("color-pl.dcm", "Ultrasound", range(1), "", {"region": "Heart"}),
        ("explicit_VR-UN.dcm", "CT", range(1), "-data", {"region": "Abdomen", "plane": "Axial"}),
        ("MR-SIEMENS-DICOM-WithOverlays.dcm", "MRI", range(1), "-data", {"region": "Abdomen", "plane": "Axial"}),
    ]:
        for frame in frames:
            images.append(EmbeddedImage(
                key=f"{file.removesuffix('.dcm')}-f{frame}", modality=modality,
                load=_limit(functools.partial(testdata_dicom, file, frame)),
                origin=provenance.format(file=file, data=data) + f", frame {frame}",
                license=licence.format(data=data),
                acquisition=functools.partial(testdata_ct_acquisition, file) if modality == "CT" else dict, **fact))
    return images


@functools.cache
def _mni_volume() -> np.ndarray:
    import nibabel

    spec = importlib.util.find_spec("nilearn")
    if spec is None or not spec.submodule_search_locations:
        from ..errors import InvalidInputError

        raise InvalidInputError("source", "needs nilearn's MNI152 template", "nilearn installed (pip install nilearn)")
    path = os.path.join(spec.submodule_search_locations[0], "datasets", "data", MNI_FILE)
    return np.asarray(nibabel.load(path).dataobj)


def mni_slice(plane: str, fraction: float) -> np.ndarray:
    """An 8-bit slice of the MNI152 T1 template (RAS voxels) at ``fraction`` of the axis.

    Axial slices are shown anterior up, coronal and sagittal superior up.
    """
    volume = _mni_volume()
    axis = {"Sagittal": 0, "Coronal": 1, "Axial": 2}[plane]
    index = round(fraction * (volume.shape[axis] - 1))
    section = np.rot90(np.take(volume, index, axis=axis))
    return np.ascontiguousarray(section.astype(np.uint8))


def _mni_slices() -> list[EmbeddedImage]:
    positions = {"Axial": np.linspace(0.30, 0.72, 8), "Coronal": np.linspace(0.25, 0.75, 8),
                 "Sagittal": np.r_[np.linspace(0.22, 0.42, 4), np.linspace(0.58, 0.78, 4)]}
    return [
        EmbeddedImage(key=f"mni-{plane.lower()}-{round(100 * f)}", modality="MRI",
                      load=functools.partial(mni_slice, plane, float(f)),
                      origin=MNI_ORIGIN + f", {plane.lower()} slice at {f:.2f} of the axis", license=MNI_LICENSE,
                      plane=plane, weighting="T1-weighted")
        for plane, fractions in positions.items() for f in fractions
    ]


def _options(item_id: str, correct: str, pool: tuple[str, ...], count: int) -> tuple[list[str], str]:
    """``count`` options: the correct one and distractors from ``pool``, in a seeded order."""
    rng = np.random.default_rng(stable_hash("embedded-options", item_id))
    distractors = [p for p in pool if p != correct]
    chosen = [correct, *(distractors[i] for i in rng.choice(len(distractors), count - 1, replace=False))]
    order = rng.permutation(count)
    options = [chosen[i] for i in order]
    return options, OPTION_LETTERS[options.index(correct)]


def _questions(image: EmbeddedImage) -> Iterator[tuple[str, str, str, str, tuple[str, ...], int]]:
    """(kind, question, correct answer, capability/skill, pool, number of options) per certain fact."""
    yield ("modality", "Which imaging modality was used to acquire this image?", image.modality,
           "IP/Modality Recognition", MODALITY_CHOICES, 4)
    if image.region:
        yield ("region", "Which body region is shown in this image?", image.region,
               f"AR/{REGION_SKILL[image.region]}", REGION_CHOICES, 4)
    if image.plane:
        yield ("plane", "In which anatomical plane was this image acquired?", image.plane,
               "AR/General Structures", PLANES, 3)
    if image.weighting:
        yield ("weighting", "Which MRI weighting does this image show?", image.weighting,
               "IP/Sequence Recognition", WEIGHTINGS, 4)
    if image.stain:
        yield ("stain", "Which staining technique was used on this tissue section?", image.stain,
               "CU/Attribute Recognition", STAINS, 4)
    if image.doppler:
        yield ("doppler", "What does the colour overlay in this ultrasound image represent?",
               "Blood flow (colour Doppler)",
               "IP/Modality Recognition",
               ("Blood flow (colour Doppler)", "Tissue stiffness (elastography)", "Contrast agent uptake",
                "Tissue temperature"), 4)
    if image.eye:
        yield ("eye", "Which eye does this fundus photograph show?", image.eye, "AR/General Structures",
               ("Left eye", "Right eye"), 2)


EMBEDDED_VERSION = "1"
"""Bumped whenever an image of the sample would come out differently (crops, windows, sizes)."""


def cache_folder() -> Path:
    """Where the assembled sample is kept: ``$MEDQDEG_CACHE``, else ``$XDG_CACHE_HOME/medqdeg``
    or ``~/.cache/medqdeg``; the sample's files sit in ``embedded-v<EMBEDDED_VERSION>/``."""
    root = os.environ.get("MEDQDEG_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "medqdeg")
    return Path(root) / f"embedded-v{EMBEDDED_VERSION}"


def assembled_image(image: EmbeddedImage) -> np.ndarray:
    """The image, decoded from its package once and then read from the cache folder.

    Decoding DICOM files (some multi-frame JPEG), windowing and resampling costs about
    15 ms an image; reading the assembled ``.npy`` back costs well under 1 ms, in every
    process that generates a split. Files are written atomically (rename), so parallel
    processes never read a partial one.
    """
    path = cache_folder() / f"{image.key}.npy"
    if path.exists():
        return np.load(path, allow_pickle=False)
    array = image.load()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial.npy")
    np.save(partial, array, allow_pickle=False)
    os.replace(partial, path)
    return array


def embedded_images() -> list[EmbeddedImage]:
    """Every image of the embedded sample."""
    return _catalogue_images() + _dicom_frames() + _mni_slices()


def embedded_source(data_dir: Path | None) -> Iterator[CleanItem]:
    """The registered source ``embedded``: ``embedded_items``; it has no files, ``data_dir`` is not read."""
    return embedded_items()


def embedded_items() -> Iterator[CleanItem]:
    """The embedded sample's clean items; each image loads lazily, once for all its questions."""
    for image in embedded_images():
        load = functools.cache(functools.partial(assembled_image, image))
        for kind, question, correct, label, pool, count in _questions(image):
            item_id = f"embedded-{image.key}-{kind}"
            options, answer = _options(item_id, correct, pool, count)
            capability, skill = label.split("/", 1)
            yield CleanItem(
                id=item_id, image=load, question=question, options=options, answer=answer,
                modality=image.modality, source=SOURCE, capability=capability, skill=skill,
                origin=image.origin, license=image.license, location=f"embedded:{image.key}",
                acquisition=image.acquisition,
            )
