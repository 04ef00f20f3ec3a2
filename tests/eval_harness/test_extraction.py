"""Answer extraction: the paper's rules, real-model replies, option texts, ambiguity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.eval_harness.extraction import MIN_CONTAINED_CHARS, extract_letter, extract_letters

FOUR = ["Pneumonia", "Pulmonary edema", "Pneumothorax", "No abnormality"]
FIVE = ["Liver", "Spleen", "Kidney", "Pancreas", "Gallbladder"]

CASES = [
    # the paper's rules
    ("B", "B"),
    ("C.", "C"),
    ("B. Pulmonary edema", "B"),
    ("C) Pneumothorax", "C"),
    ("D: No abnormality", "D"),
    ("A- Pneumonia", "A"),
    ("B Pulmonary edema", "B"),
    ("The answer is C.", "C"),
    ("Option D", "D"),
    ("Looking closely, I see D.", "D"),
    # lower case only where clearly marked
    ("b", "B"),
    ("(b)", "B"),
    ("The correct option is (b)", "B"),
    ("I would pick option c because the lung is collapsed.", "C"),
    ("The answer is b.", "B"),
    ("the answer is b because of the air", None),
    ("the answer is a fracture", None),
    ("This is a pneumothorax? Hard to say", "C"),
    # markdown, tags, JSON, LaTeX
    ("**B**", "B"),
    ("**B.**", "B"),
    ("**Answer:** C", "C"),
    ("## Final answer\n\n**D. No abnormality**", "D"),
    ("`A`", "A"),
    ("<answer>C</answer>", "C"),
    ("Reasoning about A and B first.\n<answer> B </answer>", "B"),
    ('{"answer": "B"}', "B"),
    ('```json\n{"final_answer": "D", "confidence": 0.9}\n```', "D"),
    ("The final answer is $\\boxed{\\text{A}}$.", "A"),
    # chatty and verbose replies
    ("Answer: C", "C"),
    ("Final answer: D", "D"),
    ("I think the answer is C because A and B do not fit the findings.", "C"),
    ("Looking at the image:\nA. Pneumonia: no consolidation.\nB. Pulmonary edema: "
     "there are Kerley lines.\nC. Pneumothorax: no pleural line.\nSo the answer is B.", "B"),
    ("Let me think step by step. Option A is unlikely because there is no consolidation. "
     "Option C would show a pleural line.\n\nFinal Answer: B", "B"),
    ("A chest X-ray shows a collapsed lung, so the correct answer is (C).", "C"),
    ("C because the visceral pleural line is visible.", "C"),
    ("Based on the image, my answer would be: D", "D"),
    ("Option A is correct.", "A"),
    # thinking blocks: the text outside the block wins
    ("<think>A looks possible... no, maybe C</think>\nThe answer is B", "B"),
    ("I considered A, then B.</think>Answer: D", "D"),
    ("<think>The opacity suggests A", None),
    ("<think>Option B fits.</think>", None),
    # nothing to read, refusals, ambiguity
    ("", None),
    ("   \n\t ", None),
    (None, None),
    ("I'm sorry, but I can't provide a medical diagnosis from this image.", None),
    ("I cannot determine the answer from this image.", None),
    ("None of the above", None),
    ("A or B", None),
    ("The answer is A or B.", None),
    ("It could be A/B, hard to tell.", None),
    ("A. Pneumonia. B is also correct.", None),
    ("Between A and B, A fits better.", None),
    ("The answer is C. Final answer: A", "A"),
    ("Final answer: C ... final answer: B", None),
    # letters beyond the K = 4 options
    ("E", None),
    ("The answer is E.", None),
    ("Vitamin E deficiency is unrelated; the image shows C.", "C"),
    # articles and words that look like letters
    ("A pneumothorax is visible.", "C"),
    ("A CT scan would be needed to tell.", None),
    ("B-mode images are not shown here; I choose D.", "D"),
]


@pytest.mark.parametrize(("reply", "expected"), CASES)
def test_extract_letter(reply, expected):
    assert extract_letter(reply, FOUR) == expected


def test_case_count():
    assert len(CASES) >= 40


@pytest.mark.parametrize(("reply", "expected"), [
    ("pneumothorax", "C"),
    ("Pneumothorax.", "C"),
    ("  PULMONARY-EDEMA!  ", "B"),
    ("The image shows pulmonary edema.", "B"),
    ("There is no abnormality in this radiograph.", "D"),
    ("It is pneumonia, not pneumothorax.", "A"),  # the other text is negated
    ("Pneumonia or pneumothorax.", None),  # two option texts
    ("Something else entirely.", None),
])
def test_option_text_instead_of_letter(reply, expected):
    assert extract_letter(reply, FOUR) == expected


def test_option_text_the_longer_match_is_meant():
    options = ["Fracture", "No fracture"]
    assert extract_letter("There is no fracture.", options) == "B"
    assert extract_letter("A fracture of the radius.", options) == "A"


def test_short_option_texts_match_only_the_whole_reply():
    options = ["Yes", "No"]
    assert min(len(o) for o in options) < MIN_CONTAINED_CHARS
    assert extract_letter("No", options) == "B"
    assert extract_letter("no.", options) == "B"
    assert extract_letter("Yes, there is no effusion.", options) is None


def test_identical_option_texts_are_ambiguous():
    assert extract_letter("Liver", ["Liver", "liver."]) is None


def test_none_of_the_above_as_an_option_text():
    assert extract_letter("None of the above", ["Cyst", "Tumour", "None of the above"]) == "C"


def test_exact_text_wins_over_a_letter_inside_it():
    options = ["Vitamin D deficiency", "Vitamin E deficiency"]
    assert extract_letter("Vitamin E deficiency", options) == "B"


@pytest.mark.parametrize(("reply", "k", "expected"), [
    ("E", 5, "E"),
    ("E", 4, None),
    ("D", 3, None),
    ("C", 2, None),
    ("B", 2, "B"),
    ("The answer is E.", 5, "E"),
    ("Option E", 4, None),
])
def test_letters_beyond_the_options(reply, k, expected):
    assert extract_letter(reply, FIVE[:k]) == expected


@pytest.mark.parametrize(("reply", "expected"), [
    ("a", "A"),
    ("(e)", "E"),
    ("option e", "E"),
    ("The correct choice is (d)", "D"),
    ("a kidney is shown", "C"),  # the article is no letter; the option text decides
    ("Is there a lesion? I would say a lesion in the spleen.", "B"),
    ("e.g. the liver", "A"),
    ("E.g. the liver", "A"),
])
def test_lower_case_letters(reply, expected):
    assert extract_letter(reply, FIVE) == expected


def test_extract_letters_keeps_order_and_unparseable():
    replies = ["A", "The answer is C", "no idea", None, "**B**"]
    assert extract_letters(replies, FOUR) == ["A", "C", None, None, "B"]
    assert extract_letters([], FOUR) == []


@pytest.mark.parametrize("options", [[], ["only"], ["a", "b", "c", "d", "e", "f"]])
def test_option_count_is_checked(options):
    with pytest.raises(InvalidInputError) as info:
        extract_letter("A", options)
    assert info.value.field == "options"


# ---------------------------------------------------------------- the labelled corpus

CORPUS = Path(__file__).with_name("extraction_corpus.jsonl")
MAX_UNPARSEABLE_DECIDED = 0.03


def load_corpus() -> list[dict]:
    with CORPUS.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def test_corpus_is_large_and_well_formed():
    rows = load_corpus()
    assert len(rows) >= 300
    assert len({row["id"] for row in rows}) == len(rows)
    for row in rows:
        assert set(row) >= {"id", "family", "reply", "options", "expected", "reason"}
        assert row["expected"] is None or row["expected"] in "ABCDE"[:len(row["options"])]
        assert row["reason"].strip()
    families = {row["family"] for row in rows}
    assert families >= {"echo", "term", "negation", "revision", "boxed", "cjk", "short", "lowercase",
                        "thinking", "conflict", "tracker"}


def test_corpus_no_wrong_letter_and_few_unparseable():
    rows = load_corpus()
    wrong, unparseable = [], []
    for row in rows:
        got = extract_letter(row["reply"], row["options"])
        if got != row["expected"]:
            (unparseable if got is None else wrong).append((row, got))
    decided = sum(row["expected"] is not None for row in rows)
    listing = "\n".join(f"  #{row['id']} [{row['family']}] {row['reply']!r}: expected {row['expected']}, "
                        f"got {got} ({row['reason']})" for row, got in wrong + unparseable)
    note = (f"{len(wrong)} wrong letters, {len(unparseable)} unparseable of {decided} that a reader "
            f"decides:\n{listing}")
    assert not wrong, note
    assert len(unparseable) <= MAX_UNPARSEABLE_DECIDED * decided, note
    print(note)  # the unparseable cases a reader would decide, listed with -s


# ---------------------------------------------------------------- one test per new rule

CXR = FOUR


@pytest.mark.parametrize(("reply", "options", "expected"), [
    # full-width forms
    ("Ｃ", CXR, "C"), ("答案：Ｂ", CXR, "B"),
    # an echoed option block is set aside
    ("A. Pneumonia\nB. Pulmonary edema\nC. Pneumothorax\nD. No abnormality", CXR, None),
    ("(A) Pneumonia (B) Pulmonary edema (C) Pneumothorax", CXR, None),
    ("A. Pneumonia / B. Pulmonary edema / C. Pneumothorax / D. No abnormality\n\nC", CXR, "C"),
    ("The answer is B. Pulmonary edema", CXR, "B"),
    # terms and labels
    ("Rickets due to vitamin D deficiency.", ["Scurvy", "Osteoporosis", "Vitamin D deficiency", "Gout"], "C"),
    ("Hepatitis A, B and C are viral; this is autoimmune hepatitis.",
     ["Hepatitis A", "Hepatitis B", "Hepatitis C", "Autoimmune hepatitis"], "D"),
    ("The structure labelled A is the spleen.", ["Liver", "Kidney", "Spleen", "Pancreas"], "C"),
    ("N/A", CXR, None),
    # negation and rejection
    ("There is no pneumothorax.", CXR, None),
    ("(B) is incorrect; (C) is correct.", CXR, "C"),
    ("It is not pneumonia; it is pulmonary edema.", CXR, "B"),
    # revisions: the last committed declaration
    ("Answer: A\nI need to correct this.\nAnswer: B", CXR, "B"),
    ("B. Actually, I made a mistake: it's D.", CXR, "D"),
    ("Answer: A ... Answer: B", CXR, None),
    ("It's B. Actually wait, it might be C.", CXR, None),
    # boxed content read, the rest kept
    ("$\\boxed{\\frac{3}{4}}$ of the width.\n**Answer: B**", CXR, "B"),
    ("\\boxed{C}", CXR, "C"),
    # Chinese
    ("答案是B", CXR, "B"), ("选C", CXR, "C"),
    ("该图像显示右侧气胸", ["左侧气胸", "右侧气胸", "肺炎", "正常"], "B"),
    # short all-caps options as whole words
    ("This is an MRI image.", ["CT", "MRI", "PET", "US"], "B"),
    ("Let us look closely: a CT.", ["CT", "MRI", "PET", "US"], "A"),
    # lower case
    ("i think it's b.", CXR, "B"),
    # a letter and an option text that disagree
    ("B. Pneumothorax", CXR, None),
    ("Pneumothorax (B)", CXR, None),
    # a model that continues past its turn
    ("Answer: B\n\nQuestion: next one?\nAnswer: C", CXR, "B"),
])
def test_new_rules(reply, options, expected):
    assert extract_letter(reply, options) == expected
