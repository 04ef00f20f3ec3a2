"""Fuzz the degradation engine over its whole input space and print how the calls ended.

    python benchmarks/engine_fuzz.py --examples 10000 [--seed 0]

Counts passes (output keeps shape, dtype/mode, finite values; L0 identity), clear refusals
(the project's error naming the field) and anything else (a defect: the first ones are
printed in full). Exit code 1 when anything else occurred. Strategies: tests/dataset_builder/degradations/engine_space.py.
"""

from __future__ import annotations

import argparse
import collections
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypothesis import HealthCheck, given, seed, settings

from tests.dataset_builder.degradations.engine_space import calls, outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    counts: collections.Counter = collections.Counter()
    others: list[str] = []
    refusals: collections.Counter = collections.Counter()

    @seed(args.seed)
    @settings(max_examples=args.examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=["generate"])
    @given(calls())
    def run(call):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kind, detail = outcome(call)
        counts[kind] += 1
        if kind == "refusal":
            refusals[detail.split(";")[0].split("`")[1] if "`" in detail else detail[:40]] += 1
        elif kind == "other":
            others.append(detail)

    run()
    total = sum(counts.values())
    print(f"examples: {total}  passes: {counts['pass']}  clear refusals: {counts['refusal']}  "
          f"anything else: {counts['other']}")
    print("refusals by field or type:", dict(refusals.most_common()))
    for detail in others[:10]:
        print("---", detail)
    return 1 if counts["other"] else 0


if __name__ == "__main__":
    sys.exit(main())
