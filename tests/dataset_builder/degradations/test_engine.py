"""The engine's public API: registry, levels, modalities, records, replay, reproducibility."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from medqdeg.dataset_builder.degradations import (
    CATEGORIES,
    DegradationRecord,
    degrade,
    get_degradation,
    list_degradations,
    replay,
)
from medqdeg.dataset_builder.errors import InvalidInputError, ModalityMismatchError
from medqdeg.dataset_builder.modalities import PAPER_MODALITIES

PAPER_TYPES = {
    "limited_angle": ("artifacts", {"CT"}),
    "sparse_view": ("artifacts", {"CT"}),
    "bias_field_artifact": ("artifacts", {"MRI"}),
    "undersampling_artifact": ("artifacts", {"MRI"}),
    "ghosting_artifact": ("artifacts", {"MRI"}),
    "blood_cell_artifact": ("artifacts", {"Histopathology"}),
    "dark_spots_artifact": ("artifacts", {"Histopathology"}),
    "object_rotation": ("motion", None),
    "object_movement": ("motion", None),
    "adjust_brightness": ("intensity", None),
    "exposure": ("intensity", None),
    "reduce_contrast": ("intensity", None),
    "gaussian_noise": ("noise", None),
    "low_dose": ("noise", {"CT"}),
    "low_resolution": ("resolution_blur", None),
    "motion_blur": ("resolution_blur", None),
    "gaussian_blur": ("resolution_blur", None),
    "bubble": ("resolution_blur", {"Histopathology"}),
    "xray_motion_blur": ("resolution_blur", {"X-ray"}),
}
ALL_NAMES = sorted(PAPER_TYPES)


def test_registry_holds_the_19_types_with_the_reference_categories_and_modalities():
    registered = {spec.name: spec for spec in list_degradations()}
    assert set(registered) == set(PAPER_TYPES)
    for name, (category, modalities) in PAPER_TYPES.items():
        assert registered[name].category == category, name
        assert registered[name].modalities == (frozenset(modalities) if modalities else None), name
        assert set(registered[name].levels) == {1, 2}
    assert {spec.category for spec in registered.values()} == set(CATEGORIES)


@pytest.mark.parametrize("modality", PAPER_MODALITIES)
def test_every_paper_modality_gets_the_general_types_and_only_its_own_specific_ones(modality):
    names = {spec.name for spec in list_degradations(modality)}
    expected = {n for n, (_, mods) in PAPER_TYPES.items() if mods is None or modality in mods}
    assert names == expected


def test_list_degradations_accepts_common_spellings():
    assert [s.name for s in list_degradations("MR")] == [s.name for s in list_degradations("MRI")]


def test_unknown_type_error_lists_the_known_ones():
    with pytest.raises(InvalidInputError, match="sparse_view"):
        get_degradation("sparse_veiw")


def test_modality_mismatch_is_an_error_unless_forced(ct_image):
    with pytest.raises(ModalityMismatchError, match=r"bubble.*CT.*force"):
        degrade(ct_image, "bubble", 2, modality="CT")
    forced, _ = degrade(ct_image, "bubble", 2, modality="CT", force=True)
    assert forced.shape == ct_image.shape
    with pytest.raises(InvalidInputError, match="modality"):
        degrade(ct_image, "gaussian_noise", 1, modality="photograph of a cat")


def test_level_zero_is_the_identity_and_returns_a_copy(slide_image):
    for name in ALL_NAMES:
        out, record = degrade(slide_image, name, 0, force=True)
        assert out is not slide_image
        assert np.array_equal(out, slide_image), name
        assert record.level == 0 and record.params == {}


@pytest.mark.parametrize("name", ALL_NAMES)
def test_replay_gives_the_same_bytes_from_the_json_record(name, mr_image):
    out, record = degrade(mr_image, name, 2, seed=7, item_id="case-1")
    restored = DegradationRecord.from_json(record.to_json())
    assert restored == record
    assert np.array_equal(replay(mr_image, restored), out)
    assert np.array_equal(replay(mr_image, json.loads(record.to_json())), out)


def test_parameters_depend_on_seed_item_and_level_but_not_on_call_order(mr_image):
    _, first = degrade(mr_image, "gaussian_noise", 2, seed=1, item_id="a")
    degrade(mr_image, "gaussian_noise", 2, seed=1, item_id="b")  # another item in between
    _, again = degrade(mr_image, "gaussian_noise", 2, seed=1, item_id="a")
    _, other_item = degrade(mr_image, "gaussian_noise", 2, seed=1, item_id="b")
    _, other_seed = degrade(mr_image, "gaussian_noise", 2, seed=2, item_id="a")
    assert first.params == again.params
    assert first.params != other_item.params
    assert first.params != other_seed.params


def test_same_bytes_in_a_separate_process(mr_image):
    code = (
        "import hashlib, numpy as np\n"
        "from medqdeg.dataset_builder.sample_images import load_sample\n"
        "from medqdeg.dataset_builder.degradations import degrade\n"
        "img = load_sample('mr_shoulder', max_side=256).image\n"
        "for name in ['object_movement', 'undersampling_artifact', 'gaussian_noise', 'sparse_view']:\n"
        "    out, _ = degrade(img, name, 2, seed=3, item_id='p', force=True)\n"
        "    print(hashlib.sha256(out.tobytes()).hexdigest())\n"
    )
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    here = [
        __import__("hashlib").sha256(degrade(mr_image, n, 2, seed=3, item_id="p", force=True)[0].tobytes()).hexdigest()
        for n in ["object_movement", "undersampling_artifact", "gaussian_noise", "sparse_view"]
    ]
    assert child.stdout.split() == here


def test_replay_refuses_a_record_of_another_engine_version(mr_image):
    _, record = degrade(mr_image, "gaussian_blur", 1)
    stale = {**record.to_dict(), "engine_version": "0"}
    with pytest.raises(InvalidInputError, match="engine_version"):
        replay(mr_image, stale)
    with pytest.raises(InvalidInputError, match="record"):
        DegradationRecord.from_dict({"name": "gaussian_blur"})


# ---------------------------------------------------------------- input and output kinds

PIL_MODES = ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F"]


def _pil_image(mode: str, rng: np.random.Generator, size=(40, 32)) -> Image.Image:
    rgb = Image.fromarray((rng.random((size[1], size[0], 3)) * 255).astype(np.uint8))
    if mode == "I;16":
        return Image.fromarray((rng.random((size[1], size[0])) * 4000).astype(np.uint16))
    if mode == "F":
        return Image.fromarray((rng.random((size[1], size[0])) * 2000 - 1000).astype(np.float32))
    return rgb.convert(mode)


@pytest.mark.parametrize("mode", PIL_MODES)
@pytest.mark.parametrize("name", ["gaussian_noise", "object_rotation", "undersampling_artifact", "bubble"])
def test_pil_images_of_every_mode_keep_size_and_mode(mode, name):
    image = _pil_image(mode, np.random.default_rng(0))
    out, _ = degrade(image, name, 2, force=True)
    assert isinstance(out, Image.Image)
    assert (out.mode, out.size) == (image.mode, image.size)
    if mode in ("LA", "RGBA"):
        assert np.array_equal(np.asarray(out.getchannel("A")), np.asarray(image.getchannel("A")))


@settings(max_examples=40, deadline=None)
@given(
    height=st.integers(8, 48),
    width=st.integers(8, 48),
    channels=st.sampled_from([None, 1, 3, 4]),
    dtype=st.sampled_from(["uint8", "uint16", "int16", "float32", "float64"]),
    name=st.sampled_from(ALL_NAMES),
    level=st.sampled_from([1, 2]),
    seed=st.integers(0, 2**32),
)
def test_arrays_keep_shape_dtype_and_value_range(height, width, channels, dtype, name, level, seed):
    rng = np.random.default_rng(seed)
    shape = (height, width) if channels is None else (height, width, channels)
    if dtype.startswith("float"):
        image = (rng.random(shape) * 3 - 1).astype(dtype)
    else:
        info = np.iinfo(dtype)
        image = rng.integers(max(info.min, -1000), min(info.max, 4000), shape, endpoint=True).astype(dtype)
    out, record = degrade(image, name, level, seed=seed, force=True)
    assert out.shape == image.shape and out.dtype == image.dtype
    assert np.isfinite(out.astype(np.float64)).all()
    if image.dtype != np.uint8:  # the data window: results stay inside the input's range
        assert out.min() >= image.min() - 1e-6 * abs(image.min()) and out.max() <= image.max() + 1e-6 * abs(image.max())
    assert np.array_equal(replay(image, record), out)


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((0, 0), np.uint8), "0x0"),
        (np.zeros((1, 1), np.uint8), "1x1"),
        (np.zeros((4, 64), np.uint8), "4x64"),
        (np.full((16, 16), np.nan, np.float32), "NaN"),
        (np.array([[np.inf] * 16] * 16), "infinite"),
        (np.zeros((16, 16, 2), np.uint8), "shape"),
        (np.zeros((2, 16, 16, 3), np.uint8), "shape"),
        (np.zeros((16, 16), bool), "dtype"),
        (np.zeros((16, 16), np.complex64), "dtype"),
        ("not an image", "PIL.Image"),
        (Image.new("HSV", (16, 16)), "mode"),
    ],
)
def test_bad_images_get_a_clear_error_naming_the_problem(image, message):
    with pytest.raises(InvalidInputError, match=message) as caught:
        degrade(image, "gaussian_noise", 1, item_id="item-9")
    assert "item-9" in str(caught.value) and "expected" in str(caught.value)
