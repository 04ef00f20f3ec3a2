"""The evaluate module folders shipped in the wheel: find them, install them by name, publish them.

Each folder (``calibration_shift``, ``medqdeg_accuracy``) is shaped like a Hub metric
Space: the module script, a metric card (``README.md`` with the Space header), a Gradio
``app.py`` and ``requirements.txt``. They are package data of ``medqdeg.metrics``, so an
installed wheel holds them.

Plain-name loading. ``evaluate.load("calibration_shift")`` (evaluate 0.4.x) looks for
``calibration_shift/calibration_shift.py`` under the working folder, then for the Hub's
canonical Spaces ``evaluate-metric/``, ``evaluate-comparison/``, ``evaluate-measurement/``
``calibration_shift``, and when those fail (no such Space, or offline), for the most recent
copy in its module cache, ``<HF_MODULES_CACHE>/evaluate_modules/metrics/
evaluate-metric--calibration_shift/<hash>/calibration_shift.py``. ``install_modules`` writes
the packaged scripts exactly there, with evaluate's own ``_create_importable_file`` (the
function that caches a module downloaded from the Hub), so the plain name resolves from any
folder, online or offline, without a network request of ours and without touching
evaluate. evaluate says it is using the cached copy (one warning per load).

Publishing. ``push_metric`` uploads one folder as a Gradio Space ``ORG/NAME``; evaluate
fetches ``NAME.py`` from such a Space, so the script is renamed to ``NAME.py`` in the
upload, and ``evaluate.load("ORG/NAME")`` then works for anyone with ``medqdeg`` installed
(the script imports the formulas from it).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from medqdeg.dataset_builder.errors import InvalidInputError

PACKAGE_FOLDER = Path(__file__).resolve().parent
MODULES = ("calibration_shift", "medqdeg_accuracy")
CANONICAL_NAMESPACE = "evaluate-metric"  # the first namespace evaluate tries for a plain name
SPACE_FILES = ("README.md", "app.py", "requirements.txt")
REQUIREMENT_MARKER = "medqdeg"
_HUB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")  # a dot would split evaluate's module path


def module_folder(name: str) -> Path:
    """The packaged folder of the metric ``name`` (one of ``MODULES``)."""
    if name not in MODULES:
        raise InvalidInputError("metric", f"is {name!r}", f"one of {', '.join(MODULES)}")
    folder = PACKAGE_FOLDER / name
    if not (folder / f"{name}.py").is_file():
        raise InvalidInputError("metric", f"{name!r} has no module script at {folder}",
                                "an installation of medqdeg that holds its metric folders (reinstall it)")
    return folder


def module_script(folder: str | Path) -> Path:
    """The evaluate module script of a metric folder: ``<folder name>.py``, else its one ``.py`` besides app.py.

    A metric Space on the Hub lives in a folder named after nothing in particular
    (``/home/user/app``), so its ``app.py`` cannot load the folder by name.
    """
    folder = Path(folder)
    named = folder / f"{folder.name}.py"
    if named.is_file() and named.name != "app.py":
        return named
    scripts = sorted(p for p in folder.glob("*.py") if p.name != "app.py")
    if len(scripts) != 1:
        raise InvalidInputError("folder", f"{str(folder)!r} holds {len(scripts)} module scripts besides app.py",
                                "exactly one evaluate module script")
    return scripts[0]


def install_modules(names: list[str] | tuple[str, ...] | None = None) -> list[Path]:
    """Put the packaged module scripts into evaluate's module cache as canonical modules; their paths.

    The cache is ``HF_MODULES_CACHE`` (default ``$HF_HOME/modules``) as evaluate reads it.
    Rerunning it after an upgrade writes the new script beside the old one and marks it the
    most recent, which is the one evaluate picks.
    """
    try:
        from datasets import DownloadMode
        from evaluate.loading import _create_importable_file, init_dynamic_modules
    except ImportError as error:
        raise InvalidInputError("evaluate", f"cannot be imported ({error})",
                                'the metrics extra: pip install "medqdeg[metrics]"') from error
    installed = []
    for name in names or MODULES:
        script = module_folder(name) / f"{name}.py"
        _, digest = _create_importable_file(
            local_path=str(script), local_imports=[], additional_files=[],
            dynamic_modules_path=init_dynamic_modules(), module_namespace="metrics",
            name=f"{CANONICAL_NAMESPACE}/{name}", download_mode=DownloadMode.REUSE_DATASET_IF_EXISTS,
        )
        target = (Path(init_dynamic_modules()) / "metrics" / f"{CANONICAL_NAMESPACE}--{name}" / digest
                  / f"{name}.py")
        if not target.is_file():
            raise InvalidInputError("metric", f"{name!r} was not written to {target}",
                                    "an evaluate version whose module cache is laid out as 0.4.x's")
        os.utime(target)  # evaluate takes the most recently modified copy
        installed.append(target)
    return installed


def _stage(folder: Path, name: str, requirement: str | None, into: Path) -> Path:
    """A copy of ``folder`` to upload as the Space ``ORG/name``: the script renamed ``name.py``."""
    staged = into / name
    staged.mkdir()
    script = module_script(folder)
    shutil.copyfile(script, staged / f"{name}.py")
    for file in SPACE_FILES:
        shutil.copyfile(folder / file, staged / file)
    if requirement:
        path = staged / "requirements.txt"
        kept = [line for line in path.read_text().splitlines()
                if not line.strip().lower().startswith(REQUIREMENT_MARKER)]
        path.write_text("\n".join([requirement, *kept]) + "\n")
    return staged


def push_metric(repo_id: str, *, metric: str | None = None, folder: str | Path | None = None,
                private: bool = False, requirement: str | None = None, token: str | None = None) -> str:
    """Create (or reuse) the metric Space ``repo_id`` and upload a module folder; return its URL.

    ``folder`` defaults to the packaged folder of ``metric``, which defaults to the NAME of
    ``repo_id`` when that is one of ``MODULES``. The token comes from ``token``, else
    huggingface_hub's own lookup (``HF_TOKEN``, the login cache); it is never printed.
    """
    from huggingface_hub import HfApi

    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise InvalidInputError("repo", f"is {repo_id!r}", "ORG/NAME")
    name = repo_id.split("/")[1]
    if not _HUB_NAME.fullmatch(name):
        raise InvalidInputError("repo", f"has the name {name!r}",
                                "a NAME of letters, digits, '_' and '-' (evaluate imports it as a module)")
    if folder is None:
        metric = metric or (name if name in MODULES else None)
        if metric is None:
            raise InvalidInputError("metric", f"is not given and {name!r} is no packaged metric",
                                    f"--metric, one of {', '.join(MODULES)}")
        folder = module_folder(metric)
    folder = Path(folder)
    missing = [file for file in SPACE_FILES if not (folder / file).is_file()]
    if missing:
        raise InvalidInputError("folder", f"{str(folder)!r} lacks {', '.join(missing)}",
                                "a metric folder (module script, README.md with the Space header, app.py, "
                                "requirements.txt)")
    module_script(folder)  # exactly one script, or a clear error before anything is created
    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="space", space_sdk="gradio", private=private, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="medqdeg-push-metric-") as scratch:
        staged = _stage(folder, name, requirement, Path(scratch))
        api.upload_folder(folder_path=str(staged), repo_id=repo_id, repo_type="space",
                          commit_message="Upload a MedQ-Deg evaluate metric")
    return f"https://huggingface.co/spaces/{repo_id}"
