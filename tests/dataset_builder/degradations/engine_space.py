"""The degradation engine's whole input space as hypothesis strategies, and how one call ends.

Shared by ``test_engine_properties.py`` (a bounded number of examples in CI) and
``benchmarks/engine_fuzz.py`` (10,000 or more, with counts). A call ends in one of three ways:
``pass`` (the output keeps the input's shape and dtype or PIL mode and size, holds finite
values, and L0 is the identity), ``refusal`` (the project's own error, ``MedQDegError``, whose
message names the field at fault) or ``other`` (anything else: a defect).
"""

from __future__ import annotations

import traceback

import numpy as np
from hypothesis import strategies as st
from PIL import Image

from medqdeg.dataset_builder.degradations import degrade, list_degradations
from medqdeg.dataset_builder.errors import MedQDegError
from medqdeg.dataset_builder.modalities import MODALITIES

TYPES = sorted(spec.name for spec in list_degradations())
DTYPES = ["uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64", "float16", "float32",
          "float64", "bool"]
PIL_MODES = ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F", "YCbCr", "HSV"]
SPECIAL = [0.0, 1.0, -1.0, 2.0**53, -(2.0**53), 2.0**53 + 2, 1e17, 3e38, -3e38, 1e-30, float("nan"), float("inf")]


@st.composite
def shapes(draw):
    """Sides from below the 8-pixel minimum to moderately large, HxW and HxWxC (C in 1..5)."""
    height = draw(st.integers(1, 40))
    width = draw(st.integers(1, 40))
    kind = draw(st.sampled_from(["2d", "2d", "3d", "1d", "4d"]))
    if kind == "2d":
        return (height, width)
    if kind == "1d":
        return (height * width,)
    if kind == "4d":
        return (height, width, 1, 1)
    return (height, width, draw(st.integers(1, 5)))


@st.composite
def arrays(draw):
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = draw(shapes())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    pattern = draw(st.sampled_from(["random", "constant", "extreme", "range"]))
    if dtype == np.bool_:
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.kind in "ui":
        info = np.iinfo(dtype)
        if pattern == "constant":
            return np.full(shape, draw(st.integers(int(info.min), int(info.max))), dtype=dtype)
        if pattern == "extreme":
            return rng.choice(np.array([info.min, info.max, 0], dtype=dtype), size=shape)
        if pattern == "range":
            return rng.integers(int(info.min), int(info.max), size=shape, dtype=dtype, endpoint=True)
        return rng.integers(0, min(int(info.max), 4096), size=shape, endpoint=True).astype(dtype)
    if pattern == "constant":
        return np.full(shape, draw(st.sampled_from(SPECIAL)), dtype=np.float64).astype(dtype)
    if pattern == "extreme":
        with np.errstate(over="ignore", invalid="ignore"):
            return rng.choice(np.array(SPECIAL), size=shape).astype(dtype)
    if pattern == "range":
        scale = draw(st.sampled_from([1.0, 1000.0, 1e15, 1e30]))
        with np.errstate(over="ignore"):
            return (rng.uniform(-1, 1, shape) * scale).astype(dtype)
    return rng.uniform(0, 1, shape).astype(dtype)


@st.composite
def pil_images(draw):
    mode = draw(st.sampled_from(PIL_MODES))
    size = (draw(st.integers(1, 40)), draw(st.integers(1, 40)))
    seed = draw(st.integers(0, 2**32 - 1))
    noise = Image.fromarray(np.random.default_rng(seed).integers(0, 256, (*size[::-1], 3), dtype=np.uint8))
    if mode in ("I;16", "I", "F"):
        return noise.convert("L").convert(mode) if mode != "I;16" else Image.fromarray(
            np.random.default_rng(seed).integers(0, 65536, size[::-1], dtype=np.uint16))
    return noise.convert(mode)


@st.composite
def calls(draw):
    """One ``degrade`` call over the whole input space: image, type (or an unknown one), level
    (0-2, or a bad one), modality (each known one, an unknown one, or none), force."""
    image = draw(st.one_of(arrays(), pil_images()))
    name = draw(st.sampled_from([*TYPES, "no_such_type"]))
    level = draw(st.sampled_from([0, 1, 2, "L1", "L2", 3, -1]))
    modality = draw(st.sampled_from([None, *MODALITIES, "Thermography"]))
    return {"image": image, "name": name, "level": level, "seed": draw(st.integers(0, 2**31)),
            "modality": modality, "force": draw(st.booleans())}


def _describe(image) -> str:
    if isinstance(image, Image.Image):
        return f"PIL {image.mode} {image.size}"
    return f"{image.dtype} {image.shape}"


def outcome(call: dict) -> tuple[str, str]:
    """("pass" | "refusal" | "other", detail) for one call (see the module docstring)."""
    image = call["image"]
    try:
        out, record = degrade(image, call["name"], call["level"], seed=call["seed"], item_id="fuzz",
                              modality=call["modality"], force=call["force"])
    except MedQDegError as error:
        return ("refusal", str(error)) if "`" in str(error) or "degradation" in str(error) else (
            "other", f"refusal without a field: {error}")
    except Exception as error:
        return "other", f"{call['name']} L{call['level']} {_describe(image)}: {type(error).__name__}: {error}\n" + \
            "".join(traceback.format_exception(error)[-3:])
    if isinstance(image, Image.Image):
        if not isinstance(out, Image.Image) or out.mode != image.mode or out.size != image.size:
            return "other", f"{call['name']} {_describe(image)} came back as {_describe(out)}"
        values = np.asarray(out)
    else:
        if not isinstance(out, np.ndarray) or out.shape != image.shape or out.dtype != image.dtype:
            return "other", f"{call['name']} {_describe(image)} came back as {_describe(out)}"
        values = out
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        return "other", f"{call['name']} L{call['level']} {_describe(image)} gave NaN or infinite values"
    if record.level == 0 and not np.array_equal(values, np.asarray(image), equal_nan=True):
        return "other", f"{call['name']} L0 {_describe(image)} is not the identity"
    return "pass", ""
