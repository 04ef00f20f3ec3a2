"""The harness's own cost, outside the model (a benchmark, not a test).

Prints, with a backend that answers instantly (the chance baseline):
1. the runner's overhead per item: prompt, image conversion, extraction, scoring, the
   durable JSONL write (flush + fsync) and the progress bar, over the embedded default;
2. the resident memory before and after 10,000 items (growth, MB).
``benchmarks/harness_backends.py`` compares the model-side strategies (naive loop,
batched ``num_return_sequences``, ``letter-probs``) with a tiny model.

Run: ``python benchmarks/harness.py``.
"""

from __future__ import annotations

import logging
import resource
import tempfile
import time
from pathlib import Path

import datasets

from medqdeg.eval_harness.backends.chance import ChanceBackend
from medqdeg.eval_harness.run import EvalConfig, evaluate

TARGET_ITEMS = 10_000


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    datasets.disable_progress_bars()
    logging.getLogger("datasets").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        cache = str(work / "cache")
        evaluate(EvalConfig(output=work / "warmup", cache_dir=cache), report=False)  # builds the dataset once
        before = rss_mb()
        answered, elapsed, run = 0, 0.0, 0
        while answered < TARGET_ITEMS:
            start = time.perf_counter()
            summary = evaluate(EvalConfig(output=work / f"run{run}", cache_dir=cache, seed=run), report=False,
                               backend=ChanceBackend())
            elapsed += time.perf_counter() - start
            answered += summary.answered
            run += 1
        after = rss_mb()
    print("| measurement | value |")
    print("|---|---|")
    print(f"| items answered (chance backend, T=3, embedded default, {run} runs) | {answered} |")
    print(f"| harness overhead per item (everything but the model) | {1000 * elapsed / answered:.2f} ms |")
    print(f"| resident memory before / after | {before:.0f} MB / {after:.0f} MB |")
    print(f"| growth over {answered} items | {after - before:.0f} MB |")


if __name__ == "__main__":
    main()
