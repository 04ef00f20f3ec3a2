"""What the host configures: the model allowlist, the run folders, the safety limits.

Everything comes from the command line (``medqdeg space ...``) or from environment
variables (the way a Hub Space is configured: Settings -> Variables); the command line
wins. Nothing here can be changed from the page.

==================================  ===================================================
``MEDQDEG_SPACE_MODELS``            the allowlist, comma or newline separated (see below)
``MEDQDEG_SPACE_RUNS``              the leaderboard's run folders: a folder, or
                                    ``hf://datasets/ORG/NAME[/SUBFOLDER]`` (default:
                                    ``runs/`` when it exists)
``MEDQDEG_SPACE_ALLOW_ANY_MODEL``   ``1`` lets visitors type any Hub model id (off)
``MEDQDEG_SPACE_MAX_UPLOAD_MB``     largest upload in MiB (20)
``MEDQDEG_SPACE_MAX_PIXELS``        largest image, height x width (4096 x 4096)
``MEDQDEG_SPACE_MAX_SIDE``          larger images are shrunk to this side first (1024)
``MEDQDEG_SPACE_MAX_SAMPLES``       the most answers T a visitor may ask for (10)
``MEDQDEG_SPACE_CONCURRENCY``       requests worked on at once (2); models answer one
                                    request at a time
``MEDQDEG_SPACE_QUEUE_SIZE``        requests waiting at most (32); more are refused
``MEDQDEG_SPACE_DEVICE``            the transformers backend's device (``auto``; on
                                    ZeroGPU hardware ``auto`` means ``cuda``)
``MEDQDEG_SPACE_GPU_DURATION``      seconds a request may hold a ZeroGPU GPU (60)
``MEDQDEG_SPACE_CACHE_DIR``         where a Hub dataset of runs is downloaded (the Hub's
                                    default cache)
==================================  ===================================================

A model entry is ``[LABEL=]SPEC``; SPEC is one of

- ``chance``: the built-in chance baseline (always offered, first, even if not listed);
- ``openai:MODEL`` or ``openai:MODEL@BASE_URL``: an OpenAI-compatible endpoint; its key
  is read by the backend from ``OPENAI_API_KEY`` in the server's environment, never
  from the page;
- ``inference-providers:ORG/NAME[:PROVIDER]`` (optionally ``@BASE_URL``): a Hub model
  asked through the Hub's Inference Providers router, billed to the token in
  ``HF_TOKEN`` (a Space secret), read by the backend, never from the page or shown;
- anything else: a Hub model id or a local folder, loaded by the transformers backend
  with ``trust_remote_code=False`` (there is no way to turn it on from here).

>>> [m.label for m in parse_models("tiny=/models/tiny, openai:gpt-4o")]
['tiny', 'openai:gpt-4o']
>>> parse_model("qwen=inference-providers:Qwen/Qwen2.5-VL-7B-Instruct:hyperbolic").model
'Qwen/Qwen2.5-VL-7B-Instruct:hyperbolic'
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.eval_harness.backends import BACKENDS

ENV_PREFIX = "MEDQDEG_SPACE_"
CHANCE = "chance"
PROVIDERS_PREFIX = "inference-providers:"
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class ModelEntry:
    """One model a visitor may choose: a label shown on the page and how to load it."""

    label: str
    backend: str  # chance | transformers | openai | inference-providers
    model: str
    base_url: str | None = None


CHANCE_ENTRY = ModelEntry(label=CHANCE, backend="chance", model=CHANCE)


def parse_model(text: str) -> ModelEntry:
    """One ``[LABEL=]SPEC`` entry (see the module docstring)."""
    text = text.strip()
    if not text:
        raise InvalidInputError("models", "has an empty entry", "entries such as `org/name`, `label=/folder`, "
                                "`openai:MODEL[@URL]` or `chance`")
    label, spec = (part.strip() for part in text.split("=", 1)) if "=" in text else (None, text)
    if not spec or label == "":
        raise InvalidInputError("models", f"has the entry {text!r}", "LABEL=SPEC with both parts non-empty")
    if spec == CHANCE:
        return replace(CHANCE_ENTRY, label=label or CHANCE)
    if spec.startswith("openai:"):
        name, _, url = spec.removeprefix("openai:").partition("@")
        if not name.strip():
            raise InvalidInputError("models", f"has the entry {text!r}", "openai:MODEL or openai:MODEL@BASE_URL")
        return ModelEntry(label=label or spec, backend="openai", model=name.strip(), base_url=url.strip() or None)
    if spec.startswith(PROVIDERS_PREFIX):
        from medqdeg.eval_harness.backends.inference_providers import split_model

        name, _, url = spec.removeprefix(PROVIDERS_PREFIX).partition("@")
        try:
            split_model(name)
        except InvalidInputError:
            raise InvalidInputError("models", f"has the entry {text!r}",
                                    "inference-providers:ORG/NAME or inference-providers:ORG/NAME:PROVIDER") from None
        return ModelEntry(label=label or spec, backend="inference-providers", model=name.strip(),
                          base_url=url.strip() or None)
    return ModelEntry(label=label or spec, backend="transformers", model=spec)


def parse_models(entries: str | Iterable[str] | None) -> tuple[ModelEntry, ...]:
    """The allowlist: entries from a comma/newline separated string or a list of strings."""
    if entries is None:
        return ()
    if isinstance(entries, str):
        entries = re.split(r"[,\n]", entries)
    parsed = [parse_model(entry) for entry in entries if entry.strip()]
    labels = [entry.label for entry in parsed]
    duplicated = sorted({label for label in labels if labels.count(label) > 1})
    if duplicated:
        raise InvalidInputError("models", f"uses the label {duplicated[0]!r} twice", "one label per model")
    return tuple(parsed)


def _flag(name: str, value: str) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise InvalidInputError(name, f"is {value!r}", "1/true/yes/on or 0/false/no/off")


def _positive(name: str, value: str | float | int, kind=int):
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise InvalidInputError(name, f"is {value!r}", f"a positive {kind.__name__}") from None
    if number <= 0:
        raise InvalidInputError(name, f"is {value!r}", f"a positive {kind.__name__}")
    return number


@dataclass(frozen=True)
class SpaceSettings:
    """The host's configuration of the Space (see the module docstring)."""

    models: tuple[ModelEntry, ...] = ()
    runs: str | None = None
    allow_any_model: bool = False
    max_upload_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 4096 * 4096
    max_side: int = 1024
    max_samples: int = 10
    concurrency: int = 2
    queue_size: int = 32
    device: str = "auto"
    gpu_duration: int = 60  # seconds per request on ZeroGPU (spaces.GPU(duration=...))
    cache_dir: str | None = None  # where a Hub dataset of runs is downloaded

    def __post_init__(self) -> None:
        for name in ("max_upload_bytes", "max_pixels", "max_side", "max_samples", "concurrency", "queue_size",
                     "gpu_duration"):
            _positive(name, getattr(self, name))
        labels = [m.label for m in self.models]
        if len(set(labels)) != len(labels):
            raise InvalidInputError("models", "has a label twice", "one label per model")
        for entry in self.models:
            if entry.backend not in BACKENDS:
                raise InvalidInputError("models", f"has backend {entry.backend!r}",
                                        f"one of {', '.join(BACKENDS.names())}")

    @property
    def allowlist(self) -> tuple[ModelEntry, ...]:
        """The models a visitor may choose: the chance baseline first, then the host's."""
        listed = tuple(m for m in self.models if m.backend != "chance")
        chance = next((m for m in self.models if m.backend == "chance"), CHANCE_ENTRY)
        return (chance, *listed)

    @property
    def model_labels(self) -> list[str]:
        return [m.label for m in self.allowlist]

    def runs_location(self) -> str | None:
        """The configured runs location, else ``runs/`` when that folder exists, else None."""
        if self.runs:
            return self.runs
        return "runs" if Path("runs").is_dir() else None


def from_environment(environ: Mapping[str, str] | None = None, **overrides) -> SpaceSettings:
    """Settings from ``MEDQDEG_SPACE_*`` variables; keyword arguments that are not None win."""
    env = os.environ if environ is None else environ
    values: dict = {}

    def get(name: str) -> str | None:
        value = env.get(ENV_PREFIX + name)
        return value if value is not None and value.strip() != "" else None

    if get("MODELS") is not None:
        values["models"] = parse_models(get("MODELS"))
    if get("RUNS") is not None:
        values["runs"] = get("RUNS").strip()
    if get("ALLOW_ANY_MODEL") is not None:
        values["allow_any_model"] = _flag(ENV_PREFIX + "ALLOW_ANY_MODEL", get("ALLOW_ANY_MODEL"))
    if get("MAX_UPLOAD_MB") is not None:
        values["max_upload_bytes"] = int(_positive(ENV_PREFIX + "MAX_UPLOAD_MB", get("MAX_UPLOAD_MB"), float)
                                         * 1024 * 1024)
    for name, key in (("MAX_PIXELS", "max_pixels"), ("MAX_SIDE", "max_side"), ("MAX_SAMPLES", "max_samples"),
                      ("CONCURRENCY", "concurrency"), ("QUEUE_SIZE", "queue_size"),
                      ("GPU_DURATION", "gpu_duration")):
        if get(name) is not None:
            values[key] = _positive(ENV_PREFIX + name, get(name))
    if get("DEVICE") is not None:
        values["device"] = get("DEVICE").strip()
    if get("CACHE_DIR") is not None:
        values["cache_dir"] = get("CACHE_DIR").strip()
    for key, value in overrides.items():
        if value is None:
            continue
        if key == "models" and not isinstance(value, tuple):
            value = parse_models(value)
        values[key] = value
    return SpaceSettings(**values)
