"""A local vision-language model through Hugging Face transformers.

``TransformersBackend("llava-hf/llava-1.5-7b-hf")`` (or a local folder) loads the model
with ``AutoProcessor`` and ``AutoModelForImageTextToText`` and asks it with the model's
own chat template: an optional system message, then one user message holding the image
and the text (``{"type": "image"}``, ``{"type": "text"}``), then the generation prompt.

Sampled texts
    The T samples of an item come from ONE ``generate`` call with
    ``num_return_sequences=T`` (sampling at the given temperature; greedy when the
    temperature is 0 and T == 1; with temperature 0 and T > 1 the one greedy answer is
    repeated T times, since greedy decoding cannot differ). Items are batched,
    ``batch_size`` per call, with left padding, so every prompt ends at the last column and
    only the new tokens are decoded. Sampling settings other than the temperature
    (``top_k``, ``top_p``...) are the model's own ``generation_config``.

Reproducibility
    Answers are generated item by item (the item encoded alone, its T samples in one call),
    with torch's generator seeded with ``stable_hash(seed, item ids)`` (low 63 bits) inside
    ``torch.random.fork_rng``: an item's samples depend only on (seed, item), never on which
    items share its batch or on what ran before, so a resumed run, which batches the remaining
    items differently, gives the same answers as a run never stopped; the caller's global RNG
    state is left as it was. (Seeding per batch made them depend on the batch.) The letter
    probabilities, which draw nothing at random, stay batched.

Letter probabilities (``want_letter_probs``)
    One forward pass per batch (``generate`` with ``max_new_tokens=1``, which sets
    ``logits_to_keep=1`` where the model supports it and builds the position ids the way the
    model expects under left padding) gives the logits of the token that follows the
    prompt. For each option letter the backend uses ONE token: the spelling the chat
    template actually produces there. It renders the conversation once with an assistant
    turn "A" to learn what whitespace the template puts before an answer (``""`` for
    ``...assistant\\n``, ``" "`` for ``ASSISTANT:``), then tokenizes the last prompt tokens
    (decoded) followed by that whitespace and the letter: the one token that follows the
    prompt's tokens is the letter's spelling (``A``, ``ĠA`` or ``▁A``). If the tokenizer
    would merge some letter with the prompt's end (``\\nB`` as one token, say), every
    letter A..K is spelled as its vocabulary token instead (``ĠA``/``▁A`` when the
    template puts a space before the answer, else ``A``), so all letters are spelled
    alike. Spellings are never summed, which would favour letters with more spellings.
    The K letters' logits go through a softmax, i.e. the probabilities are renormalised
    over the K option letters and sum to 1.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.dataset_builder.vocabulary import MAX_OPTIONS, MIN_OPTIONS, OPTION_LETTERS, stable_hash

from .base import Answer, GenerationSettings, Query

_DTYPES = ("auto", "float32", "float16", "bfloat16")
_TAIL_TOKENS = 8


class BackendLoadError(InvalidInputError):
    """The model or its processor could not be loaded, or cannot be used as asked."""


def _offline() -> bool:
    try:
        from huggingface_hub import constants

        if constants.HF_HUB_OFFLINE:
            return True
    except ImportError:  # pragma: no cover - huggingface_hub comes with transformers
        pass
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def _is_torchvision_error(exc: BaseException) -> bool:
    return "torchvision" in str(exc).lower()


def _transformers_at_least(major: int, minor: int) -> bool:
    import transformers

    parts = transformers.__version__.split(".")
    return (int(parts[0]), int("".join(c for c in parts[1] if c.isdigit()) or 0)) >= (major, minor)


def _batch_seed(seed: int, item_ids: Sequence[str]) -> int:
    """A stable 63-bit seed from the run's seed and the batch's item ids."""
    return stable_hash(int(seed), list(item_ids)) & ((1 << 63) - 1)


class TransformersBackend:
    """A local (or Hub) image-text-to-text model; see the module docstring."""

    def __init__(
        self,
        model: str,
        *,
        dtype: str = "auto",
        device: str = "auto",
        trust_remote_code: bool = False,
        batch_size: int = 8,
        attn_implementation: str | None = None,
        revision: str | None = None,
    ):
        import torch

        if not isinstance(model, str) or not model.strip():
            raise BackendLoadError(
                "model", f"is {model!r}", "a Hub model id such as `owner/name` or a local folder"
            )
        if batch_size < 1:
            raise BackendLoadError("batch_size", f"is {batch_size}", "an integer >= 1")
        dtype_name = str(dtype).replace("torch.", "")
        if dtype_name not in _DTYPES:
            raise BackendLoadError("dtype", f"is {dtype!r}", f"one of {', '.join(_DTYPES)}")
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise BackendLoadError(
                "device",
                f"is {device!r} but torch sees no CUDA device",
                "device='cpu' (or 'auto'), or a CUDA build of torch on a machine with a GPU",
            )
        self.model_id = model
        self.name = f"transformers:{model}"
        self.batch_size = int(batch_size)
        self.device = device
        self.trust_remote_code = bool(trust_remote_code)
        self.attn_implementation = attn_implementation
        self._letter_cache: dict[tuple[Any, ...], list[int | None]] = {}
        self._prefix_cache: dict[bool, str] = {}
        self.processor = self._load_processor(model, revision)
        self.tokenizer = getattr(self.processor, "tokenizer", None)
        if self.tokenizer is None or not hasattr(self.processor, "image_processor"):
            raise BackendLoadError(
                "model",
                f"loads a {type(self.processor).__name__}, not an image-text processor",
                "a vision-language model (image-text-to-text) with an image processor",
                item=model,
            )
        self.chat_template = getattr(self.processor, "chat_template", None) or getattr(
            self.tokenizer, "chat_template", None
        )
        if not self.chat_template:
            raise BackendLoadError(
                "chat_template",
                "is missing: neither the processor nor the tokenizer has one",
                "a model folder with chat_template.jinja (or `chat_template` in "
                "processor_config.json / tokenizer_config.json); add one with "
                "`processor.chat_template = ...; processor.save_pretrained(folder)`",
                item=model,
            )
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = self._load_model(model, revision, dtype_name)
        self.dtype = str(self.model.dtype).replace("torch.", "")
        self.revision = revision or getattr(self.model.config, "_commit_hash", None)

    # -- loading ------------------------------------------------------------------------

    def _common_kwargs(self, revision: str | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if self.trust_remote_code:
            kwargs["trust_remote_code"] = True
        if revision:
            kwargs["revision"] = revision
        return kwargs

    def _not_found(self, model: str, exc: BaseException) -> BackendLoadError:
        folder_like = model.startswith((".", "/", "~", "\\")) or model.count("/") > 1
        if folder_like or Path(model).expanduser().exists():
            problem = "names no model folder (the folder is missing, or has no config.json)"
        elif _offline():
            problem = (
                "could not be found locally: it is not a folder and not in the Hugging Face "
                "cache, and HF_HUB_OFFLINE is set, so nothing is downloaded"
            )
        else:
            problem = f"could not be loaded ({type(exc).__name__}: {exc})"
        return BackendLoadError(
            "model",
            problem,
            "an existing folder saved with save_pretrained, or a Hub id such as "
            "`llava-hf/llava-1.5-7b-hf` already downloaded (`hf download <id>`) "
            "or reachable with HF_HUB_OFFLINE unset",
            item=model,
        )

    def _torchvision_missing(self, model: str) -> BackendLoadError:
        return BackendLoadError(
            "model",
            "needs torchvision for its image or video processor, and torchvision is not installed",
            "torchvision installed: `pip install torchvision` (the build matching your torch), "
            "or a model whose processor works without it (LLaVA, Idefics3, PaliGemma)",
            item=model,
        )

    def _load_processor(self, model: str, revision: str | None):
        from transformers import AutoProcessor

        try:
            return AutoProcessor.from_pretrained(model, **self._common_kwargs(revision))
        except (ImportError, ModuleNotFoundError) as exc:
            if _is_torchvision_error(exc):
                raise self._torchvision_missing(model) from exc
            raise
        except (OSError, ValueError) as exc:
            if _is_torchvision_error(exc):
                raise self._torchvision_missing(model) from exc
            if isinstance(exc, OSError) or "trust_remote_code" not in str(exc):
                raise self._not_found(model, exc) from exc
            raise BackendLoadError(
                "trust_remote_code",
                "is False but this model ships its own code",
                "trust_remote_code=True, after reading that code",
                item=model,
            ) from exc

    def _load_model(self, model: str, revision: str | None, dtype_name: str):
        import torch
        from transformers import AutoModelForImageTextToText

        kwargs = self._common_kwargs(revision)
        # transformers renamed ``torch_dtype`` to ``dtype`` in 4.56
        dtype_key = "dtype" if _transformers_at_least(4, 56) else "torch_dtype"
        kwargs[dtype_key] = "auto" if dtype_name == "auto" else getattr(torch, dtype_name)
        kwargs["device_map"] = self.device
        if self.attn_implementation is not None:
            kwargs["attn_implementation"] = self.attn_implementation
        try:
            loaded = AutoModelForImageTextToText.from_pretrained(model, **kwargs)
        except ImportError as exc:
            if _is_torchvision_error(exc):
                raise self._torchvision_missing(model) from exc
            raise
        except OSError as exc:
            raise self._not_found(model, exc) from exc
        except ValueError as exc:
            raise BackendLoadError(
                "model",
                f"is not an image-text-to-text model ({exc})",
                "a vision-language model that AutoModelForImageTextToText supports",
                item=model,
            ) from exc
        return loaded.eval()

    def settings(self) -> dict[str, Any]:
        import transformers

        return {
            "backend": "transformers",
            "model": self.model_id,
            "revision": self.revision,
            "dtype": self.dtype,
            "device": self.device,
            "trust_remote_code": self.trust_remote_code,
            "batch_size": self.batch_size,
            "attn_implementation": self.attn_implementation,
            "transformers": transformers.__version__,
        }

    # -- prompts --------------------------------------------------------------------------

    @staticmethod
    def _messages(query: Query) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        if query.system:
            messages.append({"role": "system", "content": [{"type": "text", "text": query.system}]})
        messages.append(
            {
                "role": "user",
                "content": [{"type": "image"}, {"type": "text", "text": query.prompt}],
            }
        )
        return messages

    def _render(self, messages: list[dict[str, Any]], add_generation_prompt: bool) -> str:
        return self.processor.apply_chat_template(
            messages, add_generation_prompt=add_generation_prompt, tokenize=False
        )

    def _encode(self, queries: Sequence[Query]):
        texts = [self._render(self._messages(q), True) for q in queries]
        bos = self.tokenizer.bos_token
        # As processor.apply_chat_template does: a template that writes BOS itself must
        # not get a second one from the tokenizer.
        add_special = not (bos and all(t.startswith(bos) for t in texts))
        inputs = self.processor(
            text=texts,
            images=[[q.image.convert("RGB")] for q in queries],
            padding=True,
            return_tensors="pt",
            add_special_tokens=add_special,
        )
        inputs.pop("labels", None)
        return inputs.to(self.model.device)

    # -- answering ------------------------------------------------------------------------

    def answer(self, queries: list[Query], generation: GenerationSettings) -> list[Answer]:
        if generation.samples < 1:
            raise InvalidInputError("samples", f"is {generation.samples}", "an integer >= 1")
        if generation.temperature < 0:
            raise InvalidInputError("temperature", f"is {generation.temperature}", "a value >= 0")
        for q in queries:
            if not MIN_OPTIONS <= q.num_options <= MAX_OPTIONS:
                raise InvalidInputError(
                    "num_options", f"is {q.num_options}", f"{MIN_OPTIONS}..{MAX_OPTIONS}", item=q.item_id
                )
        answers: list[Answer] = []
        for start in range(0, len(queries), self.batch_size):
            answers.extend(self._answer_batch(queries[start : start + self.batch_size], generation))
        return answers

    def _answer_batch(self, batch: list[Query], generation: GenerationSettings) -> list[Answer]:
        try:
            return self._run_batch(batch, generation)
        except RuntimeError as exc:  # out of memory, a bad image...: retry one by one
            if len(batch) > 1:
                return [a for q in batch for a in self._answer_batch([q], generation)]
            return [Answer(error=f"{type(exc).__name__}: {exc}")]

    def _run_batch(self, batch: list[Query], generation: GenerationSettings) -> list[Answer]:
        import torch

        inputs = self._encode(batch)
        prompt_tokens = inputs["attention_mask"].sum(dim=1).tolist()
        answers = [Answer(prompt_tokens=int(n)) for n in prompt_tokens]
        with torch.inference_mode():
            if generation.want_texts:
                self._sample(batch, inputs, generation, answers)
            if generation.want_letter_probs:
                self._letter_probs(batch, inputs, answers)
        return answers

    def _eos_ids(self) -> set[int]:
        eos = self.model.generation_config.eos_token_id
        if eos is None:
            eos = self.tokenizer.eos_token_id
        return set(eos if isinstance(eos, list) else [eos] if eos is not None else [])

    def _sample(self, batch, inputs, generation: GenerationSettings, answers: list[Answer]):
        import torch

        samples = generation.samples
        greedy = generation.temperature == 0
        kwargs: dict[str, Any] = {
            "max_new_tokens": generation.max_new_tokens,
            "pad_token_id": self.tokenizer.pad_token_id,
        }
        if greedy:
            kwargs.update(do_sample=False, num_return_sequences=1)
        else:
            kwargs.update(
                do_sample=True, temperature=generation.temperature, num_return_sequences=samples
            )
        devices = [self.model.device] if self.model.device.type == "cuda" else []
        per_item = 1 if greedy else samples
        eos_ids = self._eos_ids()
        for query, answer in zip(batch, answers, strict=True):
            alone = inputs if len(batch) == 1 else self._encode([query])  # no padding from batch-mates
            with torch.random.fork_rng(devices=devices):
                torch.manual_seed(_batch_seed(generation.seed, [query.item_id]))
                output = self.model.generate(**alone, **kwargs)
            rows = output[:, alone["input_ids"].shape[1] :].cpu()[:per_item]
            texts = self.tokenizer.batch_decode(rows, skip_special_tokens=True)
            counts = []
            for row in rows.tolist():
                n = len(row)
                for j, tok in enumerate(row):
                    if tok in eos_ids:
                        n = j + 1
                        break
                counts.append(n)
            if greedy:
                texts, counts = texts * samples, counts * samples
            answer.texts = list(texts)
            answer.completion_tokens = sum(counts)

    # -- letter probabilities ---------------------------------------------------------------

    def _answer_prefix(self, query: Query) -> str:
        """The whitespace the chat template writes between the generation prompt and an answer."""
        key = bool(query.system)
        if key not in self._prefix_cache:
            messages = self._messages(query)
            prompt = self._render(messages, True)
            reply = {"role": "assistant", "content": [{"type": "text", "text": "A"}]}
            try:
                full = self._render([*messages, reply], False)
            except Exception:  # a template that refuses an assistant turn
                full = ""
            prefix = ""
            if full.startswith(prompt):
                rest = full[len(prompt) :]
                cut = rest.find("A")
                if cut > 0 and not rest[:cut].strip():
                    prefix = rest[:cut]
            self._prefix_cache[key] = prefix
        return self._prefix_cache[key]

    def _letter_ids(self, tail: tuple[int, ...], prefix: str) -> list[int | None]:
        """One token id per letter A..K after a prompt ending with ``tail`` (None: none)."""
        key = (tail, prefix)
        if key not in self._letter_cache:
            tok = self.tokenizer
            tail_text = tok.decode(
                list(tail), skip_special_tokens=False, clean_up_tokenization_spaces=False
            )
            base = tok.encode(tail_text, add_special_tokens=False)
            found: list[int | None] = []
            for letter in OPTION_LETTERS:
                full = tok.encode(tail_text + prefix + letter, add_special_tokens=False)
                token = None
                if full[: len(base)] == base:
                    extra = full[len(base) :]
                    if len(extra) == 1:
                        token = extra[0]
                    elif (
                        len(extra) > 1
                        and not tok.decode(extra[:-1]).strip()
                        and tok.decode(extra[-1:]).strip() == letter
                    ):
                        token = extra[-1]  # whitespace tokens, then the letter
                found.append(token)
            if None in found or len(set(found)) < len(found):
                # Some letter merges with the prompt's end: spell ALL letters the same way,
                # as the vocabulary's letter token (with a space marker if the template
                # puts a space before the answer), so that no letter is favoured.
                vocab = tok.get_vocab()
                markers = ["Ġ", "▁"] if prefix.endswith(" ") else []
                found = [
                    next((vocab[c] for c in [*(m + L for m in markers), L] if c in vocab), None)
                    for L in OPTION_LETTERS
                ]
            self._letter_cache[key] = found
        return self._letter_cache[key]

    def _letter_tokens(self, query: Query, prompt_ids: Sequence[int]) -> list[int]:
        ids = self._letter_ids(tuple(prompt_ids[-_TAIL_TOKENS:]), self._answer_prefix(query))
        tokens = ids[: query.num_options]
        if None in tokens or len(set(tokens)) != len(tokens):
            raise InvalidInputError(
                "want_letter_probs",
                f"cannot be computed: `{self.model_id}`'s tokenizer has no distinct single "
                f"token for each option letter {OPTION_LETTERS[: query.num_options]}",
                "want_letter_probs=False (use the sampled texts) for this model",
                item=query.item_id,
            )
        return tokens  # type: ignore[return-value]

    def letter_token_ids(self, query: Query) -> list[int]:
        """The token id used for each of the query's option letters (A.., K of them)."""
        inputs = self._encode([query])
        return self._letter_tokens(query, inputs["input_ids"][0].tolist())

    def _letter_probs(self, batch: list[Query], inputs, answers: list[Answer]) -> None:
        import torch

        out = self.model.generate(
            **inputs,
            max_new_tokens=1,
            do_sample=False,
            num_return_sequences=1,
            output_logits=True,
            return_dict_in_generate=True,
            pad_token_id=self.tokenizer.pad_token_id,
        )
        logits = out.logits[0].float().cpu()  # (batch, vocab): the token after the prompt
        ids = inputs["input_ids"].cpu()
        mask = inputs["attention_mask"].cpu().bool()
        for i, (query, answer) in enumerate(zip(batch, answers, strict=True)):
            tokens = self._letter_tokens(query, ids[i][mask[i]].tolist())
            # softmax over the K letters' logits: renormalised over the options, sums to 1
            probs = torch.softmax(logits[i, tokens], dim=0)
            answer.letter_probs = [float(p) for p in probs]
