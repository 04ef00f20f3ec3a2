"""Clean sources: each turns a data location into validated ``CleanItem``s.

A source is a function ``data_dir -> Iterator[CleanItem | MedQDegError]`` registered
under a name in ``SOURCES`` (``sources.registry``; one module per format reads it, with
the helpers of ``sources.files``): a row it cannot read comes out as an error value
naming the file, the row and the field, so one bad row does not end the iteration.
``iter_source`` validates every item, refuses duplicate ids, and raises the first error,
or with ``on_error="skip"`` skips bad items and lists them in a ``SkipReport``; nothing
is dropped silently.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InvalidInputError, MedQDegError
from ..items import CleanItem, validate_item
from ..vocabulary import stable_key
from .registry import SOURCES, is_released_source

__all__ = ["ON_ERROR", "SOURCES", "SkipReport", "is_released_source", "iter_source",
           "resolve_data_dir", "source_fingerprint"]

ON_ERROR = ("raise", "skip")


def source_fingerprint(name: str, data_dir: str | Path | None, revision: str | None = None) -> str:
    """A short hash of what the source's data is now, part of the generated data's cache key.

    For a ``data_dir`` (a file or a folder, walked recursively, hidden entries skipped):
    the relative path, size and modification time (ns) of every file, so adding a row,
    editing a file or replacing an image changes the key and the data is read again.
    Contents are not hashed (a multi-gigabyte TSV would be read twice); an edit that keeps
    both the size and the modification time is not seen. The embedded sample: its version.
    """
    parts: list[object] = [name]
    if data_dir is None and name in SOURCES and name != "embedded":
        data_dir = resolve_data_dir(name, None, revision)  # the Hub snapshot's files (path holds the commit)
        parts.append(str(data_dir))
    if data_dir is None:
        from .embedded import EMBEDDED_VERSION

        parts.append(f"embedded-v{EMBEDDED_VERSION}" if name == "embedded" else "no-data-dir")
        return stable_key(*parts, chars=16)
    root = Path(data_dir)
    if root.is_file():
        files = [root]
        base = root.parent
    else:
        files = []
        for folder, subfolders, names in os.walk(root, followlinks=True):
            subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
            files += [Path(folder) / n for n in sorted(names) if not n.startswith(".")]
        base = root
    for path in files:
        stat = path.stat()
        parts.append([path.relative_to(base).as_posix(), stat.st_size, stat.st_mtime_ns])
    return stable_key(*parts, chars=16)


@dataclass
class SkipReport:
    """Items skipped under ``on_error="skip"``: how many and which, with the reason."""

    skipped: list[tuple[str, str]] = field(default_factory=list)  # (location or id, message)

    def __len__(self) -> int:
        return len(self.skipped)

    def summary(self) -> str:
        lines = [f"skipped {len(self.skipped)} item(s):"]
        lines += [f"  {where}: {message}" for where, message in self.skipped]
        return "\n".join(lines)


def resolve_data_dir(name: str, data_dir: str | Path | None, revision: str | None = None) -> Path | None:
    """``data_dir`` as a path; without one, an external source's files from the Hub (``hub``)."""
    if data_dir is not None:
        return Path(data_dir)
    from .hub import HUB_LAYOUTS, hub_data_dir

    return hub_data_dir(name, revision) if name in HUB_LAYOUTS else None


def iter_source(name: str, data_dir: str | Path | None = None, *, on_error: str = "raise",
                report: SkipReport | None = None, revision: str | None = None) -> Iterator[CleanItem]:
    """Validated clean items of source ``name``; duplicates and bad items raise or are reported.

    Without ``data_dir`` an external source is downloaded from the Hub at ``revision``
    (see ``sources.hub``); ``revision`` is ignored when ``data_dir`` is given."""
    read = SOURCES.get(name)
    if on_error not in ON_ERROR:
        raise InvalidInputError("on_error", f"is {on_error!r}", "'raise' or 'skip'")
    seen: dict[str, str] = {}
    path = resolve_data_dir(name, data_dir, revision)
    for item in read(path):
        try:
            if isinstance(item, MedQDegError):
                raise item
            validate_item(item)
            if item.id in seen:
                raise InvalidInputError("id", f"{item.id!r} is duplicated (first at {seen[item.id] or 'an earlier row'})",
                                        "unique item ids", item=item.location or item.id)
        except MedQDegError as error:
            if on_error == "raise":
                raise
            if report is not None:
                where = getattr(error, "item", None) if isinstance(item, MedQDegError) else item.location or item.id
                report.skipped.append((where or "?", str(error)))
            continue
        seen[item.id] = item.location
        yield item
