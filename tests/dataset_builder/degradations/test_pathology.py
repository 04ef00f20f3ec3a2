"""The histopathology degradations on a real IHC slide: contract, severity and signatures."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage
from skimage import data
from skimage.metrics import structural_similarity

from medqdeg.dataset_builder.degradations import degrade, get_degradation, pathology, replay
from medqdeg.dataset_builder.degradations.channels import luminance
from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.dataset_builder.quality.measures import changed_tissue_share

NAMES = ("blood_cell_artifact", "dark_spots_artifact", "bubble")


@pytest.fixture(scope="module")
def slide() -> np.ndarray:
    """skimage's immunohistochemistry slide (colon, DAB + haematoxylin), 512x512x3 in [0, 1]."""
    return data.immunohistochemistry().astype(np.float32) / 255


def _ssim(a: np.ndarray, b: np.ndarray) -> float:
    return structural_similarity(a, b, channel_axis=2, data_range=1.0)


def _rho(shape: tuple[int, int], layout: pathology.EllipseLayout, i: int) -> np.ndarray:
    """Normalised elliptical radius of ellipse ``i`` of ``layout`` at every pixel."""
    yy, xx = np.mgrid[: shape[0], : shape[1]].astype(np.float64)
    dy, dx = yy - layout.cy[i], xx - layout.cx[i]
    cos, sin = np.cos(layout.angle[i]), np.sin(layout.angle[i])
    return np.hypot((dy * cos + dx * sin) / layout.ry[i], (dx * cos - dy * sin) / layout.rx[i])


# ------------------------------------------------------------------------------ contract


@pytest.mark.parametrize("name", NAMES)
def test_registered_for_histopathology(name: str) -> None:
    spec = get_degradation(name)
    assert spec.modalities == frozenset({"Histopathology"})
    assert spec.category == ("resolution_blur" if name == "bubble" else "artifacts")


@pytest.mark.parametrize("level", [1, 2])
@pytest.mark.parametrize("name", NAMES)
def test_contract_and_determinism(slide: np.ndarray, name: str, level: int) -> None:
    out, record = degrade(slide, name, level, seed=7, item_id="ihc")
    assert out.shape == slide.shape and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    assert not np.array_equal(out, slide)
    again, _ = degrade(slide, name, level, seed=7, item_id="ihc")
    assert np.array_equal(out, again)
    assert np.array_equal(replay(slide, record), out)
    direct = get_degradation(name).apply(slide, **record.params)
    assert np.array_equal(direct, getattr(pathology, name)(slide, **record.params))
    other, _ = degrade(slide, name, level, seed=8, item_id="ihc")
    assert not np.array_equal(out, other)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_level_two_is_further_from_clean(slide: np.ndarray, name: str, seed: int) -> None:
    l1, _ = degrade(slide, name, 1, seed=seed, item_id="ihc")
    l2, _ = degrade(slide, name, 2, seed=seed, item_id="ihc")
    assert _ssim(slide, l2) < _ssim(slide, l1) < 1.0


@pytest.mark.parametrize("name", NAMES)
def test_grey_image_gets_the_luminance_overlay(slide: np.ndarray, name: str) -> None:
    grey = np.ascontiguousarray(luminance(slide))
    out, record = degrade(grey, name, 2, seed=3)
    assert out.shape == grey.shape and out.dtype == np.float32
    assert not np.array_equal(out, grey)
    changed = out != grey
    if name != "bubble":  # absorbing overlays only darken
        assert (out[changed] < grey[changed]).all()
    # the same layout as on the colour slide: the same pixels change
    colour = get_degradation(name).apply(slide, **record.params)
    assert np.array_equal(changed, (colour != slide).any(axis=2))


def test_level_zero_is_identity(slide: np.ndarray) -> None:
    for name in NAMES:
        out, _ = degrade(slide, name, 0)
        assert np.array_equal(out, slide)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("blood_cell_artifact", {"coverage": 0.1, "radius": 0.01, "opacity": 1.5, "clusters": 2}),
        ("blood_cell_artifact", {"coverage": -0.1, "radius": 0.01, "opacity": 0.5, "clusters": 2}),
        ("blood_cell_artifact", {"coverage": 0.1, "radius": 0.0, "opacity": 0.5, "clusters": 2}),
        ("blood_cell_artifact", {"coverage": 0.1, "radius": 0.01, "opacity": 0.5, "clusters": -1}),
        ("dark_spots_artifact", {"count": 2.5, "size": 0.02, "opacity": 0.5}),
        ("dark_spots_artifact", {"count": 3, "size": float("nan"), "opacity": 0.5}),
        ("dark_spots_artifact", {"count": 3, "size": 0.02, "opacity": "dark"}),
        ("bubble", {"count": -1, "radius": 0.1, "blur": 0.005}),
        ("bubble", {"count": 1, "radius": 0.1, "blur": -0.005}),
    ],
)
def test_impossible_parameters_are_rejected(slide: np.ndarray, name: str, params: dict) -> None:
    with pytest.raises(InvalidInputError):
        get_degradation(name).apply(slide, **params, layout_seed=1)


def test_nothing_to_draw_leaves_the_image(slide: np.ndarray) -> None:
    assert np.array_equal(pathology.blood_cell_artifact(
        slide, coverage=0.0, radius=0.01, opacity=0.8, clusters=2, layout_seed=1), slide)
    assert np.array_equal(pathology.dark_spots_artifact(
        slide, count=0, size=0.02, opacity=0.8, layout_seed=1), slide)
    assert np.array_equal(pathology.bubble(slide, count=0, radius=0.1, blur=0.005, layout_seed=1), slide)


# ---------------------------------------------------------------------------- signatures


@pytest.mark.parametrize("level", [1, 2])
def test_blood_cells_add_red(slide: np.ndarray, level: int) -> None:
    out, _ = degrade(slide, "blood_cell_artifact", level, seed=5, item_id="ihc")
    changed = (out != slide).any(axis=2)
    assert 0.005 < changed.mean() < 0.6
    red_minus_green_before = (slide[changed, 0] - slide[changed, 1]).mean()
    red_minus_green_after = (out[changed, 0] - out[changed, 1]).mean()
    assert red_minus_green_after > red_minus_green_before + 0.03
    # eosin-red cells absorb green and blue far more than red
    drop = (slide[changed] - out[changed]).mean(axis=0)
    assert drop[1] > 2 * drop[0] and drop[2] > 2 * drop[0]


def test_blood_cells_are_biconcave_and_scale_free(slide: np.ndarray) -> None:
    thickness = pathology._rbc_thickness(np.array([0.0, 0.7, 0.999, 1.0]))
    assert thickness[0] < 0.4 * thickness[1] and thickness[1] == pytest.approx(1.0, abs=1e-3)
    assert thickness[3] == 0.0
    params = {"coverage": 0.2, "radius": 0.01, "opacity": 0.8, "clusters": 3, "layout_seed": 11}
    small = np.asarray(Image.fromarray(data.immunohistochemistry()).resize((256, 256), Image.Resampling.LANCZOS))
    small = small.astype(np.float32) / 255
    # the same parameters absorb the same share of the light at 256 and 512 pixels
    absorbed = [
        (image - pathology.blood_cell_artifact(image, **params)).mean() for image in (small, slide)
    ]
    assert absorbed[0] == pytest.approx(absorbed[1], rel=0.05)


@pytest.mark.parametrize("level", [1, 2])
def test_dark_spots_darken_a_small_area_only(slide: np.ndarray, level: int) -> None:
    out, record = degrade(slide, "dark_spots_artifact", level, seed=9, item_id="ihc")
    changed = (out != slide).any(axis=2)
    assert 0.0005 < changed.mean() < 0.08
    before, after = luminance(slide), luminance(out)
    assert (out <= slide).all()
    assert (before[changed] - after[changed]).mean() > 0.1
    # untouched exactly outside the lobes' reach
    layout = pathology.dark_spot_layout(slide.shape[:2], **record.params).lobes
    near = np.zeros(slide.shape[:2], dtype=bool)
    for i in range(len(layout)):
        near |= _rho(slide.shape[:2], layout, i) < pathology._LOBE_REACH
    assert not changed[~near].any()
    assert np.array_equal(out[~near], slide[~near])


def test_dark_spots_grow_darker_and_larger_with_level(slide: np.ndarray) -> None:
    areas, depths = [], []
    for level in (1, 2):
        out, _ = degrade(slide, "dark_spots_artifact", level, seed=4, item_id="ihc")
        changed = (out != slide).any(axis=2)
        areas.append(changed.mean())
        depths.append(np.percentile(luminance(out)[changed], 5))
    assert areas[1] > 2 * areas[0]
    assert depths[1] < depths[0]


@pytest.mark.parametrize("seed", [0, 1])
def test_bubble_rim_blur_and_untouched_outside(slide: np.ndarray, seed: int) -> None:
    out, record = degrade(slide, "bubble", 2, seed=seed, item_id="ihc")
    params = {k: record.params[k] for k in ("count", "radius", "layout_seed")}
    shape = slide.shape[:2]
    layout = pathology.bubble_layout(shape, **params)
    rhos = [_rho(shape, layout, i) for i in range(len(layout))]
    far = np.logical_and.reduce([rho > 1.0 + 2.0 / min(layout.rx[i], layout.ry[i])
                                 for i, rho in enumerate(rhos)])
    assert far.mean() > 0.2
    assert np.array_equal(out[far], slide[far])
    lum_clean, lum_out = luminance(slide), luminance(out)
    for i, rho in enumerate(rhos):
        alone = np.ones(shape, dtype=bool)  # away from the other bubbles
        for j, other in enumerate(rhos):
            if j != i:
                alone &= other > 1.1
        rim = (rho > 0.93) & (rho < 0.99) & alone
        inner = (rho < 0.6) & alone
        if rim.sum() < 50 or inner.sum() < 200:
            continue
        assert lum_out[rim].mean() < lum_out[inner].mean() - 0.25
        # the tissue inside is out of focus: far less Laplacian (high-frequency) energy
        core = ndimage.binary_erosion(inner, iterations=2)
        energy_clean = np.mean(ndimage.laplace(lum_clean)[core] ** 2)
        energy_out = np.mean(ndimage.laplace(lum_out)[core] ** 2)
        assert energy_out < 0.2 * energy_clean


def test_bubble_count_and_radius_grow_with_level(slide: np.ndarray) -> None:
    covered = []
    for level in (1, 2):
        out, _ = degrade(slide, "bubble", level, seed=2, item_id="ihc")
        covered.append((out != slide).any(axis=2).mean())
    assert covered[1] > 3 * covered[0] > 0


@pytest.fixture(scope="module")
def slide_images() -> dict[str, np.ndarray]:
    """The embedded histopathology sample: the IHC slide and its crops, 8-bit RGB."""
    from medqdeg.dataset_builder.sources.embedded import assembled_image, embedded_images

    images = {im.key: np.asarray(assembled_image(im)) for im in embedded_images() if im.modality == "Histopathology"}
    assert len(images) >= 5
    return images


@pytest.mark.parametrize("name", NAMES)
def test_levels_on_every_slide_image(slide_images: dict[str, np.ndarray], name: str) -> None:
    """L1 changes >= 1% of the tissue by >= 10 grey levels; L2 is clearly worse, image by image."""
    from medqdeg.dataset_builder.quality.measures import image_quality

    ssim = {1: [], 2: []}
    for key, clean in slide_images.items():
        outs = {level: np.asarray(degrade(clean, name, level, seed=0, item_id=key,
                                          modality="Histopathology")[0]) for level in (1, 2)}
        assert changed_tissue_share(clean, outs[1]) >= 0.01, key
        for level in (1, 2):
            ssim[level].append(image_quality(clean, outs[level])[0])
        assert ssim[2][-1] < ssim[1][-1] < 1.0, key
    assert np.median(ssim[2]) <= np.median(ssim[1]) - 0.05


@pytest.mark.parametrize("seed", [0, 3])
def test_level_two_holds_level_one_objects(slide: np.ndarray, seed: int) -> None:
    shape = slide.shape[:2]
    records = {level: {name: degrade(slide, name, level, seed=seed, item_id="ihc")[1].params for name in NAMES}
               for level in (1, 2)}
    layouts = {}
    for level, params in records.items():
        bubbles = {k: params["bubble"][k] for k in ("count", "radius", "layout_seed")}
        layouts[level] = (
            pathology.blood_cell_layout(shape, **params["blood_cell_artifact"]),
            pathology.dark_spot_layout(shape, **params["dark_spots_artifact"]),
            pathology.bubble_layout(shape, **bubbles),
        )
    (cells1, spots1, bubbles1), (cells2, spots2, bubbles2) = layouts[1], layouts[2]
    # red cells: L1's cells, same places and sizes (the same haemorrhage), and more
    n = len(cells1)
    assert 0 < n < len(cells2) / 2
    for field in ("cy", "cx", "ry", "rx", "angle"):
        assert np.array_equal(getattr(cells1, field), getattr(cells2, field)[:n])
    # bubbles: L1's bubble is L2's first, same centre, larger
    assert len(bubbles1) == 1 < len(bubbles2)
    assert (bubbles1.cy[0], bubbles1.cx[0]) == (bubbles2.cy[0], bubbles2.cx[0])
    assert bubbles2.ry[0] > bubbles1.ry[0]
    # dark spots: L1's spots (same lobes and orientations, grown about their centres), and more
    k = spots1.brown.size
    assert 0 < k < spots2.brown.size
    assert np.array_equal(spots1.brown, spots2.brown[:k])
    lobes = spots1.spot.size
    assert np.array_equal(spots1.spot, spots2.spot[:lobes])
    assert np.array_equal(spots1.lobes.angle, spots2.lobes.angle[:lobes])
    centre1 = ndimage.mean(spots1.lobes.cy, spots1.spot, range(k))
    centre2 = ndimage.mean(spots2.lobes.cy[:lobes], spots2.spot[:lobes], range(k))
    assert np.abs(np.subtract(centre1, centre2)).max() < 0.06 * np.sqrt(shape[0] * shape[1])
