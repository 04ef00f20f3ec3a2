"""The runner: MedQ-Deg items -> prompts -> a backend -> letters -> one record per item.

``evaluate(EvalConfig(...))`` is the Python face of ``medqdeg evaluate``. For every split
it loads the configured MedQ-Deg dataset, keeps this rank's share
(``datasets.distributed.split_dataset_by_node``; the rank comes from ``shard`` or from
torchrun's ``RANK``/``WORLD_SIZE``), skips items whose cache key is already in the
output folder, asks the backend in batches, extracts the letters (never guessing), scores
each item with ``medqdeg.metrics`` and appends its record durably. The cache key hashes
the backend settings, the generation settings, the prompt, the dataset configuration and
the item id, so changing any of them asks again. Under torchrun rank 0 writes the report
once every rank of the launch has finished; separate ``--shard i/N`` processes leave the
report to ``medqdeg report DIR``.

With ``judge_model`` set (off by default), after each split the samples the rules left
unparseable are read again by the answer judge (``judge.py``); its results are written
apart and the cache keys do not change.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.dataset_builder.vocabulary import LEVEL_NAMES, stable_key
from medqdeg.metrics.calibration import score_probabilities

from .backends import build_backend
from .backends.base import Answer, Backend, GenerationSettings, Query
from .prompt import PAPER_TEMPLATE, build_prompt, prompt_hash
from .records import RecordWriter, earlier_finished_keys, iter_records, judge_lines
from .scoring import score_replies

CONFIDENCE_MODES = ("sampling", "letter-probs", "both")
BARRIER_TIMEOUT_S = 24 * 3600


@dataclass
class EvalConfig:
    """Everything one evaluation run needs; the defaults evaluate the chance baseline."""

    model: str | None = None
    backend: str = "auto"  # chance | transformers | openai; auto: chance without a model, else transformers
    dataset_config: str = "default"
    source: str = "embedded"
    data_dir: str | None = None
    revision: str | None = None  # of the source's Hub dataset when there is no data_dir
    limit: int | None = None
    dataset_seed: int = 0
    splits: tuple[str, ...] = LEVEL_NAMES
    samples: int = 3
    temperature: float = 1.0
    confidence: str = "sampling"
    batch_size: int = 8
    max_new_tokens: int = 32
    seed: int = 0
    template: str = PAPER_TEMPLATE
    system: str | None = None
    output: Path = Path("runs/chance")
    resume: bool = False
    shard: tuple[int, int] | None = None
    cache_dir: str | None = None
    backend_options: dict[str, Any] = field(default_factory=dict)
    judge_model: str | None = None  # the answer judge (judge.py); None: rules only, the paper's setting
    judge_options: dict[str, Any] = field(default_factory=dict)  # its OpenAI-compatible backend's (base_url...)

    def validate(self) -> None:
        if self.confidence not in CONFIDENCE_MODES:
            raise InvalidInputError("confidence", f"is {self.confidence!r}", f"one of {', '.join(CONFIDENCE_MODES)}")
        if self.samples < 1:
            raise InvalidInputError("samples", f"is {self.samples}", "T >= 1 sampled answers per item")
        if self.temperature < 0:
            raise InvalidInputError("temperature", f"is {self.temperature}", "a temperature >= 0")
        if self.batch_size < 1:
            raise InvalidInputError("batch_size", f"is {self.batch_size}", "a batch size >= 1")
        unknown = [s for s in self.splits if s not in LEVEL_NAMES]
        if unknown:
            raise InvalidInputError("splits", f"has {unknown}", f"a subset of {LEVEL_NAMES}")
        if self.shard is not None and not 0 <= self.shard[0] < self.shard[1]:
            raise InvalidInputError("shard", f"is {self.shard[0]}/{self.shard[1]}", "i/N with 0 <= i < N")
        if self.limit is not None and self.limit < 1:
            raise InvalidInputError("limit", f"is {self.limit}", "a positive number of clean items, or no --limit")
        if self.max_new_tokens < 1:
            raise InvalidInputError("max_new_tokens", f"is {self.max_new_tokens}", "at least 1 token")
        from medqdeg.dataset_builder.builder import MedQDeg
        from medqdeg.dataset_builder.sources import source_names

        configs = [config.name for config in MedQDeg.BUILDER_CONFIGS]
        if self.dataset_config not in configs:
            raise InvalidInputError("config", f"is {self.dataset_config!r}", f"one of {', '.join(configs)}")
        if self.source not in source_names():
            raise InvalidInputError("source", f"is {self.source!r}", f"one of {', '.join(source_names())}")
        check_output_folder(Path(self.output))

    def generation(self) -> GenerationSettings:
        return GenerationSettings(
            samples=self.samples, temperature=self.temperature, max_new_tokens=self.max_new_tokens,
            want_texts=self.confidence in ("sampling", "both"),
            want_letter_probs=self.confidence in ("letter-probs", "both"), seed=self.seed,
        )

    def dataset_identity(self) -> dict[str, Any]:
        return {"config": self.dataset_config, "source": self.source, "data_dir": self.data_dir,
                **({"revision": self.revision} if self.revision else {}),
                "limit": self.limit, "seed": self.dataset_seed}


def check_output_folder(output: Path) -> None:
    """Refuse an ``--output`` that names a file, or a folder (or its nearest existing parent)
    this process cannot write to, before anything is created or asked."""
    if output.exists() and not output.is_dir():
        raise InvalidInputError("output", f"{str(output)!r} is a file, not a folder",
                                "a run folder (new, or an earlier run's with --resume)")
    existing = output
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InvalidInputError("output", f"{str(output)!r} lies under {str(existing)!r}, which is a file",
                                "a run folder whose parents are folders")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InvalidInputError("output", f"{str(output)!r} cannot be written: {str(existing)!r} is read-only "
                                "for this user", "a run folder you can write to")


def make_backend(config: EvalConfig) -> Backend:
    """The backend named by the configuration; under torchrun each rank takes its own GPU."""
    kind = config.backend
    if kind == "auto":
        kind = "chance" if config.model is None else "transformers"
    options = dict(config.backend_options)
    if kind == "transformers":
        options.setdefault("batch_size", config.batch_size)
        if "device" not in options and "LOCAL_RANK" in os.environ:
            import torch

            if torch.cuda.is_available():
                options["device"] = f"cuda:{int(os.environ['LOCAL_RANK']) % torch.cuda.device_count()}"
    return build_backend(kind, config.model, **options)


def rank_and_world(shard: tuple[int, int] | None) -> tuple[int, int]:
    """This process's share: ``shard`` if given, else torchrun's RANK/WORLD_SIZE, else (0, 1)."""
    if shard is not None:
        return shard
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def item_key(backend_settings: dict, generation: GenerationSettings, prompt_id: str, dataset: dict,
             item_id: str) -> str:
    return stable_key(backend_settings, asdict(generation), prompt_id, dataset, item_id)


def _label(features, column: str, value):
    feature = features[column]
    return feature.int2str(value) if hasattr(feature, "int2str") and value is not None else value


def build_record(row: dict, features, answer: Answer, *, key: str, model: str, backend_settings: dict,
                 prompt_id: str, latency_s: float) -> dict[str, Any]:
    """The JSONL record of one answered item, scored with ``medqdeg.metrics``."""
    options = list(row["options"])
    k = len(options)
    reference = _label(features, "answer", row["answer"])
    replies = score_replies(answer.texts, options, reference)
    record: dict[str, Any] = {
        "key": key, "id": row["id"], "clean_id": row["clean_id"], "model": model, "backend": backend_settings,
        "prompt_hash": prompt_id, "severity": _label(features, "severity", row["severity"]),
        "modality": _label(features, "modality", row["modality"]),
        "degradation": _label(features, "degradation", row["degradation"]),
        "category": _label(features, "category", row["category"]),
        "capability": row.get("capability"), "skill": row.get("skill"), "source": row.get("source"),
        "answer": reference, "num_options": k, "raw_outputs": answer.texts, "letters": replies.letters,
        "votes": replies.votes, "num_unparseable": replies.num_unparseable,
        "letter_probs": answer.letter_probs, "latency_s": round(latency_s, 4),
        "prompt_tokens": answer.prompt_tokens, "completion_tokens": answer.completion_tokens,
    }
    if replies.letters:
        record.update(confidence=replies.confidence, correct=replies.correct, sample_correct=replies.sample_correct)
    if answer.letter_probs is not None:
        scores = score_probabilities([answer.letter_probs], [reference])
        record["confidence_letter_probs"] = float(scores.confidence[0])
        record["correct_letter_probs"] = float(scores.majority_correct[0])
    return record


def _query(row: dict, config: EvalConfig) -> Query:
    image = row["image"]
    return Query(item_id=row["id"], image=image.convert("RGB") if image.mode != "RGB" else image,
                 prompt=build_prompt(row["question"], list(row["options"]), config.template, item=row["id"]),
                 num_options=len(row["options"]), system=config.system)


def _rows(config: EvalConfig, split: str, rank: int, world: int):
    from datasets.distributed import split_dataset_by_node

    from medqdeg.dataset_builder import load_dataset

    options = {"source": config.source, "seed": config.dataset_seed}
    if config.data_dir is not None:
        options["data_dir"] = config.data_dir
    if config.revision is not None:
        options["revision"] = config.revision
    if config.limit is not None:
        options["limit"] = config.limit
    dataset = load_dataset("medqdeg", config.dataset_config, split=split, cache_dir=config.cache_dir, **options)
    return split_dataset_by_node(dataset, rank=rank, world_size=world) if world > 1 else dataset


@dataclass
class RunSummary:
    """What a run did: items answered now, skipped as finished, failed (to retry on resume)."""

    answered: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    output: Path | None = None
    judged: int = 0  # records the answer judge was asked about now
    judge_failed: list[tuple[str, str]] = field(default_factory=list)  # asked again on resume


def make_judge(config: EvalConfig):
    """The answer judge of ``config.judge_model``, or None (rules only)."""
    if config.judge_model is None:
        return None
    from .judge import AnswerJudge

    return AnswerJudge.openai(config.judge_model, **config.judge_options)


def _judge_split(judge, writer: RecordWriter, rows, keys: list[str], output: Path, judged: set[str],
                 summary: RunSummary, batch_size: int) -> None:
    """Ask the judge about this split's finished records with unparseable samples, not yet judged."""
    from .judge import JudgeItem

    records: dict[str, dict] = {}
    for record in iter_records(output):
        records.setdefault(record["key"], record)  # the first write of a key wins, as in merge_records
    todo = [(index, key) for index, key in enumerate(keys) if key in records and key not in judged
            and None in records[key]["letters"]]
    for start in range(0, len(todo), batch_size):
        items = []
        for index, key in todo[start:start + batch_size]:
            row = rows[index]
            items.append(JudgeItem(key=key, item_id=row["id"], letters=records[key]["letters"],
                                   replies=records[key]["raw_outputs"], question=row["question"],
                                   options=list(row["options"])))
        for item, (line, error) in zip(items, judge.judge(items), strict=True):
            if line is None:
                summary.judge_failed.append((item.item_id, error))
                continue
            writer.judged(line)
            judged.add(item.key)
            summary.judged += 1


def evaluate(config: EvalConfig, *, backend: Backend | None = None, report: bool = True) -> RunSummary:
    """Run one model on the configured MedQ-Deg splits; write records (and the report)."""
    config.validate()
    rank, world = rank_and_world(config.shard)
    output = Path(config.output)
    done = earlier_finished_keys(output, rank, world)
    if done and not config.resume:
        raise InvalidInputError("output", f"{str(output)!r} already holds {len(done)} finished items",
                                "--resume to continue that run, or a new --output folder")
    backend = backend or make_backend(config)
    judge = make_judge(config)
    judged = ({key for key, line in judge_lines(output).items() if line.get("judge_id") == judge.judge_id}
              if judge is not None else set())
    settings = backend.settings()
    generation = config.generation()
    prompt_id = prompt_hash(config.template, config.system)
    model = config.model or "chance"
    summary = RunSummary(output=output)
    try:
        _write_run_file(output, config, settings, rank)
        writer = RecordWriter(output, rank, world)
    except OSError as error:  # e.g. a read-only file system, which check_output_folder cannot see as root
        raise InvalidInputError("output", f"{str(output)!r} cannot be written ({error.strerror or error})",
                                "a run folder you can write to") from None
    with writer:
        for split in config.splits:
            rows = _rows(config, split, rank, world)
            keys = [item_key(settings, generation, prompt_id, config.dataset_identity(), item_id)
                    for item_id in rows["id"]]
            todo = [i for i, key in enumerate(keys) if key not in done]
            summary.skipped += len(keys) - len(todo)
            progress = tqdm(total=len(todo), desc=f"{model} {split}", unit="item", disable=None)
            for start in range(0, len(todo), config.batch_size):
                batch = [rows[i] for i in todo[start:start + config.batch_size]]
                began = time.perf_counter()
                answers = backend.answer([_query(row, config) for row in batch], generation)
                latency = (time.perf_counter() - began) / len(batch)
                for index, row, answer in zip(todo[start:], batch, answers, strict=False):
                    if answer.error is not None:
                        writer.failed({"key": keys[index], "id": row["id"], "severity": split, "error": answer.error})
                        summary.failed.append((row["id"], answer.error))
                        continue
                    writer.finished(build_record(row, rows.features, answer, key=keys[index], model=model,
                                                 backend_settings=settings, prompt_id=prompt_id, latency_s=latency))
                    summary.answered += 1
                progress.update(len(batch))
            progress.close()
            if judge is not None:
                _judge_split(judge, writer, rows, keys, output, judged, summary, config.batch_size)
    run_id = os.environ.get("TORCHELASTIC_RUN_ID")
    if world > 1 and run_id is None:
        return summary  # manual shards: `medqdeg report DIR` once every shard has finished
    if world > 1:
        _mark_done(output, run_id, rank, world)
    if report and rank == 0:
        if world > 1:
            _wait_for_ranks(output, run_id, world)
        from .report import write_report

        write_report(output)
    return summary


def _write_run_file(output: Path, config: EvalConfig, settings: dict, rank: int) -> None:
    if rank != 0:
        return
    output.mkdir(parents=True, exist_ok=True)
    described = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()}
    if config.judge_model is None:  # a run without the judge describes itself as before the judge existed
        del described["judge_model"], described["judge_options"]
    (output / "run.json").write_text(json.dumps({"config": described, "backend": settings}, indent=2, sort_keys=True))


def _done_marker(output: Path, run_id: str, rank: int, world: int) -> Path:
    return output / f".done-{run_id}-{rank:03d}-of-{world:03d}"


def _mark_done(output: Path, run_id: str, rank: int, world: int) -> None:
    _done_marker(output, run_id, rank, world).write_text("")


def _wait_for_ranks(output: Path, run_id: str, world: int) -> None:
    """A file barrier for torchrun: rank 0 reports once every rank of this launch is done."""
    deadline = time.monotonic() + BARRIER_TIMEOUT_S
    while not all(_done_marker(output, run_id, r, world).exists() for r in range(world)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"ranks of {output} did not finish within {BARRIER_TIMEOUT_S} s")
        time.sleep(0.5)
