"""Answer extraction side by side with an established harness's rules (a benchmark, not a test).

Runs the hand-labelled corpus ``tests/eval_harness/extraction_corpus.jsonl`` (each reply
with its options and the letter a careful reader takes, or none) through

1. the project's extraction, ``medqdeg.eval_harness.extraction.extract_letter``;
2. lmms-eval's rule extraction for multiple choice, ``MMBench_Evaluator.can_infer``
   (``lmms_eval/tasks/mmbench/mmbench_evals.py``; the same rules as VLMEvalKit's
   ``can_infer``: a unique standalone letter, then a unique option text), without the
   GPT judge that lmms-eval may add after it.

and prints, for both: right, wrong letter (a letter other than the reader's, counted as
the model's answer), unparseable (no letter where the reader takes one), and the time per
reply (median over the corpus, microseconds; each reply timed over ``REPEATS`` calls).

lmms-eval is not a dependency of the toolkit. Install it without its (large) dependencies;
its MMBench module itself needs only pandas, requests and loguru::

    pip install --no-deps lmms-eval==0.7.3 && pip install loguru

The module is loaded from its file, so that lmms-eval's package ``__init__`` (which imports
its whole task registry and models) is not needed.

Run: ``python benchmarks/extraction.py``.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from medqdeg.eval_harness.extraction import extract_letter

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "eval_harness" / "extraction_corpus.jsonl"
REPEATS = 20
LETTERS = "ABCDE"


def lmms_eval_can_infer() -> tuple[Callable[[str, Sequence[str]], str | None], str]:
    """lmms-eval's ``can_infer`` as ``(reply, options) -> letter or None``, and its version."""
    version = importlib.metadata.version("lmms-eval")
    path = importlib.metadata.distribution("lmms-eval").locate_file(
        "lmms_eval/tasks/mmbench/mmbench_evals.py")
    spec = importlib.util.spec_from_file_location("lmms_eval_mmbench_evals", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.eval_logger.disable(spec.name)  # its "A might be a quantifier" messages
    evaluator = module.MMBench_Evaluator()

    def can_infer(reply: str, options: Sequence[str]) -> str | None:
        choices = dict(zip(LETTERS, options, strict=False))  # can_infer lowercases it in place
        try:
            found = evaluator.can_infer(reply, choices)
        except AssertionError:  # its text rule accepts only options A-D
            return None
        return found or None

    return can_infer, version


def score(extract: Callable[[str, Sequence[str]], str | None], rows: list[dict]) -> dict[str, float]:
    """Right / wrong letter / unparseable counts and the median time per reply (µs)."""
    counts = {"right": 0, "wrong letter": 0, "unparseable": 0}
    times = []
    for row in rows:
        got = extract(row["reply"], row["options"])
        if got == row["expected"]:
            counts["right"] += 1
        elif got is None:
            counts["unparseable"] += 1
        else:
            counts["wrong letter"] += 1
        start = time.perf_counter()
        for _ in range(REPEATS):
            extract(row["reply"], row["options"])
        times.append((time.perf_counter() - start) / REPEATS * 1e6)
    return {**counts, "median us/reply": statistics.median(times)}


def main() -> None:
    with CORPUS.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    decided = sum(row["expected"] is not None for row in rows)
    print(f"corpus: {len(rows)} replies, {decided} that a careful reader decides, "
          f"{len(rows) - decided} that name no option")
    can_infer, version = lmms_eval_can_infer()
    results = {"medqdeg extract_letter": score(extract_letter, rows),
               f"lmms-eval {version} can_infer": score(can_infer, rows)}
    print(f"{'extraction':32} {'right':>6} {'wrong letter':>13} {'unparseable':>12} {'median us/reply':>16}")
    for name, r in results.items():
        print(f"{name:32} {r['right']:6d} {r['wrong letter']:13d} {r['unparseable']:12d} "
              f"{r['median us/reply']:16.1f}")


if __name__ == "__main__":
    main()
