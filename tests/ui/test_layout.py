"""The presentation layout at 1280 x 720: no page scroll, the controls in a drawer, the
figures' text large; and, switched back, the default layout at 1400 x 900 without page scroll.
Screenshots: test-artifacts/layout_present.png, layout_present_drawer.png, layout_default.png."""
from .analysis import GOTO_TIMEOUT
from .conftest import Recorder, open_app

HEIGHTS = "() => [document.documentElement.scrollHeight, window.innerHeight]"


def fits(page) -> bool:
    """The page does not scroll (its content is no taller than the window)."""
    content, window = page.evaluate(HEIGHTS)
    assert content <= window + 1, f"the page scrolls: {content} px of content, {window} px window"
    return True
AXIS_FONT = """() => { const a = Bokeh.documents[0].all_models;
  for (const m of a) if (m.axis_label_text_font_size !== undefined) return m.axis_label_text_font_size;
  return null }"""


def test_presentation_and_default_layouts_fit_the_screen(page, server):
    recorder = Recorder(page)
    page.set_default_navigation_timeout(GOTO_TIMEOUT)  # the first page computes its kernels
    page.set_viewport_size({"width": 1280, "height": 720})
    open_app(page, server, "?layout=present")
    assert fits(page)
    assert not page.locator(".card-time").is_visible()  # in the closed drawer
    assert page.evaluate(AXIS_FONT) == "20px"
    page.screenshot(path="test-artifacts/layout_present.png")
    page.locator(".drawer-toggle button").click()
    page.locator(".card-time").wait_for(state="visible")
    assert fits(page)
    page.screenshot(path="test-artifacts/layout_present_drawer.png")
    # the switch back: the controls beside the figures, default fonts
    page.set_viewport_size({"width": 1400, "height": 900})
    page.locator(".layout-switch button", has_text="Default layout").click()
    page.locator(".drawer-toggle").wait_for(state="hidden", timeout=60_000)
    assert page.locator(".card-time").is_visible()
    # (the figures' fonts follow the layout a page is opened with: a Bokeh theme set later
    # does not reach the browser)
    assert fits(page)
    page.screenshot(path="test-artifacts/layout_default.png")
    assert recorder.errors == [] and recorder.external == []
