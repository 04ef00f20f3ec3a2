"""Answer extraction: the option letter a model's reply gives, or ``None`` if it gives none.

The paper scores by rules, without an LLM judge: an exact letter; a leading letter
followed by ``.``, ``)`` or a space; "answer is X" / "option X"; a leading ``X-`` or
``X:``; else the first standalone A-E. This module keeps those rules and makes them
robust to what models really write. ``None`` means *unparseable*: the caller records it
as such; nothing is ever guessed.

The reply is first cleaned, in this order:

1. a ``<think>...</think>`` (or ``<thinking>``) block is dropped: **the text outside the
   thinking wins**; text before a lone ``</think>`` is thinking too, and a block never
   closed means the model never answered (``None``);
2. if the reply has ``<answer>...</answer>`` tags or LaTeX ``\\boxed{...}``, only their
   content is read;
3. markdown marks (asterisks, backticks, ``#``) are removed and ``_`` becomes a
   space (``**B.**`` -> ``B.``, ``"final_answer"`` -> ``"final answer"``).

Then the rules below are tried in order. **The first rule that finds anything decides**:
if what it found is one letter among the K options' letters, that letter (uppercase) is
the answer; if it is two different letters ("A or B", "A. ... B is also correct") or a
letter beyond the K options ("E" when K = 4), the reply is unparseable (``None``).

1. *Exact letter*: the whole reply is one letter, in either case, perhaps bracketed or
   followed by a period: ``B``, ``b``, ``(B)``, ``B.``.
2. *Exact option text*: the whole reply is one option's text, ignoring case,
   punctuation and spacing (``"pneumonia."`` for the option ``Pneumonia``).
3. *Final answer*: "Final answer: D", "final answer is (d)".
4. *Asserted letters*, gathered together: the leading letter (the paper's ``X.``,
   ``X)``, ``X-``, ``X:``, ``(X)``, or ``X`` alone on the first line, but not words such
   as "B-mode" or "E.g."; ``X`` and a space only when the option's own text or a
   non-letter follows, so the article in "A chest X-ray shows..." is no answer);
   "answer is X", "Answer: X", "the correct option is (b)", ``{"answer": "B"}``,
   "I would choose B"; and "X is (also) correct". A final answer (rule 3) overrides
   these; without one, a reply asserting two letters is unparseable.
5. *Letters mentioned*: standalone capital letters A-E (the paper's last rule), plus
   "option b" / "choice b" and ``(b)``. Unlike the paper, which takes the first one, all of
   them must agree; letters beyond the K options are skipped here (as in "vitamin E"),
   and so are a sentence-initial "A" followed by a word (the article) and "B-mode",
   "E.g.".
6. *Option text contained*: the reply contains the full text of exactly one option
   (ignoring case and punctuation, on word boundaries). Only options of at least
   ``MIN_CONTAINED_CHARS`` characters take part, so that short texts ("No", "CT") are not
   found inside unrelated words; when one found text lies inside another found one
   ("fracture" in "no fracture"), the longer one is meant.

Lower-case letters count only when clearly marked as an option: alone, in brackets, after
"option"/"choice"/"letter", or after "answer is" when punctuation or the end follows (so
"the answer is a fracture" names no letter). A reply with none of these (empty, a
refusal, "None of the above" when that is no option's text) is ``None``.

>>> extract_letter("**Answer:** C", ["Liver", "Kidney", "Spleen", "Heart"])
'C'
>>> extract_letter("It could be A or B.", ["Liver", "Kidney", "Spleen", "Heart"]) is None
True
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.dataset_builder.items import LETTERS, MAX_OPTIONS, MIN_OPTIONS

MIN_CONTAINED_CHARS = 4
"""Shortest normalised option text that rule 6 looks for inside a longer reply."""

THINK_BLOCK = re.compile(r"<(think|thinking)>.*?</\1>", re.I | re.S)
THINK_OPEN = re.compile(r"<think(?:ing)?>", re.I)
THINK_CLOSE = re.compile(r"</think(?:ing)?>", re.I)
ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>|\\boxed\{((?:[^{}]|\{[^{}]*\})*)\}", re.I | re.S)
LATEX_MARKUP = re.compile(r"\\[A-Za-z]+|[{}$]")
MARKDOWN = re.compile(r"[*`#]+")

EXACT_LETTER = re.compile(r"""[\s("'\[]*([A-Ea-e])[\s)\]"'.:]*""")
FINAL_MARKER = re.compile(r"\bfinal\s+answer\b\s*(?:is\b\s*:?|[:=\-–])?\s*", re.I)
ANSWER_MARKER = re.compile(
    r"""(?:\banswer|\b(?:correct|right|best|most\s+(?:appropriate|likely))\s+(?:option|choice))
        \b["']?\s*(?:(?:is|would\s+be|should\s+be|will\s+be)\b\s*:?|[:=\-–])\s*
        (?:(?:likely|probably|most\s+likely|definitely|clearly)\s+)?
      |\b(?:choose|select|pick|go\s+with)\s+""",
    re.I | re.X)
LEADING_LETTER = re.compile(
    r"""[ \t]*(?:\((?P<bracketed>[A-Ea-e])\)
      |["'\[]?(?P<letter>[A-E])(?:[):\]]|[.\-](?![A-Za-z])|[ \t]*$|[ \t]+(?P<rest>.*)))""", re.M | re.X)
IS_CORRECT = re.compile(
    r"(?<![\w'])(?:\(([A-Ea-e])\)|([A-E]))\s+(?i:is\s+(?:also\s+)?(?:the\s+)?(?:correct|right|answer))\b")
OPTION_MARKER = re.compile(r"\b(?:option|choice)[ \t]*", re.I)
LETTER_AT = re.compile(
    r"""(?P<marked>(?i:option|choice|letter)[ \t]*)?
        (?P<open>[("'\[])?(?P<letter>[A-Ea-e])(?![\w'])(?P<close>[)\]"'])?
        (?:[ \t]*(?:(?i:or|and)|/)[ \t]*[("'\[]?(?P<other>[A-E])(?![\w']))?""", re.X)
LOWER_END = re.compile(r"[ \t]*(?:[^\w\s]|$)", re.M)
STANDALONE = re.compile(r"(?<![\w'])[A-E](?![\w'\-]|\.[A-Za-z])|\(([A-Ea-e])\)")
ARTICLE_A = re.compile(r"(?:^|[.!?]\s+)A\s+(?!(?:or|and|is|vs)\b)[A-Za-z]{2}", re.M)


def extract_letter(text: str | None, options: Sequence[str]) -> str | None:
    """The option letter (``"A"`` ... ) that ``text`` answers, or ``None`` if unparseable.

    Args:
        text: the model's reply (``None`` is read as an empty reply).
        options: the item's option texts; their number K (2 to 5) gives the valid
            letters A..K.

    Raises:
        InvalidInputError: naming ``options`` when there are not 2 to 5 of them.

    The rules, their order and the handling of ambiguity are in the module docstring.

    >>> extract_letter("B. Kidney", ["Liver", "Kidney"])
    'B'
    >>> extract_letter("Kidney", ["Liver", "Kidney"])
    'B'
    >>> extract_letter("E", ["Liver", "Kidney"]) is None
    True
    """
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        raise InvalidInputError("options", f"has {len(options)} options",
                                f"{MIN_OPTIONS} to {MAX_OPTIONS} option texts (letters A-E)")
    valid = LETTERS[:len(options)]
    reply = _clean(text or "")
    if not reply.strip():
        return None
    for rule in (_exact_letter, _exact_text, _final_answer, _asserted, _mentioned, _contained_text):
        found = rule(reply, options)
        if found:
            return _decide(found, valid)
    return None


def extract_letters(texts: Iterable[str | None], options: Sequence[str]) -> list[str | None]:
    """:func:`extract_letter` for each reply (the T samples of one item, say)."""
    return [extract_letter(text, options) for text in texts]


def _decide(found: set[str], valid: str) -> str | None:
    """One valid letter, or ``None`` for two letters or a letter beyond the options."""
    if len(found) == 1:
        (letter,) = found
        if letter in valid:
            return letter
    return None


def _clean(text: str) -> str:
    """Drop thinking, keep only tagged answers if any, remove markdown marks."""
    text = THINK_BLOCK.sub(" ", text)
    if THINK_OPEN.search(text):  # a thinking block never closed: no answer was given
        return ""
    text = THINK_CLOSE.split(text)[-1]
    tagged = [m[1] if m[1] is not None else LATEX_MARKUP.sub("", m[2]) for m in ANSWER_TAG.finditer(text)]
    if tagged:
        text = "\n".join(tagged)
    return MARKDOWN.sub("", text).replace("_", " ")


def _normalize(text: str) -> str:
    """Case-folded words: punctuation becomes spaces, runs of spaces become one."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join("".join(ch if ch.isalnum() else " " for ch in text).split())


def _letters_at(reply: str, pos: int) -> set[str]:
    """The letter (and an alternative "or Y") right at ``pos``, if clearly one."""
    m = LETTER_AT.match(reply, pos)
    if not m:
        return set()
    letter = m["letter"]
    clearly = m["marked"] or (m["open"] and m["close"]) or LOWER_END.match(reply, m.end("letter"))
    if letter.islower() and not clearly:
        return set()
    return {letter.upper(), m["other"] or letter.upper()}


def _exact_letter(reply: str, options: Sequence[str]) -> set[str]:
    m = EXACT_LETTER.fullmatch(reply)
    return {m[1].upper()} if m else set()


def _exact_text(reply: str, options: Sequence[str]) -> set[str]:
    said = _normalize(reply)
    return {letter for letter, option in zip(LETTERS, options, strict=False) if _normalize(option) == said}


def _final_answer(reply: str, options: Sequence[str]) -> set[str]:
    return {c for m in FINAL_MARKER.finditer(reply) for c in _letters_at(reply, m.end())}


def _asserted(reply: str, options: Sequence[str]) -> set[str]:
    found = _leading_letter(reply, options)
    found |= {c for m in ANSWER_MARKER.finditer(reply) for c in _letters_at(reply, m.end())}
    found |= {(m[1] or m[2]).upper() for m in IS_CORRECT.finditer(reply)}
    return found


def _leading_letter(reply: str, options: Sequence[str]) -> set[str]:
    m = LEADING_LETTER.match(reply.lstrip())
    if not m:
        return set()
    if m["bracketed"]:
        return {m["bracketed"].upper()}
    letter, rest = m["letter"], m["rest"]
    if rest is not None and rest[:1].isalpha():  # "B Pneumonia" counts, "A chest X-ray" not
        index = LETTERS.index(letter)
        own = _normalize(options[index]) if index < len(options) else None
        if not own or not _normalize(rest).startswith(own):
            return set()
    return {letter}


def _mentioned(reply: str, options: Sequence[str]) -> set[str]:
    valid = LETTERS[:len(options)]
    articles = {m.start() + m.group().index("A") for m in ARTICLE_A.finditer(reply)}
    found = {(m[1] or m.group()).upper() for m in STANDALONE.finditer(reply) if m.start() not in articles}
    found |= {c for m in OPTION_MARKER.finditer(reply) for c in _letters_at(reply, m.start())}
    return found & set(valid)


def _contained_text(reply: str, options: Sequence[str]) -> set[str]:
    said = f" {_normalize(reply)} "
    texts = {letter: _normalize(option) for letter, option in zip(LETTERS, options, strict=False)}
    found = {letter: t for letter, t in texts.items() if len(t) >= MIN_CONTAINED_CHARS and f" {t} " in said}
    return {letter for letter, t in found.items()
            if not any(t != other and f" {t} " in f" {other} " for other in found.values())}
