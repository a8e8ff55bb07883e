"""Finite ensembles stream: the first red lines appear while the training still runs."""
import re
import time

from .bokeh import column
from .conftest import Recorder, open_app, screenshot

#: the sidebar note while training goes on
PARTIAL_NOTE = re.compile(r"Training 8 networks of width 512: trained to step [\d,]+ of 1,995 "
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
    # settings nobody trained before (nothing from the cache), wide enough that training
    # lasts a few seconds even with its programs already compiled (the compile cache)
    open_app(app, server, "?width=512&network_seed=41")
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
    if fs_note.is_visible():  # t = 1,000 is past the step reached (the text is in the
        # pane's shadow root: a chained locator reaches it, inner_text() does not)
        assert fs_note.get_by_text("as far as training has got (of 1,995)").count() == 1
    app.get_by_text("8 networks of width 512 trained to 1,995 steps").wait_for(timeout=180_000)
    assert len(column(app, "fs_members", "ys")) == 8
    assert not fs_note.is_visible()  # t = 1,000 <= 1,995: the lines are at t
    assert recorder.errors == [] and recorder.external == []
