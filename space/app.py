"""The MedQ-Deg Space: Degrade, Ask a model, Leaderboard, Calibration.

``build_app(settings)`` lays the four tabs out and wires them to the plain functions of
``degrade_tab``, ``ask_tab``, ``leaderboard_tab`` and ``calibration_tab``; every callback
is wrapped by ``safety.friendly`` (short messages, no stack traces) and the queue limits
how many requests run at once and how many may wait. ``main()`` serves it with the
settings of the environment (``MEDQDEG_SPACE_*``, see ``settings``); the Hub runs this file
as ``python app.py``, with ``medqdeg`` installed from ``requirements.txt``.

API (``gradio_client``): ``/degrade``, ``/degradations``, ``/sample``, ``/upload``,
``/item``, ``/ask``, ``/leaderboard``, ``/calibration``.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Any

import gradio as gr
from PIL import Image

from medqdeg.dataset_builder.modalities import normalize_modality
from medqdeg.dataset_builder.vocabulary import LEVEL_NAMES, OPTION_LETTERS
from medqdeg.space import ask_tab, calibration_tab, degrade_tab, leaderboard_tab
from medqdeg.space.safety import friendly, load_upload, resolve_model
from medqdeg.space.settings import SpaceSettings, from_environment

TITLE = "MedQ-Deg: medical images under degradation"
UPLOAD_TYPES = [".png", ".jpg", ".jpeg", ".tif", ".tiff", ".dcm"]

INTRO = """# MedQ-Deg
How do multimodal models hold up when medical images are degraded, and does their
confidence fall with their accuracy? **Degrade** shows any of the 19 degradation types at
L0, L1 and L2; **Ask a model** asks the same question at the three levels; **Leaderboard**
compares the harness's runs; **Calibration** computes Calibration Shift.
[Paper](https://arxiv.org/abs/2603.07769)"""


class _Leaderboard:
    """The runs location, resolved once (a Hub dataset is fetched once, again on Reload)."""

    def __init__(self, settings: SpaceSettings):
        self.settings = settings
        self.location = settings.runs_location()
        self._root: Path | None = None
        self._resolved = False
        self._lock = threading.Lock()

    def root(self, refresh: bool = False) -> Path | None:
        with self._lock:
            if refresh or not self._resolved:
                self._root = leaderboard_tab.resolve_runs(self.location, self.settings.cache_dir)
                self._resolved = True
            return self._root

    def view(self, sort_by: str, descending: bool, paper: bool = False, refresh: bool = False):
        root = self.root(refresh)
        rows = leaderboard_tab.leaderboard_rows(root) + (leaderboard_tab.paper_rows() if paper else [])
        rows = leaderboard_tab.sort_rows(rows, sort_by or "acc L0", bool(descending))
        return (leaderboard_tab.status_markdown(self.location, root, rows), leaderboard_tab.table(rows),
                leaderboard_tab.accuracy_figure(rows), leaderboard_tab.plots(rows))


def _degradation_update(modality: str | None, current: str | None) -> dict[str, Any]:
    choices = degrade_tab.degradation_choices(modality)
    names = [name for _, name in choices]
    value = current if current in names else degrade_tab.default_degradation(modality)
    return gr.update(choices=choices, value=value)


def build_app(settings: SpaceSettings | None = None) -> gr.Blocks:
    """The Blocks app for ``settings`` (default: from the environment)."""
    settings = settings or from_environment()
    pool = ask_tab.ModelPool(settings)
    if pool.zero_gpu:
        pool.preload()  # ZeroGPU: weights load once, in this process, before any request
    board = _Leaderboard(settings)
    downloads = Path(tempfile.mkdtemp(prefix="medqdeg-space-"))

    # ------------------------------------------------------------------ callbacks
    @friendly
    def degradations(modality: str | None, current: str | None):
        return _degradation_update(modality, current)

    @friendly
    def on_sample(key: str | None):
        return degrade_tab.sample_input(key).modality

    @friendly
    def on_upload(upload: str | None, modality: str | None):
        if not upload:
            return modality, "Using the sample image."
        loaded = load_upload(upload, settings)
        return loaded.modality or modality, f"Using the upload: {loaded.description}."

    @friendly
    def degrade(upload: str | None, sample: str | None, modality: str | None, degradation: str | None,
                seed: float | None):
        loaded, note = degrade_tab.choose_input(upload, sample, settings)
        preview = degrade_tab.make_preview(loaded, degradation, modality, degrade_tab.check_seed(seed), note)
        shown, archive = degrade_tab.write_files(preview, downloads)
        return (*(str(path) for path in shown), degrade_tab.quality_markdown(preview), str(archive))

    @friendly
    def on_item(item_id: str | None):
        item = ask_tab.get_item(item_id)
        return (item.question, ask_tab.options_text(item.options), item.answer, item.modality,
                Image.fromarray(ask_tab.item_image(item).image))

    @friendly
    def ask(model: str | None, item_id: str | None, upload: str | None, question: str | None,
            options: str | None, answer: str | None, modality: str | None, degradation: str | None,
            samples: float | None, seed: float | None):
        entry = resolve_model(model, settings)
        parsed = ask_tab.parse_options(options)
        question = ask_tab.check_question(question)
        answer = ask_tab.check_answer(answer, parsed)
        samples = ask_tab.check_samples(samples, settings)
        seed = degrade_tab.check_seed(seed)
        if upload:
            loaded, _ = degrade_tab.choose_input(upload, None, settings)
        else:
            loaded = ask_tab.item_image(ask_tab.get_item(item_id))
        result = ask_tab.ask(pool, entry, loaded, question, parsed, answer, degradation, modality, seed, samples)
        gallery = [(screen, f"{level.level}" + ("" if level.quality is None else f" (SSIM {level.quality[0]:.3f})"))
                   for screen, level in zip(result.screens, result.levels, strict=True)]
        return gallery, ask_tab.votes_figure(result), ask_tab.results_markdown(result)

    @friendly
    def leaderboard(sort_by: str, descending: bool, paper: bool = False):
        return board.view(sort_by, descending, bool(paper))

    @friendly
    def reload_leaderboard(sort_by: str, descending: bool, paper: bool = False):
        return board.view(sort_by, descending, bool(paper), refresh=True)

    @friendly
    def calibration(text: str, accuracy: str, unparseable: str):
        result = calibration_tab.compute(text, accuracy, unparseable)
        return result, calibration_tab.summary_markdown(result)

    # ------------------------------------------------------------------ layout
    first = degrade_tab.DEFAULT_SAMPLE
    first_modality = degrade_tab.sample_input(first).modality
    item = ask_tab.get_item(ask_tab.default_item())
    limits = (f"Uploads: PNG, JPEG (8 or 16 bit), TIFF or DICOM, at most "
              f"{settings.max_upload_bytes / 2**20:.0f} MB and {settings.max_pixels:,} pixels; "
              f"larger sides are shrunk to {settings.max_side}.")

    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.Markdown(INTRO)
        with gr.Tab("Degrade", id="degrade"):
            with gr.Row():
                with gr.Column(scale=1, min_width=280):
                    upload = gr.File(label="Upload an image", file_types=UPLOAD_TYPES, type="filepath",
                                     elem_id="degrade-upload")
                    sample = gr.Dropdown(degrade_tab.sample_choices(), value=first,
                                         label="or a real image of the embedded sample", elem_id="degrade-sample")
                    modality = gr.Dropdown(degrade_tab.modality_choices(), value=first_modality, label="Modality",
                                           elem_id="degrade-modality")
                    degradation = gr.Dropdown(degrade_tab.degradation_choices(first_modality),
                                              value=degrade_tab.default_degradation(first_modality),
                                              label="Degradation (follows the modality)", elem_id="degradation",
                                              allow_custom_value=True)  # checked by the engine, not the session
                    seed = gr.Number(value=0, precision=0, label="Seed", minimum=0, elem_id="degrade-seed")
                    run = gr.Button("Degrade", variant="primary", elem_id="degrade-button")
                    source_note = gr.Markdown("Using the sample image.", elem_id="degrade-source")
                    gr.Markdown(limits)
                with gr.Column(scale=3):
                    with gr.Row():
                        screens = [gr.Image(label=level, type="filepath", format="png", interactive=False,
                                            elem_id=f"degraded-{level.lower()}") for level in LEVEL_NAMES]
                    quality = gr.Markdown("Upload an image or pick a sample, choose the modality and a "
                                          "degradation (or press **Degrade**) to see it at L0, L1 and L2.",
                                          elem_id="degrade-quality")
                    download = gr.File(label="Download: L0/L1/L2 PNG (input bit depth) + records.json",
                                       interactive=False, height=90, elem_id="degrade-download")

        with gr.Tab("Ask a model", id="ask"):
            with gr.Row():
                with gr.Column(scale=1, min_width=300):
                    model = gr.Dropdown(settings.model_labels, value=settings.model_labels[0], label="Model",
                                        allow_custom_value=settings.allow_any_model,
                                        info="The models this page's host allows"
                                        + (" (or type a Hub id)" if settings.allow_any_model else ""))
                    item_choice = gr.Dropdown(ask_tab.item_choices(), value=item.id, label="Sample item")
                    ask_upload = gr.File(label="Optional: your own image instead", file_types=UPLOAD_TYPES,
                                         type="filepath")
                    question = gr.Textbox(item.question, label="Question", lines=2, max_length=ask_tab.MAX_QUESTION_CHARS)
                    options = gr.Textbox(ask_tab.options_text(item.options), label="Options, one per line", lines=4)
                    answer = gr.Dropdown(list(OPTION_LETTERS), value=item.answer, label="Correct answer")
                    ask_modality = gr.Dropdown(degrade_tab.modality_choices(), value=normalize_modality(item.modality),
                                               label="Modality")
                    ask_degradation = gr.Dropdown(degrade_tab.degradation_choices(item.modality),
                                                  value=degrade_tab.default_degradation(item.modality),
                                                  label="Degradation", allow_custom_value=True)
                    with gr.Row():
                        samples = gr.Slider(1, settings.max_samples, value=min(5, settings.max_samples), step=1,
                                            label="T (answers per level)")
                        ask_seed = gr.Number(value=0, precision=0, label="Seed", minimum=0)
                    ask_button = gr.Button("Ask at L0, L1 and L2", variant="primary", elem_id="ask-button")
                with gr.Column(scale=2):
                    item_image = gr.Image(Image.fromarray(ask_tab.item_image(item).image), label="Item image (L0)",
                                          type="pil", format="png", interactive=False, height=220)
                    asked = gr.Gallery(label="Images asked", columns=3, height=240, elem_id="ask-gallery")
                    votes = gr.Plot(label="Vote distribution")
                    ask_results = gr.Markdown(elem_id="ask-results")

        with gr.Tab("Leaderboard", id="leaderboard"):
            board_status = gr.Markdown()
            with gr.Row():
                sort_by = gr.Dropdown(list(leaderboard_tab.SORTABLE), value="acc L0", label="Sort by")
                descending = gr.Checkbox(value=True, label="Descending")
                paper = gr.Checkbox(value=False, label="Show the paper's published accuracies",
                                    elem_id="leaderboard-paper")
                reload_button = gr.Button("Reload")
            board_table = gr.Dataframe(headers=list(leaderboard_tab.COLUMNS), interactive=False,
                                       elem_id="leaderboard-table")
            board_plot = gr.Plot(label="Accuracy against severity")
            board_gallery = gr.Gallery(label="The harness's plots", columns=4, height=320, object_fit="contain")

        with gr.Tab("Calibration", id="calibration"):
            gr.Markdown("Calibration Shift = mean consistency confidence C − accuracy (> 0: overconfident), "
                        "with C = 1 − H/ln K of the T sampled answers. One item per line; `?` marks an "
                        "unparseable sample; groups L0/L1/L2 give the Dunning-Kruger verdict.")
            table = gr.Textbox(calibration_tab.EXAMPLE_SAMPLES, label="Items (CSV)", lines=8)
            with gr.Row():
                accuracy = gr.Radio(["majority", "samples"], value="majority", label="accuracy")
                unparseable = gr.Radio(["count", "ignore"], value="count", label="unparseable")
            gr.Examples([[calibration_tab.EXAMPLE_SAMPLES], [calibration_tab.EXAMPLE_PROBABILITIES]], inputs=[table])
            compute = gr.Button("Compute", variant="primary")
            summary = gr.Markdown()
            result = gr.JSON(label="Result")

        # -------------------------------------------------------------- events
        modality.change(degradations, [modality, degradation], degradation, api_name="degradations")
        sample.change(on_sample, sample, modality, api_name="sample")
        upload.change(on_upload, [upload, modality], [modality, source_note], api_name="upload")
        outputs = [*screens, quality, download]
        inputs = [upload, sample, modality, degradation, seed]
        run.click(degrade, inputs, outputs, api_name="degrade")
        degradation.input(degrade, inputs, outputs, api_name=False)

        ask_modality.change(degradations, [ask_modality, ask_degradation], ask_degradation, api_name=False)
        item_choice.change(on_item, item_choice, [question, options, answer, ask_modality, item_image],
                           api_name="item")
        ask_button.click(ask, [model, item_choice, ask_upload, question, options, answer, ask_modality,
                               ask_degradation, samples, ask_seed], [asked, votes, ask_results], api_name="ask",
                         concurrency_limit=settings.concurrency, concurrency_id="models")

        board_outputs = [board_status, board_table, board_plot, board_gallery]
        board_inputs = [sort_by, descending, paper]
        demo.load(leaderboard, board_inputs, board_outputs, api_name="leaderboard")
        sort_by.change(leaderboard, board_inputs, board_outputs, api_name=False)
        descending.change(leaderboard, board_inputs, board_outputs, api_name=False)
        paper.change(leaderboard, board_inputs, board_outputs, api_name=False)
        reload_button.click(reload_leaderboard, board_inputs, board_outputs, api_name="reload")

        compute.click(calibration, [table, accuracy, unparseable], [result, summary], api_name="calibration")

    demo.queue(default_concurrency_limit=settings.concurrency, max_size=settings.queue_size)
    return demo


def launch_options(settings: SpaceSettings) -> dict[str, Any]:
    """``launch`` keywords that enforce the host's limits at the HTTP layer too."""
    return {"max_file_size": settings.max_upload_bytes, "show_error": True}


def main(settings: SpaceSettings | None = None, **launch: Any) -> None:
    """Serve the Space (blocking). Without arguments: settings from the environment."""
    settings = settings or from_environment()
    build_app(settings).launch(**launch_options(settings), **launch)


if __name__ == "__main__":
    main()
