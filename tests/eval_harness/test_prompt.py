"""The prompt: the paper's exact text, custom templates, validation, and the cache-key hash."""

from __future__ import annotations

import subprocess
import sys

import pytest

from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.eval_harness.prompt import (
    DEFAULT_SYSTEM_PROMPT,
    PAPER_TEMPLATE,
    build_prompt,
    check_template,
    format_options,
    prompt_hash,
)

QUESTION = "What abnormality is shown in this chest X-ray?"
OPTIONS = ["Pneumonia", "Pulmonary edema", "Pneumothorax", "No abnormality"]


def test_paper_prompt_for_four_options():
    expected = (
        "What abnormality is shown in this chest X-ray?\n"
        "\n"
        "A. Pneumonia\n"
        "B. Pulmonary edema\n"
        "C. Pneumothorax\n"
        "D. No abnormality\n"
        "\n"
        "Answer with the option letter from the given choices directly."
    )
    assert build_prompt(QUESTION, OPTIONS) == expected
    assert build_prompt(QUESTION, OPTIONS, PAPER_TEMPLATE) == expected


def test_no_system_prompt_by_default():
    assert DEFAULT_SYSTEM_PROMPT is None


@pytest.mark.parametrize("k", [2, 3, 5])
def test_option_letters_follow_the_count(k):
    lines = format_options(["x"] * k).split("\n")
    assert [line[:3] for line in lines] == [f"{c}. " for c in "ABCDE"[:k]]


def test_custom_template():
    template = "Question: {question}\nOptions:\n{options}\nReply with one letter. {{JSON}} ok"
    prompt = build_prompt("Which organ?", ["Liver", "Spleen"], template)
    assert prompt == "Question: Which organ?\nOptions:\nA. Liver\nB. Spleen\nReply with one letter. {JSON} ok"


def test_template_may_repeat_placeholders():
    assert build_prompt("Q?", ["a", "b"], "{question} {options} {question}") == "Q? A. a\nB. b Q?"


@pytest.mark.parametrize(("template", "problem"), [
    ("{question} only", "lacks {options}"),
    ("{options} only", "lacks {question}"),
    ("no placeholders", "lacks {question} and {options}"),
    ("{question} {options} {image}", "unknown placeholder(s) {image}"),
    ("{question} {options} {}", "unknown placeholder(s) {}"),
    ("{question} {options} }", "not a valid format string"),
    (None, "is a NoneType"),
])
def test_bad_template_names_the_field(template, problem):
    with pytest.raises(InvalidInputError) as info:
        build_prompt(QUESTION, OPTIONS, template)
    assert info.value.field == "template"
    assert problem in str(info.value)
    assert "{question} and {options}" in info.value.expected


def test_check_template_returns_a_good_template():
    assert check_template(PAPER_TEMPLATE) is PAPER_TEMPLATE


@pytest.mark.parametrize(("options", "field"), [
    (["only one"], "options"),
    ([], "options"),
    (["a", "b", "c", "d", "e", "f"], "options"),
    ("AB", "options"),
    (["a", "  "], "options[B]"),
    (["a", "b", None], "options[C]"),
])
def test_bad_options_name_the_field(options, field):
    with pytest.raises(InvalidInputError) as info:
        build_prompt(QUESTION, options, item="item-7")
    assert info.value.field == field
    assert info.value.item == "item-7"
    assert "item-7" in str(info.value)


@pytest.mark.parametrize("question", ["", "   ", None])
def test_bad_question_names_the_field(question):
    with pytest.raises(InvalidInputError) as info:
        build_prompt(question, OPTIONS)
    assert info.value.field == "question"


def test_errors_are_value_errors():
    with pytest.raises(ValueError, match="template"):
        build_prompt(QUESTION, OPTIONS, "{question}")


def test_hash_is_short_hex_and_stable():
    digest = prompt_hash(PAPER_TEMPLATE, None)
    assert len(digest) == 16
    int(digest, 16)
    assert prompt_hash(PAPER_TEMPLATE, None) == digest
    assert prompt_hash() == digest
    # the same in a fresh interpreter (no per-process hash seed involved)
    code = ("from medqdeg.eval_harness.prompt import prompt_hash, PAPER_TEMPLATE; "
            "print(prompt_hash(PAPER_TEMPLATE, None))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == digest


def test_hash_is_pinned():
    # a changed digest invalidates every cached run: change this value on purpose only
    # (0.2: SHA-256 -> the vocabulary's BLAKE2b stable_key)
    assert prompt_hash(PAPER_TEMPLATE, None) == "bd8985bcc26564fd"


def test_hash_is_sensitive_to_template_and_system():
    base = prompt_hash(PAPER_TEMPLATE, None)
    others = {
        prompt_hash(PAPER_TEMPLATE + " ", None),
        prompt_hash("{question}\n{options}", None),
        prompt_hash(PAPER_TEMPLATE, ""),
        prompt_hash(PAPER_TEMPLATE, "You are a radiologist."),
        prompt_hash(PAPER_TEMPLATE, "You are a radiologist. "),
    }
    assert base not in others
    assert len(others) == 5


def test_hash_does_not_confuse_template_and_system():
    assert prompt_hash("ab", "c") != prompt_hash("a", "bc")


@pytest.mark.parametrize(("template", "system", "field"), [
    (None, None, "template"),
    (PAPER_TEMPLATE, 3, "system"),
])
def test_hash_rejects_bad_types(template, system, field):
    with pytest.raises(InvalidInputError) as info:
        prompt_hash(template, system)
    assert info.value.field == field
