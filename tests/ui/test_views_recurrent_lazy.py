"""Recurrent networks and lazy vs rich training: both tabs compute in the background, draw
their data, react to a control and are screenshotted."""
import math
import re

from .analysis import flat, open_view, plot_titles, set_number, wait_for_data, wait_idle
from .bokeh import column, wait_for_change
from .conftest import Recorder, screenshot

SWEEP = "sweep_widths=%5B8%2C64%5D&sweep_seeds=2&sweep_steps=20"


def test_recurrent_and_lazy_rich_tabs(page, server):
    recorder = Recorder(page)
    # recurrent: three NTK heatmaps (20 x 20 training windows), 100 test predictions each
    predictions = open_view(page, server, f"view=recurrent&{SWEEP}", "rnn_pred_rnn")
    assert len(predictions) == 100
    for model in ("rnn", "fc", "cnn"):
        ntk = flat(wait_for_data(page, f"rnn_ntk_{model}", "image"))
        assert len(ntk) == 400 and all(math.isfinite(v) for v in ntk)
    assert any(re.search(r"test loss RNN \d\.\d{4}, FC \d\.\d{4}, CNN \d\.\d{4}", t)
               for t in plot_titles(page))
    # more input noise: the same networks (compiled once), new windows and predictions
    set_number(page, "recurrent-noise", 0.3)
    wait_for_change(page, "rnn_pred_rnn", predictions, timeout=240_000)
    wait_idle(page, "recurrent")
    screenshot(page, "view_recurrent")
    # lazy vs rich: 4 alphas at width 16, 2 widths at alpha = 1, 2 seeds each
    page.locator(".bk-tab", has_text="Lazy vs rich").click()
    change = wait_for_data(page, "lazy_change_alpha_mean")
    assert len(change) == 4 and change[-1] < change[0]  # 64 times larger alpha: lazier
    assert len(column(page, "lazy_change_alpha")) == 8
    assert len(wait_for_data(page, "lazy_test_loss_width_mean")) == 2
    assert len(column(page, "lazy_test_loss_width_limit")) == 2
    assert any(t.startswith("NTK motion against α at width 16") for t in plot_titles(page))
    wait_idle(page, "lazy-rich")
    screenshot(page, "view_lazy_rich")
    assert recorder.errors == []
