"""Model backends: the chance baseline, transformers (local or Hub), OpenAI-compatible HTTP,
and Hub models through the Inference Providers router (the OpenAI-compatible backend reused).

``BACKENDS`` maps each name to its class as a lazy ``"module:class"`` entry, so torch,
transformers and the HTTP clients are imported only when that backend is built;
``BACKENDS.names()`` gives the command line's and the Space's choices. A backend whose
metadata says ``needs_model=False`` (the chance baseline) is built with no arguments.
"""

from __future__ import annotations

from typing import Any

from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.dataset_builder.registry import Registry

from .base import Answer, Backend, GenerationSettings, Query

__all__ = ["BACKENDS", "Answer", "Backend", "GenerationSettings", "Query", "build_backend"]

BACKENDS: Registry[type] = Registry(
    "backend", accepts=lambda obj: isinstance(obj, type), expected="a backend class (see backends.base.Backend)")

BACKENDS.add_lazy("chance", f"{__name__}.chance:ChanceBackend", needs_model=False)
BACKENDS.add_lazy("transformers", f"{__name__}.transformers_backend:TransformersBackend", needs_model=True)
BACKENDS.add_lazy("openai", f"{__name__}.openai_backend:OpenAIBackend", needs_model=True)
BACKENDS.add_lazy("inference-providers", f"{__name__}.inference_providers:InferenceProvidersBackend",
                  needs_model=True)


def build_backend(kind: str, model: str | None, **options: Any) -> Backend:
    """The ``kind`` backend for ``model`` with ``options``; its module is imported only now."""
    backend_class = BACKENDS.get(kind)
    if not BACKENDS.metadata(kind)["needs_model"]:
        return backend_class()
    if model is None:
        raise InvalidInputError("model", "is missing", f"a model id or folder for the {kind} backend")
    return backend_class(model, **options)
