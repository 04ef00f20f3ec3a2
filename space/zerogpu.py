"""ZeroGPU: run the local transformers models on a Space's shared GPU, and on CPU elsewhere.

On a Hub Space with ZeroGPU hardware (the Hub sets ``SPACES_ZERO_GPU=true`` and installs
the ``spaces`` package), a GPU is attached only while a function decorated with
``@spaces.GPU(duration=...)`` runs, in a worker process forked for the call. So the Space
loads each transformers model once, at start, in the main process (``ModelPool.preload``,
onto ``cuda``, which ``spaces`` makes valid there), and runs only the generation inside
the decorated function, which asks for ``MEDQDEG_SPACE_GPU_DURATION`` seconds (60) per
request: a request holds the GPU for at most that long, and a shorter duration gets a
visitor a GPU sooner in the ZeroGPU queue.

Elsewhere the same code runs unchanged: with ``spaces`` installed but no ZeroGPU,
``spaces.GPU`` returns the function as it is; without ``spaces`` the function is used
directly; the model then runs on the device of ``MEDQDEG_SPACE_DEVICE`` (``auto``: CUDA
when present, else CPU). ``SPACES_ZERO_GPU`` set without ``spaces`` importable is an
error, not a silent CPU run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TypeVar

from medqdeg.dataset_builder.errors import InvalidInputError

ZERO_GPU_ENV = "SPACES_ZERO_GPU"
_TRUE = ("1", "t", "true")  # as the spaces package reads it
F = TypeVar("F", bound=Callable)


def on_zero_gpu(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this process runs on ZeroGPU hardware (``SPACES_ZERO_GPU`` true)."""
    env = os.environ if environ is None else environ
    return (env.get(ZERO_GPU_ENV) or "").strip().lower() in _TRUE


def gpu_function(function: F, duration: int, environ: Mapping[str, str] | None = None) -> F:
    """``function`` under ``spaces.GPU(duration=duration)`` when ``spaces`` is installed, else itself."""
    try:
        import spaces
    except ImportError as error:
        if on_zero_gpu(environ):
            raise InvalidInputError(ZERO_GPU_ENV, "is true but the `spaces` package cannot be imported",
                                    "`spaces` in the Space's requirements (ZeroGPU Spaces have it)") from error
        return function
    return spaces.GPU(duration=int(duration))(function)
