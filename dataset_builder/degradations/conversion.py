"""The edges of the engine: any image in, float32 in [0, 1] inside, the same kind out.

Inside the engine an image is a float32 array with values in [0, 1], shaped HxW (grey)
or HxWx3 (colour). ``to_engine`` converts a PIL image or a NumPy array to that form once
and returns an ``ImageFormat`` that ``from_engine`` uses to give the result back with the
input's size, mode or dtype, and value range.

Value windows (how input values map to [0, 1]):
- 8-bit data (uint8 arrays; PIL modes 1, L, LA, P, RGB, RGBA, CMYK): the fixed window
  [0, 255];
- float data whose values all lie in [0, 1]: the fixed window [0, 1];
- any other data (uint16 and signed integers such as CT Hounsfield units, PIL modes
  I;16, I and F, floats outside [0, 1]): the image's own [min, max], so a 12-bit DICOM
  uses the whole engine range and comes back in its original range.
Alpha channels (LA, RGBA, HxWx4 arrays) are kept as they are; CMYK and palette images
are processed in RGB and converted back.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from ..errors import InvalidInputError

MIN_SIDE = 8
"""The smallest height and width, in pixels, that the degradations accept."""

MAX_MAGNITUDE = 2.0 ** 53
"""The largest absolute pixel value accepted: float64, in which the engine maps values to and
from [0, 1], represents every integer up to 2^53 exactly; beyond it a window collapses (an image
of 1e17 came back all NaN) and int64/uint64 values near their maxima overflowed when cast back."""

PIL_MODES = ("1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F")
_EIGHT_BIT_MODES = {"1", "L", "LA", "P", "RGB", "RGBA", "CMYK"}
_ARRAY_KINDS = "uifb"


@dataclass(frozen=True)
class ImageFormat:
    """What ``from_engine`` needs to give an engine array back in the input's form."""

    pil_mode: str | None  # None for NumPy input
    dtype: np.dtype
    low: float  # input value mapped to 0.0
    high: float  # input value mapped to 1.0
    single_channel_axis: bool  # the input was an HxWx1 array
    alpha: np.ndarray | None  # the alpha channel to put back, in the input's dtype
    palette_image: Image.Image | None = None  # the original P image, for its palette
    display: bool = True  # a display image (8-bit, or floats in [0, 1]), not values in their own units


def _window(values: np.ndarray, eight_bit: bool) -> tuple[float, float, bool]:
    """(input value mapped to 0, input value mapped to 1, whether the input is a display image)."""
    if eight_bit:
        return 0.0, 255.0, True
    low, high = float(values.min()), float(values.max())
    if values.dtype.kind == "f" and low >= 0.0 and high <= 1.0:
        return 0.0, 1.0, True
    if high > low:
        return low, high, False
    # a constant image: a window one unit wide, or wider where 1 is below the float spacing (2^53)
    return low, low + max(1.0, 2.0 * float(np.spacing(abs(low)))), False


def _check_array(values: np.ndarray, item: str | None) -> None:
    if values.dtype.kind not in _ARRAY_KINDS or values.dtype == np.bool_:
        raise InvalidInputError("image", f"has dtype {values.dtype}",
                                "uint8, uint16, a signed integer or a float dtype", item=item)
    if values.ndim not in (2, 3) or (values.ndim == 3 and values.shape[2] not in (1, 3, 4)):
        raise InvalidInputError("image", f"has shape {values.shape}",
                                "HxW, HxWx1, HxWx3 or HxWx4", item=item)
    height, width = values.shape[:2]
    if height < MIN_SIDE or width < MIN_SIDE:
        raise InvalidInputError("image", f"is {height}x{width} pixels",
                                f"at least {MIN_SIDE}x{MIN_SIDE}", item=item)
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        raise InvalidInputError("image", "contains NaN or infinite values", "finite values only", item=item)
    if values.size and values.dtype.itemsize >= 4 and values.dtype.kind in "uif":
        largest = max(abs(float(values.min())), abs(float(values.max())))
        if largest > MAX_MAGNITUDE:
            raise InvalidInputError("image", f"has values up to {largest:.6g} in magnitude",
                                    "values within +-2^53 (9.007e15), which the engine represents exactly",
                                    item=item)


def check_image(image: Image.Image | np.ndarray, *, item: str | None = None) -> None:
    """Refuse what ``to_engine`` would refuse (type, PIL mode, dtype, shape, sides under
    ``MIN_SIDE``, non-finite or unrepresentable values) without converting: a source checks each
    image once when it is loaded, so a bad one is refused or skipped in every split alike."""
    if isinstance(image, Image.Image):
        if image.mode not in PIL_MODES:
            raise InvalidInputError("image", f"has PIL mode {image.mode!r}", f"one of {', '.join(PIL_MODES)}",
                                    item=item)
        if image.height < MIN_SIDE or image.width < MIN_SIDE:
            raise InvalidInputError("image", f"is {image.height}x{image.width} pixels",
                                    f"at least {MIN_SIDE}x{MIN_SIDE}", item=item)
        if image.mode not in ("I", "F"):
            return
        image = np.asarray(image)
    if not isinstance(image, np.ndarray):
        raise InvalidInputError("image", f"is a {type(image).__name__}",
                                "a PIL.Image.Image or a numpy.ndarray", item=item)
    _check_array(image, item)


def to_engine(image: Image.Image | np.ndarray, *, item: str | None = None) -> tuple[np.ndarray, ImageFormat]:
    """Convert ``image`` to the engine contract and describe how to convert it back."""
    if isinstance(image, Image.Image):
        return _pil_to_engine(image, item)
    if isinstance(image, np.ndarray):
        return _array_to_engine(image, item)
    raise InvalidInputError("image", f"is a {type(image).__name__}",
                            "a PIL.Image.Image or a numpy.ndarray", item=item)


def _pil_to_engine(image: Image.Image, item: str | None) -> tuple[np.ndarray, ImageFormat]:
    mode = image.mode
    if mode not in PIL_MODES:
        raise InvalidInputError("image", f"has PIL mode {mode!r}", f"one of {', '.join(PIL_MODES)}", item=item)
    original, alpha = image, None
    if mode in ("LA", "RGBA"):
        alpha = np.asarray(image.getchannel("A"))
        image = image.convert(mode[:-1])
    elif mode in ("P", "CMYK"):
        image = image.convert("RGB")
    elif mode == "1":
        image = image.convert("L")
    values = np.asarray(image)
    _check_array(values, item)
    engine, low, high, display = _normalise(values, eight_bit=mode in _EIGHT_BIT_MODES)
    return engine, ImageFormat(
        pil_mode=mode, dtype=values.dtype, low=low, high=high, single_channel_axis=False, alpha=alpha,
        palette_image=original if mode == "P" else None, display=display,
    )


def _array_to_engine(values: np.ndarray, item: str | None) -> tuple[np.ndarray, ImageFormat]:
    _check_array(values, item)
    alpha = None
    single_channel_axis = values.ndim == 3 and values.shape[2] == 1
    if values.ndim == 3 and values.shape[2] == 4:
        alpha = values[..., 3].copy()
        values = values[..., :3]
    elif single_channel_axis:
        values = values[..., 0]
    engine, low, high, display = _normalise(values, eight_bit=values.dtype == np.uint8)
    return engine, ImageFormat(pil_mode=None, dtype=values.dtype, low=low, high=high,
                               single_channel_axis=single_channel_axis, alpha=alpha, display=display)


EIGHT_BIT_VALUES = np.arange(256, dtype=np.float32) / np.float32(255)
"""The engine value of each 8-bit value v: v / 255 in float32 (``to_engine`` looks 8-bit images up in it)."""


def _normalise(values: np.ndarray, *, eight_bit: bool) -> tuple[np.ndarray, float, float, bool]:
    """(values - low) / (high - low) clipped to [0, 1], in float32 (float64 for wide values), and the window.

    8-bit values are looked up in ``EIGHT_BIT_VALUES`` (``cv2.LUT``: the same float32
    values as the arithmetic, several times faster); other values are windowed in place.
    """
    low, high, display = _window(values, eight_bit)
    if eight_bit:
        return cv2.LUT(np.ascontiguousarray(values, dtype=np.uint8), EIGHT_BIT_VALUES), low, high, display
    if values.dtype.itemsize <= 2:
        engine = values.astype(np.float32)
        engine -= np.float32(low)
        engine /= np.float32(high - low)
    else:  # wide values (up to 2^53, or floats up to 1e38) are windowed in float64: float32 overflowed
        engine = ((values.astype(np.float64) - low) / (high - low)).astype(np.float32)
    return np.clip(engine, 0.0, 1.0, out=engine), low, high, display


def from_engine(engine: np.ndarray, fmt: ImageFormat) -> Image.Image | np.ndarray:
    """Give an engine array back with the size, mode or dtype and value range of the input.

    The arithmetic is float32 where the output type has at most 16 bits (its values are
    exact there), float64 otherwise.
    """
    wide = fmt.dtype.itemsize > 2 and fmt.dtype != np.float32
    precise = np.float64 if wide else np.float32
    values = np.clip(engine, 0.0, 1.0).astype(precise, copy=False)
    values *= precise(fmt.high - fmt.low)
    values += precise(fmt.low)
    if fmt.dtype.kind in "ui":
        np.rint(values, out=values)
        info = np.iinfo(fmt.dtype)
        if fmt.low < info.min or fmt.high > info.max:  # a constant image's window can pass the dtype's maximum
            np.clip(values, info.min, info.max, out=values)
    values = values.astype(fmt.dtype)
    if fmt.pil_mode is None:
        if fmt.alpha is not None:
            return np.concatenate([values, fmt.alpha[..., None]], axis=2)
        return values[..., None] if fmt.single_channel_axis else values
    return _to_pil(values, fmt)


def _to_pil(values: np.ndarray, fmt: ImageFormat) -> Image.Image:
    mode = fmt.pil_mode
    if mode == "P":
        return Image.fromarray(values).quantize(palette=fmt.palette_image, dither=Image.Dither.NONE)
    if mode == "CMYK":
        return Image.fromarray(values).convert("CMYK")
    if mode == "1":
        return Image.fromarray(values).point(lambda v: 255 if v >= 128 else 0).convert("1")
    if mode in ("LA", "RGBA"):
        return Image.fromarray(np.dstack([values, fmt.alpha]))
    return Image.fromarray(values)  # the dtype and channel count give back L, RGB, I;16, I or F
