"""Export and sharing: CSV per view, "Copy as Python", the view selection in the URL."""
import csv
import io
import re

from playwright.sync_api import expect

from .analysis import GOTO_TIMEOUT, open_view
from .bokeh import column
from .conftest import Recorder, open_app


def test_csv_download_holds_the_plotted_numbers(page, server):
    recorder = Recorder(page)
    open_view(page, server, "view=kernels&sweep_widths=%5B8%2C64%5D&sweep_seeds=1&sweep_steps=5",
              "kernel_nngp", "image")
    with page.expect_download() as download:
        page.locator(".csv-kernels button, .csv-kernels a").first.click()
    text = open(download.value.path()).read()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 100 and set(rows[0]) == {"row", "column", "nngp", "ntk"}
    diagonal = sorted(float(r["nngp"]) for r in rows if r["row"] == r["column"])
    assert diagonal[-1] > 0
    assert recorder.errors == []


def test_copy_as_python_shows_a_runnable_snippet(page, server):
    recorder = Recorder(page)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    open_app(page, server)
    page.locator(".python-functionspace button").first.click()
    box = page.locator(".python-code-functionspace textarea")
    expect(box).to_have_value(re.compile("engine.ensemble_predictor"), timeout=30_000)
    snippet = box.input_value()
    # the page copied it too (app/views/export_bar.py CodeBox)
    for _ in range(40):
        if page.evaluate("() => navigator.clipboard.readText()") == snippet:
            break
        page.wait_for_timeout(250)
    assert page.evaluate("() => navigator.clipboard.readText()") == snippet
    namespace = {}
    exec(compile(snippet, "<snippet>", "exec"), namespace)
    shown = column(page, "fs_mean")
    assert max(abs(a - b) for a, b in zip(namespace["mean"][:, 0], shown)) < 1e-8
    assert recorder.errors == []


def test_the_view_selection_is_in_the_url(page, server):
    recorder = Recorder(page)
    open_app(page, server)
    page.locator(".bk-tab", has_text="Output distribution").click()
    page.wait_for_function("() => window.location.search.includes('view=distribution')",
                           timeout=30_000)
    page.goto(f"{server}/main?view=images&image_max_train=32&image_n_test=20",
              timeout=GOTO_TIMEOUT)
    page.locator(".images-max-train").wait_for(timeout=60_000)
    assert page.locator(".bk-tab.bk-active").inner_text().strip() == "Images"
    assert recorder.errors == []
