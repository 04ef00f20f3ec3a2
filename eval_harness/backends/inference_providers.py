"""Hub models through the Hugging Face Inference Providers router (OpenAI-compatible).

The router (``https://router.huggingface.co/v1``) serves any Hub model that a provider
hosts through the OpenAI chat-completions API; the model is named as on the Hub,
``ORG/NAME``, optionally with a provider or policy suffix (``ORG/NAME:novita``,
``ORG/NAME:fastest``), and requests are billed to the Hub token's owner.

This backend *is* the OpenAI-compatible backend (``OpenAIBackend``: retries with backoff,
fill-up of missing samples with their own seeds, letter-probs when logprobs come back,
per-item failures as records, scrubbed messages) with three things fixed: the token is
read from ``HF_TOKEN`` only (never written to settings, records or messages), the base URL
is the router (``$MEDQDEG_INFERENCE_PROVIDERS_URL`` or ``base_url`` replace it, e.g. with
a local stand-in in tests), and the server is treated as plain OpenAI (no flavour probe).
"""

from __future__ import annotations

import os
import re
from typing import Any

from medqdeg.dataset_builder.errors import InvalidInputError

from .openai_backend import OpenAIBackend

ROUTER_URL = "https://router.huggingface.co/v1"
TOKEN_ENV = "HF_TOKEN"
BASE_URL_ENV = "MEDQDEG_INFERENCE_PROVIDERS_URL"
KIND = "inference-providers"
MODEL_ID = re.compile(r"[\w.-]+/[\w.-]+(?::[\w.-]+)?")


def split_model(model: str) -> tuple[str, str | None]:
    """``("ORG/NAME", provider or None)`` of ``ORG/NAME[:PROVIDER]``; the project's error otherwise."""
    model = (model or "").strip()
    if not MODEL_ID.fullmatch(model) or ".." in model:
        raise InvalidInputError("model", f"is {model!r}",
                                "a Hub model id ORG/NAME, optionally with a provider: ORG/NAME:PROVIDER")
    repo, _, provider = model.partition(":")
    return repo, provider or None


class InferenceProvidersBackend(OpenAIBackend):
    """A Hub model asked through the Inference Providers router (see the module docstring).

    Args:
        model: ``ORG/NAME`` or ``ORG/NAME:PROVIDER`` (``:fastest``, ``:cheapest`` also work).
        base_url: the router's root; default ``$MEDQDEG_INFERENCE_PROVIDERS_URL``, else the Hub's.
        **options: as ``OpenAIBackend`` (concurrency, timeout, max_retries, backoff,
            extra_body, client); the key variable, base-URL variable and flavour are fixed.
    """

    def __init__(self, model: str, *, base_url: str | None = None, **options: Any):
        for fixed in ("api_key_env", "base_url_env", "server_flavor"):
            if fixed in options:
                raise InvalidInputError(fixed, "cannot be set for the inference-providers backend",
                                        f"nothing: the token is ${TOKEN_ENV}, the URL ${BASE_URL_ENV} or base_url")
        self.hub_model, self.provider = split_model(model)
        url = base_url or os.environ.get(BASE_URL_ENV) or ROUTER_URL
        super().__init__(model.strip(), base_url=url, api_key_env=TOKEN_ENV, base_url_env=BASE_URL_ENV,
                         server_flavor="openai", **options)
        self.name = f"{KIND}:{self.model}"

    def settings(self) -> dict[str, Any]:
        """The OpenAI backend's settings under this backend's name, with the Hub model and provider."""
        return {**super().settings(), "backend": KIND, "hub_model": self.hub_model, "provider": self.provider}
