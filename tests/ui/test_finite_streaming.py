"""Finite ensembles stream: the first red lines appear while the training still runs."""
import re
import time

from .bokeh import column
from .conftest import Recorder, open_app, screenshot, wait_for_members

#: the sidebar note while training goes on
PARTIAL_NOTE = re.compile(r"Training 8 networks of width 128: trained to step [\d,]+ of 1,995 "
                          r"so far")


def _partial_shown(page) -> bool:
    """Finite members drawn while the note says how far training has got and the progress
    bar still shows (Playwright locators: the widgets live in shadow roots)."""
    return (len(column(page, "fs_members", "ys")) > 0
            and page.get_by_text(PARTIAL_NOTE).is_visible()
            and page.locator(".finite-progress progress").is_visible())


def test_first_finite_lines_appear_before_training_ends(page, server):
    page.set_default_navigation_timeout(120_000)  # a loaded machine serves the page slowly
    recorder, app = Recorder(page), page
    open_app(app, server)
    wait_for_members(app)  # the default ensemble (compiled for these shapes)
    seed = app.locator(".network-seed input").first
    seed.fill("41")  # settings nobody trained before: nothing from the cache
    seed.press("Enter")
    deadline = time.time() + 150
    while not _partial_shown(app):
        if time.time() > deadline:
            screenshot(app, "finite_streaming_failed")
            raise AssertionError(
                f"no partial ensemble shown while training: members "
                f"{len(column(app, 'fs_members', 'ys'))}, bar "
                f"{app.locator('.finite-progress progress').is_visible()}")
        app.wait_for_timeout(100)
    screenshot(app, "finite_streaming_partial")
    fs_note = app.locator(".fs-finite-note")
    deadline = time.time() + 10  # a note made visible shows its text a moment later
    while fs_note.is_visible() and not fs_note.inner_text() and time.time() < deadline:
        app.wait_for_timeout(100)
    if fs_note.is_visible():  # t = 1,000 is past the step reached
        assert "as far as training has got (of 1,995)" in fs_note.inner_text()
    app.get_by_text("8 networks of width 128 trained to 1,995 steps").wait_for(timeout=180_000)
    assert len(column(app, "fs_members", "ys")) == 8
    assert not fs_note.is_visible()  # t = 1,000 <= 1,995: the lines are at t
    assert recorder.errors == [] and recorder.external == []
