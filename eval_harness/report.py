"""Reports of a run, computed by ``medqdeg.metrics``: results.json, report.md, PNG plots.

The tables follow the paper: overall accuracy at L0/L1/L2 with the paired drops; by
degradation category and type; by modality; by capability; Calibration Shift per level
with the Dunning-Kruger verdict; every accuracy and drop with its bootstrap 95% interval
(clusters = clean images). Accuracy is the majority vote of the T samples (ties split),
or the arg-max of the letter probabilities when the run sampled nothing.
``compare_runs`` builds the leaderboard of several runs.

Flow: ``merge_records`` (typed records) -> ``scoring.score_records`` (the one scoring
pass) -> ``summarize_records`` (results.json) -> ``report_markdown`` and ``write_plots``;
``compare_runs`` reads results.json back through ``results.read_results``.

Every figure comes from the letters of the extraction rules (the paper's setting). When the
optional answer judge was used (``judge.py``), ``results["with_judge"]`` and a section of
report.md labelled as such give accuracy and calibration again with the judge's letters
filled in for the samples the rules left unparseable; nothing else changes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from medqdeg.dataset_builder.vocabulary import DROP_NAMES, LEVEL_NAMES
from medqdeg.metrics.accuracy import accuracy_report
from medqdeg.metrics.calibration import ItemScores, report_from_scores

from .item_record import ItemRecord
from .paper import PAPER, match_paper_model
from .records import failure_records, merge_records
from .results import RESULTS_FILE, Headline, headline, read_results
from .scoring import RunScores, score_records

UNPAIRED = "\x00unpaired:"
"""Prefix of the stand-in clean id of a degraded item with no twin (its ``clean_id`` is
empty): it pairs with nothing and is resampled alone."""

COLUMNS = ("category", "degradation", "modality", "capability", "source")


def _fmt(value: float | None, scale: float = 100.0) -> str:
    return "-" if value is None else f"{scale * value:.1f}"


def _ci(interval: list[float] | None) -> str:
    return "" if not interval else f" [{100 * interval[0]:.1f}, {100 * interval[1]:.1f}]"


def _clean_ids(records: list[ItemRecord]) -> list[str]:
    return [r.clean_id or f"{UNPAIRED}{r.id}" for r in records]


def _groups(records: list[ItemRecord]) -> dict[str, list[str]]:
    """The accuracy table's columns: each of ``COLUMNS`` alone and at each severity."""
    groups = {column: [getattr(r, column) or "unknown" for r in records] for column in COLUMNS}
    groups["category@severity"] = [f"{r.category}@{r.severity}" for r in records]
    groups["degradation@severity"] = [f"{r.degradation}@{r.severity}" for r in records]
    groups["modality@severity"] = [f"{r.modality}@{r.severity}" for r in records]
    groups["capability@severity"] = [f"{r.capability or 'unknown'}@{r.severity}" for r in records]
    return groups


def _calibration(scores: ItemScores, severities: list[str], clean_ids: list[str], n_bootstrap: int) -> dict[str, Any]:
    """Calibration overall and per severity, with the paired Dunning-Kruger verdict."""
    return report_from_scores(scores, groups=severities, clean_ids=clean_ids, n_bootstrap=max(n_bootstrap, 1))


def summarize_records(records: list[ItemRecord], scores: RunScores, *, n_bootstrap: int = 1000) -> dict[str, Any]:
    """The results dict of a run from its merged records and their one scoring (``score_records``).

    Besides the accuracy tables and calibration: ``pairing`` (degraded items and how many
    have no clean twin), ``dunning_kruger_paired`` under each calibration (the paper's
    verdict with paired bootstrap intervals, ``medqdeg.metrics.accuracy.paired_dunning_kruger``)
    and ``paper`` (the paper's published L0/L1/L2 accuracy when the model is one it reports).
    """
    if not records:
        return {"num_items": 0}
    severities = [r.severity for r in records]
    clean_ids = _clean_ids(records)
    groups = _groups(records)
    results: dict[str, Any] = {
        "num_items": len(records),
        "model": records[0].model,
        "backend": records[0].backend,
        "accuracy_from": ("majority vote of the samples" if scores.sampling is not None
                          else "arg-max of the letter probabilities"),
        "accuracy": accuracy_report(scores.primary.majority_correct, groups=groups, severities=severities,
                                    clean_ids=clean_ids, n_bootstrap=n_bootstrap),
        "calibration": {},
        "pairing": {"degraded": sum(r.severity != LEVEL_NAMES[0] for r in records),
                    "without_twin": sum(r.severity != LEVEL_NAMES[0] and not r.clean_id for r in records)},
    }
    paper = match_paper_model(str(records[0].model or ""))
    if paper is not None:
        results["paper"] = {"model": paper.model, "accuracy": dict(paper.accuracy), "source": PAPER}
    for name, kind in (("sampling", scores.sampling), ("letter_probs", scores.letter_probs)):
        if kind is not None:
            results["calibration"][name] = _calibration(kind, severities, clean_ids, n_bootstrap)
    if scores.sampling is not None and any(r.judge_letters is not None for r in records):
        results["with_judge"] = _with_judge(records, groups, severities, n_bootstrap)
    results["tokens"] = {
        "prompt": sum(r.prompt_tokens or 0 for r in records),
        "completion": sum(r.completion_tokens or 0 for r in records),
    }
    results["mean_latency_s"] = float(np.mean([r.latency_s for r in records]))
    return results


def _with_judge(records: list[ItemRecord], groups: dict[str, list], severities: list[str],
                n_bootstrap: int) -> dict[str, Any]:
    """Accuracy and calibration with the answer judge's letters filled in where the rules gave none."""
    scores = score_records(records, with_judge=True).sampling
    clean_ids = _clean_ids(records)
    sent = sum(o is not None for r in records for o in r.judge_outputs or [])
    decided = sum(source == "judge" for r in records for source in r.letter_sources or [])
    return {
        "letters_from": "the extraction rules, and the answer judge for the samples the rules left unparseable",
        "judge_models": sorted({r.judge["backend"]["model"] for r in records if r.judge}),
        "samples_sent": sent, "samples_decided": decided, "samples_left_unparseable": sent - decided,
        "records_not_judged": sum(r.judge_letters is None and None in r.letters for r in records),
        "accuracy": accuracy_report(scores.majority_correct, groups=groups, severities=severities,
                                    clean_ids=clean_ids, n_bootstrap=n_bootstrap),
        "calibration": {"sampling": _calibration(scores, severities, clean_ids, n_bootstrap)},
    }


def _overall_cells(accuracy: dict[str, Any]) -> list[str]:
    """The L0, L1, L2 accuracies and the paired drops L1-L0, L2-L0, with intervals."""
    severity = accuracy["by"]["severity"]["groups"]
    drops = accuracy.get("drops") or {}
    return ([_fmt(severity.get(level, {}).get("accuracy")) + _ci(severity.get(level, {}).get("accuracy_ci"))
             for level in LEVEL_NAMES]
            + [_fmt(drops.get(name, {}).get("drop")) + _ci(drops.get(name, {}).get("ci"))
               for name in DROP_NAMES])


def _judge_section(results: dict[str, Any]) -> list[str]:
    """report.md's section on the answer judge: both accuracies and Calibration Shifts side by side."""
    judge = results["with_judge"]
    models = ", ".join(judge["judge_models"]) or "?"

    def shifts(calibration: dict[str, Any]) -> list[str]:
        per_group = calibration.get("per_group", {})
        return [f"{per_group[level]['calibration_shift']:+.3f}" if level in per_group else "-" for level in LEVEL_NAMES]

    lines = ["## With the answer judge (not the paper's setting)", "",
             "Every other figure in this report is read by the extraction rules alone, the paper's setting. "
             f"Here the samples the rules left unparseable were read again by the answer judge ({models}): "
             f"{judge['samples_sent']} sample(s) sent, {judge['samples_decided']} given a letter by the judge, "
             f"{judge['samples_left_unparseable']} left unparseable (the judge said none, or its answer was "
             "unreadable)."]
    if judge["records_not_judged"]:
        lines.append(f"{judge['records_not_judged']} item(s) with unparseable samples were not judged (the judge "
                     "failed, or the run did not ask it): their rule letters count as they are.")
    lines += ["", "| letters from | L0 | L1 | L2 | L1-L0 | L2-L0 | Shift L0 | Shift L1 | Shift L2 |",
              "|---|---|---|---|---|---|---|---|---|",
              "| rules only (default; the paper's setting) | " + " | ".join(_overall_cells(results["accuracy"]))
              + " | " + " | ".join(shifts(results["calibration"].get("sampling", {}))) + " |",
              f"| rules, then the judge ({models}) | " + " | ".join(_overall_cells(judge["accuracy"]))
              + " | " + " | ".join(shifts(judge["calibration"]["sampling"])) + " |", ""]
    return lines


def _level_table(by: dict[str, Any], column: str, labels: list[str]) -> list[str]:
    """Rows "label | L0 | L1 | L2 | drop L1-L0 | drop L2-L0" from the @severity column."""
    per_level = by.get(f"{column}@severity", {}).get("groups", {})
    plain = by.get(column, {}).get("groups", {})
    lines = [f"| {column} | L0 | L1 | L2 | L1-L0 | L2-L0 |", "|---|---|---|---|---|---|"]
    for label in labels:
        cells = [per_level.get(f"{label}@{level}", {}) for level in LEVEL_NAMES]
        group = plain.get(label, {})
        if not cells[0] and group.get("twin_accuracy_L2_L0") is not None:  # degraded-only group
            cells[0] = {"accuracy": group["twin_accuracy_L2_L0"], "twins": True}
        lines.append(f"| {label} | " + " | ".join(
            _fmt(c.get("accuracy")) + ("†" if c.get("twins") else "") + _ci(c.get("accuracy_ci")) for c in cells)
            + f" | {_fmt(group.get('drop_L1_L0'))}{_ci(group.get('drop_L1_L0_ci'))}"
            + f" | {_fmt(group.get('drop_L2_L0'))}{_ci(group.get('drop_L2_L0_ci'))} |")
    return lines


def report_markdown(results: dict[str, Any], failures: int = 0) -> str:
    """report.md: the paper's tables for one model."""
    if not results.get("num_items"):
        return "# MedQ-Deg report\n\nNo finished items.\n"
    accuracy = results["accuracy"]
    by = accuracy["by"]
    severity = by["severity"]["groups"]
    drops = accuracy.get("drops") or {}
    pairing = results.get("pairing") or {}
    lines = [f"# MedQ-Deg report: {results['model']}", "",
             f"{results['num_items']} items; accuracy = {results['accuracy_from']}; 95% bootstrap intervals "
             "in brackets (1000 resamples of clean items, seeded); accuracies and drops in percentage points.", ""]
    if failures:
        lines += [f"**{failures} item(s) failed and are not counted; `--resume` asks them again.**", ""]
    lines += ["## Overall", "", "| L0 | L1 | L2 | L1-L0 | L2-L0 |", "|---|---|---|---|---|",
              "| " + " | ".join(_overall_cells(accuracy)) + " |", ""]
    lines += ["A *paired drop* Lk-L0 is the mean, over pairs (a degraded item at Lk and its clean twin, the L0 "
              "item of the same `clean_id`), of the degraded item's correctness minus its twin's. A clean item "
              "with several degradations is in several pairs, so the L0 column (each clean item once) minus the "
              "Lk column need not equal the paired drop:", ""]
    for name in DROP_NAMES:
        drop = drops.get(name)
        if drop and drop.get("num_pairs"):
            lines.append(f"- {name}: {drop['num_pairs']} pairs over {drop.get('num_clean_items', '?')} clean items; "
                         f"on them L{name[1]} = {_fmt(drop.get('degraded_accuracy'))} and the twins' L0 = "
                         f"{_fmt(drop.get('clean_accuracy'))} (each twin once per pair), drop = "
                         f"{_fmt(drop.get('drop'))}{_ci(drop.get('ci'))}; {drop.get('num_unmatched', 0)} "
                         f"L{name[1]} item(s) without a twin are left out.")
        else:
            lines.append(f"- {name}: no pairs.")
    if pairing.get("degraded"):
        lines += ["", f"{pairing['degraded']} degraded items, {pairing['without_twin']} of them with no clean twin "
                      "(`clean_id` empty): they count in the L1/L2 columns, not in paired figures."]
    if results.get("with_judge"):
        lines += ["", *_judge_section(results)]
    lines += ["", "In the tables below, † marks an L0 cell of a group that has only degraded items (a "
                  "degradation type or category): the accuracy of the clean twins of its L2 items, the L0 "
                  "point its plot draws.", ""]
    paper = results.get("paper")
    if paper:
        ours = [_fmt(severity.get(level, {}).get("accuracy")) for level in LEVEL_NAMES]
        lines += ["## Beside the paper's published figures", "",
                  f"Figures in the second row are **published by the {paper['source']}** for "
                  f"{paper['model']}, on the full released benchmark; they are not computed from this run.", "",
                  "| accuracy (%) | L0 | L1 | L2 |", "|---|---|---|---|",
                  f"| this run ({results['model']}) | " + " | ".join(ours) + " |",
                  f"| paper, published ({paper['model']}) | "
                  + " | ".join(f"{paper['accuracy'][level]:.2f}" for level in LEVEL_NAMES) + " |", ""]
    for column, title in (("category", "By degradation category"), ("degradation", "By degradation type"),
                          ("modality", "By modality"), ("capability", "By capability")):
        labels = sorted(label for label in by[column]["groups"] if label != "none")
        lines += [f"## {title}", "", *_level_table(by, column, labels), ""]
        if column in ("category", "capability"):
            lines += [f"Unweighted mean over {column} groups: {_fmt(by[column]['mean_over_groups'])}", ""]
    for name, calibration in results["calibration"].items():
        per_group = calibration.get("per_group", {})
        lines += [f"## Calibration ({'sampled answers' if name == 'sampling' else 'letter probabilities'})", "",
                  "| level | accuracy | mean confidence | Calibration Shift | ECE | Brier | AURC |",
                  "|---|---|---|---|---|---|---|"]
        for level in LEVEL_NAMES:
            if level in per_group:
                g = per_group[level]
                lines.append(f"| {level} | {_fmt(g['accuracy'])} | {g['mean_confidence']:.3f} | "
                             f"{g['calibration_shift']:+.3f} | {g['ece']:.3f} | {g['brier_score']:.3f} | {g['aurc']:.3f} |")
        paired = calibration.get("dunning_kruger_paired")
        if paired:
            lines += ["", "Dunning-Kruger effect (the paper's definition: Acc L0 > Acc L2 and Shift L0 <= Shift L2), "
                          f"on {paired['num_pairs']} L2-L0 pairs over {paired['num_clean_items']} clean items: "
                          f"accuracy drop {_fmt(paired['accuracy_drop'])}{_ci(paired['accuracy_drop_ci'])} points, "
                          f"Calibration Shift change {paired['shift_change']:+.3f} "
                          f"[{paired['shift_change_ci'][0]:+.3f}, {paired['shift_change_ci'][1]:+.3f}]: "
                          f"**{paired['verdict']}**. \"yes\" needs both at 95% (the drop's interval below 0 and "
                          "the change's at or above 0); \"no\" when an interval contradicts a condition; else "
                          "\"not significant\"."]
        elif calibration.get("dunning_kruger"):
            lines += ["", "Dunning-Kruger effect: **not significant** (no L2 item has a clean twin: no paired "
                          "interval can be computed)."]
        lines.append("")
    return "\n".join(lines)


def write_plots(results: dict[str, Any], scores: RunScores, folder: Path) -> list[Path]:
    """Accuracy against severity per category and per modality, confidence against accuracy,
    and a reliability diagram (the primary scores' confidence, 10 bins)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    by = results["accuracy"]["by"]
    written = []
    for column in ("category", "modality"):
        figure, axis = plt.subplots(figsize=(6, 4))
        groups = by[f"{column}@severity"]["groups"]
        labels = sorted({key.split("@")[0] for key in groups} - {"none"})
        for label in labels:
            points = [(i, groups[f"{label}@{level}"]["accuracy"]) for i, level in enumerate(LEVEL_NAMES)
                      if f"{label}@{level}" in groups]
            twins = by[column]["groups"].get(label, {}).get("twin_accuracy_L2_L0")
            if f"{label}@L0" not in groups and twins is not None:  # the table's † cell: the twins' L0
                points = [(0, twins), *points]
            axis.plot(*zip(*points, strict=True), marker="o", label=label)
        axis.set_xticks(range(3), LEVEL_NAMES)
        axis.set_ylabel("accuracy")
        axis.set_title(f"{results['model']}: accuracy by {column}")
        if labels:
            axis.legend(fontsize=7)
        path = folder / f"accuracy_by_{column}.png"
        figure.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(figure)
        written.append(path)
    calibration = results["calibration"].get("sampling") or results["calibration"].get("letter_probs")
    if calibration:
        figure, axis = plt.subplots(figsize=(4.5, 4))
        for level, g in calibration.get("per_group", {}).items():
            axis.scatter(g["accuracy"], g["mean_confidence"], label=level)
        axis.plot([0, 1], [0, 1], "k--", linewidth=0.8)
        axis.set_xlabel("accuracy")
        axis.set_ylabel("mean confidence")
        axis.set_title("confidence against accuracy")
        axis.legend()
        path = folder / "confidence_vs_accuracy.png"
        figure.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(figure)
        written.append(path)
        conf, hit = scores.primary.confidence, scores.primary.majority_correct
        bins = np.minimum((conf * 10).astype(int), 9)
        figure, axis = plt.subplots(figsize=(4.5, 4))
        centres = [(b + 0.5) / 10 for b in range(10) if (bins == b).any()]
        accuracy = [hit[bins == b].mean() for b in range(10) if (bins == b).any()]
        axis.bar(centres, accuracy, width=0.09, edgecolor="black")
        axis.plot([0, 1], [0, 1], "k--", linewidth=0.8)
        axis.set_xlabel("confidence")
        axis.set_ylabel("accuracy")
        axis.set_title("reliability diagram")
        path = folder / "reliability.png"
        figure.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(figure)
        written.append(path)
    return written


def write_report(folder: str | Path, *, n_bootstrap: int = 1000) -> dict[str, Any]:
    """Merge the folder's records and write results.json, report.md and plots/."""
    folder = Path(folder)
    records = merge_records(folder)
    failures = failure_records(folder)
    scores = score_records(records)
    results = summarize_records(records, scores, n_bootstrap=n_bootstrap)
    results["num_failed"] = len(failures)
    (folder / RESULTS_FILE).write_text(json.dumps(results, indent=2, sort_keys=True))
    (folder / "report.md").write_text(report_markdown(results, len(failures)))
    if records:
        write_plots(results, scores, folder / "plots")
    return results


def paper_reference_rows() -> list[Headline]:
    """The paper's published L0/L1/L2 accuracies as leaderboard rows, labelled ``paper: MODEL``.

    The paper's table gives overall accuracies only: drops, shifts and verdicts stay empty
    (a paired drop needs the items, which the table does not hold).
    """
    from .paper import PAPER_RESULTS

    return [Headline(model=f"paper: {result.model}", num_items=0,
                     accuracy=[result.accuracy[level] / 100 for level in LEVEL_NAMES], drops=[None, None],
                     shifts=[None, None, None], verdict=None) for result in PAPER_RESULTS]


def compare_runs(folders: list[str | Path], out: str | Path, *, paper: bool = False) -> str:
    """The leaderboard of several runs (each with results.json): Markdown and a PNG.

    With ``paper`` the paper's published accuracies are added as reference rows, named
    ``paper: MODEL``, and drawn dashed.
    """
    rows = [headline(read_results(folder)) for folder in folders]
    if paper:
        rows.extend(paper_reference_rows())
    rows.sort(key=lambda row: -(row.accuracy[0] or 0))
    lines = ["| model | L0 | L1 | L2 | L1-L0 | L2-L0 | Shift L0 | Shift L1 | Shift L2 | Dunning-Kruger |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row.model} | " + " | ".join(_fmt(a) for a in row.accuracy) + " | "
                     + " | ".join(_fmt(d) for d in row.drops) + " | "
                     + " | ".join("-" if s is None else f"{s:+.3f}" for s in row.shifts)
                     + f" | {row.verdict or '-'} |")
    table = "\n".join(lines)
    if paper:
        from .paper import PAPER

        table += (f"\n\nRows named `paper: ...` are the published overall accuracies of the {PAPER}, "
                  "not runs of this toolkit.")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "leaderboard.md").write_text("# MedQ-Deg leaderboard\n\n" + table + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    for row in rows:
        style = "--" if row.model.startswith("paper: ") else "-"
        axis.plot(range(3), [a if a is not None else np.nan for a in row.accuracy], style, marker="o",
                  label=row.model)
    axis.set_xticks(range(3), LEVEL_NAMES)
    axis.set_ylabel("accuracy")
    axis.set_title("accuracy against severity")
    axis.legend(fontsize=7)
    figure.savefig(out / "leaderboard.png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return table
