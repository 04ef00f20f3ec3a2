"""Property-based check of the engine over its whole input space (see ``engine_space``): every
call passes or is refused with the project's error; nothing else. ``HYPOTHESIS_EXAMPLES``
bounds the examples (default 200 in CI); ``benchmarks/engine_fuzz.py`` runs 10,000+."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings

from .engine_space import calls, outcome

EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "200"))


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(calls())
def test_every_call_passes_or_is_refused_clearly(call):
    kind, detail = outcome(call)
    assert kind in ("pass", "refusal"), detail
