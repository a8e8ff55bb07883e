"""The default view, the time slider and play/pause, offline loading."""
import json
import time

from app.state.settings import T_GRID

from .bokeh import column, data, press_slider, wait_for_change
from .conftest import Recorder, open_app, screenshot, wait_for_members


def test_default_view_renders_the_cookbook_setup(app):
    train = data(app, "fs_train")
    assert len(train["x"]) == 10  # noisy sin, 10 points
    assert len(column(app, "fs_mean")) == 200
    assert len(column(app, "loss_train")) > 40
    assert app.get_by_text("Cookbook Erf net").count() >= 1
    members = wait_for_members(app)
    assert len(members) == 8 and len(members[0]) == 200  # the default ensemble size
    assert len(column(app, "fs_finite_mean")) == 200
    # the finite networks' own loss curves join the closed-form ones, and the job bar clears
    wait_for_change(app, "loss_finite_train", [])
    app.locator(".finite-stop").wait_for(state="hidden")
    # drawn on the canvas: WebGL without a GPU is drawn in software (app/main.py)
    backends = app.evaluate("() => [...Bokeh.documents[0].all_models].filter(m => "
                            "m.output_backend !== undefined).map(m => m.output_backend)")
    assert backends and set(backends) == {"canvas"}, backends
    screenshot(app, "default_view")


def test_moving_the_time_slider_changes_the_plotted_data(app):
    members = wait_for_members(app)
    before, marker = column(app, "fs_mean"), column(app, "loss_marker", "x")
    band = column(app, "fs_band")
    press_slider(app, "t-slider", "ArrowLeft", 12)
    assert wait_for_change(app, "fs_mean", before) != before
    assert wait_for_change(app, "fs_band", band) != band
    assert wait_for_change(app, "loss_marker", marker, "x") != marker
    assert wait_for_change(app, "fs_members", members, "ys") != members
    screenshot(app, "time_moved")
    press_slider(app, "t-slider", "ArrowLeft", 30)  # t = 0: the prior; the members are draws from it
    app.locator(".t-slider .bk-slider-value").get_by_text("0", exact=True).wait_for()
    app.wait_for_timeout(1000)
    assert column(app, "loss_marker", "x")[0] == 1  # t = 0 is marked at the axis' left end
    screenshot(app, "prior_at_t0")


def test_a_time_slider_move_reaches_the_page_as_one_message(page, server):
    """The function-space figure's five data sources change in one Bokeh message (with the
    loss marker when it is ready in the same turn): one message per source (a header, its
    metadata, content and buffers, each a websocket frame) kept the event loop of a 30-page
    classroom busy writing frames, and let the page draw a band that did not match its mean."""
    recorder, patches = Recorder(page), []

    def on_frame(frame):
        if isinstance(frame, str) and frame.startswith('{"events"'):
            patches.append({event["model"]["id"] for event in json.loads(frame)["events"]
                            if event.get("kind") == "ColumnDataChanged"})
    page.on("websocket", lambda socket: socket.on("framereceived", on_frame))
    open_app(page, server)
    members = wait_for_members(page)
    while True:  # until the page is quiet (the job bar's last updates)
        count = len(patches)
        page.wait_for_timeout(1500)
        if len(patches) == count:
            break
    del patches[:]
    press_slider(page, "t-slider", "ArrowLeft")
    wait_for_change(page, "fs_members", members, "ys")
    page.wait_for_timeout(1500)
    figure = set(page.evaluate("(names) => names.map(n => Bokeh.documents[0].get_model_by_name("
                               "n + ':source').id)", ["fs_mean", "fs_band", "fs_members",
                                                      "fs_finite_mean", "fs_finite_band"]))
    with_data = [sources for sources in patches if sources]
    assert len(with_data) <= 2 and figure <= with_data[0], patches
    assert recorder.errors == [] and recorder.external == []


def test_play_steps_through_time_and_pause_stops(app):
    before = column(app, "loss_marker", "x")
    app.locator(".t-play button").click()
    first = wait_for_change(app, "loss_marker", before, "x")
    second = wait_for_change(app, "loss_marker", first, "x")
    assert second[0] > first[0] > before[0]
    app.locator(".t-play button").click()
    # steps already on their way may still arrive (a loaded server draws them late): wait
    # until the marker rests, then it must stay, before the end of the time grid (a loaded
    # CI server once drew eight more steps before the Pause arrived: 1000 -> 63096)
    deadline, stopped = time.time() + 30, None
    while column(app, "loss_marker", "x") != stopped:
        assert time.time() < deadline, "time kept moving after Pause"
        stopped = column(app, "loss_marker", "x")
        app.wait_for_timeout(1500)
    app.wait_for_timeout(1500)
    assert column(app, "loss_marker", "x") == stopped
    assert stopped[0] < T_GRID[-1]  # paused, not run to the end of the grid


def test_no_request_leaves_the_machine(app):
    """Fonts, scripts and styles all come from the server (checked by the `app` fixture)."""
    app.wait_for_timeout(500)
