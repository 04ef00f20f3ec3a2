"""Degradations that apply to every modality: intensity, noise, blur, resolution, rotation.

All functions take and return float32 images in [0, 1] (HxW or HxWx3). Lengths are given
as fractions of the image's reference length sqrt(height x width), so a level means
the same at 256 and 1024 pixels; angles are in degrees, counter-clockwise.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image
from scipy import ndimage

from .channels import luminance, per_channel
from .fourier import convolve_reflect
from .geometry import border_background, reference_length, rigid_move
from .params import Derived, Seed, Shared, SignedUniform, Uniform
from .registry import register

# ---------------------------------------------------------------------------- intensity

BACKGROUND_TOLERANCE = 0.06
"""A pixel is background when the mean luminance of its ``MASK_BLOCK`` block is within this of
the border's level."""

EMPTY_LEVEL = 0.1
"""The border's level must be at most this (black) for the image to have an empty background
(no signal); any other border is part of the object. A white border (a slide's glass, a
radiograph's collimated edge) needs no mask: the tone curves keep white, and the slides'
contrast model keeps their glass."""

MASK_BLOCK = 4
"""The background is found on MASK_BLOCK x MASK_BLOCK block means (16 times fewer pixels to
label) and the weight brought back by bilinear interpolation, which softens its rim over
about one block."""


def _block_means(values: np.ndarray, block: int) -> np.ndarray:
    """Means of ``block`` x ``block`` tiles of an HxW array (edges replicated to whole tiles)."""
    height, width = values.shape
    padded = np.pad(values, ((0, -height % block), (0, -width % block)), mode="edge")
    return padded.reshape(padded.shape[0] // block, block, -1, block).mean(axis=(1, 3))


def object_weight(image: np.ndarray) -> np.ndarray:
    """Weight of the object (1) against the empty background around it (0), HxW float32.

    The background is the part of the image, connected to its border, whose block-mean
    luminance (``MASK_BLOCK``) is within ``BACKGROUND_TOLERANCE`` of the border's level
    (``border_background``), when that level is black (at most ``EMPTY_LEVEL``): the air
    around a CT or MR slice, the black surround of a fundus photograph or of an ultrasound
    sector. (A bright region of a radiograph touching a white border would otherwise be
    taken for background.) The block mask is brought
    back to full size bilinearly, so the object's rim blends in; without such a border the
    weight is 1.
    """
    level = luminance(border_background(image)[None, None]).item()
    height, width = image.shape[:2]
    if level > EMPTY_LEVEL:
        return np.ones((height, width), dtype=np.float32)
    near = np.abs(_block_means(luminance(image), MASK_BLOCK) - level) <= BACKGROUND_TOLERANCE
    labels, count = ndimage.label(near)
    is_object = np.ones(count + 1, dtype=np.float32)  # label 0: not near the border's level
    is_object[np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])] = 0.0
    is_object[0] = 1.0
    objects = is_object[labels]
    full = Image.fromarray(objects).resize((objects.shape[1] * MASK_BLOCK, objects.shape[0] * MASK_BLOCK),
                                           Image.Resampling.BILINEAR)
    return np.asarray(full)[:height, :width]


def power(base: np.ndarray, exponent: float) -> np.ndarray:
    """``base`` ** ``exponent`` elementwise for ``base`` >= 0, float32.

    OpenCV's vectorised ``pow`` (within 2e-7 of NumPy's float32 ``power`` on [0, 1], about
    4 times faster).
    """
    flat = np.ascontiguousarray(base, dtype=np.float32).reshape(base.shape[0], -1)
    return cv2.pow(flat, float(exponent)).reshape(base.shape)


def _on_object(image: np.ndarray, weight: np.ndarray, changed: np.ndarray) -> np.ndarray:
    """``changed`` on the object, ``image`` on its empty background: I + w (changed - I).

    ``changed`` (float32, the image's shape) is overwritten.
    """
    weight = weight[..., None] if image.ndim == 3 else weight
    changed -= image
    changed *= weight
    changed += image
    return np.clip(changed, 0.0, 1.0, out=changed)


BRIGHTNESS_LEVELS = {
    1: {"lift": SignedUniform(0.70, 0.90)},
    2: {"lift": SignedUniform(1.30, 1.60)},
}


@register("adjust_brightness", category="intensity", levels=BRIGHTNESS_LEVELS, aliases=("brightness",))
def adjust_brightness(image: np.ndarray, *, lift: float) -> np.ndarray:
    """Display brightness: a tone curve on the object that keeps the black and white points.

    With g = 2^-|lift|: brightening (``lift`` > 0) I' = I^g, darkening (``lift`` < 0)
    I' = 1 - (1 - I)^g; mid-grey 0.5 becomes 0.71 or 0.29 at |lift| = 1. Like a monitor's,
    a camera's or a viewer's brightness control, the curve moves the mid-tones and neither
    washes the image out to white nor crushes it to black: no pixel is newly saturated in
    float; in 8 bits the end the curve compresses (slope g) may round to 0 or 255: at L2,
    a median of 0.0% and at most 2.1% of the pixels of the embedded sample (seed 0). It acts on the
    object only (``object_weight``): the empty background (air, the black surround, bare
    glass) keeps its value. The same for every modality; a change of the light or dose
    reaching the detector, background included, is ``exposure``.
    """
    gamma = np.float32(2.0 ** -abs(lift))
    if lift >= 0:
        curved = power(image, gamma)
    else:
        curved = power(1.0 - image, gamma)
        np.subtract(1.0, curved, out=curved)
    return _on_object(image, object_weight(image), curved)


EXPOSURE_LEVELS = {
    1: {"stops": SignedUniform(0.6, 0.9)},
    2: {"stops": SignedUniform(1.3, 1.7)},
}


@register("exposure", category="intensity", levels=EXPOSURE_LEVELS)
def exposure(image: np.ndarray, *, stops: float) -> np.ndarray:
    """Over- or under-exposure by ``stops`` (EV) of a detector that saturates.

    The detector's response to the exposure E is I = 1 - exp(-E) (film, a sensor's
    highlight shoulder), so multiplying E by g = 2^stops gives I' = 1 - (1 - I)^g: a gain
    of g on the dark values that rolls off into saturation near white. Over-exposure
    burns out the bright parts, under-exposure darkens the image and flattens its
    highlights; black stays black. In 8 bits, a pixel saturates (255) when
    (1 - I)^g < 1/510: at L2 (seed 0) a median of 1.4% and at most 34% (a bright image
    over-exposed, which burns out) of the pixels of the embedded sample newly reach 0 or 255.
    """
    exposed = power(1.0 - image, 2.0**stops)
    return np.subtract(1.0, exposed, out=exposed)


CONTRAST_MODELS = {"Histopathology": "stain", "Microscopy": "stain"}
"""Transmitted-light modalities, whose contrast is the stain's optical density; every
other modality (or none given) has its contrast reduced about the object's mean."""

CONTRAST_LEVELS = {
    level: {"factor": factor,
            "model": Derived(lambda ctx: CONTRAST_MODELS.get(ctx.modality or "", "object"),
                             "stain (Histopathology, Microscopy), else object")}
    for level, factor in {1: Uniform(0.50, 0.60), 2: Uniform(0.20, 0.30)}.items()
}


@register("reduce_contrast", category="intensity", levels=CONTRAST_LEVELS, aliases=("contrast",))
def reduce_contrast(image: np.ndarray, *, factor: float, model: str) -> np.ndarray:
    """Contrast reduced to ``factor`` (0-1) of the original, as the modality's physics does it.

    - ``"object"`` (every modality but slides): the object's values move towards their
      mean m (per channel, weighted by ``object_weight``): I' = m + factor (I - m), as a
      flatter tissue contrast (sequence weighting, kV, a wider window) does; the empty
      background keeps its value, so the air around a slice stays black.
    - ``"stain"`` (histopathology, microscopy: transmitted light): a fading or weak stain
      scales the optical density OD = -ln(I / W) relative to the glass white W (the 99th
      percentile of each channel): I' = W (I / W)^factor. The glass stays white and the
      tissue pales towards it.
    Neither model saturates a pixel: the output stays between the input's extremes.
    """
    return fade_stain(image, factor) if model == "stain" else flatten_object(image, factor)


def fade_stain(image: np.ndarray, factor: float) -> np.ndarray:
    """Optical density scaled by ``factor`` relative to the glass white W: I' = W (I / W)^factor.

    W is the 99th percentile of each channel (on every 4th pixel); I' <= W^(1 - factor) <= 1.
    """
    channels = image.shape[2] if image.ndim == 3 else 1
    white = np.percentile(image[::4, ::4].reshape(-1, channels), 99, axis=0).reshape(image.shape[2:])
    white = np.maximum(white, 1e-3).astype(np.float32)
    return white * power(image / white, factor)


def flatten_object(image: np.ndarray, factor: float) -> np.ndarray:
    """The object's values moved towards their weighted mean m: I' = m + factor (I - m) on the object."""
    weight = object_weight(image)
    channels = image.reshape(weight.size, -1)
    mean = (weight.reshape(-1) @ channels / max(float(weight.sum()), 1.0)).reshape(image.shape[2:])
    flattened = image * np.float32(factor)
    flattened += (1 - np.float32(factor)) * mean.astype(np.float32)
    return _on_object(image, weight, flattened)


# -------------------------------------------------------------------------------- noise

NOISE_LEVELS = {
    1: {"sigma": Uniform(0.03, 0.05), "noise_seed": Seed()},
    2: {"sigma": Uniform(0.08, 0.12), "noise_seed": Seed()},
}


@register("gaussian_noise", category="noise", levels=NOISE_LEVELS)
def gaussian_noise(image: np.ndarray, *, sigma: float, noise_seed: int) -> np.ndarray:
    """Additive white Gaussian noise of standard deviation ``sigma`` (fraction of full scale)."""
    noise = np.random.default_rng(noise_seed).standard_normal(image.shape, dtype=np.float32)
    return np.clip(image + np.float32(sigma) * noise, 0.0, 1.0)


# -------------------------------------------------------------------- resolution & blur

LOW_RESOLUTION_LEVELS = {
    1: {"factor": Uniform(2.5, 3.0)},
    2: {"factor": Uniform(5.0, 6.0)},
}
"""Anchors: L1 is an acquisition matrix 2.5-3x coarser (a 512 matrix acquired at 170-205),
L2 one 5-6x coarser (85-100). A 2x coarser matrix alone is hardly visible (median SSIM
0.96 on the embedded sample, above L1's bound of 0.95)."""


@register("low_resolution", category="resolution_blur", levels=LOW_RESOLUTION_LEVELS,
          aliases=("downsample", "downsampling"))
def low_resolution(image: np.ndarray, *, factor: float) -> np.ndarray:
    """Acquisition at 1/factor of the resolution: box (area) downsampling, bicubic upsampling."""
    height, width = image.shape[:2]
    small = (max(1, round(width / factor)), max(1, round(height / factor)))

    def resample(channel: np.ndarray) -> np.ndarray:
        low = Image.fromarray(channel).resize(small, Image.Resampling.BOX)
        return np.asarray(low.resize((width, height), Image.Resampling.BICUBIC))

    return np.clip(per_channel(resample, np.ascontiguousarray(image)), 0.0, 1.0)


GAUSSIAN_BLUR_LEVELS = {
    1: {"sigma": Uniform(0.0040, 0.0050)},
    2: {"sigma": Uniform(0.0080, 0.0095)},
}
"""Anchors: each level of ``gaussian_blur`` loses as much structure as the same level of
``low_resolution`` (median SSIM on the embedded sample: about 0.93 at L1, 0.87 at L2);
on a 512-pixel image L1 is a PSF of 2-2.6 px standard deviation, L2 one of 4.1-4.9 px."""


@register("gaussian_blur", category="resolution_blur", levels=GAUSSIAN_BLUR_LEVELS)
def gaussian_blur(image: np.ndarray, *, sigma: float) -> np.ndarray:
    """Gaussian point-spread function of standard deviation ``sigma`` x the reference length.

    The kernel is truncated at 3 standard deviations, normalised to sum 1 and applied as
    two 1D passes (OpenCV's ``sepFilter2D``) with reflected borders (d c b | a b c d, no
    dark frame).
    """
    sigma_px = max(sigma * reference_length(image), 1e-3)
    radius = max(1, int(np.ceil(3.0 * sigma_px)))
    profile = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma_px) ** 2)
    profile = (profile / profile.sum()).astype(np.float32)
    blurred = cv2.sepFilter2D(np.ascontiguousarray(image, dtype=np.float32), cv2.CV_32F, profile, profile,
                              borderType=cv2.BORDER_REFLECT_101)
    return np.clip(blurred, 0.0, 1.0, out=blurred)


def trajectory_kernel(offsets: np.ndarray) -> np.ndarray:
    """A blur kernel from sub-pixel offsets (N x 2, in pixels, (dy, dx)) splatted bilinearly.

    Each offset is a position the object held for an equal share of the exposure time, so
    the kernel is the normalised histogram of the trajectory.
    """
    radius = int(np.ceil(np.abs(offsets).max())) + 1
    size = 2 * radius + 1
    kernel = np.zeros((size, size), dtype=np.float64)
    pos = offsets + radius
    base = np.floor(pos).astype(int)
    frac = pos - base
    for dy in (0, 1):
        for dx in (0, 1):
            weight = (frac[:, 0] if dy else 1 - frac[:, 0]) * (frac[:, 1] if dx else 1 - frac[:, 1])
            np.add.at(kernel, (base[:, 0] + dy, base[:, 1] + dx), weight)
    return (kernel / kernel.sum()).astype(np.float32)


def _direction(angle: float) -> np.ndarray:
    theta = np.deg2rad(angle)
    return np.array([-np.sin(theta), np.cos(theta)])  # (dy, dx), counter-clockwise from +x


MOTION_BLUR_LEVELS = {
    1: {"length": Uniform(0.015, 0.025), "angle": Shared(Uniform(0.0, 180.0))},
    2: {"length": Uniform(0.040, 0.060), "angle": Shared(Uniform(0.0, 180.0))},
}


@register("motion_blur", category="resolution_blur", levels=MOTION_BLUR_LEVELS)
def motion_blur(image: np.ndarray, *, length: float, angle: float) -> np.ndarray:
    """Uniform linear motion during exposure: a line kernel of ``length`` x the reference length."""
    return convolve_reflect(image, line_kernel(max(1.0, length * reference_length(image)), angle))


def line_kernel(length_px: float, angle: float) -> np.ndarray:
    """The kernel of uniform motion over ``length_px`` pixels at ``angle`` degrees
    (counter-clockwise from +x), centred: 4 trajectory points per pixel (``trajectory_kernel``)."""
    steps = np.linspace(-0.5, 0.5, max(2, int(np.ceil(length_px * 4))))
    return trajectory_kernel(np.outer(steps * length_px, _direction(angle)))


XRAY_MOTION_LEVELS = {
    1: {"amplitude": Uniform(0.009, 0.013), "angle": Shared(Uniform(0.0, 180.0))},
    2: {"amplitude": Uniform(0.018, 0.026), "angle": Shared(Uniform(0.0, 180.0))},
}


@register("xray_motion_blur", category="resolution_blur", levels=XRAY_MOTION_LEVELS, modalities={"X-ray"})
def xray_motion_blur(image: np.ndarray, *, amplitude: float, angle: float) -> np.ndarray:
    """Physiological (breathing, cardiac) motion during a radiograph: d(t) = A sin(2 pi t).

    The object dwells longest at the turning points, so the kernel follows the arcsine
    density and edges show the double contour typical of patient motion on X-ray films.
    ``amplitude`` is A as a fraction of the reference length.
    """
    amplitude_px = max(0.5, amplitude * reference_length(image))
    phase = np.linspace(0.0, 1.0, max(16, int(np.ceil(amplitude_px * 16))), endpoint=False)
    offsets = np.outer(amplitude_px * np.sin(2 * np.pi * phase), _direction(angle))
    return convolve_reflect(image, trajectory_kernel(offsets))


# ------------------------------------------------------------------------------- motion


def exposure_motion(image: np.ndarray, poses: list[dict]) -> np.ndarray:
    """Movement during an exposure: the time-weighted mean of the object in each pose.

    I' = sum_s (end_s - start_s) T_s(I), T_s the rigid pose of segment s
    (``motion.motion_poses``), the durations summing to 1: the detector integrates the
    light or X-rays it receives while the object moves (radiographs, nuclear medicine,
    photographs, ultrasound frame persistence), so a sudden move leaves a double contour.
    What enters the field of view is the image's background (``border_background``).
    """
    fill = border_background(image)
    out = np.zeros(image.shape, dtype=np.float32)
    for pose in poses:
        still = not pose["angle"] and not any(pose["shift"])
        moved = image if still else rigid_move(image, pose["angle"], tuple(pose["shift"]), fill)
        out += np.float32(pose["end"] - pose["start"]) * moved
    return np.clip(out, 0.0, 1.0)


ROTATION_LEVELS = {
    1: {"angle": SignedUniform(5.0, 12.0)},
    2: {"angle": SignedUniform(20.0, 35.0)},
}


@register("object_rotation", category="motion", levels=ROTATION_LEVELS, aliases=("rotation",))
def object_rotation(image: np.ndarray, *, angle: float) -> np.ndarray:
    """The object rotated by ``angle`` degrees (counter-clockwise) about the image centre.

    The direction is shared by L1 and L2; the uncovered corners take the image's background
    (``border_background``).
    """
    return rigid_move(image, angle)
