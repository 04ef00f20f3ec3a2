"""Model backends: the chance baseline, transformers (local or Hub), OpenAI-compatible HTTP,
and Hub models through the Inference Providers router (the OpenAI-compatible backend reused)."""

from __future__ import annotations

from typing import Any

from medqdeg.dataset_builder.errors import InvalidInputError

from .base import Answer, Backend, GenerationSettings, Query

BACKENDS = ("chance", "transformers", "openai", "inference-providers")

__all__ = ["BACKENDS", "Answer", "Backend", "GenerationSettings", "Query", "build_backend"]


def build_backend(kind: str, model: str | None, **options: Any) -> Backend:
    """The ``kind`` backend for ``model`` with ``options``; heavy libraries are imported only here."""
    if kind == "chance":
        from .chance import ChanceBackend

        return ChanceBackend()
    if kind not in BACKENDS:
        raise InvalidInputError("backend", f"is {kind!r}", f"one of {', '.join(BACKENDS)}")
    if model is None:
        raise InvalidInputError("model", "is missing", f"a model id or folder for the {kind} backend")
    if kind == "transformers":
        from .transformers_backend import TransformersBackend

        return TransformersBackend(model, **options)
    if kind == "inference-providers":
        from .inference_providers import InferenceProvidersBackend

        return InferenceProvidersBackend(model, **options)
    from .openai_backend import OpenAIBackend

    return OpenAIBackend(model, **options)
