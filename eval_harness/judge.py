"""The optional answer judge: a language model's second reading of the replies the rules leave unparseable.

Off by default. The paper scores by rules only (``extraction.py``), and so does every
figure the report gives first. With ``medqdeg evaluate --judge-model M [--judge-base-url URL]``
(as VLMEvalKit and lmms-eval allow), once the rules have read an item's samples, each
sample they leave unparseable is sent to M, **text only**, through the OpenAI-compatible
backend (``backends/openai_backend.py``: its retries and concurrency; the key from
``$OPENAI_API_KEY``, never written; the server from ``--judge-base-url``, else
``$OPENAI_BASE_URL``), at temperature 0 with one answer, as ``JUDGE_PROMPT``: the
question, the lettered options and the reply, asking for the one option letter the reply
commits to, or ``none``. Samples the rules read are never sent.

The judge's answer is read by the project's own rules (``extract_letter``); ``none`` (an
answer that begins with the word), or anything the rules cannot read, leaves the sample
unparseable: nothing is guessed.

Recorded apart: the records are written exactly as without the judge; the judge's results
go to ``judge-<rank>-of-<world>.jsonl``, one line per judged record (``records.py``):
``key``, ``id``, ``judge`` (the judge's settings: model, server host, prompt hash,
generation; no key), ``judge_id`` (a hash of them), ``letters`` (the rules'),
``judge_letters`` (the judge's letter for each sample sent, else ``None``),
``judge_outputs`` (the judge's replies, ``None`` for samples not sent) and
``letter_sources`` (``"rules"``, ``"judge"`` or ``None`` per sample: who gave its letter).
A resumed run does not ask again for a record already judged by the same judge (same
``judge_id``: model, server, prompt and generation; concurrency, timeout and retries may
change); a record whose judge request failed gets no line and is asked on resume. With
another judge, the records are judged again and the last line of a record counts.

The report (``report.py``) keeps its accuracy and calibration from the rules only and adds,
when judge lines exist, the same figures with the judge's letters filled in, labelled as such.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from medqdeg.dataset_builder.vocabulary import stable_key

from .backends import build_backend
from .backends.base import Backend, GenerationSettings, Query
from .extraction import extract_letter
from .prompt import format_options

JUDGE_PROMPT = (
    "Below are a multiple-choice question, its options and a reply written by another model. "
    "Which single option does the reply commit to as its final answer?\n\n"
    "Question: {question}\n\nOptions:\n{options}\n\n"
    "Reply:\n<<<\n{reply}\n>>>\n\n"
    "Answer with the option letter only. If the reply commits to no option, to more than one, "
    "or only hedges, answer none. Do not answer the question yourself."
)
"""The judge's prompt: the reply is quoted between ``<<<`` and ``>>>``; the judge reads, it does not answer."""

JUDGE_GENERATION = GenerationSettings(samples=1, temperature=0.0, max_new_tokens=16, want_texts=True,
                                      want_letter_probs=False, seed=0)
"""One answer, greedy (temperature 0), a few tokens: a letter or ``none``."""

_TRANSPORT = ("concurrency", "timeout", "max_retries", "backoff")
_NONE = re.compile(r"\W*none\b", re.IGNORECASE)


def judge_prompt(question: str, options: Sequence[str], reply: str) -> str:
    """``JUDGE_PROMPT`` filled for one reply."""
    return JUDGE_PROMPT.format(question=question, options=format_options(options), reply=reply)


def read_judge_answer(text: str | None, options: Sequence[str]) -> str | None:
    """The letter the judge gave, by the project's rules; ``None`` for ``none`` or an unreadable answer.

    >>> read_judge_answer("B", ["liver", "kidney"]), read_judge_answer("None.", ["none", "kidney"])
    ('B', None)
    """
    if not text or _NONE.match(text):
        return None
    return extract_letter(text, options)


@dataclass
class JudgeItem:
    """One record to judge: its key and id, the rules' letters, the replies, the question."""

    key: str
    item_id: str
    letters: list[str | None]
    replies: list[str]
    question: str
    options: list[str]


class AnswerJudge:
    """Asks a judge model (any ``Backend``; the OpenAI-compatible one from the command line)."""

    def __init__(self, backend: Backend):
        self.backend = backend

    @classmethod
    def openai(cls, model: str, **options: Any) -> AnswerJudge:
        """The judge ``model`` behind an OpenAI-compatible server (``options``: base_url, concurrency...)."""
        return cls(build_backend("openai", model, **options))

    def settings(self) -> dict[str, Any]:
        """What identifies the judge: its backend's settings (no key), the prompt's hash, the generation."""
        return {"backend": self.backend.settings(),
                "prompt_hash": stable_key(JUDGE_PROMPT, chars=16),
                "generation": asdict(JUDGE_GENERATION)}

    @property
    def judge_id(self) -> str:
        """A hash of what decides the judge's answers: its settings less how requests are sent
        (concurrency, timeout, retries), which a resumed run may change without asking again."""
        settings = self.settings()
        settings["backend"] = {key: value for key, value in settings["backend"].items() if key not in _TRANSPORT}
        return stable_key(settings, chars=16)

    def judge(self, items: list[JudgeItem]) -> list[tuple[dict[str, Any] | None, str | None]]:
        """For each item, ``(judge line, None)``, or ``(None, error)`` when a judge request failed."""
        asked = [(n, i) for n, item in enumerate(items) for i, letter in enumerate(item.letters) if letter is None]
        queries = [Query(item_id=f"{items[n].item_id}/judge/{i}", image=None, num_options=len(items[n].options),
                         prompt=judge_prompt(items[n].question, items[n].options, items[n].replies[i] or ""))
                   for n, i in asked]
        answers = self.backend.answer(queries, JUDGE_GENERATION) if queries else []
        by_item: dict[int, dict[int, Any]] = {}
        for (n, i), answer in zip(asked, answers, strict=True):
            by_item.setdefault(n, {})[i] = answer
        settings, judge_id = self.settings(), self.judge_id
        results: list[tuple[dict[str, Any] | None, str | None]] = []
        for n, item in enumerate(items):
            answers_of = by_item.get(n, {})
            errors = [a.error for a in answers_of.values() if a.error is not None]
            if errors:
                results.append((None, errors[0]))
                continue
            outputs = [(answers_of[i].texts or [""])[0] if i in answers_of else None
                       for i in range(len(item.letters))]
            judged = [read_judge_answer(outputs[i], item.options) if i in answers_of else None
                      for i in range(len(item.letters))]
            sources = ["rules" if rule is not None else "judge" if verdict is not None else None
                       for rule, verdict in zip(item.letters, judged, strict=True)]
            results.append(({"key": item.key, "id": item.item_id, "judge": settings, "judge_id": judge_id,
                             "letters": item.letters, "judge_letters": judged, "judge_outputs": outputs,
                             "letter_sources": sources}, None))
        return results


def letters_with_judge(record: dict[str, Any]) -> list[str | None]:
    """A record's letters with the judge's filled in where the rules left ``None``."""
    judged = record.get("judge_letters") or [None] * len(record["letters"])
    return [rule if rule is not None else verdict for rule, verdict in zip(record["letters"], judged, strict=True)]
