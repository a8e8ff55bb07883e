"""Lessons in the browser: every step walked with the → key, each setting its tab and
state, outlining the controls it names and drawing its figure with data; no console error.
Screenshots: test-artifacts/lesson_<name>_<step>.png."""
from app.analysis_settings import TAB_SLUGS
from app.lessons import LESSONS

from .analysis import GOTO_TIMEOUT, wait_for_data
from .conftest import Recorder, screenshot

#: tab -> (glyph, column) that holds data once the tab has drawn
FIGURES = {
    "dynamics": ("fs_mean", "y"),
    "convergence": ("residual_modes_finite_1", "y"),
    "kernels": ("angle_ntk_wide_trained", "ys"),
    "distribution": ("dist_ks", "y"),
    "images": ("img_size_fc_inf", "y"),
}
TITLES = {slug: title for title, slug in TAB_SLUGS.items()}
#: JS: the x values (widths) of the KS curve, to tell one distribution step from the next
KS_WIDTHS = """() => { const s = Bokeh.documents[0].get_model_by_name('dist_ks:source');
  if (!s) return 0; const d = s.data instanceof Map ? Object.fromEntries(s.data) : s.data;
  return d.x ? d.x.length : 0 }"""


def test_walking_every_lesson_step(page, server):
    recorder = Recorder(page)
    page.goto(f"{server}/main?lesson=gaussian&step=1", timeout=GOTO_TIMEOUT)
    steps = [(name, number, step) for name, lesson in LESSONS.items()
             for number, step in enumerate(lesson.steps, 1)]
    for index, (name, number, step) in enumerate(steps):
        if index:
            page.locator(".lesson-text").click()  # keys go to the page, not to a widget
            page.keyboard.press("ArrowRight")
        count = len(LESSONS[name].steps)
        page.locator(".lesson-heading").get_by_text(f"Step {number} of {count}").wait_for(
            timeout=240_000)  # a step that opens a tab renders its figures first
        assert page.locator(".bk-tab.bk-active").inner_text().strip() == TITLES[step.view]
        page.wait_for_function("(q) => window.location.search.includes(q)",
                               arg=f"lesson={name}&step={number}")
        for css in step.highlight:
            page.locator(f".{css}.lesson-highlight").first.wait_for(timeout=30_000)
        glyph, key = FIGURES[step.view]
        if step.view == "distribution":  # the widths of this step, not the last one's
            page.wait_for_function(f"() => ({KS_WIDTHS})() === {len(step.widths)}",
                                   timeout=240_000)
        wait_for_data(page, glyph, key, timeout=300_000)
        page.wait_for_timeout(500)
        screenshot(page, f"lesson_{name}_{number}")
    assert recorder.errors == [], recorder.errors
    assert recorder.external == []
