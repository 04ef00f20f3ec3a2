"""MedQ-Deg dataset builder: degradations, clean sources, the datasets builder, export.

>>> from medqdeg.dataset_builder import load_dataset
>>> ds = load_dataset("medqdeg", "default", split="L2")  # doctest: +SKIP
"""

from .loading import load_dataset, medqdeg_builder

__all__ = ["load_dataset", "medqdeg_builder"]
