"""The residual-modes view (Convergence tab): what it computes, what it draws, and that a
new setting supersedes the computation of the old one."""
from types import SimpleNamespace

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (the figure is rendered below)
import numpy as np
import pytest

import engine
from app.jobs import convergence, residual_jobs
from app.state.limits import Limits
from app.state.session import Session
from app.views.residual_modes import (PALETTE, RANKS, RATIO_FLOOR, ResidualModesView,
                                       legend_label, series)

#: one xdist worker runs the module, so its module-scoped fixture is computed once
pytestmark = pytest.mark.xdist_group("app-residual-modes")

#: small settings: 2 networks of width 16 trained for 10 steps on the preset's data
WIDTH, SIZE, STEPS = 16, 2, 10


def _session():
    session = Session(Limits())
    session.finite.show = False
    session.sweep.steps = STEPS
    session.finite.ensemble_size = SIZE
    session.architecture.width = WIDTH
    session.wait()
    return session


@pytest.fixture(scope="module")
def shown():
    session = _session()
    view = ResidualModesView(session=session)
    assert not view.job.running and view.result is None  # waits until its tab is shown
    session.selection.view = "convergence"
    view.job.wait(600)
    assert view.result is not None, (view.job.status, view.reason)
    return session, view


def _curves(view):
    """{glyph name: (x, y)} of the rendered figure's data sources, and its legend labels."""
    figure = hv.render(view._plot(view.result))
    data = {}
    for rank in RANKS:
        for kind in ("theory", "finite", "points"):
            name = f"residual_modes_{kind}_{rank}"
            source = figure.select_one({"name": name}).data_source.data
            data[name] = (np.asarray(source["x"]), np.asarray(source["y"]))
    labels = [item.label["value"] for item in figure.legend[0].items]
    return data, labels


def test_the_networks_of_the_sidebar_are_trained_on_the_training_points(shown):
    session, view = shown
    r = view.result
    x, _ = residual_jobs.inputs(session.closed_form.request.data_key,
                                (session.limits.max_train, session.limits.max_test))
    n = min(len(x), convergence.MAX_POINTS)
    assert r.width == WIDTH and r.projections.shape == (SIZE, len(r.steps), n, 1)
    np.testing.assert_array_equal(r.steps, engine.log_step_grid(STEPS, residual_jobs.STEP_POINTS))
    assert r.learning_rate == pytest.approx(convergence.learning_rate(session))


def test_the_figure_draws_each_rank_and_the_dashed_lines_are_the_closed_form(shown):
    session, view = shown
    r, (curves, labels) = view.result, _curves(view)
    # the closed form, from the analytic NTK on the same points (independently of the view)
    x, y = residual_jobs.inputs(session.closed_form.request.data_key,
                                (session.limits.max_train, session.limits.max_test))
    theta = engine.build(session.closed_form.request.spec).kernel_fn(x, None, get="ntk")
    eigenvalues = np.sort(np.linalg.eigvalsh(np.asarray(theta)))[::-1]
    t = r.steps[r.steps > 0].astype(float)
    for rank in RANKS:
        xs, theory = curves[f"residual_modes_theory_{rank}"]
        finite = curves[f"residual_modes_finite_{rank}"][1]
        if rank > len(eigenvalues):  # a direction the data does not have: nothing drawn
            assert len(xs) == len(finite) == 0
            continue
        expected = np.abs(1 - r.learning_rate * eigenvalues[rank - 1] / y.size) ** t
        np.testing.assert_allclose(xs, t)
        np.testing.assert_allclose(theory, np.maximum(expected, RATIO_FLOOR), rtol=1e-6)
        np.testing.assert_allclose(finite, np.maximum(r.magnitude[r.steps > 0, rank - 1],
                                                      RATIO_FLOOR))
        np.testing.assert_array_equal(curves[f"residual_modes_points_{rank}"][1], finite)
    assert labels == [legend_label(rank, r.eigenvalues) for rank in RANKS]
    assert labels[0] == f"v1: λ = {eigenvalues[0]:.3g}"
    assert series(None, 1)["t"].shape == (0,)


def test_each_legend_entry_names_the_direction_drawn_in_its_colour(shown):
    """As the page draws it: first without data, then with the result. The legend's items
    came out rotated (v1's label on v16's colour) and were labelled by position."""
    session, view = shown
    pipe = hv.streams.Pipe(data=None)
    plot = hv.renderer("bokeh").get_plot(hv.DynamicMap(view._plot, streams=[pipe]))
    pipe.send(view.result)
    items = plot.state.legend[0].items
    assert len(items) == len(RANKS)
    for item in items:
        (color,) = {r.glyph.line_color for r in item.renderers}
        rank = RANKS[PALETTE.index(color)]
        assert item.label["value"] == legend_label(rank, view.result.eigenvalues)


def test_the_export_holds_both_curves_of_every_direction(shown):
    session, view = shown
    r, table = view.result, view.export_table()
    assert len(table["value"]) == 2 * len(r.eigenvalues) * len(r.steps)
    assert set(table["curve"]) == {"finite", "closed_form"}
    namespace = {}
    exec(compile(view.export_python(), "<snippet>", "exec"), namespace)
    np.testing.assert_allclose(namespace["closed_form"], np.abs(r.predicted_discrete),
                               rtol=1e-9)
    np.testing.assert_allclose(namespace["finite"], r.magnitude, rtol=1e-6)


def test_a_new_setting_supersedes_the_old_job(shown):
    """The width moves while a computation runs: only the new width's result arrives."""
    session, view = shown
    delivered, show = [], view.show
    view.show = lambda r: (delivered.append((r.width, r.projections.shape[0])), show(r))
    session.finite.ensemble_size = 3        # not cached: starts a computation
    assert view.job.running
    session.architecture.width = 24         # supersedes it before it ends
    view.job.wait(600)
    assert delivered == [(24, 3)], delivered
    assert view.result.width == 24 and view.result.projections.shape[0] == 3


def test_images_are_refused_with_a_reason():
    """key() of a session on image data (a stand-in: the image closed form is not needed)."""
    data = SimpleNamespace(in_shape=(8, 8, 1))
    view = SimpleNamespace(session=SimpleNamespace(closed_form=SimpleNamespace(data=data)),
                           reason="")
    assert ResidualModesView.key(view) is None
    assert view.reason == ("The residual modes are computed on vector inputs (1-D or 2-D "
                           "data), as the spectrum above.")


def test_glyph_names_stay_unique_when_a_result_arrives(shown):
    """Browser tests find a glyph by name: the figure's first render (no result) and the
    update with one must not leave two data sources of one name (a legend holding the
    renderer of the first render did)."""
    from collections import Counter

    from bokeh.models import ColumnDataSource
    session, view = shown
    pipe = hv.streams.Pipe(data=None)
    plot = hv.renderer("bokeh").get_plot(hv.DynamicMap(view._plot, streams=[pipe]))
    pipe.send(view.result)
    names = Counter(s.name for s in plot.state.select(ColumnDataSource) if s.name)
    assert names and max(names.values()) == 1, names
    assert len(plot.state.select_one({"name": "residual_modes_finite_1:source"}).data["y"]) > 0
