"""2-D classification: infinite and finite heatmaps with the data, moving with t."""
from .analysis import GOTO_TIMEOUT, flat, wait_for_data
from .bokeh import column, press_slider, wait_for_change
from .conftest import Recorder, screenshot


def test_heatmaps_move_with_time_and_show_the_finite_ensemble(page, server):
    recorder = Recorder(page)
    page.goto(f"{server}/main?view=classification&n_train=60&ensemble_size=4&width=64",
              timeout=GOTO_TIMEOUT)
    page.get_by_text("draws 2-D classification data").wait_for(timeout=60_000)
    # choose the data as a user does (the finite ensemble then trains while the page is open)
    page.locator("select:has(option[value='xor'])").select_option("xor")
    wait_for_data(page, "cls_infinite_mean", "image", nonzero=True)
    mean = flat(column(page, "cls_infinite_mean", "image"))
    assert len(mean) == 50 * 50  # the test grid
    assert len(flat(wait_for_data(page, "cls_infinite_std", "image", nonzero=True))) == 2500
    finite = flat(wait_for_data(page, "cls_finite_mean", "image", timeout=300_000, nonzero=True))
    assert len(finite) == 2500 and len(set(finite)) > 100  # trained networks, not a placeholder
    press_slider(page, "t-slider", "ArrowLeft", 8)
    after = wait_for_change(page, "cls_infinite_mean", column(page, "cls_infinite_mean", "image"),
                            "image")
    assert flat(after) != mean
    wait_for_data(page, "cls_finite_mean", "image", nonzero=True)
    screenshot(page, "view_classification")
    assert recorder.errors == []


def test_other_data_shows_a_notice(page, server):
    page.goto(f"{server}/main?view=classification", timeout=GOTO_TIMEOUT)
    page.get_by_text("draws 2-D classification data").wait_for(timeout=60_000)
