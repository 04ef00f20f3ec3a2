"""Test-wide setup: an isolated, offline Hugging Face cache.

The variables are set when pytest imports this file, before any test module imports
``datasets`` or ``evaluate`` (both read them at import time).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

_HF_HOME = tempfile.mkdtemp(prefix="medqdeg-test-hf-")
atexit.register(shutil.rmtree, _HF_HOME, ignore_errors=True)
os.environ["HF_HOME"] = _HF_HOME
os.environ["HF_DATASETS_CACHE"] = os.path.join(_HF_HOME, "datasets")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["MEDQDEG_CACHE"] = os.path.join(_HF_HOME, "medqdeg")
