"""Speed and memory of the degradation engine (a benchmark, not a test).

Prints, on one core:
1. the time of every type at L2 on a 512x512 real image of its modality (grey), and of
   the types that apply to colour images on a 512x512 RGB image, through the public
   ``degrade`` (8-bit image in, 8-bit image out, parameters sampled). The time of a
   shared machine drifts over tens of seconds, so the cases take turns: ``--rounds``
   rounds, each case called three times in a row per round; the table gives each case's
   fastest call (its cost on an undisturbed core, the estimate Python's ``timeit``
   recommends) and the median of its calls, and the same for a reference workload (one
   real DFT of 512 rows of 512, OpenCV) that shows how fast the machine was;
2. for the three CT types, on the head CT in Hounsfield units, the time of our
   Fourier-slice projector against scikit-image's ``radon`` + ``iradon`` doing the same
   simulation in the same run (same views, same arc, same dose noise), with the RMSE in HU
   of both against the clean image and of one against the other;
3. OpenCV's Fourier transforms (the ``fourier`` module) against scipy.fft's doing the
   same work: the real DFT of rows, its inverse, and the convolution of the motion blurs;
4. MRI ``object_movement`` against the Fourier transforms exact k-space motion needs, and
   against resampling each pose in the image domain (TorchIO's approach, ``kspace_baseline``);
5. the peak resident memory of a fresh worker process that applies every type at L2.

Run: ``python benchmarks/degradations.py [--rounds N] [--repeats N]``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import functools  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ct_baseline  # noqa: E402
import kspace_baseline  # noqa: E402

from medqdeg.dataset_builder.degradations import ct, degrade, get_degradation, list_degradations  # noqa: E402
from medqdeg.dataset_builder.sample_images import load_sample  # noqa: E402

cv2.setNumThreads(1)  # one core, as the environment variables above do for the FFTs and BLAS

GREY_SAMPLE = {"CT": "ct_head", "MRI": "mr_shoulder", "X-ray": "xray_tibia", "Histopathology": "histo_ihc"}
RGB_SAMPLE = "fundus_retina"
MOTION_PHYSICS = {"MRI": "k-space", "CT": "sinogram", "X-ray": "exposure"}
CT_TYPES = ("sparse_view", "limited_angle", "low_dose")


def times_in_turn(runs, repeats: int, burst: int = 1) -> list[list[float]]:
    """The ms of every call of each function: ``repeats`` rounds, in each of which the functions
    take turns, each called ``burst`` times in a row (the later calls find its data in the cache)."""
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(repeats):
        for run, spent in zip(runs, times, strict=True):
            for _ in range(burst):
                start = time.perf_counter()
                run()
                spent.append(1000 * (time.perf_counter() - start))
    return times


def medians_in_turn(runs, repeats: int) -> list[float]:
    """Median ms of each function, the functions called in turn (so a slow spell of the machine hits all)."""
    return [statistics.median(spent) for spent in times_in_turn(runs, repeats)]


def median_ms(run, repeats: int) -> float:
    return medians_in_turn([run], repeats)[0]


def grey_cases() -> list[tuple[str, str]]:
    """(type, modality) for the grey table: each type on its modality's image; the types of
    every modality on the X-ray, and object_movement once per physics."""
    cases = []
    for spec in list_degradations():
        if spec.name == "object_movement":
            cases.extend((spec.name, modality) for modality in MOTION_PHYSICS)
        else:
            cases.append((spec.name, "X-ray" if spec.modalities is None else sorted(spec.modalities)[0]))
    return cases


GREY_TARGET_MS, RGB_TARGET_MS = 10.0, 25.0
"""The targets for every type but the CT ones (which are held to their speed-up over scikit-image)."""


def _spent(times: list[float]) -> str:
    return f"{min(times):.1f} / {statistics.median(times):.1f}"


BURST = 3
"""Calls of a case in a row in each round of the timing table."""


def timing_table(rounds: int) -> None:
    rgb = load_sample(RGB_SAMPLE, max_side=512).image
    rows, runs = [], []
    for name, modality in grey_cases():
        sample = load_sample(GREY_SAMPLE[modality], max_side=512)
        image = sample.image[:512, :512]
        spec = get_degradation(name)
        cases = [functools.partial(degrade, image, name, 2, seed=1, item_id="bench", modality=modality,
                                   **sample.acquisition)]
        if (spec.modalities is None and modality == "X-ray") or "Histopathology" in (spec.modalities or ()):
            rgb_modality = "Histopathology" if spec.modalities else "Fundus photography"
            cases.append(functools.partial(degrade, rgb, name, 2, seed=1, item_id="bench", modality=rgb_modality))
        label = f"{name} ({MOTION_PHYSICS[modality]})" if name == "object_movement" else name
        target = RGB_TARGET_MS if image.ndim == 3 else GREY_TARGET_MS
        rows.append((label, f"{sample.key} {'x'.join(map(str, image.shape))} ({modality})", len(cases), modality, target))
        runs.extend(cases)
    reference_image = np.random.default_rng(0).random((512, 512), dtype=np.float32)
    runs.append(functools.partial(cv2.dft, reference_image, flags=cv2.DFT_ROWS))
    times = iter(times_in_turn(runs, rounds, BURST))
    print(f"## Time at L2, 512x512, one core: fastest / median of {rounds} rounds x {BURST} calls (ms)\n")
    print("| type | image (modality) | ms | RGB 512x512x3 ms |")
    print("|---|---|---|---|")
    over = []
    for label, shown, count, modality, target in rows:
        spent = next(times)
        colour = next(times) if count == 2 else None
        print(f"| {label} | {shown} | {_spent(spent)} | {_spent(colour) if colour else '-'} |")
        if modality != "CT" and (min(spent) > target or (colour is not None and min(colour) > RGB_TARGET_MS)):
            over.append(label)
    reference = next(times)
    print(f"\nreference, one real DFT of 512 rows of 512 (OpenCV): {min(reference):.2f} / "
          f"{statistics.median(reference):.2f} ms")
    print(f"over {GREY_TARGET_MS:g} ms (grey) or {RGB_TARGET_MS:g} ms (RGB) in their fastest call, CT types "
          f"excepted: {', '.join(over) or 'none'}")


def ct_comparison(repeats: int) -> None:
    """The CT types on the head CT in Hounsfield units (the DICOM's values), against scikit-image."""
    from pydicom.data import get_testdata_file

    from medqdeg.dataset_builder.image_io import read_dicom

    dicom = read_dicom(get_testdata_file("J2K_pixelrep_mismatch.dcm"))
    hu = dicom.values
    _, record = degrade(hu, "low_dose", 2, modality="CT", pixel_spacing=dicom.pixel_spacing)
    scale = record.params["scale"]
    clean = ((hu - scale["low_hu"]) / (scale["high_hu"] - scale["low_hu"])).astype(np.float32)
    mu = ct.to_attenuation(clean, scale)
    to_hu = 1000.0 / (ct.MU_WATER * scale["pixel_mm"])
    print(f"\n## CT types at L2 in Hounsfield units against scikit-image radon + iradon "
          f"(head CT 512x512, HU {hu.min():.0f}..{hu.max():.0f}, {repeats} runs)\n")
    print("| type | parameters | ours ms | scikit-image ms | speed-up | RMSE ours (HU) | RMSE scikit-image (HU) "
          "| ours vs scikit-image (HU) |")
    print("|---|---|---|---|---|---|---|---|")
    for name in CT_TYPES:
        _, record = degrade(hu, name, 2, seed=1, item_id="bench", modality="CT", pixel_spacing=dicom.pixel_spacing)
        params = record.params
        ours = get_degradation(name).apply
        baseline = {
            "sparse_view": lambda p=params: ct_baseline.skimage_sparse_view(mu, p["views"]),
            "limited_angle": lambda p=params: ct_baseline.skimage_limited_angle(mu, p["arc"], p["start"]),
            "low_dose": lambda p=params: ct_baseline.skimage_low_dose(mu, p["dose"], p["noise_seed"]),
        }[name]
        ours_ms = median_ms(lambda p=params, ours=ours: ours(clean, **p), repeats)
        base_ms = median_ms(baseline, max(1, repeats // 2))
        ours_hu = ct.to_attenuation(ours(clean, **params), scale) * to_hu
        base_hu = np.clip(baseline(), 0, None) * to_hu
        clean_hu = mu * to_hu
        rmse = [float(np.sqrt(np.mean((a - b) ** 2))) for a, b in
                ((ours_hu, clean_hu), (base_hu, clean_hu), (ours_hu, base_hu))]
        shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()
                          if k not in ("noise_seed", "scale"))
        print(f"| {name} | {shown} | {ours_ms:.1f} | {base_ms:.1f} | {base_ms / ours_ms:.1f}x "
              f"| {rmse[0]:.1f} | {rmse[1]:.1f} | {rmse[2]:.1f} |")


def scipy_convolve_reflect(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The baseline for ``fourier.convolve_reflect``: reflect-pad, ``scipy.fft.rfft2`` at a fast size, invert."""
    from scipy import fft

    radius = kernel.shape[0] // 2
    height, width = image.shape
    shape = tuple(fft.next_fast_len(n + 2 * radius, real=True) for n in (height, width))
    spectrum = fft.rfft2(np.pad(image, radius, mode="reflect"), s=shape, workers=1)
    spectrum *= fft.rfft2(kernel, s=shape, workers=1)
    full = fft.irfft2(spectrum, s=shape, workers=1)
    return np.clip(full[2 * radius:2 * radius + height, 2 * radius:2 * radius + width], 0.0, 1.0)


def fourier_comparison(repeats: int) -> None:
    """OpenCV's transforms (``fourier``) against scipy.fft's doing the same work, in turn, on one core."""
    from scipy import fft

    from medqdeg.dataset_builder.degradations import fourier, general

    image = load_sample(GREY_SAMPLE["X-ray"], max_side=512).image[:512, :512].astype(np.float32) / 255
    packed, half = fourier.rfft_rows(image), fft.rfft(image, axis=1, workers=1)
    kernels = {level: general.line_kernel(length * general.reference_length(image), 30.0)
               for level, length in (("L1, shortest", 0.015), ("L2", 0.05))}  # motion_blur's lengths
    cases = [
        ("real DFT of the 512 rows", lambda: fft.rfft(image, axis=1, workers=1), lambda: fourier.rfft_rows(image)),
        ("inverse real DFT of the 512 rows", lambda: fft.irfft(half, n=image.shape[1], axis=1, workers=1),
         lambda: fourier.irfft_rows(packed)),
    ] + [(f"convolution, reflected borders, {k.shape[0]}x{k.shape[0]} motion kernel ({level}; "
          f"{'direct' if k.shape[0] <= fourier.DIRECT_KERNEL else 'DFT'})",
          lambda k=k: scipy_convolve_reflect(image, k), lambda k=k: fourier.convolve_reflect(image, k))
         for level, k in kernels.items()]
    difference = max(np.abs(scipy_convolve_reflect(image, k) - fourier.convolve_reflect(image, k)).max()
                     for k in kernels.values())
    print(f"\n## Fourier transforms: OpenCV (fourier module) against scipy.fft, 512x512 grey, {repeats} runs in turn\n")
    print("| work | scipy.fft ms | OpenCV ms | speed-up |")
    print("|---|---|---|---|")
    for label, baseline, ours in cases:
        base_ms, ours_ms = medians_in_turn([baseline, ours], repeats)
        print(f"| {label} | {base_ms:.2f} | {ours_ms:.2f} | {base_ms / ours_ms:.2f}x |")
    print(f"\nlargest difference between scipy's and our convolutions: {difference:.1e} (images in [0, 1])")


def kspace_motion_comparison(repeats: int) -> None:
    """MRI object_movement against the Fourier transforms it cannot do without, and against
    resampling each pose in the image domain (TorchIO's approach, ``kspace_baseline``).

    Exact k-space motion needs, on the 512x512 MR image: one real DFT of the clean image's
    phase-encode lines, per moved pose four one-axis real DFTs and two transposes (three
    Fourier shears), and one complex inverse FFT along the phase-encode axis; their time
    alone, through the same ``fourier`` functions, is the floor of any exact method. The
    resampled model is timed in the same turns, and compared with the exact one on every
    MRI image of the embedded sample at L1 and L2 (seed 0): the norm of their difference
    against the norm of the exact artefact, and the SSIM of each against L0.
    """
    from scipy import fft

    from medqdeg.dataset_builder.degradations import fourier, mri
    from medqdeg.dataset_builder.quality.level_strength import sample_images
    from medqdeg.dataset_builder.quality.measures import image_quality
    from medqdeg.dataset_builder.sources.embedded import assembled_image

    image = load_sample(GREY_SAMPLE["MRI"], max_side=512).image[:512, :512]
    _, record = degrade(image, "object_movement", 2, seed=1, item_id="bench", modality="MRI")
    poses, axis = record.params["poses"], record.params["axis"]
    data = np.asarray(image, dtype=np.float32) / 255
    moved = sum(1 for pose in poses if pose["angle"] or any(pose["shift"]))
    acquired = data.astype(np.complex64)  # stands in for the acquired lines

    def transforms_only() -> None:
        clean = fourier.rfft_rows(mri.lines_last(data, axis))
        for _ in range(moved):
            rows = fourier.rfft_rows(fourier.transposed(fourier.irfft_rows(clean)))
            fourier.rfft_rows(fourier.transposed(fourier.irfft_rows(rows)))
        mri.lines_last(np.abs(fft.ifft(acquired, axis=1, workers=1)), axis)  # the stand-in is kept

    full_ms, floor_ms, resampled_ms = medians_in_turn([lambda: mri.kspace_motion(data, poses, axis), transforms_only,
                                                       lambda: kspace_baseline.resampled_kspace_motion(data, poses, axis)], repeats)
    print(f"\n## MRI object_movement (k-space) against its transforms alone and against resampled poses "
          f"({repeats} runs in turn)\n")
    transposes = 2 * moved + (2 if axis == 0 else 0)
    print(f"kspace_motion {full_ms:.1f} ms; its {1 + 4 * moved} real DFTs, {transposes} transposes and 1 complex "
          f"inverse FFT alone {floor_ms:.1f} ms (ratio {full_ms / floor_ms:.2f}; phase-encode axis {axis}); "
          f"poses resampled in the image domain (bilinear, TorchIO's approach) {resampled_ms:.1f} ms "
          f"(exact / resampled {full_ms / resampled_ms:.2f})\n")
    images = sample_images("MRI")
    print(f"On the {len(images)} MRI images of the embedded sample (seed 0):\n")
    print("| level | norm of resampled - exact / norm of exact - clean: median (range) "
          "| median SSIM against L0, exact | median SSIM against L0, resampled |")
    print("|---|---|---|---|")
    figures = {level: ([], [], []) for level in (1, 2)}  # per level: differences, SSIM exact, SSIM resampled
    for sample in images:
        clean, acquisition = assembled_image(sample), sample.acquisition()
        grey = clean.astype(np.float32) / 255
        for level, (differences, ssim_exact, ssim_resampled) in figures.items():
            _, record = degrade(clean, "object_movement", level, seed=0, item_id=sample.key, modality="MRI",
                                **acquisition)
            exact = mri.kspace_motion(grey, record.params["poses"], record.params["axis"])
            resampled = kspace_baseline.resampled_kspace_motion(grey, record.params["poses"], record.params["axis"])
            differences.append(np.linalg.norm(resampled - exact) / np.linalg.norm(exact - grey))
            ssim_exact.append(image_quality(clean, np.rint(exact * 255).astype(np.uint8))[0])
            ssim_resampled.append(image_quality(clean, np.rint(resampled * 255).astype(np.uint8))[0])
    for level, (differences, ssim_exact, ssim_resampled) in figures.items():
        print(f"| L{level} | {statistics.median(differences):.2f} ({min(differences):.2f}-{max(differences):.2f}) "
              f"| {statistics.median(ssim_exact):.3f} | {statistics.median(ssim_resampled):.3f} |")


WORKER = """
import resource
from medqdeg.dataset_builder.degradations import degrade, list_degradations
from medqdeg.dataset_builder.sample_images import load_sample
images = {key: load_sample(key, max_side=512).image for key in ("ct_head", "mr_shoulder", "xray_tibia", "histo_ihc", "fundus_retina")}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for image in images.values():
    for spec in list_degradations():
        degrade(image, spec.name, 2, seed=0, item_id="memory", force=True)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(before, after)
"""


def memory() -> None:
    env = {**os.environ}
    result = subprocess.run([sys.executable, "-c", WORKER], capture_output=True, text=True, check=True, env=env)
    before, after = (int(v) / 1024 for v in result.stdout.split())
    print("\n## Peak memory of one worker applying every type at L2 to five 512-px images\n")
    print(f"peak RSS {after:.0f} MB (after imports and loading the images: {before:.0f} MB; "
          f"growth {after - before:.0f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=15, help="rounds of the timing table")
    args = parser.parse_args()
    timing_table(args.rounds)
    ct_comparison(args.repeats)
    fourier_comparison(args.repeats)
    kspace_motion_comparison(args.repeats)
    memory()
    print(f"\n(this process: peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
