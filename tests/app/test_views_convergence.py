"""The width-sweep views (spectrum, kernels along the circle, output distribution) and the
classification and kernel heatmap views: what they compute, when, and what they export."""
import numpy as np
import pytest

from app.jobs import convergence
from app.state.limits import Limits
from app.state.session import Session
from app.views.classification import ClassificationView
from app.views.distribution import DistributionView
from app.views.kernel_angles import AngleKernelsView
from app.views.kernels import KernelHeatmapsView
from app.views.spectrum import SpectrumView

#: one xdist worker runs the module, so its module-scoped fixture is computed once
pytestmark = pytest.mark.xdist_group("app-sweeps")

SMALL = dict(widths=[8, 64], seeds=2, steps=10, samples=100)


def _session(**data):
    session = Session(Limits())
    session.finite.show = False
    session.sweep.param.update(**SMALL)
    if data:
        session.data.param.update(**data)
    session.wait()
    return session


def _shown(view_class, tab, session=None):
    session = session or _session()
    view = view_class(session=session)
    session.selection.view = tab
    view.job.wait(600)
    assert view.result is not None, (view.job.status, view.reason)
    return session, view


@pytest.fixture(scope="module")
def spectrum():
    return _shown(SpectrumView, "convergence")


@pytest.fixture(scope="module")
def angles():
    return _shown(AngleKernelsView, "kernels")


@pytest.fixture(scope="module")
def distribution():
    return _shown(DistributionView, "distribution")


def run(snippet: str) -> dict:
    namespace = {}
    exec(compile(snippet, "<snippet>", "exec"), namespace)
    return namespace


def test_sweeps_wait_until_their_tab_is_shown():
    session = _session()
    views = [SpectrumView(session=session), AngleKernelsView(session=session),
             DistributionView(session=session)]
    assert not any(v.job.running for v in views)


def test_the_spectrum_sweep_covers_every_width_and_seed(spectrum):
    session, view = spectrum
    s, c = view.result.spectrum, view.result.change
    assert s.widths.tolist() == [8, 64] and s.eigenvalues.shape == (2, 2, 10)
    assert c.relative_change.shape == (2, 2) and np.isfinite(s.slope)
    assert c.learning_rate == session.closed_form.learning_rate and c.steps == 10
    table = view.export_table()
    assert len(table["value"]) == 2 * 10 + 2 * 2 * (10 + 1 + 1)


def test_moving_the_width_slider_reuses_the_sweep(spectrum):
    session, view = spectrum
    result = view.result
    session.architecture.width = 1024  # every hidden width of the spec: not part of the key
    assert view.result is result and not view.job.running


def test_a_sweep_runs_one_part_per_width_and_a_new_width_list_computes_only_new_widths():
    session, view = _shown(SpectrumView, "convergence")  # SMALL's widths, maybe cached
    parts = convergence.SPECTRUM_WIDTHS
    assert {key[4] for key in parts._values} >= {(8,), (64,)}  # the parts are kept
    misses = parts.misses
    session.sweep.widths = [8, 64, 128]
    view.job.wait(600)
    assert view.result.spectrum.widths.tolist() == [8, 64, 128]
    assert view.result.change.relative_change.shape == (3, 2)
    assert parts.misses == misses + 1  # only width 128 was computed


def test_the_spectrum_snippet_recomputes_the_numbers(spectrum):
    session, view = spectrum
    got = run(view.export_python())
    np.testing.assert_allclose(got["eigenvalue"], view.result.spectrum.eigenvalues, rtol=1e-8,
                               atol=1e-12)
    np.testing.assert_allclose(got["relative_change"], view.result.change.relative_change,
                               rtol=1e-6)


def test_images_are_not_swept():
    session = _session()
    session.load_preset("CNN with global average pooling")
    session.data.param.update(n_train=4, n_test=4)  # the reason needs image data, not a big kernel
    session.wait()
    view = SpectrumView(session=session)
    session.selection.view = "convergence"
    assert not view.job.running and "vector inputs" in view.reason


def test_angle_curves_at_the_narrowest_and_widest_width(angles):
    session, view = angles
    r = view.result
    assert r.widths.tolist() == [8, 64] and r.ntk_init.shape == (2, 2, 121)
    assert not np.allclose(r.ntk_init, r.ntk_trained)  # training moved the kernels
    got = run(view.export_python())
    np.testing.assert_allclose(got["ntk"], r.ntk, rtol=1e-10)
    np.testing.assert_allclose(got["ntk_trained"], r.ntk_trained, rtol=1e-6, atol=1e-9)


def test_angle_figures_hold_every_curve_and_take_a_new_result_in_place(angles):
    """The curves along the circle are Bokeh glyphs the result is written into: one line
    per seed for each width and state, the limit, the training inputs, the widths in the
    title and a vertical range holding every curve; delivering it again (a page reload)
    makes no model."""
    import panel as pn
    from bokeh.document import Document

    session, view = angles
    r = view.result
    doc = Document()
    doc.add_root(pn.panel(view).get_root(doc))
    models = {m.id for m in doc.models}
    for _ in range(2):
        for kernel in ("ntk", "nngp"):
            for w, size in enumerate(("narrow", "wide")):
                for state in ("init", "trained"):
                    data = doc.select_one({"name": f"angle_{kernel}_{size}_{state}:source"}).data
                    np.testing.assert_array_equal(np.asarray(data["ys"]),
                                                  getattr(r, f"{kernel}_{state}")[w])
                    np.testing.assert_array_equal(np.asarray(data["xs"][1]), r.angles)
            limit = doc.select_one({"name": f"angle_{kernel}:source"}).data
            np.testing.assert_array_equal(np.asarray(limit["y"]), getattr(r, kernel))
            train = doc.select_one({"name": f"angle_{kernel}_train:source"}).data
            np.testing.assert_allclose(train["x"], np.arctan2(*view._train().x_train.T[::-1]))
            assert doc.select_one({"name": f"angle_{kernel}_title"}).text.endswith(
                "(widths 8 and 64)")
            y = doc.select_one({"name": f"angle_{kernel}_y_range"})
            every = np.concatenate([getattr(r, kernel).ravel(),
                                    getattr(r, f"{kernel}_init").ravel(),
                                    getattr(r, f"{kernel}_trained").ravel()])
            assert y.start < every.min() and every.max() < y.end
        view.show(r)
    assert {m.id for m in doc.models} == models


def test_angle_view_computes_nothing_on_the_callers_thread(monkeypatch):
    """Its learning rate (a kernel) is computed by the job: making the view (a tab shown for
    the first time, on the event loop or a widget's thread) and its key touch no kernel."""
    session = _session()
    calls = []
    monkeypatch.setattr(convergence, "ANGLE_RATES", convergence.Cache(32))  # nothing cached
    monkeypatch.setattr(convergence.engine, "batch",
                        lambda *a, **k: calls.append(a) or (_ for _ in ()).throw(AssertionError))
    view = AngleKernelsView(session=session)
    assert view.key() is not None and calls == []


def test_angle_curves_train_on_the_current_2d_data():
    session = _session(dataset="unit_circle", n_train=4)
    _, view = _shown(AngleKernelsView, "kernels", session)
    assert convergence.angle_training_set(session.data.key, (1000, 2000)).name == "unit_circle"
    assert "make_dataset('unit_circle'" in view.export_python()


def test_distribution_samples_and_ks_per_width(distribution):
    session, view = distribution
    r = view.result
    assert r.samples.shape == (2, 100, 1) and r.ks_statistic.shape == (2, 1)
    got = run(view.export_python())
    np.testing.assert_allclose(got["ks_statistic"], r.ks_statistic[:, 0], rtol=1e-10)
    table = view.export_table()
    assert table["quantity"].count("output") == 200


def test_heatmaps_are_the_closed_form_kernels_sorted():
    session = _session()
    view = KernelHeatmapsView(session=session)
    maps = view.maps
    assert maps.nngp.shape == (10, 10) and np.allclose(maps.ntk, maps.ntk.T)
    x = session.closed_form.data.x_train[maps.order, 0]
    assert np.all(np.diff(x) >= 0)
    got = run(view.export_python())
    np.testing.assert_allclose(got["ntk"], maps.ntk, rtol=1e-10)


def test_heatmap_figures_hold_the_kernels_and_take_new_ones_in_place():
    """The two images are the sorted kernels (rows bottom-up, one unit per training point),
    the colour bars span them, and a new sample of the data is written into the same
    figures (no model made again)."""
    import panel as pn
    from bokeh.document import Document

    session = _session()
    view = KernelHeatmapsView(session=session)
    doc = Document()
    doc.add_root(pn.panel(view).get_root(doc))
    models = {m.id for m in doc.models}
    for _ in range(2):
        for name in ("nngp", "ntk"):
            values = getattr(view.maps, name)
            data = doc.select_one({"name": f"kernel_{name}:source"}).data
            np.testing.assert_array_equal(np.asarray(data["image"][0]), values)
            assert (data["x"], data["y"], data["dw"], data["dh"]) == ([-0.5], [-0.5], [10], [10])
            colors = doc.select_one({"name": f"kernel_{name}_colors"})
            assert (colors.low, colors.high) == (values.min(), values.max())
            assert doc.select_one({"name": f"kernel_{name}_x_axis"}).axis_label == \
                "training point (sorted by x)"
        before = view.maps.ntk
        session.data.seed += 1
        session.wait()
        assert not np.array_equal(view.maps.ntk, before)
    assert {m.id for m in doc.models} == models


def test_classification_maps_move_with_t_and_export_the_grid():
    session = _session(dataset="circle", n_train=40)
    view = ClassificationView(session=session)
    session.training.t = 10
    early = view.maps()["infinite_mean"]
    session.training.t = 10000
    late = view.maps()["infinite_mean"]
    assert early.shape == (2500,) and not np.allclose(early, late)
    assert view.maps()["finite_mean"] is None  # no finite run in this session
    table = view.export_table()
    assert len(table["x1"]) == 2500 and np.isnan(table["finite_mean"]).all()
    got = run(view.export_python())
    np.testing.assert_allclose(got["infinite_mean"], table["infinite_mean"], rtol=1e-9,
                               atol=1e-12)


def test_classification_view_explains_other_data():
    session = _session()
    view = ClassificationView(session=session)
    assert view._notice.visible and view.export_table() == {"x1": [], "x2": []}
