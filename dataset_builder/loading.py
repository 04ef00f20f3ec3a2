"""The front door: ``load_dataset("medqdeg", ...)`` with the feel of ``datasets.load_dataset``.

``load_dataset("medqdeg", name, split=..., streaming=..., num_proc=..., cache_dir=...,
**options)`` builds the MedQ-Deg configuration ``name`` with the package's own builder
and returns real ``datasets`` objects (a ``DatasetDict`` without ``split``, a ``Dataset``
with it, their ``Iterable`` versions when streaming). Generated data is cached under
``cache_dir`` (the datasets cache by default), keyed by the configuration, its options,
``CODE_VERSION`` and a fingerprint of the source's files (``sources.source_fingerprint``:
every file's path, size and modification time), and regenerated when one of them
changes, so an edited or extended source is read again; with
``streaming=True`` nothing is written and each example is degraded when it is read.
Any other ``path`` is handed to ``datasets.load_dataset`` unchanged.
"""

from __future__ import annotations

from typing import Any

import datasets

from .builder import CODE_VERSION, MedQDeg
from .errors import MedQDegError
from .sources import source_fingerprint

NAME = "medqdeg"


def medqdeg_builder(name: str = "default", *, cache_dir: str | None = None, **options: Any) -> MedQDeg:
    """The builder of configuration ``name`` with ``options`` (see ``MedQDegConfig``)."""
    for key in ("modalities", "types"):
        if options.get(key) is not None:
            options[key] = tuple(options[key])
    fingerprint = source_fingerprint(options.get("source", "embedded"), options.get("data_dir"),
                                     options.get("revision"))
    return MedQDeg(config_name=name, cache_dir=cache_dir, dataset_name=NAME, hash=f"{CODE_VERSION}-{fingerprint}",
                   **options)


def load_dataset(path: str = NAME, name: str | None = None, split: str | None = None, *,
                 streaming: bool = False, num_proc: int | None = None, cache_dir: str | None = None,
                 **options: Any):
    """Load a MedQ-Deg configuration (or, for another ``path``, defer to ``datasets``).

    >>> ds = load_dataset("medqdeg", "sparse_view", split="L2")  # doctest: +SKIP
    >>> ds.features["degradation"].int2str(ds[0]["degradation"])  # doctest: +SKIP
    'sparse_view'
    """
    if path != NAME:
        return datasets.load_dataset(path, name, split=split, streaming=streaming, num_proc=num_proc,
                                     cache_dir=cache_dir, **options)
    builder = medqdeg_builder(name or "default", cache_dir=cache_dir, **options)
    if streaming:
        return builder.as_streaming_dataset(split=split)
    try:
        builder.download_and_prepare(num_proc=num_proc)
    except datasets.exceptions.DatasetGenerationError as error:
        cause = error.__cause__
        if isinstance(cause, MedQDegError):  # a bad item: its own message names the file, row and field
            raise cause from error
        raise
    return builder.as_dataset(split=split)
