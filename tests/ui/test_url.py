"""The whole state is in the URL: a copied link reproduces the view; refusals are shown."""
import urllib.parse

from .bokeh import column, press_slider, wait_for_change
from .conftest import open_app, screenshot


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
    notice.get_by_text("width=4096 is beyond the limit max_width = 2048").wait_for(timeout=30_000)
    assert "t=10" in page.url or page.locator(".t-slider").get_by_text("10").count() >= 1
    before = column(page, "fs_mean")
    press_slider(page, "t-slider", "ArrowRight")
    assert wait_for_change(page, "fs_mean", before) != before
    screenshot(page, "refused_link")
    page.locator(".session-notice-close button").click()  # the visitor has read it
    notice.wait_for(state="hidden", timeout=30_000)
