"""Any OpenAI-compatible chat server (OpenAI, vLLM, ``transformers serve``...) as a backend.

Each query becomes one chat request through the official ``openai`` client: an optional
system message, then one user message holding the image as a PNG data URL and the
prompt text. The T samples are asked for with ``n=T``; servers that return fewer choices
(``transformers serve`` and many others ignore ``n``) get further requests, each with its
own seed, until T texts are in.

Server flavours
    ``"openai"``: standard fields only (``n``, ``temperature``, ``seed``, ``logprobs``...).
    ``"transformers-serve"``: ``transformers serve`` ignores ``n``, ``logprobs`` and
    ``top_logprobs`` and samples only when asked through its own ``generation_config``
    field, so for ``temperature > 0`` the request carries
    ``generation_config = {"do_sample": true, "temperature": t, "top_k": 0, "top_p": 1.0}``
    (plain temperature sampling as on the OpenAI API; ``top_k: 0`` turns off transformers'
    default top-50 cut). At ``temperature == 0`` nothing is added: the server decodes
    greedily. No other non-standard field is sent (unknown fields get HTTP 422).
    ``"auto"``: decided once from ``GET /models``: ``transformers serve`` tags each listed
    model with a ``status`` object (``{"value": "loaded"}``), which OpenAI and vLLM do
    not. Name the flavour explicitly when you know it.

Seeds and reproducibility
    Request r (0 for the first, 1, 2... for the fill-ups, r = T for letter-probs) of an
    item carries ``seed = stable_hash("openai-backend", generation.seed, item_id, r) mod 2**31``,
    so the same run sends byte-identical requests in any order and on any machine, and the
    fill-ups do not repeat the first sample. What the server makes of the seed differs:
    the OpenAI API treats it as best effort (answers may change with its
    ``system_fingerprint``); ``transformers serve`` calls ``torch.manual_seed(seed)`` on its
    one global generator before queueing the generation, so its samples repeat exactly
    only when requests reach it one at a time (``concurrency=1``, no other client); with
    several in flight, another request can reseed or draw from the generator in between.

Letter-probs
    With ``generation.want_letter_probs`` one extra request asks for one token with
    ``logprobs=True, top_logprobs=20``. The first token's top alternatives are matched to
    the option letters: a token counts for letter X when it is X after stripping leading
    whitespace and the BPE/SentencePiece space markers (``Ġ``, ``▁``); spellings of the
    same letter are merged by taking the *max* probability (a sum would favour letters
    that happen to have more spellings in the vocabulary); letters outside the top 20
    count 0; the K values are renormalised to sum 1. When the server returns no logprobs
    (``transformers serve``) or none of the letters is among the alternatives,
    ``letter_probs`` stays ``None`` and a warning says so once: they are never invented.
    After a server has once answered without logprobs, the backend stops asking it.

Failures
    Each HTTP request is tried up to ``1 + max_retries`` times (the ``openai`` client's own
    retries are off) with exponential backoff ``backoff * 2**k`` seconds (capped at 60, or
    the server's ``Retry-After`` when larger and at most 60) on HTTP 408, 429 and 5xx,
    connection errors and timeouts. Other 4xx (400, 401, 403, 404, 422...) fail at once.
    A failed item's ``Answer`` has only ``error`` set (status or exception type, attempts,
    a short server detail; never the API key), so the runner records it and asks again on
    resume. Token counts are summed over the item's requests from ``usage`` when the
    server reports it.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import os
import string
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.dataset_builder.image_io import png_data_url
from medqdeg.dataset_builder.vocabulary import stable_hash

from .base import Answer, GenerationSettings, Query

logger = logging.getLogger(__name__)

FLAVORS = ("openai", "transformers-serve", "auto")
DEFAULT_BASE_URL = "https://api.openai.com/v1"
LOCAL_PLACEHOLDER_KEY = "sk-local-placeholder"  # sent to loopback servers when no key is set
TOP_LOGPROBS = 20  # the OpenAI API's maximum
MAX_BACKOFF_S = 60.0
_SPACE_MARKERS = "Ġ▁ \t\n"


class RequestFailed(Exception):
    """One request failed for good (after its retries, or at once for a non-retryable status)."""


def build_messages(query: Query, data_url: str | None = None) -> list[dict[str, Any]]:
    """The chat messages of one query: optional system text, then image and prompt
    (the prompt alone, as a plain string, for a text-only query with no image)."""
    messages: list[dict[str, Any]] = []
    if query.system:
        messages.append({"role": "system", "content": query.system})
    if query.image is None and data_url is None:
        messages.append({"role": "user", "content": query.prompt})
        return messages
    url = data_url if data_url is not None else png_data_url(query.image)
    messages.append({
        "role": "user",
        "content": [
            {"type": "image_url", "image_url": {"url": url}},
            {"type": "text", "text": query.prompt},
        ],
    })
    return messages


def request_seed(seed: int, item_id: str, request_index: int) -> int:
    """The seed sent with request ``request_index`` of ``item_id`` (fits a signed 32-bit int)."""
    return stable_hash("openai-backend", int(seed), str(item_id), int(request_index)) % (2**31)


def letter_probs_from_top_logprobs(
    top_logprobs: list[tuple[str, float]], num_options: int
) -> list[float] | None:
    """P(letter) for A.. (K values, sum 1) from the first token's ``(token, logprob)`` alternatives.

    Spellings of a letter (``"A"``, ``" A"``, ``"ĠA"``, ``"▁A"``) are merged by their max;
    letters absent from the alternatives count 0. ``None`` when no letter is present.

    >>> letter_probs_from_top_logprobs([(" A", math.log(0.6)), ("B", math.log(0.2)), ("A", math.log(0.1))], 2)
    [0.75, 0.25]
    """
    letters = string.ascii_uppercase[:num_options]
    best = dict.fromkeys(letters, 0.0)
    for token, logprob in top_logprobs:
        letter = token.lstrip(_SPACE_MARKERS)
        if letter in best and logprob is not None and math.isfinite(logprob):
            best[letter] = max(best[letter], math.exp(logprob))
    total = sum(best.values())
    if total <= 0.0:
        return None
    return [best[letter] / total for letter in letters]


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass
class _Usage:
    prompt: int | None = None
    completion: int | None = None

    def add(self, usage: Any) -> None:
        if usage is None:
            return
        prompt = getattr(usage, "prompt_tokens", None)
        completion = getattr(usage, "completion_tokens", None)
        if prompt is not None:
            self.prompt = (self.prompt or 0) + int(prompt)
        if completion is not None:
            self.completion = (self.completion or 0) + int(completion)


class OpenAIBackend:
    """A model behind an OpenAI-compatible ``/chat/completions`` endpoint.

    Args:
        model: the model name the server expects (for ``transformers serve FOLDER``, FOLDER
            exactly as given to the server).
        base_url: the API root (``.../v1``); default ``$OPENAI_BASE_URL``, else OpenAI's.
        api_key_env: the environment variable holding the key. A loopback server gets a
            placeholder when it is unset; any other server needs it.
        base_url_env: the environment variable read when ``base_url`` is not given.
        concurrency: the most requests in flight at once (queries of a batch run in a
            thread pool of this size; an item's own requests go one after another).
        timeout: seconds per HTTP request.
        max_retries: further tries of a request after a retryable failure.
        backoff: the first retry's delay in seconds, doubled at each further retry.
        server_flavor: ``"openai"``, ``"transformers-serve"`` or ``"auto"`` (see the module).
        extra_body: extra JSON fields for every request (merged over the backend's own;
            a ``generation_config`` JSON string is merged key by key).
        max_tokens_field: ``"max_tokens"`` or ``"max_completion_tokens"``; default the
            latter for api.openai.com (its reasoning models refuse ``max_tokens``), the
            former elsewhere.
        client: an object with ``chat.completions.create`` and ``models.list`` to use
            instead of a new ``openai.OpenAI`` (tests).
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        base_url_env: str = "OPENAI_BASE_URL",
        concurrency: int = 8,
        timeout: float = 60.0,
        max_retries: int = 5,
        backoff: float = 1.0,
        server_flavor: str = "auto",
        extra_body: dict[str, Any] | None = None,
        max_tokens_field: str | None = None,
        client: Any = None,
    ):
        if not model:
            raise InvalidInputError("model", "is empty", "the model name the server expects")
        if server_flavor not in FLAVORS:
            raise InvalidInputError("server_flavor", f"is {server_flavor!r}", f"one of {FLAVORS}")
        if int(concurrency) < 1:
            raise InvalidInputError("concurrency", f"is {concurrency}", "an integer >= 1")
        if float(timeout) <= 0:
            raise InvalidInputError("timeout", f"is {timeout}", "a positive number of seconds")
        if int(max_retries) < 0:
            raise InvalidInputError("max_retries", f"is {max_retries}", "an integer >= 0")
        if float(backoff) < 0:
            raise InvalidInputError("backoff", f"is {backoff}", "a number of seconds >= 0")
        if max_tokens_field not in (None, "max_tokens", "max_completion_tokens"):
            raise InvalidInputError(
                "max_tokens_field", f"is {max_tokens_field!r}",
                "'max_tokens', 'max_completion_tokens' or None",
            )
        self.model = model
        self.base_url = (base_url or os.environ.get(base_url_env) or DEFAULT_BASE_URL).rstrip("/")
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInputError(
                "base_url", f"is {parts.scheme}://{parts.hostname or ''} (unusable)",
                "an http(s) URL such as http://127.0.0.1:8000/v1",
            )
        self._host = parts.hostname + (f":{parts.port}" if parts.port else "")
        self._loopback = _is_loopback(parts.hostname)
        key = os.environ.get(api_key_env)
        if not key:
            if not self._loopback:
                raise InvalidInputError(
                    api_key_env, f"(environment variable) is not set but {self._host} is not a local server",
                    f"the API key in ${api_key_env}, or a loopback base URL in ${base_url_env}",
                )
            key = LOCAL_PLACEHOLDER_KEY
        self._api_key = key
        self.concurrency = int(concurrency)
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.backoff = float(backoff)
        self.server_flavor = server_flavor
        self.extra_body = dict(extra_body or {})
        if max_tokens_field is None:
            max_tokens_field = "max_completion_tokens" if parts.hostname == "api.openai.com" else "max_tokens"
        self.max_tokens_field = max_tokens_field
        self.name = f"openai:{model}"
        self.sleep: Callable[[float], None] = time.sleep  # replaceable in tests
        self._client = client
        self._lock = threading.Lock()
        self._flavor: str | None = None if server_flavor == "auto" else server_flavor
        self._logprobs_supported: bool | None = None
        self._warned: set[str] = set()
        self.stats = {"requests": 0, "retries": 0, "failed_items": 0}

    # ----- public -----

    def settings(self) -> dict[str, Any]:
        """What was asked of whom; no key, no path or credentials of the URL."""
        return {
            "backend": "openai",
            "model": self.model,
            "base_url_host": self._host,
            "server_flavor": self.server_flavor,
            "concurrency": self.concurrency,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "backoff": self.backoff,
            "max_tokens_field": self.max_tokens_field,
            "extra_body": json.loads(self._scrub(json.dumps(self.extra_body, sort_keys=True))),
        }

    @property
    def flavor(self) -> str | None:
        """The flavour in use (``None`` while ``"auto"`` is undecided)."""
        return self._flavor

    def answer(self, queries: list[Query], generation: GenerationSettings) -> list[Answer]:
        if not queries:
            return []
        if generation.samples < 1 and generation.want_texts:
            raise InvalidInputError("samples", f"is {generation.samples}", "an integer >= 1")
        try:
            self._resolve_flavor()
        except RequestFailed as exc:
            message = f"could not determine the server flavour: {exc}"
            with self._lock:
                self.stats["failed_items"] += len(queries)
            return [Answer(error=message) for _ in queries]
        workers = min(self.concurrency, len(queries))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="openai-backend") as pool:
            return list(pool.map(lambda q: self._answer_one(q, generation), queries))

    # ----- internals -----

    def _get_client(self) -> Any:
        with self._lock:
            if self._client is None:
                import openai

                self._client = openai.OpenAI(
                    api_key=self._api_key, base_url=self.base_url, timeout=self.timeout, max_retries=0
                )
            return self._client

    def _scrub(self, text: str) -> str:
        if self._api_key and len(self._api_key) >= 4:
            text = text.replace(self._api_key, "***")
        return text

    def _warn_once(self, key: str, message: str) -> None:
        with self._lock:
            if key in self._warned:
                return
            self._warned.add(key)
        logger.warning("%s", message)

    def _resolve_flavor(self) -> str:
        if self._flavor is not None:
            return self._flavor
        client = self._get_client()
        try:
            listing = self._with_retries("(flavour probe)", lambda: client.models.list())
            data = list(getattr(listing, "data", None) or [])
        except RequestFailed as exc:
            if "not retried" not in str(exc):
                raise
            data = []  # no /models endpoint: a plain OpenAI-compatible server
        flavor = "openai"
        for entry in data:
            extra = entry.model_dump() if hasattr(entry, "model_dump") else dict(entry)
            status = extra.get("status")
            if isinstance(status, dict) and "value" in status:
                flavor = "transformers-serve"
                break
        with self._lock:
            self._flavor = flavor
        logger.info("server at %s looks like %s", self._host, flavor)
        return flavor

    def _with_retries(self, item_id: str, call: Callable[[], Any]) -> Any:
        import openai

        attempts = 1 + self.max_retries
        for attempt in range(1, attempts + 1):
            with self._lock:
                self.stats["requests"] += 1
                if attempt > 1:
                    self.stats["retries"] += 1
            retry_after = None
            try:
                return call()
            except openai.APIStatusError as exc:
                status = exc.status_code
                kind = f"HTTP {status} {type(exc).__name__}"
                detail = self._detail(exc)
                if not (status in (408, 429) or status >= 500):
                    raise RequestFailed(f"{kind} (not retried): {detail}") from None
                last = f"{kind}: {detail}" if detail else kind
                retry_after = _retry_after(exc)
            except openai.APITimeoutError:
                last = f"APITimeoutError (no answer within {self.timeout:g} s)"
            except openai.APIConnectionError as exc:
                cause = type(exc.__cause__).__name__ if exc.__cause__ is not None else ""
                last = f"APIConnectionError{f' ({cause})' if cause else ''}"
            except openai.OpenAIError as exc:
                raise RequestFailed(f"{type(exc).__name__} (not retried): {self._scrub(str(exc))[:200]}") from None
            if attempt == attempts:
                raise RequestFailed(f"{last} after {attempts} attempts")
            delay = min(self.backoff * 2 ** (attempt - 1), MAX_BACKOFF_S)
            if retry_after is not None:
                delay = max(delay, min(retry_after, MAX_BACKOFF_S))
            logger.info("%s: %s; retry %d/%d in %.2f s", item_id, last, attempt, self.max_retries, delay)
            self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _detail(self, exc: Any) -> str:
        body = getattr(exc, "body", None)
        detail: Any = None
        if isinstance(body, dict):
            detail = body.get("detail") or body.get("error") or body.get("message")
            if isinstance(detail, dict):
                detail = detail.get("message") or detail
        if detail is None:
            detail = body if body is not None else ""
        text = detail if isinstance(detail, str) else json.dumps(detail, default=str)
        return self._scrub(" ".join(text.split()))[:200]

    def _base_request(self, query: Query, messages: list[dict[str, Any]], max_tokens: int) -> dict[str, Any]:
        return {"model": self.model, "messages": messages, self.max_tokens_field: int(max_tokens)}

    def _merge_extra(self, ours: dict[str, Any]) -> dict[str, Any]:
        merged = dict(ours)
        for key, value in self.extra_body.items():
            if key == "generation_config":  # a JSON string on the wire; a dict is accepted here
                theirs = json.loads(value) if isinstance(value, str) else dict(value)
                mine = json.loads(merged.get("generation_config", "{}"))
                merged[key] = json.dumps({**mine, **theirs}, sort_keys=True)
            else:
                merged[key] = value
        return merged

    def _sample_request(
        self, query: Query, messages: list[dict[str, Any]], n: int, generation: GenerationSettings,
        request_index: int,
    ) -> dict[str, Any]:
        kwargs = self._base_request(query, messages, generation.max_new_tokens)
        kwargs["n"] = int(n)
        kwargs["temperature"] = float(generation.temperature)
        kwargs["seed"] = request_seed(generation.seed, query.item_id, request_index)
        extra: dict[str, Any] = {}
        if self._flavor == "transformers-serve" and generation.temperature > 0:
            extra["generation_config"] = json.dumps(
                {"do_sample": True, "temperature": float(generation.temperature), "top_k": 0, "top_p": 1.0},
                sort_keys=True,
            )
        extra = self._merge_extra(extra)
        if extra:
            kwargs["extra_body"] = extra
        return kwargs

    def _letter_request(
        self, query: Query, messages: list[dict[str, Any]], generation: GenerationSettings, request_index: int
    ) -> dict[str, Any]:
        kwargs = self._base_request(query, messages, 1)
        kwargs.update(
            n=1, logprobs=True, top_logprobs=TOP_LOGPROBS,
            seed=request_seed(generation.seed, query.item_id, request_index),
        )
        extra = self._merge_extra({})
        if extra:
            kwargs["extra_body"] = extra
        return kwargs

    def _answer_one(self, query: Query, generation: GenerationSettings) -> Answer:
        try:
            return self._answer_one_or_raise(query, generation)
        except RequestFailed as exc:
            with self._lock:
                self.stats["failed_items"] += 1
            message = self._scrub(str(exc))
            logger.warning("%s: failed: %s", query.item_id, message)
            return Answer(error=message)

    def _answer_one_or_raise(self, query: Query, generation: GenerationSettings) -> Answer:
        client = self._get_client()
        messages = build_messages(query)
        usage = _Usage()
        texts: list[str] = []
        target = int(generation.samples) if generation.want_texts else 0
        request_index = 0
        while len(texts) < target:
            if request_index >= target:  # every request gave >= 1 choice, so this is a bug guard
                raise RequestFailed(f"still {len(texts)}/{target} texts after {request_index} requests")
            kwargs = self._sample_request(query, messages, target - len(texts), generation, request_index)
            response = self._with_retries(query.item_id, lambda kw=kwargs: client.chat.completions.create(**kw))
            request_index += 1
            choices = list(getattr(response, "choices", None) or [])
            if not choices:
                raise RequestFailed("the server returned no choices (not retried)")
            usage.add(getattr(response, "usage", None))
            for choice in choices[: target - len(texts)]:
                message = getattr(choice, "message", None)
                texts.append(getattr(message, "content", None) or "")
        letter_probs = None
        if generation.want_letter_probs:
            letter_probs = self._letter_probs(client, query, messages, generation, usage)
        return Answer(
            texts=texts,
            letter_probs=letter_probs,
            prompt_tokens=usage.prompt,
            completion_tokens=usage.completion,
        )

    def _letter_probs(
        self, client: Any, query: Query, messages: list[dict[str, Any]], generation: GenerationSettings,
        usage: _Usage,
    ) -> list[float] | None:
        if self._logprobs_supported is False:
            return None
        kwargs = self._letter_request(query, messages, generation, max(1, generation.samples))
        response = self._with_retries(query.item_id, lambda: client.chat.completions.create(**kwargs))
        usage.add(getattr(response, "usage", None))
        choices = list(getattr(response, "choices", None) or [])
        content = None
        if choices and getattr(choices[0], "logprobs", None) is not None:
            content = getattr(choices[0].logprobs, "content", None)
        if not content:
            with self._lock:
                self._logprobs_supported = False
            self._warn_once(
                "no-logprobs",
                f"the server at {self._host} returned no logprobs (transformers serve ignores "
                "`logprobs`); letter_probs are left None, not estimated",
            )
            return None
        with self._lock:
            self._logprobs_supported = True
        alternatives = [(alt.token, alt.logprob) for alt in (content[0].top_logprobs or [])]
        if not alternatives:
            alternatives = [(content[0].token, content[0].logprob)]
        probs = letter_probs_from_top_logprobs(alternatives, query.num_options)
        if probs is None:
            self._warn_once(
                "no-letters",
                f"no option letter among the first token's top {TOP_LOGPROBS} alternatives "
                f"(e.g. item {query.item_id}); letter_probs left None for such items",
            )
        return probs


def _retry_after(exc: Any) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
