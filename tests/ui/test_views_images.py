"""Images: FC, CNN and residual CNN on the digits; the default settings order FC < CNN."""
from .analysis import open_view
from .bokeh import column, model_property, press_slider, slider_value, wait_for_change
from .conftest import Recorder, screenshot


#: what the first session showed, for the second
FIRST: dict = {}


def test_default_settings_order_fc_below_cnn(page, server):
    """The default experiment (kernels tiled in the background; about a minute on 2 cores,
    or found in the server's cache: the architecture lesson's walk shows it first)."""
    recorder = Recorder(page)
    fc = open_view(page, server, "view=images", "img_size_fc_inf")
    cnn = column(page, "img_size_cnn_inf")
    resnet = column(page, "img_size_resnet_inf")
    sizes = column(page, "img_size_fc_inf", "x")
    assert sizes == [16, 32, 64, 128]
    FIRST["fc"] = fc
    assert cnn[-1] > fc[-1], (fc, cnn)            # the largest training set, t = infinity
    assert sum(cnn) > sum(fc), (fc, cnn)          # and on average over the sizes
    assert resnet[-1] >= fc[-1], (fc, resnet)
    assert len(column(page, "img_time_cnn")) > 40
    # the accuracy at the current t moves with the time slider
    before = column(page, "img_size_cnn")
    press_slider(page, "t-slider", "ArrowLeft", 25)
    assert wait_for_change(page, "img_size_cnn", before) != before
    # the marker on the accuracy-vs-time plot follows to the slider's final t
    page.wait_for_function("([name, t]) => { const m = Bokeh.documents[0].get_model_by_name(name);"
                           " return m && m.location === t }",
                           arg=["img_time_marker", max(slider_value(page, "t-slider"), 1)],
                           timeout=30_000)
    assert model_property(page, "img_time_marker", "location") < 1000
    screenshot(page, "view_images")
    assert recorder.errors == []


def test_a_second_session_gets_the_same_result(page, server):
    """The server-wide cache itself is tested in tests/app (test_views_images.py,
    test_views_state.py); here the second page shows the first one's numbers, and no job."""
    fc = open_view(page, server, "view=images", "img_size_fc_inf", timeout=120_000)
    assert fc == FIRST.get("fc", fc) and len(fc) == 4
    page.locator(".images-job-stop").wait_for(state="hidden")
