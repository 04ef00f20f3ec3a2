"""Answer extraction: the option letter a model's reply gives, or ``None`` if it gives none.

The paper scores by rules, without an LLM judge: an exact letter; a leading letter
followed by ``.``, ``)`` or a space; "answer is X" / "option X"; a leading ``X-`` or
``X:``; else the first standalone A-E. This module keeps those rules and makes them read
the way a careful person reads: still by rules, and **never guessing**. ``None`` means
*unparseable*: the caller records it as such. A wrong letter is worse than ``None`` (it is
counted as the model's answer), so wherever the rules see two readings, the answer is
``None``.

**Cleaning**, in this order (each step is one small function below):

1. ``_normalise_width``: Unicode NFKC, so full-width letters and punctuation ("Ｃ",
   "：", "（Ｂ）") read as their ASCII forms;
2. ``_drop_thinking``: a ``<think>...</think>`` (or ``<thinking>``) block is dropped,
   **the text outside the thinking wins**; text before a lone ``</think>`` is thinking
   too, and a block never closed means the model never answered (``None``);
3. ``_cut_continuation``: a model that goes on past its turn ("Answer: B\\n\\nQuestion:
   ...") is cut where its invented turn starts;
4. ``_mark_tagged_answers``: ``<answer>X</answer>`` and ``\\boxed{X}`` become a
   "Final answer: X" declaration *in place*, the rest of the reply is kept (a boxed
   formula that names no option is set aside, so a later "**Answer: B**" still counts);
5. ``_strip_markdown``: asterisks, backticks and ``#`` are removed and ``_`` becomes a
   space (``**B.**`` -> ``B.``, ``"final_answer"`` -> ``"final answer"``).

**Masking** (positions are kept; masked characters are private-use placeholders):

6. ``TERM_LIST``: a term followed by a list of letters ("hepatitis A, B and C") is set
   aside first, so that its first item is not read as an option's text;
7. ``_find_option_spans``: every occurrence of an option's text (ignoring case,
   punctuation and spacing; the longest first, so "no fracture" is not read as
   "fracture"). Short all-caps options (CT, MRI, PET, US) are found case-sensitively as
   whole words; other texts shorter than ``MIN_CONTAINED_CHARS`` only as the whole reply.
   Word boundaries are ASCII letters and digits only, so CJK text is matched inside a
   sentence ("该图像显示右侧气胸").
8. ``_echoed_pairs``: a label followed by its own option's text ("A. Liver", "(B)
   Kidney", "C: Spleen"): where two or more different letters appear so, the reply lists
   the options back (an echo, or a point-by-point review); those labels and texts are set
   aside, so "A. Liver / B. Kidney / C. Spleen / D. Pancreas\\n\\nC" reads C and the
   echo alone reads ``None``. A pair right after an answer marker ("the answer is B.
   Kidney") is an answer, not an echo.
9. ``_mask_terms``: letters that belong to a term or a label are not answers: vitamin
   A-E, hepatitis A/B/C, type/group/class/grade/stage/phase/zone X, "labelled C",
   "panel B", "N/A", "B-mode", "A-lines", "e.g.", "i.e.", "X-ray", the ABCDE mnemonic.

Each option text found and not set aside is a *mention*; a mention is *negated* when its
clause says no to it ("there is no pleural effusion", "pneumothorax is unlikely",
"rather than pneumonia", "没有气胸"), or only supposed ("e.g. pneumonia would show
consolidation"). A letter is *rejected* the same way ("(B) is
incorrect", "not A", "rule out option C").

**Rules**, tried in order; **the first rule that finds anything decides**. If it found
one letter among the K options' letters, that letter (uppercase) is the answer; two
letters, or a letter beyond the K options ("E" when K = 4), give ``None``.

1. ``_exact_letter``: what is left is one letter, either case, perhaps bracketed or
   followed by a period: ``B``, ``b``, ``(B)``, ``B.``.
2. ``_exact_text``: the whole reply is one option's text (``"pneumonia."``).
3. ``_declared``: the *committed declarations*: "Final answer: D" (and the tags of step
   3) rank above the others, which are the leading letter (the paper's ``X.``, ``X)``,
   ``X-``, ``X:``, ``(X)``, or ``X`` alone or followed by its own text; not the article in
   "A chest X-ray shows", not a rejected letter), "answer is X", "Answer: X", "the
   correct option is (b)", ``{"answer": "B"}``, "I would choose B", "X is correct",
   "it's b.", "so C.", "therefore, D.", "the answer is Pneumothorax" or "so
   pneumothorax" (an option text right after an answer marker), and the Chinese markers 答案是B, 答案：B, 选C, 选择C, C正确. **The last
   committed declaration wins**: a retraction word between two declarations ("actually",
   "I need to correct this", "wait", "on second thought", "I made a mistake", 更正...)
   discards everything before it; a retraction after the last declaration that names
   another letter or hedges ("B. Actually wait, it might be C") withdraws it (``None``),
   and so does an alternative ("it is C, but it could also be B"). Among what is left the
   highest rank decides; two different letters there are ``None``. Where a declared letter is followed by another
   option's text ("B. Pneumothorax" when B is "Pulmonary edema"), or a declared text by
   another letter, the letter and the text disagree: ``None``.
4. ``_mentioned``: standalone capital letters A-E (the paper's last rule), plus "option b"
   / "choice b" and ``(b)``, not rejected and not the article "A". Unlike the paper, which
   takes the first one, all of them must agree, and an option text mentioned (not
   negated) that belongs to another option makes it ``None``. Letters beyond the K
   options are skipped here.
5. ``_contained_text``: the reply mentions exactly one option's text, not negated (after
   a retraction, only the texts mentioned after it count).

Lower-case letters count only when clearly marked as an option: alone, in brackets, after
"option"/"choice"/"letter", or after an answer marker when punctuation or the end follows
(so "the answer is a fracture" names no letter). A reply with none of these (empty, a
refusal, "None of the above" when that is no option's text) is ``None``.

>>> extract_letter("**Answer:** C", ["Liver", "Kidney", "Spleen", "Heart"])
'C'
>>> extract_letter("It could be A or B.", ["Liver", "Kidney", "Spleen", "Heart"]) is None
True
>>> extract_letter("A. Liver\\nB. Kidney\\nC. Spleen\\nD. Heart", ["Liver", "Kidney", "Spleen", "Heart"]) is None
True
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise

from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.dataset_builder.vocabulary import MAX_OPTIONS, MIN_OPTIONS, OPTION_LETTERS

MIN_CONTAINED_CHARS = 4
"""Shortest normalised option text looked for inside a longer reply (all-caps names such
as "CT" or "MRI" excepted: those are looked for case-sensitively as whole words)."""

OPTION_MASK = "\ue000"
"""Placeholder for an option text found in the reply (a mention)."""
NEUTRAL_MASK = "\ue001"
"""Placeholder for text set aside: an echoed option list, a term such as "vitamin D"."""

_NO_WORD = r"A-Za-z0-9"  # word characters for letter boundaries: CJK text is no word here

THINK_BLOCK = re.compile(r"<(think|thinking)>.*?</\1>", re.I | re.S)
THINK_OPEN = re.compile(r"<think(?:ing)?>", re.I)
THINK_CLOSE = re.compile(r"</think(?:ing)?>", re.I)
ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.I | re.S)
BOXED = re.compile(r"\\boxed\{((?:[^{}]|\{[^{}]*\})*)\}")
LATEX_MARKUP = re.compile(r"\\[A-Za-z]+|[{}$]")
BOXED_ANSWER = re.compile(r"\s*\(?[A-Ea-e]\)?(?:[.:)\s].*)?", re.S)
MARKDOWN = re.compile(r"[*`#]+")
NOT_ALNUM = re.compile(r"[\W_]+")
CONTINUATION = re.compile(r"^[ \t]*(?:Question|Q|USER|Human|User)[ \t]*:", re.M)

EXACT_LETTER = re.compile(r"""[\s("'\[]*([A-Ea-e])[\s)\]"'.:]*""")
FINAL_MARKER = re.compile(
    r"\bfinal\s+(?:answer|choice)\b\s*(?:is\b\s*:?|[:=\-–])?\s*|最终答案\s*(?:是|为)?\s*:?\s*", re.I)
ANSWER_MARKER = re.compile(
    r"""(?:\banswer|\b(?:correct|right|best|most\s+(?:appropriate|likely))\s+(?:option|choice|answer))
        \b["']?\s*(?:(?:is|would\s+be|should\s+be|will\s+be|must\s+be)\b\s*:?|[:=\-–])\s*
        (?:(?:likely|probably|most\s+likely|definitely|clearly|actually|indeed)\s+)?
      |\b(?:choose|select|pick|go\s+with|(?:i'?d|i\s+would|i\s+will|i'?ll)\s+say)\s+
      |\b(?:so|therefore|hence|thus),?\s+(?=[\ue000])
      |(?:答案|正确答案|答)\s*(?:应该是|应为|是|为|选)?\s*:?\s*
      |(?:故|因此|所以)?(?:选择|选)\s*""",
    re.I | re.X)
ITS_LETTER = re.compile(
    rf"\b(?:it'?s|it\s+is|it\s+must\s+be|that'?s|so|therefore|hence|thus)\s+(?:option\s+)?(\(?)([A-Ea-e])(\)?)(?![{_NO_WORD}'])"
    r"(?=\s*(?:[.,;:!?]|$))", re.I | re.M)
IS_CORRECT = re.compile(
    rf"(?<![{_NO_WORD}'])(?:\(([A-Ea-e])\)|([A-E]))[ \t]*(?:(?i:is\s+(?:also\s+)?(?:the\s+)?(?:correct|right|answer))\b"
    r"|(?:选项)?(?:是)?正确)")
OPTION_MARKER = re.compile(r"\b(?:option|choice)[ \t]*", re.I)
LETTER_AT = re.compile(
    rf"""(?P<marked>(?i:option|choice|letter)[ \t]*)?
        (?P<open>[("'\[])?(?P<letter>[A-Ea-e])(?![{_NO_WORD}'])(?P<close>[)\]"'])?
        (?:[ \t]*(?:(?i:or|and)|/)[ \t]*[("'\[]?(?P<other>[A-E])(?![{_NO_WORD}']))?""", re.X)
LOWER_END = re.compile(r"[ \t]*(?:[^\w\s]|$)", re.M)
LEADING_LETTER = re.compile(
    r"""\s*(?:\((?P<bracketed>[A-Ea-e])\)
      |["'\[]?(?P<letter>[A-E])(?:[):\]]|[.\-](?![A-Za-z])|[ \t]*$|[ \t]+(?P<rest>.)))""", re.X | re.M)
STANDALONE = re.compile(rf"(?<![{_NO_WORD}'])[A-E](?![{_NO_WORD}'\-]|\.[A-Za-z])|\(([A-Ea-e])\)")
ARTICLE_A = re.compile(rf"(?:^|[.!?:]\s+)A\s+(?!(?:or|and|is|vs)\b)(?:[A-Za-z][A-Za-z0-9]|[{OPTION_MASK}{NEUTRAL_MASK}])",
                       re.M)

RETRACTION = re.compile(
    r"\b(?:actually|correction|i\s+made\s+(?:a|an)\s+(?:mistake|error)|my\s+mistake|i\s+was\s+wrong"
    r"|(?:let\s+me|i\s+need\s+to|i\s+must|i\s+should|i'?ll)\s+(?:correct|revise|reconsider|re-?evaluate|change)"
    r"|on\s+(?:second|further)\s+(?:thought|look|reflection|inspection)|upon\s+(?:reflection|review)"
    r"|wait|scratch\s+that|i\s+take\s+(?:that|it)\s+back|changing\s+my\s+answer)\b"
    r"|更正|不对|其实|修正|等等|改为", re.I)
CLAUSE_END = re.compile(r"[.;!?\n。；！？,，:]|\b(?:but|however|whereas|although|though|while)\b|但|而", re.I)
NEGATION_BEFORE = re.compile(
    r"\b(?:no|not|without|absen(?:t|ce\s+of)|rules?\s+out|ruled\s+out|ruling\s+out|excludes?|excluded|excluding"
    r"|eliminates?|eliminated|unlikely|negative\s+for|free\s+of|rather\s+than|instead\s+of|isn'?t|aren'?t"
    r"|can'?t\s+be|cannot\s+be|never|nor|neither|lack\s+of|lacks?)\b|不是|没有|无|排除|非",
    re.I)
HYPOTHETICAL_BEFORE = re.compile(r"\b(?:e\.\s?g\.|for\s+(?:example|instance)|such\s+as|if\s+it\s+were)", re.I)
HYPOTHETICAL_AFTER = re.compile(r"^[^.;!?\n,]{0,10}?\b(?:would|could|might)\b", re.I)
ALTERNATIVE = re.compile(
    rf"\b(?:could|might|may)\s+(?:also\s+|equally\s+)?be\s+(?:option\s+)?\(?([A-E])(?![{_NO_WORD}'])", re.I)
HEDGE = re.compile(r"\b(?:might|maybe|perhaps|possibly|not\s+sure|unsure|could\s+be)\b|可能|不确定", re.I)
NEGATION_AFTER = re.compile(
    r"^[^.;!?\n。；！？,，]{0,20}?\b(?:is\s+not|isn'?t|not|absent|unlikely|ruled\s+out|excluded|incorrect|wrong"
    r"|less\s+likely|eliminated|can\s+be\s+(?:excluded|ruled\s+out|eliminated))\b"
    r"|^\s*(?:不正确|错误|不对|被排除|可排除)", re.I)
LETTER_REJECTED_BEFORE = re.compile(
    r"\b(?:not|rule\s+out|ruling\s+out|ruled\s+out|exclude|excluding|eliminate|eliminating|rather\s+than"
    r"|instead\s+of|against)\s+(?:(?:option|choice|answer)\s+)?[(\"'\[]?$|(?:不是|排除)\s*$", re.I)
LETTER_REJECTED_AFTER = re.compile(
    r"^[)\]\"'.:]?\s*(?:[\-–—:]\s*)?(?:is|seems|appears|would\s+be|can\s+be|must\s+be)?\s*(?:also\s+)?"
    r"(?:incorrect|wrong|unlikely|not\b|isn'?t|ruled\s+out|excluded|eliminated|less\s+likely|false|implausible)"
    r"|^\s*(?:不正确|错误|不对|被排除|可排除)", re.I)
AFTER_LETTER = re.compile(r"[\s.:)\]\-–—,(=]*")
LETTER_AFTER_TEXT = re.compile(r"[ \t,:\-–—]*[(\[]\s*([A-E])\s*[)\]]")
MARKER_BEFORE = re.compile(
    r"(?:\banswer|\b(?:option|choice)|\bchoose|\bselect|\bpick|\bgo\s+with|答案|选)\s*(?:is|would\s+be|should\s+be|:|=)?\s*$",
    re.I)
LABEL = re.compile(r"(?:\(([A-E])\)|(?<![A-Za-z0-9'])([A-E])[.:)\-–])[ \t]*$")

_TERM_WORDS = r"""(?:vitamins?|vit\.?|hepatitis|hep\.?|types?|groups?|class(?:es)?|grades?|stages?|phases?|zones?
           |category|factor|protein|panels?|figures?|fig\.?|images?|label(?:l?ed)?|marked|points?|arrows?
           |structures?|regions?|segments?|leads?|parts?|sections?|plan|haemophilia|hemophilia|influenza
           |kerley|complement|cluster|levels?|schedule|subtype|variant|genotype|serotype|blood\s+type|lines?)"""
TERM_LIST = re.compile(
    rf"""\b{_TERM_WORDS}[ \t]+[A-E](?:[ \t]*(?:/|,|&|\band\b|\bor\b)[ \t]*[A-E](?![A-Za-z0-9]))+""", re.X | re.I)
"""A term followed by a list of letters ("hepatitis A, B and C"): masked before option texts."""
TERMS = re.compile(
    rf"""\b{_TERM_WORDS}
        [ \t]+[A-E](?:[ \t]*(?:/|,|&|\band\b|\bor\b)[ \t]*[A-E])*(?![A-Za-z0-9])
      |(?<![A-Za-z0-9])[A-EM][\-–](?:mode|lines?|scan|waves?|cells?|type)\b
      |(?<![A-Za-z0-9])[A-E][ \t]+cells?\b
      |\bN/A\b|\bn/a\b|\b[Ee]\.\s?g\.|\bi\.\s?e\.|\bX[\-–]?rays?\b
      |\b[A-E](?:\+|\s*positive|\s*negative)(?![A-Za-z0-9])
      |(?<![A-Za-z0-9])[A-E][ \t]*[:=\-]?[ \t]*(?:asymmetry|borders?|colou?rs?|diameter|evol\w*)\b""",
    re.X | re.I)
"""Letters that are part of a name or a label ("vitamin D", "hepatitis A/B", "labelled C")."""


@dataclass
class _Span:
    """An option text found in the reply: where it is, whose text it is, whether negated."""

    start: int
    end: int
    letters: frozenset[str]
    negated: bool = False


@dataclass
class _Reply:
    """A cleaned reply, its masked form and the option texts it mentions."""

    text: str
    masked: str
    options: Sequence[str]
    spans: list[_Span] = field(default_factory=list)

    @property
    def mentioned(self) -> set[str]:
        """Letters whose option text the reply mentions, not negated."""
        return {c for s in self.spans if not s.negated for c in s.letters}

    def span_at(self, pos: int) -> _Span | None:
        return next((s for s in self.spans if s.start == pos), None)


@dataclass
class _Declaration:
    """A committed answer: its position, letters, and rank (2: final answer, 1: others)."""

    pos: int
    end: int
    letters: frozenset[str]
    rank: int
    conflict: bool = False


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
    valid = OPTION_LETTERS[:len(options)]
    cleaned = _clean(text or "", options)
    if not cleaned.strip():
        return None
    reply = _mask(cleaned, options)
    for rule in RULES:
        found = rule(reply)
        if found is not None:
            return _decide(found, valid)
    return None


def extract_letters(texts: Iterable[str | None], options: Sequence[str]) -> list[str | None]:
    """:func:`extract_letter` for each reply (the T samples of one item, say)."""
    return [extract_letter(text, options) for text in texts]


def _decide(found: set[str], valid: str) -> str | None:
    """One valid letter, or ``None`` for no letter, two letters or one beyond the options."""
    if len(found) == 1:
        (letter,) = found
        if letter in valid:
            return letter
    return None


# ---------------------------------------------------------------- cleaning


def _clean(text: str, options: Sequence[str] = ()) -> str:
    """The cleaning steps 1-5, in order."""
    text = _normalise_width(text)
    text = _drop_thinking(text)
    text = _cut_continuation(text)
    text = _mark_tagged_answers(text, options)
    return _strip_markdown(text)


def _normalise_width(text: str) -> str:
    """NFKC: full-width "Ｃ" and "：" become "C" and ":"; curly quotes become straight."""
    text = unicodedata.normalize("NFKC", text)
    return text.translate({0x2018: "'", 0x2019: "'", 0x201C: '"', 0x201D: '"'})


def _drop_thinking(text: str) -> str:
    """The text outside ``<think>`` blocks; ``""`` when a block was never closed."""
    text = THINK_BLOCK.sub(" ", text)
    if THINK_OPEN.search(text):
        return ""
    return THINK_CLOSE.split(text)[-1]


def _cut_continuation(text: str) -> str:
    """A model that goes on past its turn ("Answer: B\\n\\nQuestion: ...") is cut there.

    A new "Question:", "Q:", "USER:" or "Human:" line after some text starts a turn the
    model invented; what it "answers" there is no answer to this item.
    """
    m = CONTINUATION.search(text)
    return text[:m.start()] if m and text[:m.start()].strip() else text


def _mark_tagged_answers(text: str, options: Sequence[str] = ()) -> str:
    """``<answer>X</answer>`` and ``\\boxed{X}`` become "Final answer: X" where they stand.

    A boxed formula that starts with no option letter is set aside (masked), so that it
    names no letter and the rest of the reply still counts.
    """
    text = ANSWER_TAG.sub(lambda m: f"\nFinal answer: {m[1].strip()}\n", text)

    def boxed(m: re.Match[str]) -> str:
        content = LATEX_MARKUP.sub("", m[1]).strip()
        if BOXED_ANSWER.fullmatch(content) or any(_normalize(content) == _normalized_option(o) for o in options):
            return f"\nFinal answer: {content}\n"
        return NEUTRAL_MASK * len(m[0])

    return BOXED.sub(boxed, text)


def _strip_markdown(text: str) -> str:
    """Markdown marks removed, ``_`` read as a space."""
    return MARKDOWN.sub("", text).replace("_", " ")


def _normalize(text: str) -> str:
    """Case-folded words: punctuation becomes spaces, runs of spaces become one."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return NOT_ALNUM.sub(" ", text).strip()


@lru_cache(maxsize=4096)
def _normalized_option(option: str) -> str:
    """:func:`_normalize` for an option text (cached: the same options recur across samples)."""
    return _normalize(option)


# ---------------------------------------------------------------- masking


def _mask(cleaned: str, options: Sequence[str]) -> _Reply:
    """The masking steps 6-9, then negation of the mentions that remain."""
    cleaned = TERM_LIST.sub(lambda m: NEUTRAL_MASK * len(m[0]), cleaned)
    spans = _find_option_spans(cleaned, options)
    chars = list(cleaned)
    echoed = _echoed_pairs(cleaned, spans)
    for start, end in echoed:
        chars[start:end] = NEUTRAL_MASK * (end - start)
    spans = [s for s in spans if not any(a <= s.start < b for a, b in echoed)]
    for s in spans:
        chars[s.start:s.end] = OPTION_MASK * (s.end - s.start)
    masked = _mask_terms("".join(chars))
    reply = _Reply(cleaned, masked, options, spans)
    for s in spans:
        s.negated = _negated(reply, s.start, s.end)
    return reply


@lru_cache(maxsize=4096)
def _option_pattern(option: str) -> re.Pattern[str] | None:
    """A pattern for ``option``'s text inside a reply, or ``None`` if too short to look for."""
    words = re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", option))
    if not words:
        return None
    body = r"[\W_]+".join(re.escape(w) for w in words)
    flags = re.I
    cjk = any(not ch.isascii() for ch in "".join(words))
    if len("".join(words)) < (2 if cjk else MIN_CONTAINED_CHARS):
        if not (option.strip().isupper() and option.strip().isascii()):
            return None
        flags = 0  # "CT", "MRI", "US": whole words, as written
    start = r"(?<![A-Za-z0-9])" if words[0][0].isascii() else ""
    end = r"(?![A-Za-z0-9])" if words[-1][-1].isascii() else ""
    return re.compile(start + body + end, flags)


def _find_option_spans(text: str, options: Sequence[str]) -> list[_Span]:
    """Every occurrence of an option's text, the longest first, never overlapping."""
    found: dict[tuple[int, int], set[str]] = {}
    for letter, option in zip(OPTION_LETTERS, options, strict=False):
        pattern = _option_pattern(option)
        if pattern:
            for m in pattern.finditer(text):
                found.setdefault(m.span(), set()).add(letter)
    spans: list[_Span] = []
    for (start, end), letters in sorted(found.items(), key=lambda kv: (kv[0][0] - kv[0][1], kv[0][0])):
        if not any(s.start < end and start < s.end for s in spans):
            spans.append(_Span(start, end, frozenset(letters)))
    return sorted(spans, key=lambda s: s.start)


def _echoed_pairs(text: str, spans: list[_Span]) -> list[tuple[int, int]]:
    """Label-and-own-text pairs ("A. Liver"), when two or more letters appear so."""
    pairs: list[tuple[int, int, str]] = []
    for s in spans:
        before = text[max(0, s.start - 8):s.start]
        m = LABEL.search(before)
        if not m:
            continue
        letter = m[1] or m[2]
        label_start = s.start - len(before) + m.start()
        if letter in s.letters and not MARKER_BEFORE.search(text[max(0, label_start - 40):label_start]):
            pairs.append((label_start, s.end, letter))
    if len({letter for _, _, letter in pairs}) < 2:
        return []
    return [(start, end) for start, end, _ in pairs]


def _mask_terms(masked: str) -> str:
    """Letters inside terms and labels ("vitamin D", "labelled C") set aside."""
    return TERMS.sub(lambda m: NEUTRAL_MASK * len(m[0]), masked)


def _clause_before(text: str, pos: int) -> str:
    start = max((m.end() for m in CLAUSE_END.finditer(text, 0, pos)), default=0)
    return text[start:pos]


def _negated(reply: _Reply, start: int, end: int) -> bool:
    """The option text at ``start:end`` is said no to in its clause."""
    before = _clause_before(reply.masked, start)
    if NEGATION_BEFORE.search(before) or NEGATION_AFTER.search(reply.masked[end:end + 60]):
        return True
    return bool(HYPOTHETICAL_BEFORE.search(_clause_before(reply.text, start))
                or HYPOTHETICAL_AFTER.search(reply.text[end:end + 40]))


def _rejected(reply: _Reply, start: int, end: int) -> bool:
    """The letter at ``start:end`` is said no to ("(B) is incorrect", "not A")."""
    before = reply.masked[max(0, start - 30):start]
    return bool(LETTER_REJECTED_BEFORE.search(before) or LETTER_REJECTED_AFTER.search(reply.masked[end:end + 40]))


# ---------------------------------------------------------------- rules


def _letters_at(reply: _Reply, pos: int) -> tuple[set[str], int, int]:
    """The letter (and an alternative "or Y") right at ``pos``, if clearly one.

    Returns the letters, the letter's start and the end of the match.
    """
    text = reply.masked
    m = LETTER_AT.match(text, pos)
    if not m:
        return set(), pos, pos
    letter = m["letter"]
    clearly = m["marked"] or (m["open"] and m["close"]) or LOWER_END.match(text, m.end("letter"))
    if letter.islower() and not clearly:
        return set(), pos, pos
    return {letter.upper(), m["other"] or letter.upper()}, m.start("letter"), m.end()


def _exact_letter(reply: _Reply) -> set[str] | None:
    """Rule 1: what is left (after an echo is set aside) is one letter."""
    rest = reply.masked.replace(NEUTRAL_MASK, " ")
    if OPTION_MASK in rest:
        return None
    m = EXACT_LETTER.fullmatch(rest)
    return {m[1].upper()} if m else None


def _exact_text(reply: _Reply) -> set[str] | None:
    """Rule 2: the whole reply is one option's text."""
    said = _normalize(reply.text)
    found = {letter for letter, option in zip(OPTION_LETTERS, reply.options, strict=False)
             if _normalized_option(option) == said}
    return found or None


def _declarations(reply: _Reply) -> list[_Declaration]:
    """Every committed declaration, in order of position."""
    text = reply.masked
    found: list[_Declaration] = []

    def letter_declaration(marker_end: int, rank: int) -> None:
        letters, pos, end = _letters_at(reply, marker_end)
        if letters:
            if not _rejected(reply, pos, pos + 1):
                found.append(_Declaration(pos, end, frozenset(letters), rank, _text_disagrees(reply, end, letters)))
            return
        span = reply.span_at(marker_end)
        if span and not span.negated and rank:  # "the answer is Pneumothorax"
            m = LETTER_AFTER_TEXT.match(reply.masked, span.end)
            conflict = bool(m) and m[1] not in span.letters
            found.append(_Declaration(span.start, span.end, span.letters, rank, conflict))

    for m in FINAL_MARKER.finditer(text):
        letter_declaration(m.end(), 2)
    for m in ANSWER_MARKER.finditer(text):
        letter_declaration(m.end(), 1)
    for m in ITS_LETTER.finditer(text):
        letter = m[2].upper()
        if not _rejected(reply, m.start(2), m.end(2)):
            found.append(_Declaration(m.start(2), m.end(), frozenset({letter}), 1,
                                      _text_disagrees(reply, m.end(), {letter})))
    for m in IS_CORRECT.finditer(text):
        letter = (m[1] or m[2]).upper()
        found.append(_Declaration(m.start(), m.end(), frozenset({letter}), 1))
    leading = _leading_letter(reply)
    if leading:
        found.append(leading)
    unique = {(d.pos, d.letters): d for d in sorted(found, key=lambda d: d.rank)}
    return sorted(unique.values(), key=lambda d: d.pos)


def _text_disagrees(reply: _Reply, end: int, letters: set[str]) -> bool:
    """A declared letter followed by another option's text: "B. Pneumothorax" (C's text)."""
    pos = AFTER_LETTER.match(reply.masked, end).end()
    span = reply.span_at(pos)
    return bool(span) and not (span.letters & letters)


def _leading_letter(reply: _Reply) -> _Declaration | None:
    """The paper's leading letter: ``X.``, ``X)``, ``X-``, ``X:``, ``(X)``, ``X`` alone."""
    text = reply.masked
    m = LEADING_LETTER.match(text)
    if not m:
        return None
    group = "bracketed" if m["bracketed"] else "letter"
    letter, start, end = m[group].upper(), m.start(group), m.end(group)
    if m["rest"] is not None and m["rest"] not in " \t":
        span = reply.span_at(m.start("rest"))
        if not span or letter not in span.letters:  # "A chest X-ray", "A pneumothorax is seen"
            return None
    if _rejected(reply, start, end):
        return None
    return _Declaration(start, end, frozenset({letter}), 1, _text_disagrees(reply, end, {letter}))


def _declared(reply: _Reply) -> set[str] | None:
    """Rule 3: the last committed declarations, the highest rank among them."""
    declarations = _declarations(reply)
    if not declarations:
        return None
    current = [declarations[0]]
    for previous, d in pairwise(declarations):
        if RETRACTION.search(reply.masked, previous.end, max(previous.end, d.pos)):
            current = [d]
        else:
            current.append(d)
    top = max(d.rank for d in current)
    chosen = [d for d in current if d.rank == top]
    if any(d.conflict for d in chosen):
        return set()
    decided = {c for d in chosen for c in d.letters}
    if any(m[1] not in decided for m in ALTERNATIVE.finditer(reply.masked)):
        return set()  # "it is C, but it could also be B": a hedge between two letters
    retracted = _last_retraction(reply, declarations[-1].end)
    if retracted is not None:  # "B. Actually, it might be C": the answer was withdrawn
        tail = reply.masked[retracted:]
        letters = {(m[1] or m.group()).upper() for m in STANDALONE.finditer(reply.masked, retracted)
                   if not _rejected(reply, m.start(), m.end())}
        if (letters and letters != decided) or HEDGE.search(tail):
            return set()
    return decided


def _last_retraction(reply: _Reply, after: int) -> int | None:
    """Where the last retraction word after ``after`` ends, if there is one."""
    ends = [m.end() for m in RETRACTION.finditer(reply.masked, after)]
    return ends[-1] if ends else None


def _mentioned(reply: _Reply) -> set[str] | None:
    """Rule 4: standalone letters, all agreeing, none contradicted by an option text."""
    text = reply.masked
    valid = set(OPTION_LETTERS[:len(reply.options)])
    articles = {m.start() + m.group().index("A") for m in ARTICLE_A.finditer(text)}
    found = set()
    for m in STANDALONE.finditer(text):
        start = m.start(1) if m[1] else m.start()
        if m.start() in articles or _rejected(reply, start, start + 1):
            continue
        found.add((m[1] or m.group()).upper())
    for m in OPTION_MARKER.finditer(text):
        letters, pos, _ = _letters_at(reply, m.start())
        if letters and not _rejected(reply, pos, pos + 1):
            found |= letters
    found &= valid
    if not found:
        return None
    mentioned = reply.mentioned
    if mentioned and not (mentioned & found):
        return set()  # a letter and an option text that disagree
    return found


def _contained_text(reply: _Reply) -> set[str] | None:
    """Rule 5: the reply mentions exactly one option's text, not negated.

    After a retraction ("No degradation... wait, ghosting: motion artifact"), only the
    texts mentioned after the last one count.
    """
    retracted = _last_retraction(reply, 0)
    if retracted is not None:
        later = {c for s in reply.spans if not s.negated and s.start >= retracted for c in s.letters}
        if later:
            return later
    return reply.mentioned or None


RULES = (_exact_letter, _exact_text, _declared, _mentioned, _contained_text)
"""The rules in the order they apply; the first that finds anything decides."""
