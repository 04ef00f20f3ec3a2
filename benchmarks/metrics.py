"""Speed of the Calibration Shift computation, measured side by side in one run.

Three ways to compute the same figures (confidence, majority and sample accuracy, shift,
ECE, Brier score, AURC) for N items with T = 10 sampled answers over K = 4 options, 2%
of the samples unparseable:

1. the pure function ``medqdeg.metrics.calibration.calibration_report`` (NumPy),
2. the evaluate module ``metrics/calibration_shift`` (``evaluate.load`` + ``compute``),
   which adds evaluate's own cost: encoding the inputs to Arrow and writing them,
3. a plain Python loop over the items (run on a subset and scaled linearly to N; it is
   checked to give the same numbers as the pure function on that subset).

It also times the accuracy table with its bootstrap on a benchmark-sized input.

    python benchmarks/metrics.py [--items 1000000] [--loop-items 100000] [--module-items N]

Timings are wall-clock seconds, the best of ``--repeats`` runs for the pure function.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from medqdeg.metrics import accuracy as acc
from medqdeg.metrics import calibration as cal

REPO = Path(__file__).resolve().parents[1]


def make_items(n: int, t: int = 10, k: int = 4, seed: int = 0):
    """An overconfident model, as the paper finds: each item has a believed answer (right
    60% of the time) that a sample repeats with a high, item-specific probability; the
    other samples are random, and 2% of the samples are unparseable."""
    rng = np.random.default_rng(seed)
    references = rng.integers(0, k, n)
    believed = np.where(rng.random(n) < 0.6, references, rng.integers(0, k, n))
    consistency = rng.beta(12, 1.5, n)
    repeat = rng.random((n, t)) < consistency[:, None]
    samples = np.where(repeat, believed[:, None], rng.integers(0, k, (n, t)))
    samples[rng.random((n, t)) < 0.02] = -1
    return samples.astype(np.int8), references, np.full(n, k)


def python_loop(samples: list[list[int]], references: list[int], k: int, n_bins: int = 15) -> dict:
    """The same figures with plain Python: one item at a time, no NumPy."""
    confidences, majority, per_sample = [], [], []
    for row, ref in zip(samples, references, strict=True):
        t = len(row)
        counts = [0] * k
        unread = 0
        for s in row:
            if s < 0:
                unread += 1
            else:
                counts[s] += 1
        # confidence, unparseable="count": the unread mass spread evenly over K options
        entropy = 0.0
        for c in sorted(counts):
            p = (c + unread / k) / t
            if p > 0:
                entropy -= p * math.log(p)
        confidences.append(min(1.0, max(0.0, 1.0 - entropy / math.log(k))))
        top = max(max(counts), unread)
        ties = sum(1 for c in counts if c == top) + (1 if unread == top else 0)
        majority.append(1.0 / ties if counts[ref] == top else 0.0)
        per_sample.append(counts[ref] / t)
    n = len(confidences)
    mean_conf = sum(confidences) / n
    accuracy = sum(majority) / n
    gaps = [0.0] * n_bins
    for c, y in zip(confidences, majority, strict=True):
        b = min(n_bins - 1, max(0, math.ceil(c * n_bins) - 1))
        gaps[b] += y - c
    ece = sum(abs(g) for g in gaps) / n
    brier = sum((c - y) ** 2 for c, y in zip(confidences, majority, strict=True)) / n
    order = sorted(range(n), key=lambda i: -confidences[i])
    total, cumulative, i = 0.0, 0.0, 0
    while i < n:
        j = i
        while j < n and confidences[order[j]] == confidences[order[i]]:
            j += 1
        block_error = sum(1.0 - majority[order[m]] for m in range(i, j))
        for m in range(i, j):
            total += (cumulative + (m - i + 1) * block_error / (j - i)) / (m + 1)
        cumulative += block_error
        i = j
    return {
        "calibration_shift": mean_conf - accuracy,
        "mean_confidence": mean_conf,
        "accuracy": accuracy,
        "sample_accuracy": sum(per_sample) / n,
        "ece": ece,
        "brier_score": brier,
        "aurc": total / n,
    }


def timed(function, repeats: int = 1):
    best, result = math.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--module-items", type=int, default=None, help="default: --items")
    parser.add_argument("--loop-items", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n, t = args.items, 10
    n_module = args.module_items or n
    n_loop = min(args.loop_items, n)

    samples, references, k = make_items(n, t)
    pure_s, pure = timed(
        lambda: cal.calibration_report(samples=samples, references=references, num_options=k),
        args.repeats,
    )

    # The plain loop on a subset, checked against the pure function on the same subset.
    loop_s, loop = timed(lambda: python_loop(samples[:n_loop].tolist(), references[:n_loop].tolist(), 4))
    check = cal.calibration_report(samples=samples[:n_loop], references=references[:n_loop], num_options=4)
    for key, value in loop.items():
        # AURC only to 1e-4: math.log and NumPy's log may differ in the last bit, and two
        # answer patterns with mathematically equal C can then tie in one and not the other.
        tolerance = 1e-4 if key == "aurc" else 1e-9
        assert abs(value - check[key]) < tolerance, (key, value, check[key])
    loop_scaled = loop_s * n / n_loop

    with tempfile.TemporaryDirectory() as cache:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import evaluate

        load_s, metric = timed(
            lambda: evaluate.load(str(REPO / "metrics" / "calibration_shift"), cache_dir=cache)
        )
        module_s, via_module = timed(
            lambda: metric.compute(
                predictions=samples[:n_module], references=references[:n_module], num_options=k[:n_module]
            )
        )
    if n_module == n:
        assert via_module == pure, "the evaluate module and the pure function disagree"
    module_scaled = module_s * n / n_module

    # The accuracy table at the benchmark's size: 4,306 clean images, each with 1-3
    # degradations at L1 and L2 (about 21,500 items), 3 columns, B = 1000 resamples.
    rng = np.random.default_rng(1)
    n_clean = 4306
    copies = 1 + 2 * rng.integers(1, 4, n_clean)  # the L0 item and 1-3 (L1, L2) pairs
    clean_ids = np.repeat(np.arange(n_clean), copies)
    first = np.concatenate([[0], np.cumsum(copies)[:-1]])
    position = np.arange(clean_ids.size) - np.repeat(first, copies)
    severities = np.where(position == 0, 0, 2 - position % 2)
    m = clean_ids.size
    table_s, _ = timed(
        lambda: acc.accuracy_report(
            (rng.random(m) < 0.7).astype(float),
            groups={"modality": rng.integers(0, 7, m), "degradation_type": rng.integers(0, 18, m)},
            severities=severities,
            clean_ids=clean_ids,
            n_bootstrap=1000,
        )
    )

    print(f"# Calibration Shift, N = {n:,} items x T = {t} samples, K = 4")
    print(f"# {platform.python_implementation()} {platform.python_version()}, numpy {np.__version__}, "
          f"{os.cpu_count()} CPUs")
    print()
    print(f"| path | items run | seconds | seconds per {n:,} items | x pure function |")
    print("|---|---|---|---|---|")
    print(f"| pure function (best of {args.repeats}) | {n:,} | {pure_s:.3f} | {pure_s:.3f} | 1.0 |")
    module_note = "" if n_module == n else " (scaled)"
    print(
        f"| evaluate module compute | {n_module:,} | {module_s:.3f} | {module_scaled:.3f}{module_note} | "
        f"{module_scaled / pure_s:.1f} |"
    )
    print(
        f"| plain Python loop | {n_loop:,} | {loop_s:.3f} | {loop_scaled:.3f} (scaled) | "
        f"{loop_scaled / pure_s:.1f} |"
    )
    print()
    print(f"evaluate.load (copy + import of the module file): {load_s:.3f} s")
    print(f"pure function vs plain loop: {loop_scaled / pure_s:.0f}x faster; "
          f"evaluate module vs pure function: {module_scaled / pure_s:.1f}x slower")
    print(f"accuracy table with drops, {m:,} items / {n_clean:,} clean ids / 3 columns / B = 1000: {table_s:.3f} s")
    print(f"calibration_shift = {pure['calibration_shift']:.4f}, mean_confidence = {pure['mean_confidence']:.4f}, "
          f"accuracy = {pure['accuracy']:.4f}, ece = {pure['ece']:.4f}, aurc = {pure['aurc']:.4f}")


if __name__ == "__main__":
    main()
