"""Speed and memory of the degradation engine (a benchmark, not a test).

Prints, on one core:
1. the median time of every type at L2 on a 512x512 real image of its modality (grey),
   and of the types that apply to colour images on a 512x512 RGB image, through the
   public ``degrade`` (8-bit image in, 8-bit image out, parameters sampled);
2. for the three CT types, the time of our Fourier-slice projector against
   scikit-image's ``radon`` + ``iradon`` doing the same simulation in the same run
   (same views, same arc, same photon counts), with the RMSE of both against the clean
   image;
3. the peak resident memory of a fresh worker process that applies every type at L2.

Run: ``python benchmarks/degradations.py [--repeats N]``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ct_baseline  # noqa: E402

from medqdeg.dataset_builder.degradations import ct, degrade, get_degradation, list_degradations  # noqa: E402
from medqdeg.dataset_builder.sample_images import load_sample  # noqa: E402

GREY_SAMPLE = {"CT": "ct_head", "MRI": "mr_shoulder", "X-ray": "xray_tibia", "Histopathology": "histo_ihc"}
RGB_SAMPLE = "fundus_retina"


def median_ms(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def sample_for(name: str) -> np.ndarray:
    spec = get_degradation(name)
    modality = "CT" if spec.modalities is None else sorted(spec.modalities)[0]
    image = load_sample(GREY_SAMPLE[modality], max_side=512).image
    return image[:512, :512]


def timing_table(repeats: int) -> None:
    rgb = load_sample(RGB_SAMPLE, max_side=512).image
    print(f"## Median time at L2, 512x512, one core ({repeats} runs)\n")
    print("| type | image | ms | RGB 512x512x3 ms |")
    print("|---|---|---|---|")
    for spec in list_degradations():
        image = sample_for(spec.name)
        grey = median_ms(lambda image=image, name=spec.name: degrade(image, name, 2, seed=1, item_id="bench"),
                         repeats)
        colour = "-"
        if spec.modalities is None or "Histopathology" in spec.modalities:
            colour = median_ms(lambda name=spec.name: degrade(rgb, name, 2, seed=1, item_id="bench", force=True),
                               repeats)
            colour = f"{colour:.1f}"
        shape = "x".join(str(v) for v in image.shape)
        print(f"| {spec.name} | {shape} | {grey:.1f} | {colour} |")


def ct_comparison(repeats: int) -> None:
    clean = load_sample("ct_head").image.astype(np.float32) / 255.0
    print(f"\n## CT types at L2 against scikit-image radon + iradon (head CT 512x512, {repeats} runs)\n")
    print("| type | parameters | ours ms | scikit-image ms | speed-up | RMSE ours | RMSE scikit-image |")
    print("|---|---|---|---|---|---|---|")
    for name in ("sparse_view", "limited_angle", "low_dose"):
        _, record = degrade(clean, name, 2, seed=1, item_id="bench")
        params = record.params
        ours = get_degradation(name).apply
        baseline = {
            "sparse_view": lambda p=params: ct_baseline.skimage_sparse_view(
                clean, ct.sparse_views(clean.shape, p["view_fraction"])),
            "limited_angle": lambda p=params: ct_baseline.skimage_limited_angle(clean, p["arc"], p["start"]),
            "low_dose": lambda p=params: ct_baseline.skimage_low_dose(clean, p["i0"], p["noise_seed"]),
        }[name]
        ours_ms = median_ms(lambda p=params, ours=ours: ours(clean, **p), repeats)
        base_ms = median_ms(baseline, max(1, repeats // 2))
        rmse_ours = float(np.sqrt(np.mean((ours(clean, **params) - clean) ** 2)))
        rmse_base = float(np.sqrt(np.mean((baseline() - clean) ** 2)))
        shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()
                          if k != "noise_seed")
        print(f"| {name} | {shown} | {ours_ms:.1f} | {base_ms:.1f} | {base_ms / ours_ms:.1f}x "
              f"| {rmse_ours:.4f} | {rmse_base:.4f} |")


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
    args = parser.parse_args()
    timing_table(args.repeats)
    ct_comparison(args.repeats)
    memory()
    print(f"\n(this process: peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
