"""Convergence with width, kernels, output distribution: each view computes in the
background, draws non-empty data, reacts to its controls and is screenshotted."""
import math
import time
import re

from .analysis import (LIGHT_SWEEP, flat, open_view, plot_titles, set_number, wait_for_data,
                       wait_idle)
from .bokeh import column, wait_for_change
from .conftest import Recorder, screenshot


def test_spectrum_view_sweeps_widths_and_reacts_to_the_seeds(page, server):
    recorder = Recorder(page)
    distance = open_view(page, server, f"view=convergence&{LIGHT_SWEEP}", "spec_distance_mean")
    assert len(distance) == 3 and all(d > 0 for d in distance)
    eigen = column(page, "spec_eigen", "y")
    assert len(eigen) == 3 * 2 * 10  # widths x seeds x training points
    assert len(wait_for_data(page, "spec_change_mean")) == 3
    assert len(column(page, "spec_analytic")) == 10
    assert any(re.search(r"slope -?\d\.\d\d \(theory", t) for t in plot_titles(page))
    set_number(page, "convergence-seeds", 3)
    after = wait_for_change(page, "spec_eigen", eigen, "y", timeout=240_000)
    assert len(after) == 3 * 3 * 10
    wait_idle(page, "convergence")
    screenshot(page, "view_convergence")
    assert recorder.errors == []


def test_kernel_heatmaps_and_curves_along_the_circle(page, server):
    recorder = Recorder(page)
    open_view(page, server, f"view=kernels&{LIGHT_SWEEP}", "kernel_ntk", "image")
    deadline = time.time() + 120  # the closed form may still be on its way (1 x 1 placeholder)
    while len(ntk := flat(column(page, "kernel_ntk", "image"))) != 100 and time.time() < deadline:
        page.wait_for_timeout(250)
    assert len(ntk) == 100 and all(math.isfinite(v) for v in ntk)  # 10 x 10 training inputs
    limit = wait_for_data(page, "angle_ntk")
    assert len(limit) == 121
    trained = wait_for_data(page, "angle_ntk_wide_trained", "ys")
    assert len(trained) == 2  # one curve per seed
    # a new sample of the training data redraws the heatmaps
    page.locator(".regenerate button").click()
    after = wait_for_change(page, "kernel_ntk", column(page, "kernel_ntk", "image"), "image",
                            timeout=120_000)  # a new closed form (30 s was short under load)
    assert flat(after) != ntk
    # more training steps move the trained empirical curves
    before = column(page, "angle_ntk_narrow_trained", "ys")
    set_number(page, "kernel-angles-steps", 200)
    assert wait_for_change(page, "angle_ntk_narrow_trained", before, "ys",
                           timeout=240_000) != before
    wait_idle(page, "kernel-angles")
    screenshot(page, "view_kernels")
    assert recorder.errors == []


def test_output_distribution_against_the_gaussian(page, server):
    recorder = Recorder(page)
    ks = open_view(page, server, f"view=distribution&{LIGHT_SWEEP}", "dist_ks")
    assert len(ks) == 3 and all(0 < k < 1 for k in ks)
    assert set(column(page, "dist_hist", "width")) == {8, 64, 512}  # a histogram per width
    assert len(column(page, "dist_gaussian")) == 200
    set_number(page, "distribution-samples", 400)
    assert wait_for_change(page, "dist_ks", ks, timeout=240_000) != ks
    wait_idle(page, "distribution")
    screenshot(page, "view_distribution")
    assert recorder.errors == []
