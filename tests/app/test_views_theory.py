"""The theory views: the phase diagram and its curves for the stack's block, a click that
sets the stack's W_std / b_std through the editor's checks, and the random-matrix laws."""
import html
import math

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (the figures are rendered below)
import numpy as np
import pytest

import engine
from app.jobs import theory_jobs
from app.jobs.cache import Cache
from app.state.limits import Limits
from app.state.session import Session
from app.state.theory_settings import B_STD_GRID, W_STD_GRID, hidden_weights, set_weights
from app.views.random_matrix import RandomMatrixView
from app.views.signal_propagation import NO_BLOCK, SignalPropagationView

pytestmark = pytest.mark.xdist_group("app-theory")


def _session():
    session = Session(Limits())
    session.wait()
    return session


@pytest.fixture(scope="module")
def signal():
    session = _session()
    view = SignalPropagationView(session=session)
    view.settings.depth = 12
    session.selection.view = "signal-propagation"
    assert view.diagram_job.wait(600) and view.curves_job.wait(600)
    assert view.diagram is not None and view.curves is not None, view.diagram_job.status
    return session, view


def test_nothing_is_computed_until_the_tab_is_shown():
    session = _session()
    views = [SignalPropagationView(session=session), RandomMatrixView(session=session)]
    assert not any(j.running for j in (views[0].diagram_job, views[0].curves_job, views[1].job))
    assert views[0].diagram is None and views[1].result is None


def test_phase_diagram_of_the_stack_activation(signal):
    session, view = signal
    d = view.diagram
    assert view.block.activation == ("Erf", ())  # the default preset: Dense(1.5, 0.05), Erf
    assert d.log10_chi_1.shape == (len(B_STD_GRID), len(W_STD_GRID))
    assert np.all(np.diff(d.log10_chi_1, axis=1) > 0)  # chi_1 grows with W_std in every row
    # Erf at b_std^2 = 0.05: critical W_std^2 1.3758 (bisection); the grid's line within 0.02
    assert abs(d.reference_w_std ** 2 - 1.3758) < 0.02, d.reference_w_std ** 2
    c = view.curves
    assert c.map_curves.shape == (len(theory_jobs.MAP_STARTS), 13)
    assert c.nngp.shape == c.ntk.shape == (12,)
    # the stack's b_std is 0.05 (b_std^2 = 0.0025): critical near W_std = 1, so 1.5 is chaotic
    assert 0.95 < c.critical_w_std < 1.05 and c.propagation.chi_1 > 1
    for data in (None, (d, view.block)):  # the figures, before and with the results
        hv.render(view._diagram_elements(data))
    for data in (None, (c, view.block)):
        hv.render(view._map_elements(data))
        hv.render(view._kernel_elements(data))


def test_a_click_sets_the_hidden_layers_w_std_and_b_std(signal):
    session, view = signal
    view.click(2.2345678, 0.31)
    dense = [kw for name, kw in session.architecture.spec if name == "Dense"]
    assert [(d["W_std"], d["b_std"]) for d in dense[:-1]] == [(2.235, 0.31)] * 2
    assert (dense[-1]["W_std"], dense[-1]["b_std"]) == (1.5, 0.05)  # the readout keeps its own
    session.wait()
    assert view.curves_job.wait(600)
    assert view.block.w_std == 2.235 and view.block.b_std == 0.31
    assert view.curves.propagation.chi_1 > 1  # W_std 2.2 is chaotic for Erf
    view.click(None, None)  # a click outside the plot area changes nothing
    assert view.block.w_std == 2.235


def test_a_click_the_limits_refuse_leaves_the_stack():
    session = _session()
    view = SignalPropagationView(session=session)
    before = session.architecture.spec
    session.limits.max_width = 64  # the stack's 128-wide layers are now beyond the limit
    view.block = theory_jobs.block_of(before)
    view.click(1.0, 0.1)
    assert session.architecture.spec == before
    assert "max_width = 64" in view._click_notice.object.replace("&#95;", "_").replace("&#61;", "=")
    assert view._click_notice.visible
    assert set_weights(session, 1.0, 0.1).startswith("layer 0 (Dense)")


def test_hidden_weights_leave_other_layers():
    items = [["Dense", {"out_dim": 4, "W_std": 1.0}], ["Relu", {}],
             ["Residual", {"layers": [["Dense", {"out_dim": 4}], ["Relu", {}]]}],
             ["Dense", {"out_dim": 1, "W_std": 3.0}]]
    out = hidden_weights(items, 1.41421, 0.0)
    assert out[0][1] == {"out_dim": 4, "W_std": 1.414, "b_std": 0.0}
    assert out[2][1]["layers"][0][1] == {"out_dim": 4, "W_std": 1.414, "b_std": 0.0}
    assert out[3] == items[3] and out[1] == items[1]


def test_a_stack_without_a_dense_activation_block_says_so():
    session = _session()
    session.architecture.spec = [["Dense", {"out_dim": 8}], ["Dense", {"out_dim": 1}]]
    session.wait()
    view = SignalPropagationView(session=session)
    session.selection.view = "signal-propagation"
    assert view.reason == NO_BLOCK and view._notice.visible
    assert not view.diagram_job.running


def test_random_matrix_view_distances_fall_with_width(monkeypatch):
    monkeypatch.setattr(theory_jobs, "MATRICES", Cache(4))
    session = _session()
    view = RandomMatrixView(session=session)
    view.settings.param.update(width=128, ratio=0.25, depth=3)
    session.selection.view = "random-matrices"
    assert view.job.wait(600) and view.result is not None, view.job.status
    r = view.result
    for name in ("marchenko_pastur", "semicircle"):
        d = r.mean_distance[name]
        assert r.fits[name].widths.tolist() == [16, 32, 64, 128]
        assert d[-1] < d[0] / 3, d
    assert r.fits["marchenko_pastur"].ratio == 0.25
    j = r.jacobian
    assert j.squares.size == 128 and j.law is not None
    assert math.isclose(j.law.chi_1, view.result.jacobian.law.chi_1)
    assert "| mean (dashed) |" in view._numbers.object
    # the free-probability density of log10 sigma^2 over the histogram's range, to the edge
    assert 100 < j.curve.size <= theory_jobs.CURVE_POINTS and j.curve_reason == ""
    assert j.curve_x[0] >= j.edges[0] and np.all(np.diff(j.curve_x) > 0)
    # sigma^2 below float64's floor (n eps sigma_max)^2 are left out of both, and said
    assert math.isclose(j.edges[0], math.log10(j.floor)) and j.floor < 1e-20 * j.squares.max()
    assert math.isclose(np.sum(j.histogram * np.diff(j.edges)), 1 - j.below_floor)
    mass = np.trapezoid(j.curve, j.curve_x)
    assert math.isclose(mass, 1 - j.law_below_floor, abs_tol=2e-3), (mass, j.law_below_floor)
    assert j.below_floor < 0.05 and j.law_below_floor < 0.05
    assert "of the finite network's" in view._numbers.object
    upper = engine.jacobian_spectrum(*_block_arguments(view), 3).upper_edge
    assert math.isclose(j.curve_x[-1], math.log10(upper), abs_tol=1e-6)
    for data in (None, r):  # the figures, before and with the result
        for name in ("marchenko_pastur", "semicircle"):
            hv.render(view._law_elements(data, name))
        hv.render(view._distance_elements(data))
        hv.render(view._jacobian_elements(data))
    view.settings.width = 64
    assert view.job.wait(600) and view.result.fits["semicircle"].widths.tolist() == [16, 32, 64]


def _block_arguments(view):
    block = theory_jobs.block_of(view.session.closed_form.request.spec)
    return block.layer(), block.w_std, block.b_std


@pytest.mark.parametrize("activation, zero_mass, text", [
    ("Relu", 0.5, "(φ′ = 0 with probability 0.5: the law puts that mass at σ² = 0)."),
    ("Sign", None, "No Jacobian law here: jacobian_law(activation=Sign): phi' is 0 almost"),
])
def test_jacobian_curve_atom_and_refusal(monkeypatch, activation, zero_mass, text):
    """ReLU: the law's atom at sigma^2 = 0 is said, the curve is the rest (mass 1/2); Sign:
    phi' = 0, no law, the reason is shown (the job used to raise ZeroDivisionError)."""
    monkeypatch.setattr(theory_jobs, "JACOBIANS", Cache(4))
    block = engine.Block((activation, ()), math.sqrt(2), 0.0)
    j = theory_jobs.jacobian(block, 64, 2)
    if zero_mass is not None:
        assert math.isclose(j.zero_mass, zero_mass, abs_tol=1e-12) and j.curve.size > 100
        assert 0.45 < np.trapezoid(j.curve, j.curve_x) < 0.5 + 1e-4
        # ReLU's J has rank at most the fewest active units of a layer: of 64 units about 32,
        # minus the fluctuation of the smaller of two binomials (this seed: 39 zeros, 0.61)
        assert 0.5 <= j.law_below_floor < 0.55 and 0.5 <= j.below_floor < 0.7, j.below_floor
    else:
        assert j.law is None and j.curve.size == 0
    session = _session()
    view = RandomMatrixView(session=session)
    data = type("Data", (), {"jacobian": j})()
    assert text in html.unescape(view._numbers_text(data))
    hv.render(view._jacobian_elements(data))
