"""Histopathology slide artefacts: red blood cells, dark debris spots, coverslip air bubbles.

All functions take and return float32 images in [0, 1] (HxW or HxWx3). Lengths are given
as fractions of the image's reference length sqrt(H x W), so a level looks the same at 256 and 1024
pixels. Placement and shapes come from a ``layout_seed`` through their own generator
(``np.random.default_rng(layout_seed)``), never from global random state, and the
pure ``*_layout`` helpers below give that geometry on its own (for tests and figures).

Cells and debris lie on or in the section and absorb the transmitted light of the
bright-field microscope, so they are composited with the Beer-Lambert law: optical
densities add, and a pixel under an object becomes ``I' = I * T ** (opacity * profile)``
where ``T`` is the object's RGB transmittance at full density (its colour seen on white
glass). ``opacity`` in [0, 1] is the fraction of that full density; pixels outside every
object are left exactly as they were. On a grey image (HxW) the same overlays are applied
with the luminance (Rec. 601) of their colours.

Levels are "more of the same": the ``layout_seed`` (and, for red cells, the cell size and
the number of haemorrhage streaks) is drawn from the type's shared generator, so L1 and L2
of one item use the same seed. Each layout draws one row of uniform numbers per object,
in order, so the first N objects of a larger layout are those of a smaller one: L2 holds
L1's objects (grown or darkened where L2's magnitudes are larger) plus more.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage, special

from ..errors import InvalidInputError
from .channels import luminance
from .params import IntRange, Seed, Shared, Uniform
from .registry import register

HISTOPATHOLOGY = {"Histopathology"}


# ---------------------------------------------------------------------------- helpers


def _check_range(name: str, field: str, value: float, low: float, high: float) -> None:
    try:
        ok = not isinstance(value, bool) and bool(np.isfinite(value)) and low <= value <= high
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InvalidInputError(field, f"is {value!r}", f"a number in [{low:g}, {high:g}]", item=name)


def _check_count(name: str, field: str, value: int, high: int) -> None:
    try:
        ok = not isinstance(value, bool) and int(value) == value and 0 <= value <= high
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise InvalidInputError(field, f"is {value!r}", f"an integer in 0..{high}", item=name)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _optical_density(colour: tuple[float, float, float], grey: bool) -> np.ndarray:
    """-ln(T) of a full-density transmittance ``colour``: per channel, or of its luminance."""
    rgb = np.asarray(colour, dtype=np.float32)
    return -np.log(luminance(rgb)[None] if grey else rgb).astype(np.float32)


def _absorb(
    image: np.ndarray, where: np.ndarray, densities: list[tuple[np.ndarray, np.ndarray]],
) -> np.ndarray:
    """``image * exp(-sum_k density_k * od_k)`` at the raveled pixel indices ``where``.

    Each pair holds the densities at ``where`` (1-D) and an optical density per channel
    (one value for a grey image). Every other pixel is copied unchanged.
    """
    out = image.copy()
    if where.size == 0:
        return out
    pixels = out.reshape(-1, 3) if image.ndim == 3 else out.reshape(-1, 1)
    exponent = sum(density[:, None] * od[None, :] for density, od in densities)
    pixels[where] = pixels[where] * np.exp(-exponent)
    return out


@dataclass(frozen=True)
class EllipseLayout:
    """N ellipses in pixels: centres, semi-axes, orientation (radians) and opacity in [0, 1]."""

    cy: np.ndarray
    cx: np.ndarray
    ry: np.ndarray
    rx: np.ndarray
    angle: np.ndarray
    opacity: np.ndarray

    def __len__(self) -> int:
        return int(self.cy.size)


def _ellipse_patches(
    shape: tuple[int, int], cy: np.ndarray, cx: np.ndarray, ry: np.ndarray, rx: np.ndarray,
    angle: np.ndarray, reach: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normalised elliptical radius of N ellipses, each inside its own square pixel box.

    Every box is centred on the ellipse and reaches ``reach`` x its largest semi-axis on
    each side (one size for all, so the N boxes form one array). Returns ``flat`` (N, S, S)
    indices into the raveled HxW image, ``inside`` (N, S, S) for box pixels that lie in the
    image, and ``rho`` (N, S, S): 1 on the ellipse's outline, 0 at its centre.
    """
    height, width = shape
    half = int(np.ceil(reach * max(float(ry.max()), float(rx.max())))) + 1
    offsets = np.arange(-half, half + 1)
    ys = np.round(cy).astype(np.int64)[:, None] + offsets
    xs = np.round(cx).astype(np.int64)[:, None] + offsets
    dy = (ys - cy[:, None]).astype(np.float32)[:, :, None]
    dx = (xs - cx[:, None]).astype(np.float32)[:, None, :]
    cos = np.cos(angle).astype(np.float32)[:, None, None]
    sin = np.sin(angle).astype(np.float32)[:, None, None]
    along = (dy * cos + dx * sin) / ry.astype(np.float32)[:, None, None]
    across = (dx * cos - dy * sin) / rx.astype(np.float32)[:, None, None]
    rho = np.sqrt(along * along + across * across)
    inside = ((ys >= 0) & (ys < height))[:, :, None] & ((xs >= 0) & (xs < width))[:, None, :]
    flat = ys[:, :, None] * width + xs[:, None, :]
    return flat, inside, rho


_CHUNK = 1 << 21  # at most this many box pixels are evaluated at once (bounded memory)


def _render(
    shape: tuple[int, int], layout: EllipseLayout, reach: float,
    values: Callable[[np.ndarray, slice], list[np.ndarray]],
) -> list[np.ndarray]:
    """Sum per-ellipse fields into HxW float32 maps, touching only each ellipse's box.

    ``values(rho, ellipses)`` gets the normalised radius (n, S, S) of the ellipses
    ``layout[ellipses]`` and returns the (n, S, S) fields to sum, one per output map;
    overlapping boxes add up. Ellipses are processed in chunks to bound memory.
    """
    maps: list[np.ndarray] | None = None
    half = int(np.ceil(reach * max(float(layout.ry.max()), float(layout.rx.max())))) + 1
    step = max(1, _CHUNK // (2 * half + 1) ** 2)
    for start in range(0, len(layout), step):
        part = slice(start, start + step)
        flat, inside, rho = _ellipse_patches(
            shape, layout.cy[part], layout.cx[part], layout.ry[part], layout.rx[part],
            layout.angle[part], reach)
        fields = values(rho, part)
        keep = inside & (fields[0] > 0)
        index = flat[keep]
        sums = [np.bincount(index, weights=f[keep], minlength=shape[0] * shape[1]) for f in fields]
        maps = sums if maps is None else [m + extra for m, extra in zip(maps, sums, strict=True)]
    assert maps is not None
    return [m.reshape(shape).astype(np.float32) for m in maps]


# ------------------------------------------------------------------- red blood cells

RBC_TRANSMITTANCE = (0.80, 0.25, 0.30)
"""RGB of an eosin-red erythrocyte at full thickness on white glass."""

BLOOD_CELL_LEVELS = {
    1: {"coverage": Uniform(0.04, 0.07), "radius": Shared(Uniform(0.009, 0.012)),
        "opacity": Uniform(0.50, 0.65), "clusters": Shared(IntRange(1, 3)), "layout_seed": Shared(Seed())},
    2: {"coverage": Uniform(0.18, 0.26), "radius": Shared(Uniform(0.009, 0.012)),
        "opacity": Uniform(0.75, 0.95), "clusters": Shared(IntRange(1, 3)), "layout_seed": Shared(Seed())},
}
"""L2 is the same haemorrhage as L1 (same cell size, streaks and seed): L1's cells plus
about four times as many more, each denser."""

_EVANS_FUNG = (0.81, 7.83, -4.39)  # thickness polynomial (um) of a 3.91-um-radius cell
_EVANS_FUNG_MAX = 2.5657  # its maximum, at 0.70 of the radius


def _rbc_thickness(rho: np.ndarray) -> np.ndarray:
    """Evans-Fung biconcave thickness at normalised radius rho, scaled to 1 at its maximum.

    h(x) = sqrt(1 - x^2) (C0 + C2 x^2 + C4 x^4): 0.32 at the centre, 1 at x = 0.70 and 0
    at the rim, so a cell shows the pale centre and dark ring of a biconcave disc.
    """
    x2 = np.minimum(rho * rho, 1.0)
    c0, c2, c4 = _EVANS_FUNG
    return np.sqrt(1.0 - x2) * (c0 + x2 * (c2 + c4 * x2)) / _EVANS_FUNG_MAX


def blood_cell_layout(
    shape: tuple[int, int], *, coverage: float, radius: float, opacity: float, clusters: int,
    layout_seed: int,
) -> EllipseLayout:
    """Where the red cells of ``blood_cell_artifact`` lie (pixels), drawn from ``layout_seed``.

    N = round(coverage x H x W / (pi r^2)) cells of radius r = ``radius`` x the reference
    side (each jittered by +-12%, axis ratio 0.80-1.00, any orientation). About a quarter
    are scattered uniformly; the rest lie in ``clusters`` haemorrhage streaks, each a band of
    length 0.15-0.50 and Gaussian width 0.015-0.050 of the reference length at a random angle.
    The streaks are drawn first, then one row of numbers per cell, so with the same seed and
    streaks a larger coverage keeps every cell of a smaller one and adds more.
    """
    height, width = shape
    short = math.sqrt(height * width)
    rng = np.random.default_rng(layout_seed)
    r_px = radius * short
    n = round(float(coverage) * height * width / (np.pi * r_px * r_px))
    streak = rng.random((clusters, 5))  # centre y, centre x, angle, length, width
    u = rng.random((n, 10))  # y, x, scattered?, streak, along, across, size, axes, angle, opacity
    cy = u[:, 0] * height
    cx = u[:, 1] * width
    in_streak = (u[:, 2] < 0.75) & (clusters > 0)
    if in_streak.any():
        member = np.minimum((u[in_streak, 3] * clusters).astype(np.int64), clusters - 1)
        centre_y = (0.1 + 0.8 * streak[member, 0]) * height
        centre_x = (0.1 + 0.8 * streak[member, 1]) * width
        theta = np.pi * streak[member, 2]
        along = (u[in_streak, 4] - 0.5) * (0.15 + 0.35 * streak[member, 3]) * short
        across = special.ndtri(np.clip(u[in_streak, 5], 1e-6, 1 - 1e-6)) * (0.015 + 0.035 * streak[member, 4]) * short
        cy[in_streak] = centre_y + along * np.sin(theta) + across * np.cos(theta)
        cx[in_streak] = centre_x + along * np.cos(theta) - across * np.sin(theta)
    size = r_px * (0.88 + 0.24 * u[:, 6])
    return EllipseLayout(
        cy=cy, cx=cx, ry=size, rx=size * (0.80 + 0.20 * u[:, 7]),
        angle=np.pi * u[:, 8], opacity=opacity * (0.75 + 0.25 * u[:, 9]),
    )


@register("blood_cell_artifact", category="artifacts", levels=BLOOD_CELL_LEVELS, modalities=HISTOPATHOLOGY,
          aliases=("blood_cell",))
def blood_cell_artifact(
    image: np.ndarray, *, coverage: float, radius: float, opacity: float, clusters: int, layout_seed: int,
) -> np.ndarray:
    """Red blood cells (haemorrhage) lying on the section, scattered and in streaks.

    Erythrocytes are ~7.5 um biconcave discs; ``radius`` is the cell radius as a fraction
    of the reference length (0.009-0.012: 4.6-6.1 px on a 512-px tile, a tile ~350 um wide).
    ``coverage`` is the summed cell area over the image area (overlaps counted twice),
    ``clusters`` the number of haemorrhage streaks, ``opacity`` in [0, 1] the fraction of
    a full cell's optical density (RGB transmittance ``RBC_TRANSMITTANCE``), jittered
    per cell to 75-100%. Thickness follows the Evans-Fung biconcave profile (pale centre,
    dark ring); overlapping cells add their densities. The density map is softened by a
    Gaussian of 0.1 x the radius (the cells lie slightly off the focal plane).
    """
    name = "blood_cell_artifact"
    _check_range(name, "coverage", coverage, 0.0, 1.0)
    _check_range(name, "radius", radius, 1e-4, 0.2)
    _check_range(name, "opacity", opacity, 0.0, 1.0)
    _check_count(name, "clusters", clusters, 64)
    shape = image.shape[:2]
    layout = blood_cell_layout(shape, coverage=coverage, radius=radius, opacity=opacity,
                               clusters=clusters, layout_seed=layout_seed)
    if len(layout) == 0 or opacity == 0:
        return image.copy()
    opacities = layout.opacity.astype(np.float32)[:, None, None]

    def cells(rho: np.ndarray, part: slice) -> list[np.ndarray]:
        return [_rbc_thickness(rho) * (rho < 1.0) * opacities[part]]

    (density,) = _render(shape, layout, 1.0, cells)
    density = ndimage.gaussian_filter(density, 0.1 * radius * math.sqrt(shape[0] * shape[1]), truncate=2.5)
    od = _optical_density(RBC_TRANSMITTANCE, grey=image.ndim == 2)
    # absorption only darkens: an input in [0, 1] stays in [0, 1]
    where = np.flatnonzero(density)
    return _absorb(image, where, [(density.ravel()[where], od)])


# ------------------------------------------------------------------------ dark spots

DEBRIS_BLACK = (0.06, 0.05, 0.05)
"""RGB transmittance of opaque black debris (dust, ink, carbon) at full density."""
DEBRIS_BROWN = (0.30, 0.18, 0.09)
"""RGB transmittance of dark-brown pigment (formalin pigment, haemosiderin) at full density."""

DARK_SPOT_LEVELS = {
    1: {"count": IntRange(10, 14), "size": Uniform(0.032, 0.038),
        "opacity": Uniform(0.60, 0.75), "layout_seed": Shared(Seed())},
    2: {"count": IntRange(24, 32), "size": Uniform(0.044, 0.052),
        "opacity": Uniform(0.85, 1.00), "layout_seed": Shared(Seed())},
}
"""L2 holds L1's spots (same places and shapes, larger and darker) and about twice as many more."""

_LOBE_REACH = 1.6  # lobe boxes reach 1.6 radii: exp(-2 x 1.6^2) < 0.6% of the peak
_FIELD_LEVEL = 0.45  # the blob outline is where the summed lobe field crosses this value
_FIELD_SOFT = 0.30  # field range of the soft edge (smoothstep from LEVEL to LEVEL + SOFT)


@dataclass(frozen=True)
class SpotLayout:
    """Dark spots as lobes (pixels): each spot is 3-7 Gaussian lobes sharing a ``spot`` id."""

    lobes: EllipseLayout
    spot: np.ndarray  # (lobes,) index of the spot each lobe belongs to
    brown: np.ndarray  # (spots,) 0 = black debris, 1 = brown pigment


_MAX_LOBES = 7


def dark_spot_layout(
    shape: tuple[int, int], *, count: int, size: float, opacity: float, layout_seed: int,
) -> SpotLayout:
    """Where the ``dark_spots_artifact`` blobs lie, drawn from ``layout_seed``.

    Each of the ``count`` spots has radius R = ``size`` x the reference length x U(0.45, 1)
    (small specks and larger clumps), a position uniform over the image, an opacity of
    ``opacity`` x U(0.6, 1) and a colour between black and dark brown. Its irregular shape
    is the union ("metaball") of 3-7 elliptical Gaussian lobes of radius 0.45-0.95 R (axis
    ratio 0.5-1) placed with a standard deviation of 0.55 R about the centre; the outline
    lies near 0.6 lobe radii, so a blob spans about R around it. Every spot takes one row of
    numbers, in order, so a larger ``count`` keeps the spots of a smaller one.
    """
    height, width = shape
    rng = np.random.default_rng(layout_seed)
    u = rng.random((count, 6 + 5 * _MAX_LOBES))  # spot: R, lobes, y, x, opacity, colour; lobes
    big = size * math.sqrt(height * width) * (0.45 + 0.55 * u[:, 0])
    lobes = 3 + np.minimum((u[:, 1] * 5).astype(np.int64), 4)
    used = np.arange(_MAX_LOBES)[None, :] < lobes[:, None]
    spot = np.nonzero(used)[0]
    lobe = u[:, 6:].reshape(count, _MAX_LOBES, 5)[used]  # offset y, offset x, radius, axes, angle
    offset = special.ndtri(np.clip(lobe[:, :2], 1e-6, 1 - 1e-6)) * 0.55 * big[spot, None]
    r = big[spot] * (0.45 + 0.50 * lobe[:, 2])
    layout = EllipseLayout(
        cy=u[spot, 2] * height + offset[:, 0], cx=u[spot, 3] * width + offset[:, 1],
        ry=r, rx=r * (0.5 + 0.5 * lobe[:, 3]), angle=np.pi * lobe[:, 4],
        opacity=(opacity * (0.6 + 0.4 * u[:, 4]))[spot],
    )
    return SpotLayout(lobes=layout, spot=spot, brown=u[:, 5])


@register("dark_spots_artifact", category="artifacts", levels=DARK_SPOT_LEVELS, modalities=HISTOPATHOLOGY,
          aliases=("dark_spots",))
def dark_spots_artifact(
    image: np.ndarray, *, count: int, size: float, opacity: float, layout_seed: int,
) -> np.ndarray:
    """Dark debris, dust and pigment spots: irregular soft-edged near-black or brown blobs.

    ``count`` blobs of radius up to ``size`` x the reference length (see ``dark_spot_layout``)
    with ``opacity`` in [0, 1] the fraction of full optical density of black debris
    (``DEBRIS_BLACK``) or dark-brown pigment (``DEBRIS_BROWN``), mixed per spot. The
    outline is the level set of the summed lobe field with a soft edge; pixels outside
    every blob are unchanged.
    """
    name = "dark_spots_artifact"
    _check_count(name, "count", count, 1000)
    _check_range(name, "size", size, 1e-4, 0.5)
    _check_range(name, "opacity", opacity, 0.0, 1.0)
    shape = image.shape[:2]
    layout = dark_spot_layout(shape, count=count, size=size, opacity=opacity, layout_seed=layout_seed)
    lobes = layout.lobes
    if len(lobes) == 0 or opacity == 0:
        return image.copy()
    # one window per spot: its lobes share the spot's opacity and colour, so the black and
    # brown density maps are the spot's field times two constants
    height, width = shape
    total = np.zeros(shape, dtype=np.float32)
    black_part = np.zeros(shape, dtype=np.float32)
    brown_part = np.zeros(shape, dtype=np.float32)
    first = np.searchsorted(layout.spot, np.arange(count + 1)).tolist()
    reach = (_LOBE_REACH * np.maximum(lobes.ry, lobes.rx)).tolist()
    cys, cxs, rys, rxs = (v.tolist() for v in (lobes.cy, lobes.cx, lobes.ry, lobes.rx))
    coss, sins = np.cos(lobes.angle).tolist(), np.sin(lobes.angle).tolist()
    boxes = [(max(0, math.floor(cy - r)), min(height, math.ceil(cy + r) + 1),
              max(0, math.floor(cx - r)), min(width, math.ceil(cx + r) + 1))
             for cy, cx, r in zip(cys, cxs, reach, strict=True)]
    for k in range(count):
        own = range(first[k], first[k + 1])
        y0, y1 = min(boxes[i][0] for i in own), max(boxes[i][1] for i in own)
        x0, x1 = min(boxes[i][2] for i in own), max(boxes[i][3] for i in own)
        if y0 >= y1 or x0 >= x1:
            continue
        field = np.zeros((y1 - y0, x1 - x0), dtype=np.float32)
        for i in own:
            by0, by1, bx0, bx1 = boxes[i]
            if by0 >= by1 or bx0 >= bx1:
                continue
            dy = np.arange(by0, by1, dtype=np.float32)[:, None] - np.float32(cys[i])
            dx = np.arange(bx0, bx1, dtype=np.float32)[None, :] - np.float32(cxs[i])
            cos, sin = np.float32(coss[i]), np.float32(sins[i])
            along = (dy * cos + dx * sin) * np.float32(1.0 / rys[i])
            across = (dx * cos - dy * sin) * np.float32(1.0 / rxs[i])
            rho2 = along * along + across * across
            field[by0 - y0 : by1 - y0, bx0 - x0 : bx1 - x0] += np.exp(-2.0 * rho2) * (rho2 < _LOBE_REACH**2)
        weight = float(lobes.opacity[first[k]])
        total[y0:y1, x0:x1] += field
        black_part[y0:y1, x0:x1] += np.float32(weight * (1.0 - layout.brown[k])) * field
        brown_part[y0:y1, x0:x1] += np.float32(weight * layout.brown[k]) * field
    # coverage of the blob times the field-weighted mean opacity of the spots under it
    where = np.flatnonzero(total > _FIELD_LEVEL)
    field_at = total.ravel()[where]
    cover = _smoothstep((field_at - _FIELD_LEVEL) / _FIELD_SOFT) / field_at
    grey = image.ndim == 2
    # absorption only darkens: an input in [0, 1] stays in [0, 1]
    return _absorb(image, where, [
        (black_part.ravel()[where] * cover, _optical_density(DEBRIS_BLACK, grey)),
        (brown_part.ravel()[where] * cover, _optical_density(DEBRIS_BROWN, grey)),
    ])


# --------------------------------------------------------------------------- bubbles

BUBBLE_LEVELS = {
    1: {"count": 1, "radius": Uniform(0.10, 0.13), "blur": Uniform(0.003, 0.004),
        "layout_seed": Shared(Seed())},
    2: {"count": IntRange(2, 3), "radius": Uniform(0.15, 0.20), "blur": Uniform(0.006, 0.009),
        "layout_seed": Shared(Seed())},
}
"""L2's first bubble is L1's bubble (same centre and shape), larger and blurrier, and 1-2 more join it."""

BUBBLE_RIM = 0.12
"""Width of the dark refraction rim, as a fraction of the bubble radius."""
BUBBLE_RIM_COLOUR = (0.12, 0.12, 0.13)
"""RGB the rim tends to (light refracted away from the objective), with opacity below."""
BUBBLE_RIM_OPACITY = 0.85
BUBBLE_BRIGHTEN = 0.15  # inside: I' = I + 0.15 (1 - I), the tissue looks washed out
BUBBLE_DESATURATE = 0.30  # inside: 30% of the way to the pixel's luminance


def bubble_layout(shape: tuple[int, int], *, count: int, radius: float, layout_seed: int) -> EllipseLayout:
    """The ``count`` bubbles of ``bubble`` (pixels), drawn from ``layout_seed``.

    Radius ``radius`` x the reference length x U(0.85, 1.15), axis ratio 0.85-1.00, any
    orientation, centre uniform in the central 90% of each axis (a bubble may be cut by
    the border). ``opacity`` holds the rim opacity. One row of numbers per bubble, so a
    larger ``count`` keeps the bubbles of a smaller one.
    """
    height, width = shape
    u = np.random.default_rng(layout_seed).random((count, 5))  # size, y, x, axes, angle
    r = radius * math.sqrt(height * width) * (0.85 + 0.30 * u[:, 0])
    return EllipseLayout(
        cy=(0.05 + 0.90 * u[:, 1]) * height, cx=(0.05 + 0.90 * u[:, 2]) * width,
        ry=r, rx=r * (0.85 + 0.15 * u[:, 3]), angle=np.pi * u[:, 4],
        opacity=np.full(count, BUBBLE_RIM_OPACITY),
    )


@register("bubble", category="resolution_blur", levels=BUBBLE_LEVELS, modalities=HISTOPATHOLOGY)
def bubble(image: np.ndarray, *, count: int, radius: float, blur: float, layout_seed: int) -> np.ndarray:
    """Air bubbles trapped under the coverslip: dark refraction rim, blurred washed-out inside.

    ``count`` bubbles of radius ``radius`` x the reference length (see ``bubble_layout``).
    Inside a bubble the tissue is seen out of focus through air: a Gaussian blur of
    standard deviation ``blur`` x the reference length, brightened (I + 0.15 (1 - I)) and
    30% desaturated. Total internal reflection at the bubble wall gives a thick dark rim
    (``BUBBLE_RIM`` of the radius, opacity 0.85 towards ``BUBBLE_RIM_COLOUR``) with a
    sharp outer edge and a soft inner edge, and a faint bright ring just inside it.
    Pixels outside every bubble are unchanged.
    """
    name = "bubble"
    _check_count(name, "count", count, 100)
    _check_range(name, "radius", radius, 1e-3, 1.0)
    _check_range(name, "blur", blur, 0.0, 0.1)
    shape = image.shape[:2]
    layout = bubble_layout(shape, count=count, radius=radius, layout_seed=layout_seed)
    short = math.sqrt(shape[0] * shape[1])
    sigma = blur * short
    pad = int(np.ceil(3.0 * sigma)) + 1
    rim_colour = np.asarray(BUBBLE_RIM_COLOUR, dtype=np.float32)
    if image.ndim == 2:
        rim_colour = luminance(rim_colour)
    out = image.copy()
    for i in range(len(layout)):
        cy, cx, ry, rx, angle = (float(v[i]) for v in (layout.cy, layout.cx, layout.ry, layout.rx, layout.angle))
        half = int(np.ceil(max(ry, rx))) + 1
        y0, y1 = max(0, round(cy) - half), min(shape[0], round(cy) + half + 1)
        x0, x1 = max(0, round(cx) - half), min(shape[1], round(cx) + half + 1)
        if y0 >= y1 or x0 >= x1:
            continue
        dy = (np.arange(y0, y1, dtype=np.float32) - np.float32(cy))[:, None]
        dx = (np.arange(x0, x1, dtype=np.float32) - np.float32(cx))[None, :]
        cos, sin = np.float32(np.cos(angle)), np.float32(np.sin(angle))
        along = (dy * cos + dx * sin) / np.float32(ry)
        across = (dx * cos - dy * sin) / np.float32(rx)
        rho = np.sqrt(along * along + across * across)
        r_px = float(np.sqrt(ry * rx))
        # inside mask with a one-pixel anti-aliased outline
        mask = np.clip((1.0 - rho) * r_px + 0.5, 0.0, 1.0)
        # blurred view of the tissue through the bubble (padded crop, reflected at borders)
        py0, py1 = max(0, y0 - pad), min(shape[0], y1 + pad)
        px0, px1 = max(0, x0 - pad), min(shape[1], x1 + pad)
        crop = out[py0:py1, px0:px1]
        if sigma > 0:
            sigmas = (sigma, sigma) + ((0.0,) if crop.ndim == 3 else ())
            crop = ndimage.gaussian_filter(crop, sigmas, mode="reflect", truncate=3.0)
        seen = crop[y0 - py0 : y1 - py0, x0 - px0 : x1 - px0]
        if seen.ndim == 3:
            seen = seen + BUBBLE_DESATURATE * (luminance(seen)[..., None] - seen)
        seen = seen + BUBBLE_BRIGHTEN * (1.0 - seen)
        # rim: opaque from (1 - 0.3 w) to the edge, fading inwards to (1 - w); faint bright ring
        rim = BUBBLE_RIM_OPACITY * _smoothstep((rho - (1.0 - BUBBLE_RIM)) / (0.7 * BUBBLE_RIM))
        glow = 0.12 * np.exp(-(((rho - (1.0 - 1.4 * BUBBLE_RIM)) / (0.25 * BUBBLE_RIM)) ** 2))
        if seen.ndim == 3:
            rim, glow, mask = rim[..., None], glow[..., None], mask[..., None]
        seen = seen + glow * (1.0 - seen)
        seen = seen + rim * (rim_colour - seen)
        region = out[y0:y1, x0:x1]
        out[y0:y1, x0:x1] = region + mask * (seen - region)
    return np.clip(out, 0.0, 1.0).astype(np.float32, copy=False)
