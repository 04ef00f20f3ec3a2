"""The Leaderboard tab: every run folder of the harness, side by side.

A run folder is what ``medqdeg evaluate`` writes (``runs/<model>/``): ``results.json``
(from ``report.write_report``) and ``plots/*.png``. The location is a local folder holding
run folders (or one run folder), or ``hf://datasets/ORG/NAME[/SUBFOLDER]``: a Hub dataset
of run folders, of which only ``results.json``, ``run.json`` and the PNG plots are
downloaded (``huggingface_hub.snapshot_download``). The table has, per run, accuracy at
L0/L1/L2, the paired drops L1-L0 and L2-L0 (percentage points), Calibration Shift per
level and the intra-model Dunning-Kruger verdict, read from ``results.json`` exactly as
``medqdeg compare`` reads them. On request the paper's published L0/L1/L2 accuracies are
shown beside them as reference rows, named ``paper: MODEL`` (``paper_rows``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image

from medqdeg.dataset_builder.vocabulary import DROP_NAMES, LEVEL_NAMES
from medqdeg.eval_harness.report import dunning_kruger_verdict

from .safety import SpaceError

HUB_PREFIX = "hf://datasets/"
HUB_PATTERNS = ["results.json", "*/results.json", "*/*/results.json", "run.json", "*/run.json",
                "*/plots/*.png", "*/*/plots/*.png", "plots/*.png"]
COLUMNS = ("run", "model", "items", "acc L0", "acc L1", "acc L2", "drop L1-L0", "drop L2-L0",
           "shift L0", "shift L1", "shift L2", "Dunning-Kruger")
SORTABLE = COLUMNS
PLOT_NAMES = ("accuracy_by_category.png", "accuracy_by_modality.png", "confidence_vs_accuracy.png",
              "reliability.png")


def resolve_runs(location: str | None, cache_dir: str | None = None) -> Path | None:
    """The local folder of ``location`` (downloading the files of a Hub dataset)."""
    if not location:
        return None
    if location.startswith(HUB_PREFIX):
        parts = location.removeprefix(HUB_PREFIX).strip("/").split("/")
        if len(parts) < 2 or not all(parts[:2]):
            raise SpaceError(f"{location!r} is no Hub dataset; write hf://datasets/ORG/NAME[/SUBFOLDER].")
        from huggingface_hub import snapshot_download

        try:
            local = snapshot_download(repo_id="/".join(parts[:2]), repo_type="dataset",
                                      allow_patterns=HUB_PATTERNS, cache_dir=cache_dir)
        except Exception as error:
            raise SpaceError(f"The run folders of {'/'.join(parts[:2])} could not be fetched from the Hub "
                             f"({type(error).__name__}).") from error
        return Path(local).joinpath(*parts[2:])
    return Path(location)


def find_run_folders(root: Path | None) -> list[Path]:
    """Run folders (holding ``results.json``) at ``root`` or up to two levels below it."""
    if root is None or not root.is_dir():
        return []
    found = {path.parent for pattern in ("results.json", "*/results.json", "*/*/results.json")
             for path in root.glob(pattern)}
    return sorted(found)


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def run_row(folder: Path, root: Path | None = None) -> dict[str, Any]:
    """One leaderboard row from ``folder/results.json``."""
    try:
        results = json.loads((folder / "results.json").read_text())
    except (OSError, ValueError) as error:
        raise SpaceError(f"{folder.name}/results.json is not readable ({type(error).__name__}).") from error
    name = str(folder.relative_to(root)) if root is not None and folder != root else folder.name
    row: dict[str, Any] = {"run": name, "model": results.get("model", "?"), "items": results.get("num_items", 0),
                           "folder": str(folder)}
    accuracy = results.get("accuracy") or {}
    severity = ((accuracy.get("by") or {}).get("severity") or {}).get("groups", {})
    drops = accuracy.get("drops") or {}
    calibration = (results.get("calibration") or {})
    calibration = calibration.get("sampling") or calibration.get("letter_probs") or {}
    shifts = {level: figures.get("calibration_shift") for level, figures in (calibration.get("per_group") or {}).items()}
    for level in LEVEL_NAMES:
        row[f"acc {level}"] = _percent(severity.get(level, {}).get("accuracy"))
    for name in DROP_NAMES:
        row[f"drop {name}"] = _percent(drops.get(name, {}).get("drop"))
    for level in LEVEL_NAMES:
        shift = shifts.get(level)
        row[f"shift {level}"] = None if shift is None else round(shift, 3)
    row["Dunning-Kruger"] = dunning_kruger_verdict(calibration) or "-"
    return row


def leaderboard_rows(root: Path | None) -> list[dict[str, Any]]:
    return [run_row(folder, root) for folder in find_run_folders(root)]


def paper_rows() -> list[dict[str, Any]]:
    """The paper's published accuracies (%) as rows named ``paper: MODEL``; the rest stays empty."""
    from medqdeg.eval_harness.paper import PAPER, PAPER_RESULTS

    rows = []
    for result in PAPER_RESULTS:
        row: dict[str, Any] = dict.fromkeys(COLUMNS)
        row.update({"run": f"paper: {result.model}", "model": PAPER, "Dunning-Kruger": "-", "folder": None})
        for level in LEVEL_NAMES:
            row[f"acc {level}"] = result.accuracy[level]
        rows.append(row)
    return rows


def sort_rows(rows: list[dict[str, Any]], by: str = "acc L0", descending: bool = True) -> list[dict[str, Any]]:
    """Rows sorted by one column; missing values last whatever the order."""
    if by not in SORTABLE:
        raise SpaceError(f"Cannot sort by {by!r}; choose one of {', '.join(SORTABLE)}.")
    present = [row for row in rows if row.get(by) is not None]
    missing = [row for row in rows if row.get(by) is None]
    present.sort(key=lambda row: (row[by], row["run"]), reverse=descending)
    return present + missing


def table(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The rows as a ``gr.Dataframe`` value (headers and data)."""
    return {"headers": list(COLUMNS), "data": [[row.get(column) for column in COLUMNS] for row in rows]}


def plot_files(rows: list[dict[str, Any]]) -> list[tuple[Path, str]]:
    """(PNG path, caption) of the harness's plots of every run, in the rows' order."""
    found = []
    for row in rows:
        if row.get("folder") is None:  # a reference row of the paper: no plots
            continue
        for name in PLOT_NAMES:
            path = Path(row["folder"]) / "plots" / name
            if path.is_file():
                found.append((path, f"{row['run']}: {name.removesuffix('.png').replace('_', ' ')}"))
    return found


def plots(rows: list[dict[str, Any]], max_plots: int = 40) -> list[tuple[Image.Image, str]]:
    """The plots as images for a gallery (read here, so the run folder need not be served)."""
    shown = []
    for path, caption in plot_files(rows)[:max_plots]:
        try:
            with Image.open(path) as image:
                shown.append((image.convert("RGB"), caption))
        except (OSError, ValueError):
            continue
    return shown


def accuracy_figure(rows: list[dict[str, Any]]):
    """Accuracy against severity, one line per run (as ``medqdeg compare`` draws it)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 3.5), dpi=100)
    axis = figure.add_subplot()
    for row in rows:
        values = [row.get(f"acc {level}") for level in LEVEL_NAMES]
        style = "--" if row.get("folder") is None else "-"  # the paper's rows dashed
        axis.plot(range(3), [float("nan") if v is None else v for v in values], style, marker="o",
                  label=row["run"])
    axis.set_xticks(range(3), LEVEL_NAMES)
    axis.set_ylabel("accuracy (%)")
    axis.set_title("accuracy against severity")
    if rows:
        axis.legend(fontsize=7)
    figure.tight_layout()
    return figure


def status_markdown(location: str | None, root: Path | None, rows: list[dict[str, Any]]) -> str:
    if location is None:
        return ("No run folders configured: run `medqdeg evaluate` (it writes `runs/<model>/`) and start the "
                "page from that folder, or pass `--runs DIR` / set `MEDQDEG_SPACE_RUNS`.")
    if not rows:
        return f"No run folders with `results.json` found in `{location}`."
    return (f"{len(rows)} run(s) from `{location}`. Accuracy and drops in %, drops are paired "
            "(same clean image), Calibration Shift = mean C − accuracy (> 0: overconfident); "
            "Dunning-Kruger: accuracy falls from L0 to L2 while the shift does not shrink. Rows named "
            "`paper: ...` (when shown) are the paper's published overall accuracies, not runs.")
