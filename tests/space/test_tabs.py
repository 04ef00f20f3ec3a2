"""The tabs' plain functions: degrade preview, asking, leaderboard rows, calibration."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from medqdeg.dataset_builder.degradations import degrade, replay
from medqdeg.dataset_builder.sample_images import load_sample
from medqdeg.eval_harness.backends.base import Answer
from medqdeg.metrics.validation import MetricInputError
from medqdeg.space import ask_tab, calibration_tab, degrade_tab, leaderboard_tab
from medqdeg.space.safety import LoadedImage, SpaceError, resolve_model
from medqdeg.space.settings import SpaceSettings

SETTINGS = SpaceSettings(max_side=256)


def test_degradation_list_follows_modality():
    ct = [name for _, name in degrade_tab.degradation_choices("CT")]
    mri = [name for _, name in degrade_tab.degradation_choices("MR")]
    assert "sparse_view" in ct and "sparse_view" not in mri and "ghosting_artifact" in mri
    assert degrade_tab.default_degradation("CT") in ct
    assert len(degrade_tab.degradation_choices(None)) == 19


def test_preview_matches_the_engine_and_measures(tmp_path):
    loaded, note = degrade_tab.choose_input(None, "ct_head", SETTINGS)
    assert "shrunk to at most 256" in note and max(np.asarray(loaded.image).shape) == 256
    # the head CT's own brain window reaches the engine; a shrunk image's pixel size is not the file's
    assert loaded.acquisition == {"display_window": (40.0, 100.0), "pixel_spacing": None}
    preview = degrade_tab.make_preview(loaded, "sparse_view", "CT", 3, note)
    expected, record = degrade(loaded.image, "sparse_view", 2, seed=3, item_id="", modality="CT",
                               display_window=(40.0, 100.0))
    assert record.params["scale"]["low_hu"] == -10.0
    assert np.array_equal(preview.images[2], expected) and preview.records[2] == record
    assert np.array_equal(preview.screens[0], loaded.image)
    ssim1, ssim2 = preview.quality[1][0], preview.quality[2][0]
    assert 1 > ssim1 > ssim2 and preview.quality[1][1] > preview.quality[2][1]
    text = degrade_tab.quality_markdown(preview)
    assert "| L2 |" in text and f"{ssim2:.3f}" in text
    shown, archive = degrade_tab.write_files(preview, tmp_path)
    assert [path.name for path in shown] == ["L0.png", "L1.png", "L2.png"]
    with zipfile.ZipFile(archive) as zipped:
        records = json.loads(zipped.read("records.json"))
        l2 = np.asarray(Image.open(io.BytesIO(zipped.read("L2.png"))))
    assert np.array_equal(l2, expected)
    assert np.array_equal(replay(loaded.image, records["levels"][2]["record"]), expected)


def test_sixteen_bit_stays_sixteen_bit(image_files, tmp_path):
    loaded, _ = degrade_tab.choose_input(str(image_files["png16"]), None, SETTINGS)
    preview = degrade_tab.make_preview(loaded, "gaussian_noise", "X-ray", 0)
    assert preview.screens[1].dtype == np.uint8 and preview.images[1].mode == loaded.image.mode
    _, archive = degrade_tab.write_files(preview, tmp_path)
    with zipfile.ZipFile(archive) as zipped:
        assert "screen/L1.png" in zipped.namelist()
        assert Image.open(io.BytesIO(zipped.read("L1.png"))).mode in ("I;16", "I")


@pytest.mark.parametrize("degradation, modality, message", [
    ("sparse_view", "MRI", "does not apply"),
    ("no_such_type", "CT", "'no_such_type', an unknown degradation"),
    (None, "CT", "Choose a degradation"),
    ("gaussian_noise", "Radiology", "not a known modality"),
])
def test_preview_refuses(degradation, modality, message):
    loaded = degrade_tab.sample_input("ct_small")
    with pytest.raises(ValueError, match=message):
        degrade_tab.make_preview(loaded, degradation, modality, 0)


def test_seed_check():
    assert degrade_tab.check_seed(7.0) == 7 and degrade_tab.check_seed(None) == 0
    for bad in (-1, 1.5, 2**32):
        with pytest.raises(SpaceError, match="seed"):
            degrade_tab.check_seed(bad)


def test_options_question_answer_checks():
    assert ask_tab.parse_options("A. Liver\nB) Kidney\n\n(C) Spleen\n") == ["Liver", "Kidney", "Spleen"]
    for bad in ("only one", "a\nb\nc\nd\ne\nf", "same\nSame", "x\n" + "y" * 400):
        with pytest.raises(SpaceError):
            ask_tab.parse_options(bad)
    with pytest.raises(SpaceError, match="one of A, B"):
        ask_tab.check_answer("C", ["x", "y"])
    with pytest.raises(SpaceError, match="question"):
        ask_tab.check_question("  ")
    with pytest.raises(SpaceError, match="1 to 10"):
        ask_tab.check_samples(11, SpaceSettings())


def test_sample_items_are_real_embedded_items():
    items = ask_tab.sample_items()
    assert len(items) >= 12 and ask_tab.default_item() in items
    item = ask_tab.get_item("embedded-ct_head-modality")
    assert item.options[ord(item.answer) - 65] == "CT"


def test_score_level_votes_confidence_correctness():
    level = ask_tab.score_level("L1", Answer(texts=["B", "The answer is B.", "I cannot tell", "A"]),
                                ["x", "y", "z"], "B", (0.9, 30.0))
    assert level.letters == ["B", "B", None, "A"] and level.votes == {"A": 1, "B": 2, "C": 0}
    assert level.majority == "B" and level.correct == 1.0 and level.unparseable == 1
    assert 0 < level.confidence < 1
    tie = ask_tab.score_level("L2", Answer(texts=["A", "B"]), ["x", "y"], "A", None)
    assert tie.majority == "A/B" and tie.correct == 0.5


def test_ask_with_chance_end_to_end():
    settings = SpaceSettings()
    pool = ask_tab.ModelPool(settings)
    item = ask_tab.get_item("embedded-ct_small-modality")
    result = ask_tab.ask(pool, resolve_model("chance", settings), ask_tab.item_image(item), item.question,
                         item.options, item.answer, "low_dose", "CT", 0, 5)
    assert [level.level for level in result.levels] == ["L0", "L1", "L2"]
    assert all(len(level.texts) == 5 and sum(level.votes.values()) == 5 for level in result.levels)
    text = ask_tab.results_markdown(result)
    assert "| L2 |" in text and "chance" in text
    figure = ask_tab.votes_figure(result)
    bars = figure.axes[0].containers
    assert len(bars) == 3 and all(len(group) == len(item.options) + 1 for group in bars)
    assert [int(bar.get_height()) for bar in bars[0]] == [*result.levels[0].votes.values(), 0]


def test_ask_reports_a_failing_model():
    class Failing:
        name = "failing"

        def answer(self, queries, generation):
            return [Answer(error="HTTP 500 after 3 tries")] * len(queries)

    settings = SpaceSettings()
    pool = ask_tab.ModelPool(settings)
    entry = resolve_model("chance", settings)
    pool._backends[entry] = Failing()
    loaded = LoadedImage(load_sample("ct_small").image, "CT", "ct")
    with pytest.raises(SpaceError, match="failed at L0: HTTP 500"):
        ask_tab.ask(pool, entry, loaded, "Q?", ["a", "b"], "A", "gaussian_noise", "CT", 0, 2)


def test_leaderboard_rows(runs_dir):
    rows = leaderboard_tab.leaderboard_rows(runs_dir)
    assert [row["run"] for row in rows] == ["chance", "chance-T5"]
    results = json.loads((runs_dir / "chance" / "results.json").read_text())
    l0 = results["accuracy"]["by"]["severity"]["groups"]["L0"]["accuracy"]
    assert rows[0]["acc L0"] == round(100 * l0, 1) and rows[0]["model"] == "chance"
    # the leaderboard shows the report's paired verdict, not a comparison of point estimates
    paired = results["calibration"]["sampling"]["dunning_kruger_paired"]["verdict"]
    assert rows[0]["Dunning-Kruger"] == paired and paired != "yes" and rows[0]["shift L2"] is not None
    ordered = leaderboard_tab.sort_rows(rows, "shift L0", descending=False)
    assert ordered[0]["shift L0"] <= ordered[1]["shift L0"]
    assert leaderboard_tab.table(ordered)["headers"][0] == "run"
    assert len(leaderboard_tab.plots(rows)) == 8
    assert leaderboard_tab.leaderboard_rows(runs_dir / "chance")[0]["run"] == "chance"
    with pytest.raises(SpaceError, match="Cannot sort"):
        leaderboard_tab.sort_rows(rows, "folder")


def test_leaderboard_without_runs(tmp_path):
    assert leaderboard_tab.leaderboard_rows(None) == [] and leaderboard_tab.leaderboard_rows(tmp_path) == []
    assert "medqdeg evaluate" in leaderboard_tab.status_markdown(None, None, [])
    assert "No run folders" in leaderboard_tab.status_markdown(str(tmp_path), tmp_path, [])
    assert leaderboard_tab.table([])["data"] == []


def test_leaderboard_from_a_hub_dataset(runs_dir, monkeypatch):
    import huggingface_hub

    calls = {}

    def fake_snapshot(**kwargs):
        calls.update(kwargs)
        return str(runs_dir)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot)
    root = leaderboard_tab.resolve_runs("hf://datasets/org/medqdeg-runs/chance", cache_dir="/c")
    assert root == runs_dir / "chance"
    assert calls["repo_id"] == "org/medqdeg-runs" and calls["repo_type"] == "dataset"
    assert "*/results.json" in calls["allow_patterns"] and calls["cache_dir"] == "/c"
    with pytest.raises(SpaceError, match="hf://datasets/ORG/NAME"):
        leaderboard_tab.resolve_runs("hf://datasets/org")


def test_calibration_matches_the_metric_module():
    result = calibration_tab.compute(calibration_tab.EXAMPLE_SAMPLES)
    assert result["num_items"] == 4 and result["num_unparseable"] == 1
    assert result["accuracy"] == pytest.approx((1 + 1 + 0 + 1 / 3) / 4)
    assert result["dunning_kruger"]["effect"] is True
    assert "Dunning-Kruger effect" in calibration_tab.summary_markdown(result)
    probabilities = calibration_tab.compute(calibration_tab.EXAMPLE_PROBABILITIES, "samples")
    assert probabilities["sample_accuracy"] == pytest.approx((0.9 + 0.7 + 0.1 + 0.5) / 4)
    for bad, message in [("", "header line"), ("x,y\n1,2", "reference"), ("samples,reference\nA,A", "num_options"),
                         ("probabilities,reference\n0.5 oops,A", "line 2.*not a number")]:
        with pytest.raises(MetricInputError, match=message):
            calibration_tab.compute(bad)
