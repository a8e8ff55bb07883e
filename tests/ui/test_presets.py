"""Presets in the browser: whatever came before, a preset ends in the state of a fresh load.

B3/B4 of "Dashboard state is always consistent": a preset change used to crash the page
update (a model changed outside the document lock: the old description and plots stayed
beside the new stack), and the learning rate and test-point count carried over from the
preset visited before.
"""
import time
import urllib.parse

from app.state import stack
from app.state.presets import PRESETS

from .bokeh import column
from .conftest import ARTIFACTS, open_app, screenshot

#: one order through the browser (each preset after another one and after changed settings);
#: tests/app/test_consistency.py::test_b4 goes through the presets in both orders (no browser)
ORDERS = [["4-layer ReLU net on the unit circle (Jacot et al.)", "Deep ReLU net (depth 10)",
           "Cookbook Erf net"]]


def _until(condition, what: str, timeout: float = 120) -> None:
    """Poll ``condition`` (Playwright locators pierce Panel's shadow roots; JS does not)."""
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.25)


def _settled(page, name: str) -> dict:
    """Wait until the URL holds the preset's stack and its closed form is drawn, then read
    the settings from the URL, the learning-rate note and the training points drawn."""
    rows = len(stack.fold(PRESETS[name].spec))
    _until(lambda: page.locator(".layer-row").count() == rows, "the preset's layer rows")
    _until(lambda: not page.locator("progress.closed-form-progress").is_visible()
           and page.locator(".lr-note").count() > 0, "the closed form")
    page.wait_for_timeout(1000)
    query = urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)
    boxes = {name: page.locator(f".{name} input").input_value()
             for name in ("n-train", "n-test", "learning-rate", "diag-reg")}
    return {"width": query.get("width", ["128"]), "boxes": boxes,
            "rows": page.locator(".layer-row").count(),
            "note": page.locator(".lr-note").inner_text(),
            "description": PRESETS[name].description[:40] in page.locator(".card-stack").inner_text(),
            "train_points": len(column(page, "fs_train", "x"))}


def _choose(page, name: str) -> dict:
    page.locator(".preset-select select").select_option(name)
    return _settled(page, name)


def test_every_preset_ends_as_a_fresh_load_whatever_came_before(page, server):
    page.set_default_navigation_timeout(120_000)
    fresh = {}
    # without finite ensembles: nothing compared here comes from them, and each preset's
    # training took the cores from the closed forms this test waits for
    for name in {n for order in ORDERS for n in order}:
        open_app(page, server, "?finite=false")
        fresh[name] = _choose(page, name)
    for i, order in enumerate(ORDERS):
        open_app(page, server, "?finite=false")
        page.locator(".n-test input").fill("60")  # settings a preset must reset
        page.locator(".n-test input").press("Enter")
        page.locator(".learning-rate input").fill("0.01")
        page.locator(".learning-rate input").press("Enter")
        # let the server take both before a preset is chosen: Panel handles widget events on
        # several threads, and a preset chosen within the same instant can be handled before
        # the learning rate (failed once in a loaded run; a planning item, not fixed here)
        page.wait_for_timeout(3000)
        for name in order:
            got = _choose(page, name)
            assert got == fresh[name], f"order {i}: {name}"
        screenshot(page, f"presets_order_{i}")
    log = "".join(p.read_text() for p in ARTIFACTS.glob("server-*.log"))
    assert "_pending_writes" not in log
