"""The theory tabs in a browser: the phase diagram drawn with data, a click on it changes the
stack, and the random-matrix laws with their histograms and distances."""
import json
import math

from .analysis import open_view, plot_titles, wait_for_data, wait_idle
from .bokeh import column, data, wait_for_change
from .conftest import Recorder, screenshot


def test_phase_diagram_click_sets_the_stack_and_random_matrix_laws(page, server):
    recorder = Recorder(page)
    nngp = open_view(page, server, "view=signal-propagation&finite=false", "sp_nngp")
    assert len(nngp) == 40 and all(-1 <= c <= 1 for c in nngp)  # default depth 40
    assert wait_for_data(page, "sp_stack", "x") == [1.5]  # the default preset's W_std
    phase = data(page, "sp_phase")
    print("phase columns", {k: len(v) for k, v in (phase or {}).items()})
    line = wait_for_data(page, "sp_critical", "x")
    assert sum(math.isfinite(v) for v in line if v is not None) >= 8
    assert any("critical W_std² = 1.3" in t for t in plot_titles(page))  # Erf: 1.376
    # a click in the right half of the diagram (chaotic, W_std > 1.6) sets the hidden layers
    box = page.locator(".signal-propagation-diagram canvas").first.bounding_box()
    page.mouse.click(box["x"] + 0.7 * box["width"], box["y"] + 0.5 * box["height"])
    x = wait_for_change(page, "sp_stack", [1.5], "x", timeout=120_000)[0]
    assert 1.6 < x < 3.0, x
    spec = json.loads(page.locator(".spec-json textarea").input_value())
    assert spec[0][1]["W_std"] == round(x, 3)
    after = wait_for_change(page, "sp_nngp", nngp, timeout=120_000)  # the new W_std, b_std
    assert len(after) == 40 and after[0] != nngp[0]
    page.wait_for_timeout(500)
    screenshot(page, "view_signal_propagation")
    # the random-matrix tab
    page.locator(".bk-tab", has_text="Random matrices").click()
    mp = wait_for_data(page, "rm_marchenko_pastur", timeout=120_000)
    assert len(mp) > 100 and max(mp) > 0
    distance = wait_for_data(page, "rm_distance_semicircle")
    assert len(distance) == 5 and distance[-1] < distance[0]  # widths 16 ... 256
    assert len(wait_for_data(page, "rm_jacobian", "top")) == 40
    # the free-probability density of log10 sigma^2 drawn over the histogram's range
    law = wait_for_data(page, "rm_jacobian_law")
    law_x, bars = column(page, "rm_jacobian_law", "x"), data(page, "rm_jacobian")
    print("jacobian law", len(law), min(law_x), max(law_x), "bars", min(bars["left"]),
          max(bars["right"]), "peaks", max(law), max(bars["top"]))
    assert 100 < len(law) <= 400 and max(law) > 0
    assert min(law_x) >= min(bars["left"]) - 1e-9 and max(law_x) > max(bars["left"])
    assert max(bars["right"]) - min(bars["left"]) < 60  # above float64's floor, not 300 decades
    wait_idle(page, "random-matrices")
    page.wait_for_timeout(500)
    screenshot(page, "view_random_matrices")
    page.locator(".random-matrices-numbers").first.evaluate(
        "e => e.scrollIntoView({block: 'center'})")  # the Jacobian panel, below the laws
    page.wait_for_timeout(500)
    screenshot(page, "view_random_matrices_jacobian")
    assert recorder.errors == []
