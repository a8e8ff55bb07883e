"""The whole state is in the URL: a copied link reproduces the view; refusals are shown."""
import urllib.parse

from .analysis import open_view, wait_for_data
from .bokeh import column, press_slider, slider_value, wait_for_change
from .conftest import Recorder, open_app, screenshot


def test_a_copied_link_restores_the_view(app, context, server):
    before = column(app, "fs_mean")
    press_slider(app, "t-slider", "ArrowLeft", 4)
    moved = wait_for_change(app, "fs_mean", before)
    app.locator(".new-layer-type select").select_option("Dense")
    app.locator(".add-layer button").click()
    wait_for_change(app, "fs_mean", moved, timeout=60_000)
    app.wait_for_function("() => window.location.search.includes('spec=')")
    app.wait_for_timeout(500)
    link = app.url
    t = urllib.parse.parse_qs(urllib.parse.urlparse(link).query)["t"][0]
    assert t not in ("1000", None)  # moved from the default
    copy = context.new_page()
    copy.goto(link)
    open_app(copy, server, link[link.index("/main") + len("/main"):])
    assert copy.locator(".layer-row").count() == app.locator(".layer-row").count()
    assert copy.locator(".t-slider").get_by_text(t, exact=True).count() >= 1
    copy.wait_for_timeout(1000)
    assert column(copy, "fs_mean") == column(app, "fs_mean")
    assert column(copy, "fs_mean") != moved
    screenshot(copy, "url_restored")


def test_a_refused_link_value_is_reported_and_the_session_works(page, server):
    open_app(page, server, "?width=4096&t=10")
    notice = page.locator(".session-notice")
    notice.get_by_text("width=4096 is beyond the limit max_width = 1024").wait_for(timeout=30_000)
    assert "t=10" in page.url or page.locator(".t-slider").get_by_text("10").count() >= 1
    before = column(page, "fs_mean")
    press_slider(page, "t-slider", "ArrowRight")
    assert wait_for_change(page, "fs_mean", before) != before
    screenshot(page, "refused_link")
    page.locator(".session-notice-close button").click()  # the visitor has read it
    notice.wait_for(state="hidden", timeout=30_000)


def test_a_link_sets_two_theory_tabs_and_the_url_follows_their_controls(page, server):
    """Signal propagation at depth 12 and correlation -0.3, random matrices at width 64 and
    Jacobian depth 3 (defaults: 40, 0.5, 256, 8): the boxes, sliders and figures follow the
    link, and moving a slider writes the new value back into the address."""
    recorder = Recorder(page)
    nngp = open_view(page, server, "view=signal-propagation&finite=false&signal_depth=12"
                     "&signal_correlation=-0.3&rm_width=64&rm_depth=3", "sp_nngp")
    assert len(nngp) == 12  # one correlation per Dense layer
    assert page.locator(".signal-propagation-depth input").input_value() == "12"
    assert float(page.locator(".signal-propagation-correlation input").input_value()) == -0.3
    page.locator(".bk-tab", has_text="Random matrices").click()
    distance = wait_for_data(page, "rm_distance_semicircle")
    assert column(page, "rm_distance_semicircle", "x") == [16, 32, 64]  # up to the link's width
    assert len(distance) == 3
    assert slider_value(page, "random-matrices-depth") == 3
    # the Jacobian's figure is drawn after the distances (its own part of the job)
    page.wait_for_function("() => [...Bokeh.documents[0].all_models].some(m => "
                           "(m.type === 'Title' || (m.constructor && m.constructor.__name__ === 'Title')) "
                           "&& m.text.startsWith('Jacobian σ², 3 layers'))",
                           timeout=60_000)
    press_slider(page, "random-matrices-depth", "ArrowRight")
    page.wait_for_function("() => window.location.search.includes('rm_depth=4')")
    assert "rm_width=64" in page.url and "signal_depth=12" in page.url
    screenshot(page, "url_theory_tabs")
    assert recorder.errors == []
