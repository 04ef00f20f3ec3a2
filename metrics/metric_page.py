"""The front page of a metric Space: the Gradio Blocks layout both metric apps share.

A page is a Markdown heading, a CSV text box (the first example in it, the others under
it), a row of option controls, a Compute button, a Markdown summary and the result as
JSON. evaluate's ``launch_gradio_widget`` uses Gradio 3 APIs and fails on Gradio 4 and
later, hence this page. Gradio is imported only when a page is built or a result shown, so
the metrics need no Gradio. The apps in ``metrics/<name>/app.py`` run as Hub Space folders
whose ``requirements.txt`` installs ``medqdeg``: they import this module from the package.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any


def page_result(result_of: Callable[[], dict[str, Any]],
                summary: Callable[[dict[str, Any]], str]) -> tuple[dict[str, Any], str]:
    """(the result as plain JSON values, its Markdown summary) for the Compute button.

    ``result_of`` parses the pasted items and computes the metric; a ``KeyError`` or
    ``ValueError`` it raises (every input error of the metrics is one) reaches the page
    as a ``gr.Error`` with the error's message.
    """
    import gradio as gr

    try:
        result = result_of()
    except (KeyError, ValueError) as error:
        raise gr.Error(str(error)) from error
    return json.loads(json.dumps(result)), summary(result)


def metric_page(*, title: str, markdown: str, examples: Sequence[str], lines: int,
                controls: Callable[[], list], compute: Callable[..., tuple[dict[str, Any], str]]):
    """The page (a ``gr.Blocks``): ``examples[0]`` fills the text box and every example is
    offered under it when there are several; ``controls`` builds the option components in
    one row; ``compute(text, *options)`` is the Compute button's callback."""
    import gradio as gr

    with gr.Blocks(title=title) as demo:
        gr.Markdown(markdown)
        table = gr.Textbox(label="Items (CSV)", value=examples[0], lines=lines)
        with gr.Row():
            options = controls()
        if len(examples) > 1:
            gr.Examples([[example] for example in examples], inputs=[table])
        button = gr.Button("Compute", variant="primary")
        summary = gr.Markdown()
        output = gr.JSON(label="Result")
        button.click(compute, inputs=[table, *options], outputs=[output, summary])
    return demo
