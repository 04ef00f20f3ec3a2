"""The run's records: the typed ItemRecord keeps the JSONL format, and the folder reads back
in a fixed order with the answer judge's lines attached."""

from __future__ import annotations

import json

import pytest

from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.eval_harness.item_record import ItemRecord
from medqdeg.eval_harness.records import RecordWriter, failure_records, iter_records, merge_records

from .record_factory import make_record

SAMPLED_LINE = (
    '{"answer": "A", "backend": {"backend": "chance", "model": "chance"}, "capability": "IP", "category": "none", '
    '"clean_id": "embedded-ct_head-modality", "completion_tokens": 3, "confidence": 0.20751874963942196, '
    '"correct": 0.3333333333333333, "degradation": "none", "id": "embedded-ct_head-modality", '
    '"key": "793230d6a1936e1ef84a9f0329ed98f5", "latency_s": 0.0006, "letter_probs": null, '
    '"letters": ["A", "D", "B"], "modality": "CT", "model": "chance", "num_options": 4, "num_unparseable": 0, '
    '"prompt_hash": "2bfad2849528e617", "prompt_tokens": 0, "raw_outputs": ["A", "D", "B"], '
    '"sample_correct": 0.3333333333333333, "severity": "L0", "skill": "Modality Recognition", '
    '"source": "embedded", "votes": {"A": 1, "B": 1, "D": 1}}'
)
"""A line of records-000-of-001.jsonl as `medqdeg evaluate` wrote it before ItemRecord existed."""

PROBABILITIES_LINE = (
    '{"answer": "B", "backend": {"backend": "transformers", "model": "tiny"}, "capability": null, '
    '"category": "noise", "clean_id": "c1", "completion_tokens": null, "confidence_letter_probs": 0.25, '
    '"correct_letter_probs": 1.0, "degradation": "low_dose", "id": "c1-low_dose-L2", "key": "abc", '
    '"latency_s": 0.1, "letter_probs": [0.2, 0.6, 0.2], "letters": [], "modality": "CT", "model": "tiny", '
    '"num_options": 3, "num_unparseable": 0, "prompt_hash": "p", "prompt_tokens": 12, "raw_outputs": [], '
    '"severity": "L2", "skill": null, "source": "embedded", "votes": {}}'
)
"""A letter-probabilities-only record: no sampled scores, the probability scores instead."""


@pytest.mark.parametrize("line", [SAMPLED_LINE, PROBABILITIES_LINE])
def test_a_written_line_reads_back_and_writes_byte_for_byte(line):
    record = ItemRecord.from_json(json.loads(line))
    assert json.dumps(record.to_json(), sort_keys=True, ensure_ascii=False) == line


def test_the_sampled_flag_and_the_optional_groups():
    sampled = ItemRecord.from_json(json.loads(SAMPLED_LINE))
    probabilities = ItemRecord.from_json(json.loads(PROBABILITIES_LINE))
    assert sampled.sampled and not probabilities.sampled
    assert "confidence_letter_probs" not in sampled.to_json() and "judge" not in sampled.to_json()
    assert "correct" not in probabilities.to_json() and sampled.to_json()["letter_probs"] is None


def test_a_record_without_a_required_key_is_refused_with_its_place(tmp_path):
    data = json.loads(SAMPLED_LINE)
    del data["severity"], data["answer"]
    (tmp_path / "records-000-of-001.jsonl").write_text(SAMPLED_LINE + "\n" + json.dumps(data) + "\n")
    with pytest.raises(InvalidInputError, match=r"records-000-of-001.jsonl:2.*lacks severity, answer"):
        list(iter_records(tmp_path))


def test_an_old_record_without_the_newer_optional_keys_loads():
    data = json.loads(SAMPLED_LINE)
    for name in ("capability", "skill", "source", "prompt_tokens", "completion_tokens"):
        del data[name]
    record = ItemRecord.from_json(data)
    assert record.source is None and record.capability is None and record.letters == ["A", "D", "B"]


def test_the_writer_writes_the_record_format(tmp_path):
    record = ItemRecord.from_json(json.loads(SAMPLED_LINE))
    with RecordWriter(tmp_path) as writer:
        writer.finished(record)
        writer.failed({"key": "f", "id": "f", "severity": "L1", "error": "HTTP 500"})
    assert (tmp_path / "records-000-of-001.jsonl").read_text() == SAMPLED_LINE + "\n"
    assert list(iter_records(tmp_path)) == [record]
    assert [failure["id"] for failure in failure_records(tmp_path)] == ["f"]


def test_merge_keeps_the_first_write_and_sorts_by_severity_then_id(tmp_path):
    with RecordWriter(tmp_path, rank=0, world=2) as writer:
        writer.finished(make_record("b2", id="b", severity="L2"))
        writer.finished(make_record("a1", id="a", severity="L1", correct=0.0))
    with RecordWriter(tmp_path, rank=1, world=2) as writer:
        writer.finished(make_record("a1", id="a", severity="L1", correct=1.0))  # a second write of a1
        writer.finished(make_record("z0", id="z", severity="L0"))
    merged = merge_records(tmp_path)
    assert [record.key for record in merged] == ["z0", "a1", "b2"]
    assert next(record for record in merged if record.key == "a1").correct == 0.0


def test_merge_attaches_the_last_judge_line_and_the_judged_letters(tmp_path):
    with RecordWriter(tmp_path) as writer:
        writer.finished(make_record("k", letters=["A", None, None]))
        for verdict in ("C", "B"):  # a second judge, later: its line counts
            writer.judged({"key": "k", "id": "k", "judge": {"backend": {"model": f"judge-{verdict}"}},
                           "judge_id": verdict, "letters": ["A", None, None],
                           "judge_letters": [None, verdict, None], "judge_outputs": [None, verdict, "none"],
                           "letter_sources": ["rules", "judge", None]})
    written = (tmp_path / "records-000-of-001.jsonl").read_text()
    (record,) = merge_records(tmp_path)
    assert record.judge_id == "B" and record.judge == {"backend": {"model": "judge-B"}}
    assert record.letters == ["A", None, None]  # the rules' letters stay as written
    assert record.letters_with_judge == ["A", "B", None]
    assert "judge" not in json.loads(written)  # the judge writes apart
    assert (tmp_path / "records-000-of-001.jsonl").read_text() == written  # merging never rewrites
