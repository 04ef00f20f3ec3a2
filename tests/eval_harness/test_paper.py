"""The paper's published table: the shape the paper reports, and model-id matching."""

from medqdeg.eval_harness.paper import PAPER_RESULTS, match_paper_model


def test_published_accuracy_falls_from_l1_to_l2_for_every_model():
    for result in PAPER_RESULTS:
        assert set(result.accuracy) == {"L0", "L1", "L2"}
        assert result.accuracy["L2"] < result.accuracy["L1"], result.model  # the paper's "cliff"


def test_model_ids_match_case_insensitively_and_unknown_ones_do_not():
    assert match_paper_model("Qwen/Qwen2.5-VL-3B-Instruct").model == "Qwen2.5-VL-3B"
    assert match_paper_model("gpt-4o").accuracy["L0"] == 66.98
    assert match_paper_model("Qwen/Qwen2.5-VL-7B-Instruct") is None
