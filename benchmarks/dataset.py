"""Speed of the dataset builder on the embedded default (a benchmark, not a test).

Prints: cold generation of the embedded default configuration (all three splits, with
nothing cached: the sample is assembled from its packages too), the examples per second
with ``num_proc=1`` and ``num_proc=2`` (fresh dataset caches, the assembled sample kept)
and their ratio, the warm reload, the first example of a streaming split, and the size
of the Parquet export.

Run: ``python benchmarks/dataset.py``.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path

import datasets

from medqdeg.dataset_builder import load_dataset
from medqdeg.dataset_builder.export import export_dataset


def timed(run):
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def total_examples(splits) -> int:
    return sum(len(split) for split in splits.values())


def main() -> None:
    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    logging.getLogger("datasets").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        os.environ["MEDQDEG_CACHE"] = str(work / "medqdeg")  # nothing assembled yet
        cold, splits = timed(lambda: load_dataset("medqdeg", "default", cache_dir=str(work / "cold")))
        examples = total_examples(splits)
        warm, _ = timed(lambda: load_dataset("medqdeg", "default", cache_dir=str(work / "cold")))
        one, _ = timed(lambda: load_dataset("medqdeg", "default", cache_dir=str(work / "one")))
        two, _ = timed(lambda: load_dataset("medqdeg", "default", cache_dir=str(work / "two"), num_proc=2))
        def first_streamed():
            return next(iter(load_dataset("medqdeg", "default", split="L2", streaming=True)))

        first_cold, _ = timed(first_streamed)  # datasets imports torch here, once, when it is installed
        first, _ = timed(first_streamed)
        export_time, out = timed(lambda: export_dataset(work / "export", ["default"], cache_dir=str(work / "cold"),
                                                        severity_seeds=0))
        size = sum(path.stat().st_size for path in out.rglob("*.parquet"))
    print("| measurement | value |")
    print("|---|---|")
    print(f"| cold generation, embedded default ({examples} examples, L0+L1+L2), num_proc=1 | {cold:.1f} s |")
    print(f"| examples per second, num_proc=1 (sample assembled) | {examples / one:.1f} |")
    print(f"| examples per second, num_proc=2 (sample assembled) | {examples / two:.1f} |")
    print(f"| scaling num_proc=2 / num_proc=1 | {one / two:.2f}x |")
    print(f"| warm reload (cached) | {warm:.2f} s |")
    print(f"| first example of a streaming split (L2) | {first:.2f} s ({first_cold:.2f} s the first time in a "
          "process: datasets' IterableDataset imports torch when it is installed) |")
    print(f"| Parquet export of default (from the cache) | {size / 1024**2:.1f} MB in {export_time:.1f} s |")


if __name__ == "__main__":
    main()
