"""A real browser on the page: upload an image, pick a modality and a degradation, see L2.

Runs Debian's ``chromium`` (``apt-get install chromium``) through Playwright, headless;
Playwright's own browser downloads are not needed. Skipped only when chromium is not on
PATH (CI installs it).
"""

from __future__ import annotations

import shutil

import pytest

from .conftest import GRADIO_PANDAS_WARNINGS, launched

pytest.importorskip("gradio")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.skipif(CHROMIUM is None, reason="chromium is not on PATH (apt-get install chromium)"),
              *GRADIO_PANDAS_WARNINGS]
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def server(runs_dir):
    from medqdeg.space.settings import SpaceSettings

    with launched(SpaceSettings(runs=str(runs_dir))) as url:
        yield url


def pick(page, dropdown: str, option: str) -> None:
    page.click(f"{dropdown} input")
    page.click(f"[role=listbox] [role=option][aria-label='{option}']")


def test_upload_pick_degradation_see_it(server, image_files, tmp_path):
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(server)
            page.wait_for_selector("#degradation input", timeout=30_000)
            page.set_input_files("#degrade-upload input[type=file]", str(image_files["png"]))
            page.wait_for_selector("#degrade-source :text('Using the upload')", timeout=30_000)

            pick(page, "#degrade-modality", "Fundus photography")
            page.wait_for_function(
                "() => document.querySelector('#degradation input').value.includes('object_movement')",
                timeout=30_000)  # the list followed the modality: no CT/MRI types for a fundus image
            page.click("#degradation input")
            offered = page.locator("[role=listbox] [role=option]").all_inner_texts()
            assert any("gaussian_blur" in text for text in offered)
            assert not any("sparse_view" in text or "ghosting" in text for text in offered)
            page.click("[role=listbox] [role=option][aria-label='gaussian_blur (resolution_blur)']")

            page.wait_for_selector("#degraded-l2 img", timeout=30_000)
            page.wait_for_selector("#degrade-quality :text('gaussian_blur')", timeout=30_000)
            page.wait_for_function("() => document.querySelector('#degraded-l2 img').naturalWidth > 0",
                                   timeout=30_000)
            size = page.evaluate("() => [document.querySelector('#degraded-l2 img').naturalWidth,"
                                 " document.querySelector('#degraded-l2 img').naturalHeight]")
            assert size == [512, 512]
            assert "PNG RGB 512x512" in page.inner_text("#degrade-quality")
            shot = tmp_path / "space-degrade.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
        finally:
            browser.close()
