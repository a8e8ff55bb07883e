"""The layer stack editor: add a layer, an invalid stack shows the engine's message, presets."""
from .bokeh import column, wait_for_change
from .conftest import screenshot

ERROR = "layer 4 (Dense): Dense(out_dim=0): out_dim must be a positive integer"


def test_add_a_layer(app):
    rows = app.locator(".layer-row")
    before_rows, before = rows.count(), column(app, "fs_mean")
    app.locator(".new-layer-type select").select_option("Dense")
    app.locator(".add-layer button").click()
    app.locator(".layer-row").nth(before_rows).wait_for()
    assert rows.count() == before_rows + 1
    assert wait_for_change(app, "fs_mean", before, timeout=60_000) != before
    screenshot(app, "layer_added")


def test_an_invalid_stack_shows_the_message_at_the_layer_and_keeps_the_plot(app):
    before = column(app, "fs_mean")
    # hidden layers take the width slider's width (no box); the readout has its own
    assert app.locator(".layer-row").first.locator(".arg-out_dim").count() == 0
    width = app.locator(".layer-row").last.locator(".arg-out_dim input")
    width.fill("0")
    width.press("Enter")
    error = app.locator(".layer-row").last.locator(".layer-error")
    error.get_by_text(ERROR).wait_for(timeout=30_000)
    assert column(app, "fs_mean") == before  # the last valid result stays
    screenshot(app, "invalid_stack")
    width.fill("1")
    width.press("Enter")
    error.get_by_text(ERROR).wait_for(state="hidden", timeout=30_000)


def test_the_unit_circle_preset(app):
    before = column(app, "fs_train", "x")
    app.locator(".preset-select select").select_option(
        "4-layer ReLU net on the unit circle (Jacot et al.)")
    after = wait_for_change(app, "fs_train", before, "x", timeout=60_000)
    assert len(after) == 4
    app.wait_for_timeout(1000)
    screenshot(app, "preset_unit_circle")


def test_wrap_layers_in_a_residual_block(app):
    before = column(app, "fs_mean")
    rows = app.locator(".layer-row")
    rows.nth(1).locator("input[type=checkbox]").first.check()
    rows.nth(2).locator("input[type=checkbox]").first.check()
    # the label counts the ticks the server has received (widget events run in threads)
    app.get_by_text("Wrap 2 selected layers in a residual block").wait_for(timeout=30_000)
    app.locator(".wrap-residual button").click()
    app.locator(".residual-block").first.wait_for(timeout=30_000)
    assert wait_for_change(app, "fs_mean", before, timeout=120_000) != before
    screenshot(app, "residual_block")


def test_posterior_mode_freezes_time(app):
    before = column(app, "fs_mean")
    app.locator(".mode").get_by_text("Bayesian posterior (NNGP, t = inf)").click()
    assert wait_for_change(app, "fs_mean", before, timeout=60_000) != before
    app.get_by_text("The Bayesian posterior has no training time (t = ∞).").wait_for()
    assert column(app, "fs_members", "ys") == []  # finite GD ensembles belong to the NTK mode
