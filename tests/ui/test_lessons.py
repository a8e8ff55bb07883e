"""Lessons in the browser: every step walked with the → key, each setting its tab and
state, outlining the controls it names and drawing its figure with data; no console error.
Screenshots (the step's figure scrolled into view): test-artifacts/lesson_<name>_<step>.png.
One test per lesson, so the two browser groups can share the walk (tests/ui/conftest.py)."""
import dataclasses

import pytest

from app.lessons import LESSONS
from app.state.analysis_settings import TAB_SLUGS

from .analysis import GOTO_TIMEOUT, wait_for_data, wait_idle
from .bokeh import column, wait_for_change
from .conftest import Recorder, screenshot

#: tab -> (glyph, column) that holds data once the tab has drawn, and the slug of the view
#: whose job computes it (None: the closed form, drawn in one piece)
FIGURES = {
    "dynamics": ("fs_mean", "y", None),
    "convergence": ("residual_modes_finite_1", "y", "residual-modes"),
    "kernels": ("angle_ntk_wide_trained", "ys", "kernel-angles"),
    "distribution": ("dist_ks", "y", "distribution"),
    "images": ("img_size_fc_inf", "y", "images"),
}
#: steps whose figure is another one of their tab's: the width sweep of the Convergence tab
STEP_FIGURES = {("kernel", 1): ("spec_distance_mean", "y", "convergence"),
                ("eigen", 1): ("spec_eigen", "y", "convergence")}
TITLES = {slug: title for title, slug in TAB_SLUGS.items()}
#: a step's words: two steps that differ only in these show the same figure
WORDS = {"title", "text", "cite", "highlight"}
#: JS: scroll the plot that holds the named glyph to the middle of the screen
SCROLL_TO = """(name) => { const s = Bokeh.documents[0].get_model_by_name(name + ':source');
  const v = s && Bokeh.index.query_one(v => v.model.data_source === s);
  if (!v || !v.parent || !v.parent.el) return false;
  v.parent.el.scrollIntoView({block: 'center'}); return true }"""


def figure(name: str, number: int, step) -> tuple:
    """(glyph, column, job slug) of the figure step ``number`` of lesson ``name`` is about."""
    return STEP_FIGURES.get((name, number), FIGURES[step.view])


def state(step) -> dict:
    return {f.name: getattr(step, f.name) for f in dataclasses.fields(step)
            if f.name not in WORDS}


def next_step(page) -> None:
    """The presenter's → key (keys go to the page, not to a widget)."""
    page.locator(".lesson-text").click()
    page.keyboard.press("ArrowRight")


def wait_for_step(page, name: str, number: int, before=None):
    """Wait until step ``number`` of lesson ``name`` is shown: its heading, tab and URL, and
    its figure drawn whole (recomputed if the step changed the state on the same tab; its
    job idle). Returns the figure's data (``before`` of the next step)."""
    steps = LESSONS[name].steps
    step = steps[number - 1]
    page.locator(".lesson-heading").get_by_text(f"Step {number} of {len(steps)}").wait_for(
        timeout=240_000)  # a step that opens a tab renders its figures first
    assert page.locator(".bk-tab.bk-active").inner_text().strip() == TITLES[step.view]
    page.wait_for_function("(q) => window.location.search.includes(q)",  # the step's URL
                           arg=f"lesson={name}&step={number}", timeout=120_000)
    glyph, key, job = figure(name, number, step)
    previous = steps[number - 2] if number > 1 else None
    if previous is not None and previous.view == step.view and state(previous) != state(step):
        # a new state on the same tab: its figure must be recomputed, not the last one's
        wait_for_change(page, glyph, before, key, timeout=300_000)
    wait_for_data(page, glyph, key, timeout=300_000)
    if job is not None:  # the whole figure, not a part delivered so far
        wait_idle(page, job, timeout=300_000)
    return column(page, glyph, key)


@pytest.mark.parametrize("name", list(LESSONS))
def test_walking_every_lesson_step(page, server, name):
    recorder = Recorder(page)
    steps = LESSONS[name].steps
    page.goto(f"{server}/main?lesson={name}&step=1", timeout=GOTO_TIMEOUT)
    before = None  # the previous step's figure data
    for number, step in enumerate(steps, 1):
        try:
            if number > 1:
                next_step(page)
            before = wait_for_step(page, name, number, before)
            for css in step.highlight:
                page.locator(f".{css}.lesson-highlight").first.wait_for(timeout=30_000)
        except Exception as error:  # what the page said may be why (a script error)
            screenshot(page, f"lesson_{name}_{number}_failed")
            raise AssertionError(f"step {number}; the page's errors: {recorder.errors}") from error
        glyph = figure(name, number, step)[0]
        assert page.evaluate(SCROLL_TO, glyph), f"step {number}: no plot holds {glyph}"
        page.wait_for_timeout(500)
        screenshot(page, f"lesson_{name}_{number}")
    assert recorder.errors == [], recorder.errors
    assert recorder.external == []
