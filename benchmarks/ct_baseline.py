"""The scikit-image baseline for the CT degradations, and a side-by-side timing.

Each ``skimage_*`` function runs the same simulation as its counterpart in
``medqdeg.dataset_builder.degradations.ct`` (same padding to the circumscribed square,
same angles, same angular weights, same photon-count model and seed, same
reconstruction window) with ``skimage.transform.radon`` (rotate-and-sum) and ``iradon``
(filtered back-projection with linear interpolation). The image is padded here exactly
as ``ct`` pads it and passed with ``circle=True``; for a square image this is the padding
that ``circle=False`` would apply itself.

    python benchmarks/ct_baseline.py      # one core, 512x512 head CT, L2 parameters
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from skimage.transform import iradon, radon  # noqa: E402

from medqdeg.dataset_builder.degradations import ct  # noqa: E402

_FILTERS = {"ramp": "ramp", "shepp-logan": "shepp-logan", "cosine": "cosine", "hann": "hann"}


def _pad(image: np.ndarray) -> tuple[np.ndarray, int, int]:
    """The image centred in its circumscribed square, as ``ct`` places it."""
    height, width = image.shape
    side = ct.detector_bins(image.shape)
    top, left = side // 2 - height // 2, side // 2 - width // 2
    padded = np.zeros((side, side), dtype=np.float64)
    padded[top:top + height, left:left + width] = image
    return padded, top, left


def _scan(image: np.ndarray, angles: np.ndarray, weight: float = 1.0, i0: float | None = None,
          seed: int = 0) -> np.ndarray:
    padded, top, left = _pad(image)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "image must be zero outside the circle": it is, to a corner pixel
        sinogram = radon(padded, angles, circle=True)  # detector x views
    if i0 is not None:
        photons = ct.photons_per_bin(image.shape, i0)
        sinogram = ct.poisson_sinogram(sinogram.T, photons, np.random.default_rng(seed)).T
    recon = iradon(sinogram, angles, circle=True, filter_name=_FILTERS[ct.RECONSTRUCTION_WINDOW])
    # iradon weights each view by pi / (2 len(angles)) x 2 = pi / len(angles): rescale to d_theta
    recon *= weight
    height, width = image.shape
    return np.clip(recon[top:top + height, left:left + width], 0.0, 1.0).astype(np.float32)


def skimage_sparse_view(image: np.ndarray, views: int) -> np.ndarray:
    """``ct.sparse_view`` with scikit-image: ``views`` angles 180 k / views degrees."""
    return _scan(image, np.arange(views) * (180.0 / views))


def skimage_limited_angle(image: np.ndarray, arc: float, start: float) -> np.ndarray:
    """``ct.limited_angle`` with scikit-image: the full-scan step over ``[start, start + arc)``."""
    step = 180.0 / ct.full_views(image.shape)
    count = max(2, round(arc / step))
    return _scan(image, start + step * np.arange(count), weight=count * step / 180.0)


def skimage_low_dose(image: np.ndarray, i0: float, seed: int, views: int | None = None) -> np.ndarray:
    """``ct.low_dose`` with scikit-image: ``views`` (default the full scan), Poisson counts."""
    views = ct.full_views(image.shape) if views is None else views
    return _scan(image, np.arange(views) * (180.0 / views), i0=i0, seed=seed)


def head_ct() -> np.ndarray:
    """pydicom's 512x512 head CT slice, min-max normalised to [0, 1] (float32)."""
    import pydicom
    from pydicom.data import get_testdata_file

    values = pydicom.dcmread(get_testdata_file("693_J2KI.dcm")).pixel_array.astype(np.float64)
    return ((values - values.min()) / (values.max() - values.min())).astype(np.float32)


def _median_time(fn, repeats: int) -> tuple[float, np.ndarray]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main(repeats: int = 5) -> None:
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # the environment variables above already ask for one thread
        pass
    ct.NUFFT_THREADS = 1
    image = head_ct()
    views, arc, start, i0, seed = 30, 100.0, 30.0, 3.0e4, 7  # inside the L2 tables
    cases = {
        f"sparse_view views={views}": (lambda: ct.sparse_view(image, views=views),
                                       lambda: skimage_sparse_view(image, views)),
        f"limited_angle arc={arc:g} start={start:g}": (
            lambda: ct.limited_angle(image, arc=arc, start=start),
            lambda: skimage_limited_angle(image, arc, start)),
        f"low_dose i0={i0:g} views={ct.full_views(image.shape)}": (
            lambda: ct.low_dose(image, i0=i0, noise_seed=seed),
            lambda: skimage_low_dose(image, i0, seed)),
    }
    print(f"512x512 head CT, one core, median of {repeats}; window={ct.RECONSTRUCTION_WINDOW}, "
          f"eps={ct.NUFFT_EPS:g}")
    print(f"{'type':<36}{'ours s':>9}{'skimage s':>11}{'speed-up':>10}{'RMSE ours':>11}{'RMSE sk':>9}")
    for name, (ours, base) in cases.items():
        t_ours, r_ours = _median_time(ours, repeats)
        t_base, r_base = _median_time(base, repeats)
        rmse_ours = float(np.sqrt(np.mean((r_ours - image) ** 2)))
        rmse_base = float(np.sqrt(np.mean((r_base - image) ** 2)))
        print(f"{name:<36}{t_ours:>9.3f}{t_base:>11.3f}{t_base / t_ours:>9.1f}x"
              f"{rmse_ours:>11.4f}{rmse_base:>9.4f}")


if __name__ == "__main__":
    main()
