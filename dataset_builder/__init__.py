"""MedQ-Deg dataset builder: degradations, clean sources, the datasets builder, export.

>>> from medqdeg.dataset_builder import load_dataset
>>> ds = load_dataset("medqdeg", "default", split="L2")  # doctest: +SKIP

``load_dataset`` and ``medqdeg_builder`` are imported on first use, so the degradation
engine can be used without importing ``datasets``.
"""

from __future__ import annotations

__all__ = ["load_dataset", "medqdeg_builder"]


def __getattr__(name: str):
    if name in __all__:
        from . import loading

        return getattr(loading, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
