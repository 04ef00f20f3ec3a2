"""The registry of clean sources: each name, the function that reads it, and whether it
publishes degraded rows.

A source is a function ``data_dir -> Iterator[CleanItem | MedQDegError]``. The built-in
ones are lazy entries (``"module:function"``), imported when first read, so listing the
names (the command line's choices) loads no reader and no image library; more can be
added with the ``SOURCES.register(name)`` decorator. ``released=True`` marks a source that
publishes a benchmark's degraded rows itself: its L1/L2 are the published rows, never
the toolkit's own degradations unless asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import MedQDegError
from ..items import CleanItem
from ..registry import Registry

SourceFn = Callable[[Path | None], Iterator[CleanItem | MedQDegError]]

SOURCES: Registry[SourceFn] = Registry(
    "source", accepts=callable, expected="a function data_dir -> iterator of CleanItem or MedQDegError")

SOURCES.add_lazy("embedded", f"{__package__}.embedded:embedded_source")
SOURCES.add_lazy("jsonl", f"{__package__}.table:jsonl_items")
SOURCES.add_lazy("csv", f"{__package__}.table:csv_items")
SOURCES.add_lazy("medqdeg-tsv", f"{__package__}.vlmevalkit_tsv:medqdeg_tsv_items", released=True)
SOURCES.add_lazy("gmai-mmbench", f"{__package__}.vlmevalkit_tsv:gmai_mmbench_items")
SOURCES.add_lazy("omnimedvqa", f"{__package__}.omnimedvqa:omnimedvqa_items")
SOURCES.add_lazy("medxpertqa", f"{__package__}.medxpertqa:medxpertqa_items")


def is_released_source(name: str) -> bool:
    """Whether source ``name`` publishes the benchmark's degraded rows (``released=True``)."""
    return bool(SOURCES.metadata(name).get("released", False))
