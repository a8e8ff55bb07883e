"""Offline: every tab opened, every kind of job run and every export used, and not one
request leaves 127.0.0.1, not one console error.

Choosing 2-D data on the Classification tab changes the hidden Training dynamics view
(its notice appears), the case that pointed the page's loading.css at Panel's CDN
(app/local_resources.py). Sweep settings are those of the views' own tests, whose results
the server has cached when the suite runs.
"""
import pytest

from .analysis import GOTO_TIMEOUT, LIGHT_SWEEP, wait_for_data
from .conftest import Recorder, open_app, wait_for_members

QUERY = f"?{LIGHT_SWEEP}&ensemble_size=4&width=64&image_max_train=32&image_n_test=10"

#: tab title -> (glyph, column) holding data once the tab's jobs have drawn
SWEEP_TABS = {
    "Convergence with width": ("spec_distance_mean", "y"),
    "Kernels": ("angle_ntk_wide_trained", "ys"),
    "Output distribution": ("dist_ks", "y"),
    "Images": ("img_size_fc_inf", "y"),
}

#: JS: the links of the page's Bokeh models (stylesheets, ...) that name another host
REMOTE_LINKS = """() => [...Bokeh.documents[0].all_models]
    .filter(m => m.url !== undefined && String(m.url).includes('://'))
    .map(m => String(m.url)).filter(u => !u.startsWith('http://127.0.0.1'))"""


@pytest.fixture
def offline(page, server):
    """The app at QUERY with its finite ensemble drawn; after the test, nothing remote."""
    recorder = Recorder(page)
    page.set_default_navigation_timeout(GOTO_TIMEOUT)
    open_app(page, server, QUERY)
    assert len(wait_for_members(page)) == 4
    yield page
    assert page.evaluate(REMOTE_LINKS) == []
    assert recorder.external == [], f"requests leaving 127.0.0.1: {recorder.external}"
    assert recorder.errors == [], f"console errors: {recorder.errors}"


def _open(page, title: str) -> None:
    page.locator(".bk-tab", has_text=title).click()


def _export(page) -> None:
    """Download each shown view's CSV and ask for its Python snippet."""
    for widget in page.locator("[class*='csv-']").all():
        with page.expect_download():
            widget.locator("button, a").first.click()
    for button in page.locator("[class*='python-'] button").all():
        button.click()
    page.locator("[class*='python-code-'] textarea").first.wait_for(timeout=30_000)


def test_a_view_changed_in_a_hidden_tab_loads_nothing_remote(offline):
    page = offline
    _export(page)
    _open(page, "Classification")
    page.locator("select:has(option[value='xor'])").select_option("xor")
    wait_for_data(page, "cls_finite_mean", "image", timeout=300_000, nonzero=True)
    _export(page)
    _open(page, "Training dynamics")
    page.get_by_text("The function-space view draws one output").wait_for(timeout=60_000)


def test_every_analysis_tab_and_export_stays_on_this_machine(offline):
    page = offline
    for title, (glyph, key) in SWEEP_TABS.items():
        _open(page, title)
        wait_for_data(page, glyph, key, timeout=300_000)
        _export(page)
