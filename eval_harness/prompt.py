"""The question prompt the harness sends, and the hash that names it in cache keys.

The default is the paper's prompt (MedQ-Deg, section 5), with no system prompt::

    {question}

    A. first option
    B. second option

    Answer with the option letter from the given choices directly.

A user may replace it with any template that uses ``{question}`` and ``{options}``
(``str.format`` placeholders; write ``{{`` and ``}}`` for literal braces). ``{options}``
receives the lettered option lines, one per line. Results obtained with different
prompts are kept apart by :func:`prompt_hash`, which is part of every cache key.

>>> print(build_prompt("Which organ is shown?", ["Liver", "Kidney"]))
Which organ is shown?
<BLANKLINE>
A. Liver
B. Kidney
<BLANKLINE>
Answer with the option letter from the given choices directly.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.dataset_builder.vocabulary import MAX_OPTIONS, MIN_OPTIONS, OPTION_LETTERS, stable_key

PAPER_TEMPLATE = (
    "{question}\n\n{options}\n\nAnswer with the option letter from the given choices directly."
)
"""The paper's prompt: the question, a blank line, the lettered options, the instruction."""

DEFAULT_SYSTEM_PROMPT: str | None = None
"""No system prompt by default, as in the paper."""

PLACEHOLDERS = ("question", "options")
"""The placeholders a template must use, and the only ones it may use."""

_HASH_CHARS = 16


def check_template(template: str) -> str:
    """Return ``template`` if it is a usable prompt template, else raise naming ``template``.

    Accepted: a string whose ``str.format`` placeholders are exactly ``{question}`` and
    ``{options}`` (each at least once); literal braces are written ``{{`` and ``}}``.
    """
    expected = ("a str.format template using both {question} and {options} and no other "
                "placeholder (write {{ and }} for literal braces)")
    if not isinstance(template, str):
        raise InvalidInputError("template", f"is a {type(template).__name__}", expected)
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as err:
        raise InvalidInputError("template", f"is not a valid format string ({err})", expected) from None
    unknown = sorted(names - set(PLACEHOLDERS))
    if unknown:
        shown = ", ".join("{" + name + "}" for name in unknown)
        raise InvalidInputError("template", f"uses the unknown placeholder(s) {shown}", expected)
    missing = [name for name in PLACEHOLDERS if name not in names]
    if missing:
        shown = " and ".join("{" + name + "}" for name in missing)
        raise InvalidInputError("template", f"lacks {shown}", expected)
    return template


def format_options(options: Sequence[str], *, item: str | None = None) -> str:
    """The lettered option lines (``A. text``), joined with newlines; 2 to 5 options.

    >>> format_options(["yes", "no"])
    'A. yes\\nB. no'
    """
    if isinstance(options, str) or not isinstance(options, Sequence):
        raise InvalidInputError("options", f"is a {type(options).__name__}",
                                "a list of 2 to 5 option texts", item=item)
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        raise InvalidInputError("options", f"has {len(options)} options",
                                f"{MIN_OPTIONS} to {MAX_OPTIONS} options (letters A-E)", item=item)
    for letter, option in zip(OPTION_LETTERS, options, strict=False):
        if not isinstance(option, str) or not option.strip():
            raise InvalidInputError(f"options[{letter}]", f"is {option!r}",
                                    "non-empty option text", item=item)
    return "\n".join(f"{letter}. {option}" for letter, option in zip(OPTION_LETTERS, options, strict=False))


def build_prompt(question: str, options: Sequence[str], template: str = PAPER_TEMPLATE,
                 *, item: str | None = None) -> str:
    """Fill ``template`` with the question and the lettered options.

    Args:
        question: the question text (non-empty).
        options: the option texts, 2 to 5 of them; they get the letters A, B, ...
        template: a ``str.format`` template with ``{question}`` and ``{options}``; the
            paper's prompt by default.
        item: the item id, named in error messages.

    Raises:
        InvalidInputError: naming ``template``, ``question``, ``options`` or ``options[X]``.
    """
    check_template(template)
    if not isinstance(question, str) or not question.strip():
        raise InvalidInputError("question", f"is {question!r}", "a non-empty question text",
                                item=item)
    return template.format(question=question, options=format_options(options, item=item))


def prompt_hash(template: str = PAPER_TEMPLATE, system: str | None = DEFAULT_SYSTEM_PROMPT) -> str:
    """A short, stable hex digest of the template and the system prompt, for cache keys.

    The first 16 hex characters of ``stable_key(template, system)`` (BLAKE2b of their JSON):
    the same in every process and Python version, different when either text changes
    (``None`` and ``""`` as system prompts are told apart).
    """
    if not isinstance(template, str):
        raise InvalidInputError("template", f"is a {type(template).__name__}", "a str")
    if system is not None and not isinstance(system, str):
        raise InvalidInputError("system", f"is a {type(system).__name__}", "a str or None")
    return stable_key(template, system, chars=_HASH_CHARS)
