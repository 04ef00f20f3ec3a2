"""The Ask-a-model tab: one question at L0, L1 and L2, T sampled answers each.

The question, options and answer come prefilled from an item of the embedded sample and
may be edited; the image is the item's (or an upload, read within the host's limits).
The chosen degradation is applied at L0, L1 and L2 exactly as in the Degrade tab, each
image is asked with the paper's prompt (``prompt.build_prompt``) through the harness's
backends, T samples at temperature 1, and each reply is read by the harness's
``scoring.score_replies`` exactly as in a run (letters never guessed). Per level the page
shows the replies, the vote distribution, the consistency confidence C = 1 - H/ln K and
whether the majority vote is right.

Models come only from the host's allowlist (``safety.resolve_model``); each is loaded once
and kept, and answers one request at a time. Three ways to ask: local transformers models
(on ZeroGPU hardware inside ``@spaces.GPU``, see ``zerogpu``), Hub models through the
Inference Providers router, and OpenAI-compatible endpoints.
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from medqdeg.dataset_builder.errors import MedQDegError
from medqdeg.dataset_builder.items import CleanItem
from medqdeg.dataset_builder.sample_images import CATALOGUE
from medqdeg.dataset_builder.vocabulary import LEVEL_NAMES, MAX_OPTIONS, MIN_OPTIONS, OPTION_LETTERS
from medqdeg.eval_harness.backends import build_backend
from medqdeg.eval_harness.backends.base import Answer, Backend, GenerationSettings, Query
from medqdeg.eval_harness.prompt import build_prompt
from medqdeg.eval_harness.scoring import score_replies

from .degrade_tab import LoadedImage, make_preview
from .safety import SpaceError
from .settings import ModelEntry, SpaceSettings
from .zerogpu import gpu_function, on_zero_gpu

MAX_QUESTION_CHARS = 2000
MAX_OPTION_CHARS = 300
MAX_NEW_TOKENS = 32
TEMPERATURE = 1.0
SHOWN_REPLY_CHARS = 80
_OPTION_PREFIX = re.compile(r"^\s*(?:\(?[A-Ea-e][.):]|\([A-Ea-e]\))\s+")


@functools.cache
def sample_items() -> dict[str, CleanItem]:
    """The items of the embedded sample on its catalogue images (no crops), by id."""
    from medqdeg.dataset_builder.sources.embedded import embedded_items

    wanted = {f"embedded:{key}" for key in CATALOGUE}
    return {item.id: item for item in embedded_items() if item.location in wanted}


def item_choices() -> list[tuple[str, str]]:
    return [(f"{item.id.removeprefix('embedded-')}: {item.question}", item.id) for item in sample_items().values()]


def default_item() -> str:
    return next(iter(sample_items()))


def get_item(item_id: str | None) -> CleanItem:
    items = sample_items()
    if not item_id or item_id not in items:
        raise SpaceError(f"Unknown sample item {item_id!r}; choose one of the list.")
    return items[item_id]


def options_text(options: list[str]) -> str:
    return "\n".join(options)


def item_image(item: CleanItem) -> LoadedImage:
    return LoadedImage(np.asarray(item.load_image()), item.modality, f"sample item {item.id} ({item.origin})",
                       item.acquisition())


def parse_options(text: str | None) -> list[str]:
    """One option per line (a leading ``A.``, ``B)`` or ``(C)`` is dropped); 2 to 5 of them."""
    lines = [_OPTION_PREFIX.sub("", line).strip() for line in (text or "").splitlines()]
    options = [line for line in lines if line]
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        raise SpaceError(f"Write {MIN_OPTIONS} to {MAX_OPTIONS} options, one per line; got {len(options)}.")
    for letter, option in zip(OPTION_LETTERS, options, strict=False):
        if len(option) > MAX_OPTION_CHARS:
            raise SpaceError(f"Option {letter} has {len(option)} characters; at most {MAX_OPTION_CHARS}.")
    if len(set(o.lower() for o in options)) != len(options):
        raise SpaceError("Two options have the same text.")
    return options


def check_question(question: str | None) -> str:
    question = (question or "").strip()
    if not question:
        raise SpaceError("Write a question.")
    if len(question) > MAX_QUESTION_CHARS:
        raise SpaceError(f"The question has {len(question)} characters; at most {MAX_QUESTION_CHARS}.")
    return question


def check_answer(answer: str | None, options: list[str]) -> str:
    letters = OPTION_LETTERS[:len(options)]
    answer = (answer or "").strip().upper()
    if answer not in letters:
        raise SpaceError(f"The correct answer must be one of {', '.join(letters)} (one letter per option).")
    return answer


def check_samples(samples: float | int | None, settings: SpaceSettings) -> int:
    if samples is None or float(samples) != int(samples) or not 1 <= int(samples) <= settings.max_samples:
        raise SpaceError(f"T (answers per level) must be a whole number from 1 to {settings.max_samples}.")
    return int(samples)


# ----------------------------------------------------------------------------- models


def _answer(backend: Backend, queries: list[Query], generation: GenerationSettings) -> list[Answer]:
    """One backend call; on ZeroGPU the pool runs it inside ``spaces.GPU`` (a picklable module function)."""
    return backend.answer(queries, generation)


class ModelPool:
    """Backends built on first use (on ZeroGPU: at start) and kept; one request at a time per model."""

    def __init__(self, settings: SpaceSettings, environ=None):
        self.settings = settings
        self.zero_gpu = on_zero_gpu(environ)
        self._backends: dict[ModelEntry, Backend] = {}
        self._locks: dict[ModelEntry, threading.Lock] = {}
        self._guard = threading.Lock()
        self._gpu_answer = gpu_function(_answer, settings.gpu_duration, environ)

    def preload(self) -> None:
        """Load the allowlist's transformers models now, in this process (ZeroGPU needs them there)."""
        for entry in self.settings.allowlist:
            if entry.backend == "transformers":
                with self.lock(entry):
                    self.backend(entry)

    def answer(self, entry: ModelEntry, queries: list[Query], generation: GenerationSettings) -> list[Answer]:
        """The entry's answers; transformers models run inside ``spaces.GPU`` where ``spaces`` is installed."""
        with self.lock(entry):
            backend = self.backend(entry)
            if entry.backend == "transformers":
                return self._gpu_answer(backend, queries, generation)
            return _answer(backend, queries, generation)

    def lock(self, entry: ModelEntry) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(entry, threading.Lock())

    def backend(self, entry: ModelEntry) -> Backend:
        """The entry's backend (call with ``lock(entry)`` held)."""
        if entry not in self._backends:
            self._backends[entry] = self._build(entry)
        return self._backends[entry]

    def _build(self, entry: ModelEntry) -> Backend:
        # trust_remote_code is never taken from the page, nor from the settings; an OpenAI
        # key (OPENAI_API_KEY) or Hub token (HF_TOKEN) is read by the backend from the
        # server's environment.
        device = "cuda" if self.zero_gpu and self.settings.device == "auto" else self.settings.device
        http = {"base_url": entry.base_url, "concurrency": len(LEVEL_NAMES), "max_retries": 2, "timeout": 60.0}
        options = {
            "chance": {},
            "transformers": {"device": device, "trust_remote_code": False, "batch_size": len(LEVEL_NAMES)},
            "openai": http,
            "inference-providers": http,
        }.get(entry.backend)
        if options is None:
            raise SpaceError(f"The model {entry.label!r} has an unknown backend {entry.backend!r}.")
        try:
            return build_backend(entry.backend, entry.model, **options)
        except MedQDegError as error:
            raise SpaceError(f"The model {entry.label!r} could not be loaded: "
                             f"{str(error).replace(entry.model, entry.label)}") from error
        except ImportError as error:
            raise SpaceError(f"The model {entry.label!r} needs a package this server lacks "
                             f"({error.name or error}).") from error


# ----------------------------------------------------------------------------- asking


@dataclass
class LevelResult:
    """What the model said about one level's image."""

    level: str
    texts: list[str]
    letters: list[str | None]
    votes: dict[str, int]
    majority: str  # the most voted letter(s), "A/B" on a tie, "-" when nothing was readable
    confidence: float
    correct: float  # 1, 0, or 1/m for a tie of m letters that holds the answer
    quality: tuple[float, float] | None  # (SSIM, PSNR) against L0
    unparseable: int = 0


@dataclass
class AskResult:
    model: str
    answer: str
    options: list[str]
    levels: list[LevelResult]
    screens: list[np.ndarray] = field(default_factory=list)
    degradation: str = ""


def score_level(level: str, answer: Answer, options: list[str], reference: str,
                quality: tuple[float, float] | None) -> LevelResult:
    """Letters, votes, C and correctness of one level's T replies (as the harness scores them)."""
    replies = score_replies(answer.texts, options, reference)
    return LevelResult(
        level=level, texts=list(answer.texts), letters=replies.letters,
        votes={letter: replies.votes.get(letter, 0) for letter in OPTION_LETTERS[:len(options)]},
        majority="/".join(replies.winners) or "-", confidence=replies.confidence,
        correct=replies.correct, quality=quality, unparseable=replies.num_unparseable,
    )


def ask(pool: ModelPool, entry: ModelEntry, loaded: LoadedImage, question: str, options: list[str],
        answer: str, degradation: str, modality: str | None, seed: int, samples: int) -> AskResult:
    """Ask ``entry`` the question on the image at L0, L1 and L2 (T samples each)."""
    preview = make_preview(loaded, degradation, modality, seed, loaded.description)
    prompt = build_prompt(question, options)
    queries = [Query(item_id=f"space-{level}", image=Image.fromarray(screen).convert("RGB"), prompt=prompt,
                     num_options=len(options))
               for level, screen in zip(LEVEL_NAMES, preview.screens, strict=True)]
    generation = GenerationSettings(samples=samples, temperature=TEMPERATURE, max_new_tokens=MAX_NEW_TOKENS,
                                    seed=seed)
    answers = pool.answer(entry, queries, generation)
    results = []
    for level, reply, quality in zip(LEVEL_NAMES, answers, preview.quality, strict=True):
        if reply.error is not None:
            raise SpaceError(f"The model {entry.label!r} failed at {level}: {reply.error}")
        results.append(score_level(level, reply, options, answer, quality))
    return AskResult(model=entry.label, answer=answer, options=options, levels=results, screens=preview.screens,
                     degradation=degradation)


# ----------------------------------------------------------------------------- display


def _shown(text: str) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    text = text if len(text) <= SHOWN_REPLY_CHARS else text[:SHOWN_REPLY_CHARS - 1] + "…"
    return f"`{text}`" if text else "(empty)"


def results_markdown(result: AskResult) -> str:
    """Per level: quality, letters, votes, majority, C and right or wrong; then the replies."""
    k = len(result.options)
    lines = [f"**{result.model}**, `{result.degradation}`, correct answer **{result.answer}**", "",
             "| level | SSIM vs L0 | letters | votes | majority | C | right? |", "|---|---|---|---|---|---|---|"]
    for level in result.levels:
        ssim = "1.000" if level.quality is None else f"{level.quality[0]:.3f}"
        letters = " ".join(x or "?" for x in level.letters)
        votes = ", ".join(f"{letter} {level.votes[letter]}" for letter in OPTION_LETTERS[:k])
        if level.unparseable:
            votes += f", ? {level.unparseable}"
        verdict = "yes" if level.correct == 1 else "no" if level.correct == 0 else f"tie ({level.correct:.2f})"
        lines.append(f"| {level.level} | {ssim} | {letters} | {votes} | {level.majority} | "
                     f"{level.confidence:.3f} | {verdict} |")
    lines += ["", "C = 1 − H/ln K of the T answers (unreadable answers count as their own outcome); "
              "`?` = a reply naming no option (never guessed).", "", "Replies:", ""]
    for level in result.levels:
        lines.append(f"- {level.level}: " + "; ".join(_shown(text) for text in level.texts))
    return "\n".join(lines)


def votes_figure(result: AskResult):
    """Grouped bars: votes per option letter (and unreadable), one colour per level."""
    from matplotlib.figure import Figure

    k = len(result.options)
    labels = [*OPTION_LETTERS[:k], "?"]
    figure = Figure(figsize=(6, 3.2), dpi=100)
    axis = figure.add_subplot()
    width = 0.26
    colours = ("#2b6cb0", "#dd6b20", "#c53030")
    for index, (level, colour) in enumerate(zip(result.levels, colours, strict=False)):
        counts = [level.votes[letter] for letter in OPTION_LETTERS[:k]] + [level.unparseable]
        positions = np.arange(len(labels)) + (index - 1) * width
        axis.bar(positions, counts, width=width, color=colour,
                 label=f"{level.level} (C={level.confidence:.2f})")
    correct = OPTION_LETTERS.index(result.answer)
    axis.axvspan(correct - 0.45, correct + 0.45, color="#38a169", alpha=0.12, label="correct option")
    axis.set_xticks(range(len(labels)), labels)
    axis.set_ylabel("answers")
    axis.set_ylim(0, max(1, max(len(level.texts) for level in result.levels)) + 0.5)
    axis.set_title("vote distribution")
    axis.legend(fontsize=7, loc="upper right")
    figure.tight_layout()
    return figure
