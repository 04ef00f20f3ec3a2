"""External sources fetched from the Hugging Face Hub when no ``data_dir`` is given.

Each source downloads only the files it reads, through ``huggingface_hub`` into the
standard Hub cache (``HF_HUB_CACHE`` / ``HF_HOME``), at a pinnable ``revision`` (a branch,
tag or commit; default ``main``). ``HF_TOKEN`` (or a ``hf auth login``) is used
for gated datasets. With ``HF_HUB_OFFLINE=1`` everything is read from the cache; a file
that was never downloaded is a clear error. Repositories and layouts, found on each
dataset's published card and in the public code that reads it:

* ``medqdeg-tsv``: ``jiyaoliufd/MedQ-DEG-Bench`` (apache-2.0). The four TSV files at the
  repository root: ``MedQ-Robust-good-dev.tsv``, ``MedQ-Robust-good-test.tsv`` (clean) and
  ``MedQ-Robust-simulate-dev.tsv``, ``MedQ-Robust-simulate-test.tsv`` (degraded), as
  VLMEvalKit's ``MedQDEGBenchDataset`` reads them from a snapshot of that repository.
  ``data_dir`` becomes the snapshot folder.
* ``gmai-mmbench``: ``OpenGVLab/GMAI-MMBench``, the file ``GMAI_mm_bench_VAL.tsv`` at the
  root (the TEST file withholds answers). The dataset is gated: accept its terms on the
  dataset page with the account whose token is in ``HF_TOKEN``.
* ``omnimedvqa``: ``foreverbeliever/OmniMedVQA``, one archive ``OmniMedVQA.zip`` holding
  ``OmniMedVQA/QA_information/{Open,Restricted}-access/*.json`` and ``OmniMedVQA/Images/``.
  It is unpacked once under ``extract_folder()``; ``data_dir`` is the folder holding
  ``QA_information``.
* ``medxpertqa``: ``TsinghuaC3I/MedXpertQA`` (MIT), ``MM/dev.jsonl`` and ``MM/test.jsonl``
  and the archive ``images.zip`` of the images they name. The archive is unpacked once
  under ``extract_folder()``, beside links to the two JSONL files, into the layout the
  ``medxpertqa`` source reads (``MM/*.jsonl``, ``images/``).

Archives are unpacked into ``<MEDQDEG_CACHE or ~/.cache/medqdeg>/hub/<owner>--<name>/<commit>/``,
keyed by the commit the Hub cache resolved, so a new revision is unpacked anew and the
cache key of the generated data (``source_fingerprint``) changes with it.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidInputError


@dataclass(frozen=True)
class HubLayout:
    """Where a source's published files live on the Hub."""

    repo_id: str
    files: tuple[str, ...] = ()  # downloaded as they are
    archive: str | None = None  # a zip unpacked once
    root_marker: str | None = None  # the folder the source's data_dir is: the one holding this entry
    gated: bool = False


HUB_LAYOUTS: dict[str, HubLayout] = {
    "medqdeg-tsv": HubLayout("jiyaoliufd/MedQ-DEG-Bench", files=(
        "MedQ-Robust-good-dev.tsv", "MedQ-Robust-good-test.tsv",
        "MedQ-Robust-simulate-dev.tsv", "MedQ-Robust-simulate-test.tsv")),
    "gmai-mmbench": HubLayout("OpenGVLab/GMAI-MMBench", files=("GMAI_mm_bench_VAL.tsv",), gated=True),
    "omnimedvqa": HubLayout("foreverbeliever/OmniMedVQA", archive="OmniMedVQA.zip", root_marker="QA_information"),
    "medxpertqa": HubLayout("TsinghuaC3I/MedXpertQA", files=("MM/dev.jsonl", "MM/test.jsonl"),
                            archive="images.zip"),
}


def extract_folder() -> Path:
    """Where archives are unpacked: ``$MEDQDEG_CACHE/hub``, else ``~/.cache/medqdeg/hub``."""
    root = os.environ.get("MEDQDEG_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "medqdeg")
    return Path(root) / "hub"


def _download(source: str, layout: HubLayout, filename: str, revision: str | None) -> Path:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    where = f"source {source!r} (Hub dataset {layout.repo_id}, revision {revision or 'main'})"
    page = f"https://huggingface.co/datasets/{layout.repo_id}"
    try:
        return Path(hf_hub_download(layout.repo_id, filename, repo_type="dataset", revision=revision))
    except GatedRepoError:
        raise InvalidInputError(
            "HF_TOKEN", f"gives no access to the gated dataset {layout.repo_id}",
            f"a token (HF_TOKEN or `hf auth login`) of an account that accepted the terms on {page}",
            item=where) from None
    except RevisionNotFoundError:
        raise InvalidInputError("revision", f"is {revision!r}, which {layout.repo_id} does not have",
                                f"a branch, tag or commit of {page}", item=where) from None
    except LocalEntryNotFoundError:
        raise InvalidInputError("file", f"{filename!r} is not in the Hub cache and the Hub cannot be reached "
                                "(offline)", "one online run to fill the cache (HF_HUB_CACHE), or data_dir with "
                                "a local copy", item=where) from None
    except EntryNotFoundError:
        raise InvalidInputError("file", f"{filename!r} is not in {layout.repo_id}",
                                "the published layout (see medqdeg.dataset_builder.sources.hub); pass data_dir "
                                "with a local copy", item=where) from None
    except RepositoryNotFoundError:
        raise InvalidInputError("repo_id", f"{layout.repo_id} is not found or is private",
                                f"access to {page} (HF_TOKEN for private or gated datasets)", item=where) from None


def _unpack(archive: Path, target: Path, where: str) -> None:
    """Unpack ``archive`` into ``target`` once (safely: no entry may leave ``target``)."""
    done = target / ".complete"
    if done.exists():
        return
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        with zipfile.ZipFile(archive) as bundle:
            for member in bundle.namelist():
                resolved = (partial / member).resolve()
                if not resolved.is_relative_to(partial.resolve()):
                    raise InvalidInputError("archive", f"entry {member!r} points outside the folder",
                                            "a zip with relative paths", item=where)
            bundle.extractall(partial)
    except zipfile.BadZipFile as error:
        raise InvalidInputError("archive", f"is not a readable zip ({error})", "the published zip archive",
                                item=where) from None
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    done.touch()


def _find_folder(top: Path, predicate, depth: int = 3) -> Path | None:
    """The shallowest folder under ``top`` (itself included) for which ``predicate`` holds."""
    level = [top]
    for _ in range(depth + 1):
        for folder in level:
            if predicate(folder):
                return folder
        level = [child for folder in level for child in sorted(folder.iterdir()) if child.is_dir()]
    return None


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")


def hub_data_dir(source: str, revision: str | None = None) -> Path:
    """Download (or find in the cache) ``source``'s published files; the folder to read them from."""
    if source not in HUB_LAYOUTS:
        raise InvalidInputError("data_dir", "is not given", f"a data_dir: source {source!r} is not on the Hub "
                                f"(Hub sources: {', '.join(sorted(HUB_LAYOUTS))})", item=f"source {source!r}")
    layout = HUB_LAYOUTS[source]
    where = f"source {source!r} (Hub dataset {layout.repo_id})"
    files = [_download(source, layout, name, revision) for name in layout.files]
    if layout.archive is None:
        # hf_hub_download returns <cache>/snapshots/<commit>/<filename>: the snapshot is the folder
        return Path(str(files[0])[: -len(layout.files[0])]).resolve(strict=False) if files else Path()
    archive = _download(source, layout, layout.archive, revision)
    commit = archive.parent.name if not layout.files else Path(str(files[0])[: -len(layout.files[0])]).name
    base = extract_folder() / layout.repo_id.replace("/", "--") / commit
    _unpack(archive, base / "unpacked", where)
    if layout.root_marker:  # the data folder is the one holding the marker
        root = _find_folder(base / "unpacked", lambda folder: (folder / layout.root_marker).is_dir())
        if root is None:
            raise InvalidInputError("archive", f"holds no folder {layout.root_marker!r}",
                                    f"the published layout of {layout.repo_id}", item=where)
        return root
    # medxpertqa: the JSONL files beside the images, in the source's layout
    images = _find_folder(base / "unpacked", lambda folder: any(
        p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir() if p.is_file()))
    if images is None:
        raise InvalidInputError("archive", f"{layout.archive!r} holds no image files",
                                f"the published layout of {layout.repo_id}", item=where)
    root = base / "root"
    (root / "MM").mkdir(parents=True, exist_ok=True)
    for name, path in zip(layout.files, files, strict=True):
        link = root / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(path)
    link = root / "images"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(images, target_is_directory=True)
    return root
