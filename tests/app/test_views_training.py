"""The training-dynamics views without a browser: what the figures hold, and that what the
time slider, a new closed form and a delivered ensemble write in place equals what a fresh
figure of the same state draws."""
import dataclasses
import importlib

import numpy as np
import panel as pn
import pytest
from bokeh.document import Document
from bokeh.models import ColumnDataSource

from app.state.limits import Limits
from app.state.session import Session
from app.state.settings import Finite
from app.views.function_space import FunctionSpaceView
from app.views.loss import LossView

#: one xdist worker runs the module, so its module-scoped fixture is computed once
pytestmark = pytest.mark.xdist_group("app-training")


def _render(view):
    doc = Document()
    doc.add_root(pn.panel(view).get_root(doc))
    return doc


def _data(doc, name):
    source = doc.select_one({"type": ColumnDataSource, "name": f"{name}:source"})
    return {k: np.asarray(v) if not isinstance(v, list) else v for k, v in source.data.items()}


@pytest.fixture(scope="module")
def finite_session():
    session = Session(Limits(max_steps=100), finite=Finite(show=True))
    session.architecture.width = 16
    session.finite.ensemble_size = 3
    session.wait(300)
    return session


@pytest.mark.parametrize("view", [FunctionSpaceView, LossView])
def test_a_time_move_patches_what_a_redraw_would_draw(finite_session, view):
    moved = _render(view(session=finite_session))
    finite_session.training.t = 10
    redrawn = _render(view(session=finite_session))
    names = (["fs_mean", "fs_band", "fs_members", "fs_finite_mean", "fs_finite_band"]
             if view is FunctionSpaceView else ["loss_marker"])
    for name in names:
        patched, fresh = _data(moved, name), _data(redrawn, name)
        assert patched.keys() == fresh.keys(), name
        for key in fresh:
            np.testing.assert_allclose(np.asarray(patched[key], float),
                                       np.asarray(fresh[key], float), rtol=1e-12, err_msg=name)
    finite_session.training.t = 1000


def test_function_space_holds_the_data_and_the_closed_form(finite_session):
    doc = _render(FunctionSpaceView(session=finite_session))
    data = finite_session.closed_form.data
    np.testing.assert_allclose(_data(doc, "fs_train")["y"], data.y_train[:, 0])
    np.testing.assert_allclose(_data(doc, "fs_mean")["y"],
                               finite_session.closed_form.at(1000).mean[:, 0])
    assert len(_data(doc, "fs_members")["ys"]) == 3


def test_the_bands_and_the_loss_curves_hold_the_session_numbers(finite_session):
    """Each band is one polygon (x along the axis and back, upper edge then lower edge
    reversed); the loss figure holds the closed form's curves at t > 0 and each member's
    loss."""
    result, run = finite_session.closed_form, finite_session.finite_run
    fs, loss = (_render(FunctionSpaceView(session=finite_session)),
                _render(LossView(session=finite_session)))
    curves, x = result.at(finite_session.training.t), result.data.x_test[:, 0]
    band = _data(fs, "fs_band")
    np.testing.assert_allclose(band["x"], np.append(x, x[::-1]))
    np.testing.assert_allclose(band["y"], np.append(curves.mean[:, 0] + 2 * curves.std,
                                                    (curves.mean[:, 0] - 2 * curves.std)[::-1]))
    train = result.losses.train
    keep = train.t > 0
    np.testing.assert_allclose(_data(loss, "loss_train")["x"], train.t[keep])
    np.testing.assert_allclose(_data(loss, "loss_train")["y"], train.mean[keep])
    steps, members, _ = run.losses()["train"]
    lines = _data(loss, "loss_finite_train_members")
    assert len(lines["ys"]) == len(members) == 3
    np.testing.assert_allclose(np.asarray(lines["xs"][0], float), steps)
    np.testing.assert_allclose(np.asarray(lines["ys"][1], float), members[1])
    marker = _data(loss, "loss_marker")
    np.testing.assert_allclose(marker["x"], [finite_session.training.t] * 2)


def test_function_space_steps_aside_for_data_it_cannot_draw():
    session = Session(Limits())
    view = FunctionSpaceView(session=session)
    session.data.param.update(dataset="xor", n_train=20)
    session.wait()
    assert view._notice.visible and not view._pane.visible
    assert view._notice.object.startswith("The function-space view draws one output")


def _ids(doc) -> set:
    """The ids of a document's models: the same set after a change = nothing was redrawn."""
    return {model.id for model in doc.models}


def test_a_new_result_is_written_into_every_glyph_of_the_figures():
    """A new closed form (new data: other points, other lengths) is written into the data
    sources of both figures: every glyph takes it, and no model is made again (a HoloViews
    redraw of the two figures cost the event loop ~0.5 s at every change)."""
    session = Session(Limits())
    session.finite.show = False
    session.wait(300)
    doc = Document()
    for view in (FunctionSpaceView(session=session), LossView(session=session)):
        doc.add_root(pn.panel(view).get_root(doc))
    names = ("fs_train", "fs_mean", "fs_band", "loss_train", "loss_train_band",
             "loss_test", "loss_marker")
    before, models = {name: _data(doc, name) for name in names}, _ids(doc)
    session.data.n_train = session.data.n_train // 2 + 1
    session.wait(300)
    assert _ids(doc) == models
    for name in names:
        after = _data(doc, name)
        assert any(not np.array_equal(before[name][k], after[k]) for k in after), name
    assert len(_data(doc, "fs_train")["x"]) == session.data.n_train


@pytest.mark.parametrize("view", [FunctionSpaceView, LossView])
def test_an_ensemble_that_goes_is_emptied_in_place_and_stays_gone(finite_session, view):
    """New finite settings clear the shown ensemble: its glyphs are emptied in place, and a
    new closed form does not bring the old lines back."""
    shown = view(session=finite_session)
    doc = _render(shown)
    names = importlib.import_module(view.__module__).FINITE_GLYPHS
    run, models = finite_session.finite_run, _ids(doc)
    assert run is not None and any(len(next(iter(_data(doc, n).values()))) for n in names)
    finite_session.finite_run = None
    assert all(len(column) == 0 for n in names for column in _data(doc, n).values())
    shown._on_result()  # the whole figure written again (a new closed form)
    assert all(len(column) == 0 for n in names for column in _data(doc, n).values())
    finite_session.finite_run = run  # it comes back: drawn again
    assert all(len(next(iter(_data(doc, n).values()))) for n in names)
    assert _ids(doc) == models


def _part(finite, steps: int, members: int, scale: float = 1.0):
    """The session's ensemble cut to its first recorded ``steps`` and ``members``, outputs
    and losses scaled: another delivery of the same training (or another ensemble)."""
    run = finite.run
    losses = {k: None if getattr(run, k) is None else getattr(run, k)[:members, :steps] * scale
              for k in ("train_loss", "test_loss")}
    cut = dataclasses.replace(run, steps=run.steps[:steps], **losses,
                              test_outputs=run.test_outputs[:members, :steps] * scale,
                              train_outputs=run.train_outputs[:members, :steps] * scale)
    return dataclasses.replace(finite, run=cut, planned_step=int(run.steps[-1]))


@pytest.mark.parametrize("view", [FunctionSpaceView, LossView])
def test_a_delivered_ensemble_is_written_in_place_as_a_fresh_figure_draws_it(finite_session,
                                                                           view):
    """Each part of a training that arrives (more steps) and a new ensemble (other members)
    is written into the figure's glyphs, no model made again, and the figure then holds
    what a fresh one of the same run draws."""
    whole = finite_session.finite_run
    names = importlib.import_module(view.__module__).FINITE_GLYPHS
    try:
        finite_session.finite_run = _part(whole, steps=4, members=3)
        shown = _render(view(session=finite_session))
        models = _ids(shown)
        for delivered in (_part(whole, steps=len(whole.run.steps), members=3, scale=1.5),
                          _part(whole, steps=7, members=2, scale=0.5)):
            finite_session.finite_run = delivered
            assert _ids(shown) == models
            fresh = _render(view(session=finite_session))
            for name in names:
                patched, drawn = _data(shown, name), _data(fresh, name)
                assert patched.keys() == drawn.keys(), name
                assert len(next(iter(drawn.values()))) > 0, name
                for key in drawn:
                    np.testing.assert_allclose(np.asarray(patched[key], float),
                                               np.asarray(drawn[key], float), rtol=1e-12,
                                               err_msg=f"{name}.{key}")
    finally:
        finite_session.finite_run = whole
