"""Model backends: the chance baseline, transformers (local or Hub), OpenAI-compatible HTTP."""

from .base import Answer, Backend, GenerationSettings, Query

__all__ = ["Answer", "Backend", "GenerationSettings", "Query"]
