"""``medqdeg compare --paper``: the paper's published accuracies as labelled reference rows."""

from __future__ import annotations

import json

from medqdeg.eval_harness.cli import main
from medqdeg.eval_harness.paper import PAPER_RESULTS


def _run(folder, model: str, accuracies: tuple[float, float, float]):
    folder.mkdir(parents=True)
    groups = {level: {"accuracy": value} for level, value in zip(("L0", "L1", "L2"), accuracies, strict=True)}
    (folder / "results.json").write_text(json.dumps({
        "model": model, "accuracy": {"by": {"severity": {"groups": groups}}, "drops": {}},
        "calibration": {"sampling": {}},
    }))
    return folder


def test_compare_with_and_without_the_paper(tmp_path, capsys):
    run = _run(tmp_path / "runs" / "mine", "my-model", (0.62, 0.6, 0.5))
    assert main(["compare", str(run), "--out", str(tmp_path / "plain")]) == 0
    assert "paper:" not in (tmp_path / "plain" / "leaderboard.md").read_text()
    capsys.readouterr()
    assert main(["compare", str(run), "--out", str(tmp_path / "board"), "--paper"]) == 0
    table = (tmp_path / "board" / "leaderboard.md").read_text()
    lines = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(lines) == 1 + len(PAPER_RESULTS)
    gpt4o = next(line for line in lines if line.startswith("| paper: GPT-4o |"))
    assert gpt4o.split("|")[2:5] == [" 67.0 ", " 65.2 ", " 59.7 "]  # 66.98, 65.22, 59.73 as published
    assert gpt4o.split("|")[5:10] == [" - "] * 5  # no drops or shifts: the table has none
    order = [line.split("|")[1].strip() for line in lines]
    assert order.index("my-model") < order.index("paper: mean of the paper's 40 models")  # 62.0 > 61.52
    assert "not runs of this toolkit" in table and (tmp_path / "board" / "leaderboard.png").stat().st_size > 0
