"""The run's records: one JSON line per finished item, durable as it goes, resumable.

Each rank appends to its own ``records-<rank>-of-<world>.jsonl`` and flushes and fsyncs
every line, so a crash or Ctrl-C loses at most the items in flight; a torn last line is
cut off before the next append. Failed items go to ``failures-...jsonl`` instead and are
asked again on resume. ``earlier_finished_keys`` reads the records files an earlier launch
left, so a resumed run (with any number of ranks) skips what is done and never writes an
item twice; ``merge_records`` gives the deterministic union (sorted by severity, then id).

The optional answer judge (``judge.py``) writes apart, to ``judge-<rank>-of-<world>.jsonl``:
one line per judged record (its ``key``, the judge's settings and id, the rule letters, the
judge's letters and replies, and each sample's source). The records files are never
rewritten; ``merge_records`` attaches a record's judge line (the last one written, in file
order) as ``judge``, ``judge_id``, ``judge_letters``, ``judge_outputs`` and ``letter_sources``.

A finished item is an :class:`~.item_record.ItemRecord` on both sides: the runner hands one
to :meth:`RecordWriter.finished`, and ``iter_records``/``merge_records`` give them back.
Failures and judge lines stay plain JSON objects.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.dataset_builder.vocabulary import LEVEL_NAMES

from .item_record import JUDGE_FIELDS, ItemRecord

RECORDS_GLOB = "records-*.jsonl"
JUDGE_GLOB = "judge-*.jsonl"


def rank_file(folder: Path, kind: str, rank: int, world: int) -> Path:
    return folder / f"{kind}-{rank:03d}-of-{world:03d}.jsonl"


def _complete_lines(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """The JSON objects of ``path`` with their place (``PATH:LINE``); a torn last line (no
    newline) is ignored.

    A complete line that is not a JSON object (a file damaged or edited in the middle) is
    refused with its file and line number rather than dropped or re-asked: the line may hold
    a finished answer, so only the user can tell whether to repair it or delete it (deleting
    it makes ``--resume`` ask that item again)."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if line.endswith(b"\n") and line.strip():
                try:
                    record = json.loads(line)
                except (json.JSONDecodeError, UnicodeDecodeError) as error:
                    raise InvalidInputError("record", f"is not valid JSON ({error})",
                                            "one JSON object per line; repair or delete that line, then run "
                                            "again (a deleted line's item is asked again by --resume)",
                                            item=f"{path}:{number}") from None
                if not isinstance(record, dict) or not isinstance(record.get("key"), str):
                    raise InvalidInputError("record", "is not a record (a JSON object with a `key`)",
                                            "one record per line as `medqdeg evaluate` writes it; repair or "
                                            "delete that line, then run again", item=f"{path}:{number}")
                yield f"{path}:{number}", record


def _cut_torn_tail(path: Path) -> None:
    """Drop a last line left without its newline by a crash, so appends stay valid JSONL."""
    if not path.exists() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if not data.endswith(b"\n"):
        keep = data.rfind(b"\n") + 1
        with path.open("r+b") as handle:
            handle.truncate(keep)


class RecordWriter:
    """Appends records (finished items) and failures of one rank, durably."""

    def __init__(self, folder: Path, rank: int = 0, world: int = 1):
        folder.mkdir(parents=True, exist_ok=True)
        self.records_path = rank_file(folder, "records", rank, world)
        self.failures_path = rank_file(folder, "failures", rank, world)
        for path in (self.records_path, self.failures_path):
            _cut_torn_tail(path)
        self._records = self.records_path.open("a", encoding="utf-8")
        self._failures = self.failures_path.open("a", encoding="utf-8")
        self.judge_path = rank_file(folder, "judge", rank, world)
        self._judge = None  # opened at the first judge line: a run without the judge writes no file

    def _write(self, handle, record: dict[str, Any]) -> None:
        handle.write(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())

    def finished(self, record: ItemRecord) -> None:
        self._write(self._records, record.to_json())

    def failed(self, record: dict[str, Any]) -> None:
        self._write(self._failures, record)

    def judged(self, line: dict[str, Any]) -> None:
        """Append the answer judge's line of one record (``judge.py``)."""
        if self._judge is None:
            _cut_torn_tail(self.judge_path)
            self._judge = self.judge_path.open("a", encoding="utf-8")
        self._write(self._judge, line)

    def close(self) -> None:
        self._records.close()
        self._failures.close()
        if self._judge is not None:
            self._judge.close()

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def iter_records(folder: Path) -> Iterator[ItemRecord]:
    """Every finished record of the folder's records files (all ranks), in file order."""
    for path in sorted(folder.glob(RECORDS_GLOB)):
        for where, line in _complete_lines(path):
            yield ItemRecord.from_json(line, item=where)


def finished_keys(folder: Path) -> set[str]:
    """Cache keys of every finished item in the folder (all ranks)."""
    return {record.key for record in iter_records(folder)} if folder.exists() else set()


def earlier_finished_keys(folder: Path, rank: int, world: int) -> set[str]:
    """Finished items that an earlier launch left, as rank ``rank`` of ``world`` can tell them apart
    from its own launch: its own records file, and every file of another world size. The other
    ranks' files of the same world size are left out, since the ranks of one launch (torchrun)
    start at different moments and one may already have written when another looks."""
    if not folder.exists():
        return set()
    own = rank_file(folder, "records", rank, world).name
    suffix = f"-of-{world:03d}.jsonl"
    paths = [path for path in sorted(folder.glob(RECORDS_GLOB)) if path.name == own or not path.name.endswith(suffix)]
    return {line["key"] for path in paths for _, line in _complete_lines(path)}


def judge_lines(folder: Path) -> dict[str, dict[str, Any]]:
    """The answer judge's line of each judged record, by key (the last one written wins)."""
    lines: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob(JUDGE_GLOB)) if folder.exists() else ():
        for _, line in _complete_lines(path):
            lines[line["key"]] = line
    return lines


def first_records(folder: Path) -> dict[str, ItemRecord]:
    """Every finished record once, by key: the first write of a key wins."""
    unique: dict[str, ItemRecord] = {}
    for record in iter_records(folder):
        unique.setdefault(record.key, record)
    return unique


def merge_records(folder: Path) -> list[ItemRecord]:
    """Every finished record once (first write of a key wins), sorted by severity then id,
    with its answer judge's line attached when it has one."""
    unique = first_records(folder)
    for key, line in judge_lines(folder).items():
        if key in unique:
            unique[key] = replace(unique[key], **{name: line.get(name) for name in JUDGE_FIELDS})
    return sorted(unique.values(), key=lambda r: (LEVEL_NAMES.index(r.severity) if r.severity in LEVEL_NAMES
                                                  else len(LEVEL_NAMES), r.id, r.key))


def failure_records(folder: Path) -> list[dict[str, Any]]:
    """The latest failure of each item that has not finished since."""
    done = finished_keys(folder)
    latest: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("failures-*.jsonl")):
        for _, record in _complete_lines(path):
            latest[record["key"]] = record
    return [record for key, record in sorted(latest.items()) if key not in done]
