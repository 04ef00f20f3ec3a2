"""Speed of the transformers backend's three ways of asking, measured side by side in one run.

On the tiny random LLaVA of the test suite (built offline in a temporary folder, CPU),
for the same N items of the embedded sample (images converted to RGB before timing):

a. naive loop: one ``generate`` per sample per item (T calls per item, batch of 1), as
   VLMEvalKit does when asked for several samples;
b. batched: ``batch_size`` items per ``generate`` call, T samples each through
   ``num_return_sequences=T`` (the backend's sampling mode);
c. letter-probs: one forward pass per batch, the option letters' probabilities.

    python benchmarks/harness_backends.py [--items 60] [--samples 3] [--max-new-tokens 8]

It prints items per second and the ratios b/a and c/a (targets: >= 2x and >= 3x at T=3)
as a Markdown table. Timings are wall-clock, the best of ``--repeats`` runs, after one
warm-up call each. The tiny model makes the fixed per-call costs (processor, generate's
set-up) dominate, as they do for small real models; with a large model the batched modes
gain more from batching on a GPU and less on a CPU.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def make_queries(n: int):
    import numpy as np
    from PIL import Image

    from medqdeg.dataset_builder.sources.embedded import embedded_items
    from medqdeg.eval_harness.backends import Query

    queries = []
    for item in embedded_items():
        if len(queries) == n:
            break
        letters = "ABCDEFGHIJK"
        options = "\n".join(f"{letters[i]}. {text}" for i, text in enumerate(item.options))
        prompt = (
            f"{item.question}\n\n{options}\n\n"
            "Answer with the option letter from the given choices directly."
        )
        image = Image.fromarray(np.asarray(item.image())).convert("RGB")  # uint8 gray/RGB
        queries.append(Query(item.id, image, prompt, len(item.options)))
    if len(queries) < n:
        raise SystemExit(f"the embedded sample has only {len(queries)} items")
    return queries


def best_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=60)
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--max-new-tokens", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)

    import torch
    import transformers

    from medqdeg.eval_harness.backends import GenerationSettings
    from medqdeg.eval_harness.backends.transformers_backend import TransformersBackend
    from tests.eval_harness.tiny_models import build_tiny_model

    transformers.logging.set_verbosity_error()
    queries = make_queries(args.items)
    with tempfile.TemporaryDirectory() as tmp:
        folder = build_tiny_model("llava", Path(tmp) / "llava")
        single = TransformersBackend(str(folder), device="cpu", batch_size=1)
        batched = TransformersBackend(str(folder), device="cpu", batch_size=args.batch_size)

    t, new = args.samples, args.max_new_tokens
    one = [GenerationSettings(samples=1, max_new_tokens=new, seed=s) for s in range(t)]
    many = GenerationSettings(samples=t, max_new_tokens=new)
    probs = GenerationSettings(samples=1, want_texts=False, want_letter_probs=True)

    def naive():
        for q in queries:
            for settings in one:
                single.answer([q], settings)

    def sampled():
        batched.answer(queries, many)

    def letters():
        batched.answer(queries, probs)

    for fn in (naive, sampled, letters):  # warm-up
        fn() if fn is not naive else single.answer(queries[:2], one[0])
    seconds = {
        name: best_time(fn, args.repeats)
        for name, fn in (("a", naive), ("b", sampled), ("c", letters))
    }
    rate = {name: args.items / s for name, s in seconds.items()}

    print(
        f"tiny LLaVA ({sum(p.numel() for p in single.model.parameters()):,} parameters), "
        f"CPU, torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"transformers {transformers.__version__}, Python {platform.python_version()}"
    )
    print(
        f"{args.items} items, T={t}, max_new_tokens={new}, batch_size={args.batch_size}, "
        f"best of {args.repeats}\n"
    )
    print("| mode | calls | seconds | items/s | vs (a) |")
    print("|---|---|---|---|---|")
    calls = {
        "a": args.items * t,
        "b": -(-args.items // args.batch_size),
        "c": -(-args.items // args.batch_size),
    }
    labels = {
        "a": "(a) naive loop, one generate per sample",
        "b": f"(b) batched, num_return_sequences={t}",
        "c": "(c) letter-probs, one forward per batch",
    }
    for name in "abc":
        print(
            f"| {labels[name]} | {calls[name]} | {seconds[name]:.2f} | {rate[name]:.1f} | "
            f"{rate[name] / rate['a']:.1f}x |"
        )
    print(
        f"\nb/a = {rate['b'] / rate['a']:.1f}x (target >= 2x), "
        f"c/a = {rate['c'] / rate['a']:.1f}x (target >= 3x)"
    )


if __name__ == "__main__":
    main()
