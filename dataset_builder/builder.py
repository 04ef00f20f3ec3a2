"""The MedQ-Deg ``datasets`` builder: clean items in, L0/L1/L2 splits out.

``MedQDeg`` is a ``datasets.GeneratorBasedBuilder`` that the package instantiates itself
(datasets 4+ no longer runs loading scripts). Configurations: ``default`` (the paper's
protocol, see ``protocol``), ``clean`` (L0 only) and one per degradation type (that type
on every item it suits). Splits are the severities ``L0``, ``L1`` and ``L2``; every
degraded example links to its clean twin through ``clean_id`` and carries the exact
degradation record (JSON) that ``degradations.replay`` turns back into the same bytes.

Generation is sharded: chunks of ``CHUNK`` consecutive items are dealt into ``SHARDS``
shards (``shard_of_chunk``) and examples come shard after shard, so
``num_proc`` processes produce exactly the examples, in exactly the order, that one
process does.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import datasets

from .degradations import ENGINE_VERSION, check_image, degrade, get_degradation, list_degradations
from .errors import InvalidInputError, MedQDegError
from .image_io import png_bytes
from .items import CleanItem
from .modalities import MODALITIES
from .protocol import plan_item
from .released import pair_twins
from .sources import ON_ERROR, SOURCES, SkipReport, is_released_source, iter_source
from .vocabulary import CITATION, LEVEL_NAMES, OPTION_LETTERS, level_name, parse_level

BUILDER_VERSION = "0.2.0"
CODE_VERSION = f"builder-{BUILDER_VERSION}-engine-{ENGINE_VERSION}"
"""Part of the cache key: generated data is rebuilt whenever it changes."""
SHARDS = 16
CHUNK = 8
NO_DEGRADATION = "none"

logger = datasets.logging.get_logger(__name__)
_TYPES = [spec.name for spec in list_degradations()]
_CATEGORIES = sorted({spec.category for spec in list_degradations()})

FEATURES = datasets.Features({
    "id": datasets.Value("string"),
    "clean_id": datasets.Value("string"),
    "image": datasets.Image(),
    "question": datasets.Value("string"),
    "options": datasets.List(datasets.Value("string")),
    "answer": datasets.ClassLabel(names=list(OPTION_LETTERS)),
    "modality": datasets.ClassLabel(names=list(MODALITIES)),
    "degradation": datasets.ClassLabel(names=[NO_DEGRADATION, *_TYPES]),
    "category": datasets.ClassLabel(names=[NO_DEGRADATION, *_CATEGORIES]),
    "severity": datasets.ClassLabel(names=list(LEVEL_NAMES)),
    "capability": datasets.Value("string"),
    "skill": datasets.Value("string"),
    "source": datasets.Value("string"),
    "image_origin": datasets.Value("string"),
    "image_license": datasets.Value("string"),
    "degradation_record": datasets.Value("string"),
})


@dataclass(frozen=True)
class PlannedItem:
    """A selected item and the types it gets at L1 and L2, planned once when it is selected
    (``protocol.plan_item``): empty for the clean configuration and for a released row,
    which comes degraded already (or not at all)."""

    item: CleanItem
    types: tuple[str, ...] = ()


@dataclass
class MedQDegConfig(datasets.BuilderConfig):
    """Options of one MedQ-Deg configuration (any of them can be overridden as keyword).

    ``degradation``: None for the paper's protocol, a type name for a per-type
    configuration, ``"none"`` for clean only. ``modalities`` and ``types`` filter the
    items and the types; ``min_types``/``max_types`` bound the number of types per item;
    ``limit`` keeps the first N clean items that get at least one type (every item in
``clean``), so L0 holds exactly the twins of L1 and L2; ``on_error`` is ``"raise"`` or ``"skip"``.

    Released benchmarks (``medqdeg-tsv``, and any source whose rows carry a degradation
    already): by default the splits are the benchmark as published, L0 = the clean rows,
    L1/L2 = the released degraded rows, nothing added, each degraded row paired with its
    clean twin (``released.pair_twins``; rows with no twin keep ``clean_id`` empty).
    ``redegrade=True`` is the explicit alternative: the released degraded rows are left
    out (and counted in the log) and the clean rows are degraded by the toolkit's engine
    under the protocol above. The filters apply to the released rows too (``degradation``
    and ``types`` to their type, ``modalities``), L0 then holding the twins of the kept
    degraded rows; ``limit`` keeps the first N clean rows and the degraded rows paired
    with them (unpaired rows are left out under ``limit``).

    Without ``data_dir``, an external source downloads its published files from the Hub
    at ``revision`` (a branch, tag or commit; see ``sources.hub``) and works offline from
    the Hub cache.
    """

    degradation: str | None = None
    source: str = "embedded"
    modalities: tuple[str, ...] | None = None
    types: tuple[str, ...] | None = None
    seed: int = 0
    min_types: int = 1
    max_types: int = 3
    limit: int | None = None
    on_error: str = "raise"
    redegrade: bool = False
    revision: str | None = None

    def __post_init__(self):
        super().__post_init__()
        self.validate()

    def validate(self) -> None:
        """Refuse unknown sources, types and policies before anything is generated, and replace
        the paper's spellings (aliases) of types by the types' own names."""
        SOURCES.canonical(self.source)  # an unknown name raises, listing the sources
        if self.on_error not in ON_ERROR:
            raise InvalidInputError("on_error", f"is {self.on_error!r}", "'raise' or 'skip'")
        # the paper's spellings (aliases) become the types' own names, which the plan compares
        if self.degradation not in (None, NO_DEGRADATION):
            self.degradation = get_degradation(self.degradation).name
        if self.types is not None:
            self.types = tuple(get_degradation(name).name for name in self.types)
        if not isinstance(self.redegrade, bool):
            raise InvalidInputError("redegrade", f"is {self.redegrade!r}", "True or False")
        if self.limit is not None and self.limit < 1:
            raise InvalidInputError("limit", f"is {self.limit}", "a positive number of items or None")


def _configs() -> list[MedQDegConfig]:
    version = datasets.Version(BUILDER_VERSION)
    configs = [
        MedQDegConfig(name="default", version=version,
                      description="The paper's protocol: 1-3 suitable types per item, each at L1 and L2."),
        MedQDegConfig(name="clean", version=version, degradation=NO_DEGRADATION,
                      description="The clean items only (split L0)."),
    ]
    configs += [MedQDegConfig(name=name, version=version, degradation=name,
                              description=f"`{name}` at L1 and L2 on every item it suits.") for name in _TYPES]
    return configs


class MedQDeg(datasets.GeneratorBasedBuilder):
    """MedQ-Deg: medical VQA items and their degraded twins at L1 and L2."""

    BUILDER_CONFIG_CLASS = MedQDegConfig
    BUILDER_CONFIGS = _configs()
    DEFAULT_CONFIG_NAME = "default"
    config: MedQDegConfig

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.config.validate()  # datasets sets keyword overrides after the config's __post_init__

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(
            description=__doc__, features=FEATURES, homepage="https://arxiv.org/abs/2603.07769",
            license="per image: see image_license", citation=CITATION,
        )

    def _split_generators(self, dl_manager) -> list[datasets.SplitGenerator]:
        splits = LEVEL_NAMES[:1] if self.config.degradation == NO_DEGRADATION else LEVEL_NAMES
        return [datasets.SplitGenerator(name=split, gen_kwargs={"split": split, "shards": list(range(SHARDS))})
                for split in splits]

    def _generate_examples(self, split: str, shards: list[int]) -> Iterator[tuple[str, dict]]:
        level = parse_level(split, field="split")
        report = SkipReport()
        for shard in shards:
            for planned in self._shard(shard, report):
                yield from self._examples(planned, level, report)
        if len(report):
            logger.warning(report.summary())

    def _shard(self, shard: int, report: SkipReport) -> list[PlannedItem]:
        """The shard's chunks of CHUNK consecutive items (see ``shard_of_chunk``)."""
        selected = self._items(report)
        return [entry for start in range(0, len(selected), CHUNK) if shard_of_chunk(start // CHUNK) == shard
                for entry in selected[start:start + CHUNK]]

    def _items(self, report: SkipReport) -> list[PlannedItem]:
        """The selected items with their plans, read and planned once per process (images stay lazy)."""
        if getattr(self, "_selected", None) is None:
            items = list(iter_source(self.config.source, self.config.data_dir, on_error=self.config.on_error,
                                     report=report, revision=self.config.revision))
            self._released = is_released_source(self.config.source) or any(
                item.degradation is not None for item in items)
            if self._released and not self.config.redegrade:
                self._selected = [PlannedItem(item) for item in self._released_items(items)]
            else:
                if self._released:
                    dropped = sum(item.degradation is not None for item in items)
                    if dropped:
                        logger.warning(f"redegrade=True: {dropped} released degraded row(s) left out; L1/L2 are "
                                       "the toolkit's own degradations of the clean rows")
                    items = [item for item in items if item.degradation is None]
                    self._released = False
                self._selected = self._planned_items(items)
        return self._selected

    def _released_items(self, items: list[CleanItem]) -> list[CleanItem]:
        """The published rows as they are, degraded rows paired with their clean twins."""
        clean = [item for item in items if item.degradation is None]
        degraded = [item for item in items if item.degradation is not None]
        self.pairing = pair_twins(clean, degraded)
        logger.warning(self.pairing.summary())
        wanted = set(self.config.modalities) if self.config.modalities else None
        only, allowed = self.config.degradation, self.config.types

        def keep_degraded(item: CleanItem) -> bool:
            return (only != NO_DEGRADATION and (only is None or item.degradation == only)
                    and (allowed is None or item.degradation in allowed)
                    and (wanted is None or item.modality in wanted))

        kept_degraded = [item for item in degraded if keep_degraded(item)]
        kept_clean = [item for item in clean if wanted is None or item.modality in wanted]
        if only not in (None, NO_DEGRADATION) or allowed is not None:
            twins = {item.extra["clean_id"] for item in kept_degraded}
            kept_clean = [item for item in kept_clean if item.id in twins]
        if self.config.limit is not None:
            kept_clean = kept_clean[:self.config.limit]
            chosen = {item.id for item in kept_clean}
            kept_degraded = [item for item in kept_degraded if item.extra["clean_id"] in chosen]
        keep = {id(item) for item in kept_clean} | {id(item) for item in kept_degraded}
        return [item for item in items if id(item) in keep]  # in the files' order

    def _planned_items(self, items: list[CleanItem]) -> list[PlannedItem]:
        """The first ``limit`` clean items of the wanted modalities that belong to this
        configuration (every item for ``clean``; otherwise those that get at least one type),
        each planned once."""
        wanted = set(self.config.modalities) if self.config.modalities else None
        clean_only = self.config.degradation == NO_DEGRADATION
        planned = (PlannedItem(item, () if clean_only else self._plan(item))
                   for item in items if wanted is None or item.modality in wanted)
        kept = (entry for entry in planned if clean_only or entry.types)
        return list(itertools.islice(kept, self.config.limit))

    def _plan(self, item: CleanItem) -> tuple[str, ...]:
        return plan_item(item.id, item.modality, seed=self.config.seed, min_types=self.config.min_types,
                         max_types=self.config.max_types, allowed=self.config.types,
                         only=self.config.degradation).types

    def _refuse(self, item: CleanItem, error: MedQDegError, report: SkipReport) -> None:
        """Raise ``error`` naming the item's file and row, or, under ``on_error="skip"``, record it
        in ``report`` (logged with the count and places at the end of the split)."""
        where = item.location or item.id
        if where not in str(error):
            named = (InvalidInputError(error.field, error.problem, error.expected, item=f"{where} (item {item.id!r})")
                     if isinstance(error, InvalidInputError) else MedQDegError(f"{where} (item {item.id!r}): {error}"))
            named.__cause__ = error
            error = named
        if self.config.on_error == "raise":
            raise error
        report.skipped.append((where, str(error)))

    def _checked_image(self, item: CleanItem, report: SkipReport):
        """The item's image, checked against the engine's contract (mode, dtype, shape, at least
        8x8, finite values) at every level, so a bad image is refused or skipped in all three
        splits alike; None when skipped."""
        try:
            image = item.load_image()
            check_image(image, item=item.location or item.id)
        except MedQDegError as error:
            self._refuse(item, error, report)
            return None
        return image

    def _examples(self, planned: PlannedItem, level: int, report: SkipReport) -> Iterator[tuple[str, dict]]:
        item = planned.item
        if item.degradation is not None:  # a source whose images are degraded already (released files)
            if item.degradation not in _TYPES:
                error = InvalidInputError("degradation_type", f"is {item.degradation!r}",
                                          f"one of {', '.join(_TYPES)}", item=item.location or item.id)
                if self.config.on_error == "raise":
                    raise error
                report.skipped.append((item.location or item.id, str(error)))
                return
            if item.severity == level:
                image = self._checked_image(item, report)
                if image is not None:
                    clean_id = item.extra.get("clean_id", "")
                    yield item.id, self._example(item, image, item.id, clean_id, item.degradation, level, None)
            return
        if level > 0 and getattr(self, "_released", False):  # published clean rows are not degraded again
            return
        image = self._checked_image(item, report)
        if image is None:
            return
        if level == 0:
            yield item.id, self._example(item, image, item.id, item.id, NO_DEGRADATION, 0, None)
            return
        for name in planned.types:
            try:
                degraded, record = degrade(image, name, level, seed=self.config.seed, item_id=item.id,
                                           modality=item.modality, **item.acquisition())
            except MedQDegError as error:
                self._refuse(item, error, report)
                continue
            example_id = f"{item.id}|{name}|{level_name(level)}"
            yield example_id, self._example(item, degraded, example_id, item.id, name, level, record.to_json())

    @staticmethod
    def _example(item: CleanItem, image, example_id: str, clean_id: str, degradation: str, level: int,
                 record: str | None) -> dict:
        known = degradation in _TYPES
        return {
            "id": example_id,
            "clean_id": clean_id,
            "image": {"bytes": png_bytes(image), "path": None},
            "question": item.question,
            "options": list(item.options),
            "answer": item.answer,
            "modality": item.modality,
            "degradation": degradation if known else NO_DEGRADATION,
            "category": get_degradation(degradation).category if known else NO_DEGRADATION,
            "severity": level_name(level),
            "capability": item.capability,
            "skill": item.skill,
            "source": item.source,
            "image_origin": item.origin,
            "image_license": item.license,
            "degradation_record": record,
        }


def shard_of_chunk(chunk: int) -> int:
    """The shard of the chunk-th run of CHUNK consecutive items: the bit-reversed chunk mod SHARDS.

    Consecutive items often share an image (several questions about it), so a chunk keeps
    them in one process. ``datasets`` hands each of ``num_proc`` processes a contiguous
    range of shards; bit reversal sends neighbouring chunks to shards far apart, so every
    process (for any power-of-two ``num_proc``) gets a mix of the source's modalities (a CT
    item costs ten times more than the rest) and they finish together.
    """
    bits = SHARDS.bit_length() - 1
    return int(f"{chunk % SHARDS:0{bits}b}"[::-1], 2)


