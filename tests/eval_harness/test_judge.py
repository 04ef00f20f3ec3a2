"""The optional answer judge (issue 14 item 4) against a stand-in judge server on 127.0.0.1.

The model is a Python backend whose three samples per item are a letter (read by the
rules), "My pick is the <ordinal> one." (unparseable by the rules; the stand-in judge
names the letter) and "I have no idea." (the stand-in judge says none). The judge is
asked over real HTTP through the OpenAI-compatible backend.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from medqdeg.dataset_builder.vocabulary import LEVEL_NAMES, OPTION_LETTERS, stable_hash
from medqdeg.eval_harness.backends.base import Answer
from medqdeg.eval_harness.backends.chance import ChanceBackend
from medqdeg.eval_harness.cli import main
from medqdeg.eval_harness.judge import read_judge_answer
from medqdeg.eval_harness.records import merge_records
from medqdeg.eval_harness.report import _fmt
from medqdeg.eval_harness.run import EvalConfig, evaluate
from medqdeg.metrics.calibration import calibration_shift, score_samples

from .servers import fault_proxy, stand_in_router

LIMIT = 3
JUDGE = "stand-in-judge"
FAKE_KEY = "sk-judge-SECRET-0123456789abcdef"
ORDINALS = ("first", "second", "third", "fourth", "fifth")
NO_IDEA = "I have no idea."


class MixedBackend(ChanceBackend):
    """The chance baseline's settings (so its cache keys) with one reply of each kind per item."""

    def answer(self, queries, generation):
        self.calls = getattr(self, "calls", 0) + len(queries)
        answers = []
        for query in queries:
            pick = stable_hash("mixed", query.item_id) % query.num_options
            texts = [OPTION_LETTERS[(pick + 1) % query.num_options], f"My pick is the {ORDINALS[pick]} one.", NO_IDEA]
            answers.append(Answer(texts=texts[:generation.samples], prompt_tokens=0, completion_tokens=3))
        return answers


def judge_reply(body: dict) -> str | None:
    """The stand-in judge: the ordinal in the quoted reply gives the letter, else none."""
    if body.get("model") != JUDGE:
        return None
    reply = re.search(r"<<<\n(.*)\n>>>", body["messages"][-1]["content"], re.DOTALL)[1]
    for index, word in enumerate(ORDINALS):
        if f"the {word} one" in reply:
            return OPTION_LETTERS[index]
    return "none"


def quoted_reply(body: dict) -> str:
    return re.search(r"<<<\n(.*)\n>>>", body["messages"][-1]["content"], re.DOTALL)[1]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("judge-cache"))


@pytest.fixture(scope="module")
def server():
    with stand_in_router(("B", "My pick is the third one.", NO_IDEA), respond=judge_reply) as router:
        yield router


@pytest.fixture(scope="module", autouse=True)
def key_in_environment():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPENAI_API_KEY", FAKE_KEY)
        patch.delenv("OPENAI_BASE_URL", raising=False)
        yield


def _config(output: Path, cache_dir: str, judge_url: str | None = None, **judge_options) -> EvalConfig:
    if judge_url is None:
        return EvalConfig(limit=LIMIT, output=output, cache_dir=cache_dir)
    return EvalConfig(limit=LIMIT, output=output, cache_dir=cache_dir, judge_model=JUDGE,
                      judge_options={"base_url": judge_url, **judge_options})


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory, cache_dir) -> Path:
    out = tmp_path_factory.mktemp("plain") / "run"
    evaluate(_config(out, cache_dir), backend=MixedBackend())
    return out


@pytest.fixture(scope="module")
def judged_run(tmp_path_factory, cache_dir, server) -> tuple[Path, list[dict]]:
    out = tmp_path_factory.mktemp("judged") / "run"
    before = len(server.chat_bodies())
    summary = evaluate(_config(out, cache_dir, server.base_url), backend=MixedBackend())
    assert not summary.judge_failed and summary.judged == len(merge_records(out))
    return out, server.chat_bodies()[before:]


def _without(mapping: dict, *names: str) -> dict:
    return {key: value for key, value in mapping.items() if key not in names}


def test_read_judge_answer_never_guesses():
    options = ["None", "kidney", "spleen"]
    assert read_judge_answer("B", options) == "B"
    assert read_judge_answer("none", options) is None  # not option A, whose text is "None"
    assert read_judge_answer("None of them.", options) is None
    assert read_judge_answer("B or C", options) is None
    assert read_judge_answer("", options) is None
    assert read_judge_answer("The reply commits to C.", options) == "C"


def test_only_unparseable_samples_go_to_the_judge_and_records_keep_both(judged_run):
    out, bodies = judged_run
    records = merge_records(out)
    unparseable = [(r.raw_outputs[i], r) for r in records for i, letter in enumerate(r.letters)
                   if letter is None]
    assert len(bodies) == len(unparseable) == 2 * len(records)
    assert sorted(quoted_reply(b) for b in bodies) == sorted(text for text, _ in unparseable)
    for body in bodies:  # text only, greedy, one answer
        assert body["model"] == JUDGE and isinstance(body["messages"][-1]["content"], str)
        assert body["temperature"] == 0 and body["n"] == 1
    for record in records:
        pick = stable_hash("mixed", record.id) % record.num_options
        assert record.letters[0] is not None and record.letters[1:] == [None, None]  # the rules' letters
        assert record.judge_letters == [None, OPTION_LETTERS[pick], None]
        assert record.judge_outputs == [None, OPTION_LETTERS[pick], "none"]
        assert record.letter_sources == ["rules", "judge", None]  # the judge's "none" stays unparseable
        assert record.judge["backend"]["model"] == JUDGE and record.judge_id
    lines = [json.loads(line) for path in out.glob("judge-*.jsonl") for line in path.read_text().splitlines()]
    assert {line["key"]: line["letters"] for line in lines} == {r.key: r.letters for r in records}


def test_the_report_gives_both_accuracies_as_computed_directly(judged_run):
    out, _ = judged_run
    records = merge_records(out)
    results = json.loads((out / "results.json").read_text())
    judge = results["with_judge"]
    assert judge["judge_models"] == [JUDGE] and judge["records_not_judged"] == 0
    assert judge["samples_sent"] == 2 * len(records) and judge["samples_decided"] == len(records)
    report = (out / "report.md").read_text()
    assert "## With the answer judge (not the paper's setting)" in report
    rows = {line.split(" | ")[0]: line for line in report.splitlines() if line.startswith("| rules")}
    assert set(rows) == {"| rules only (default; the paper's setting)", f"| rules, then the judge ({JUDGE})"}
    for name, section, pick in (("rules only", results, lambda r: r.letters),
                                ("rules, then the judge", judge,
                                 lambda r: [rule or r.judge_letters[i] for i, rule in enumerate(r.letters)])):
        row = next(line for key, line in rows.items() if key.startswith(f"| {name}"))
        for level in LEVEL_NAMES:
            chosen = [r for r in records if r.severity == level]
            scores = score_samples([pick(r) for r in chosen], [r.answer for r in chosen],
                                   [r.num_options for r in chosen])
            accuracy = float(np.mean(scores.majority_correct))
            shift = calibration_shift(scores.confidence, scores.majority_correct)
            assert section["accuracy"]["by"]["severity"]["groups"][level]["accuracy"] == pytest.approx(accuracy)
            per_level = section["calibration"]["sampling"]["per_group"][level]
            assert per_level["calibration_shift"] == pytest.approx(shift)
            assert re.search(rf" {re.escape(_fmt(accuracy))} [\[|]", row) and f" {shift:+.3f} " in row


def test_without_the_flag_nothing_changes(plain_run, judged_run):
    out, _ = judged_run
    assert not list(plain_run.glob("judge-*.jsonl"))
    assert "judge_model" not in json.loads((plain_run / "run.json").read_text())["config"]
    assert "judge_model" in json.loads((out / "run.json").read_text())["config"]
    plain, judged = merge_records(plain_run), merge_records(out)
    assert not any("judge_letters" in r.to_json() for r in plain)
    fields = ("latency_s", "judge", "judge_id", "judge_letters", "judge_outputs", "letter_sources")
    assert [_without(r.to_json(), *fields) for r in plain] == [_without(r.to_json(), *fields) for r in judged]
    plain_results = json.loads((plain_run / "results.json").read_text())
    judged_results = json.loads((out / "results.json").read_text())
    assert "with_judge" not in plain_results
    assert _without(plain_results, "mean_latency_s") == _without(judged_results, "mean_latency_s", "with_judge")
    plain_report, judged_report = (plain_run / "report.md").read_text(), (out / "report.md").read_text()
    assert "judge" not in plain_report
    section = re.search(r"\n## With the answer judge.*?\n\n(?=In the tables below)", judged_report, re.DOTALL)[0]
    assert judged_report.replace(section, "\n") == plain_report


def test_resume_does_not_ask_again_what_is_recorded(tmp_path, judged_run, plain_run, server, cache_dir):
    out, bodies = judged_run
    again = tmp_path / "again"
    shutil.copytree(out, again)
    before = len(server.chat_bodies())
    config = _config(again, cache_dir, server.base_url)
    config.resume = True
    backend = MixedBackend()
    summary = evaluate(config, backend=backend)
    assert summary.answered == 0 and summary.judged == 0 and len(server.chat_bodies()) == before
    assert getattr(backend, "calls", 0) == 0
    # a rules-only run resumed with the judge: the judge alone is asked, once per unparseable sample
    later = tmp_path / "later"
    shutil.copytree(plain_run, later)
    config = _config(later, cache_dir, server.base_url)
    config.resume = True
    summary = evaluate(config, backend=backend)
    assert summary.answered == 0 and getattr(backend, "calls", 0) == 0
    assert len(server.chat_bodies()) - before == len(bodies)
    assert (json.loads((later / "results.json").read_text())["with_judge"]["accuracy"]
            == json.loads((out / "results.json").read_text())["with_judge"]["accuracy"])


def test_a_failed_judge_request_is_recorded_nowhere_and_asked_again_on_resume(tmp_path, server, cache_dir):
    out = tmp_path / "run"
    with fault_proxy(server.root, ["500"]) as proxy:  # the judge's first request (its server probe) fails
        summary = evaluate(_config(out, cache_dir, proxy.base_url, max_retries=0), backend=MixedBackend())
        _check_failed_then_resume(out, cache_dir, proxy.base_url, summary)


def _check_failed_then_resume(out, cache_dir, judge_url, summary):
    assert summary.judge_failed and all("500" in error for _, error in summary.judge_failed)
    records = merge_records(out)
    failed = {item for item, _ in summary.judge_failed}
    assert {r.id for r in records if r.judge_letters is None} == failed
    results = json.loads((out / "results.json").read_text())
    assert results["with_judge"]["records_not_judged"] == len(failed)
    assert f"{len(failed)} item(s) with unparseable samples were not judged" in (out / "report.md").read_text()
    config = _config(out, cache_dir, judge_url)  # the same judge, now with retries
    config.resume = True
    summary = evaluate(config, backend=MixedBackend())
    assert summary.judged == len(failed) and not summary.judge_failed
    assert all(r.judge_letters is not None for r in merge_records(out))


def test_cli_flags_and_the_key_is_never_written(tmp_path, server, cache_dir, capsys):
    out = tmp_path / "cli"
    before = len([b for b in server.chat_bodies() if b["model"] == JUDGE])
    assert main(["evaluate", "--backend", "openai", "--model", "stand-in-vlm", "--base-url", server.base_url,
                 "--limit", "2", "--splits", "L0", "--output", str(out), "--cache-dir", cache_dir,
                 "--judge-model", JUDGE, "--judge-base-url", server.base_url]) == 0
    printed = capsys.readouterr().out
    assert f"answer judge {JUDGE}:" in printed and "With the answer judge" in printed
    records = merge_records(out)
    assert all(r.judge_letters is not None for r in records if None in r.letters)
    assert any(source == "judge" for r in records for source in r.letter_sources or [])
    judged = [b for b in server.chat_bodies() if b["model"] == JUDGE][before:]
    assert len(judged) == sum(letter is None for r in records for letter in r.letters) > 0
    with server.lock:
        assert {r["authorization"] for r in server.requests} == {f"Bearer {FAKE_KEY}"}
    for folder in (tmp_path, Path(cache_dir)):  # the run's folder and the shared caches it wrote
        for path in folder.rglob("*"):
            if path.is_file():
                assert FAKE_KEY.encode() not in path.read_bytes(), path
    assert main(["evaluate", "--judge-base-url", server.base_url, "--output", str(tmp_path / "x")]) == 2
    assert "--judge-model" in capsys.readouterr().err
