"""The training-dynamics views without a browser: what the figures hold, and that the
time slider's direct patches equal what a full HoloViews redraw would draw."""
import dataclasses
import importlib

import holoviews as hv
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


def test_function_space_steps_aside_for_data_it_cannot_draw():
    session = Session(Limits())
    view = FunctionSpaceView(session=session)
    session.data.param.update(dataset="xor", n_train=20)
    session.wait()
    assert view._notice.visible and not view._pane.visible
    assert view._notice.object.startswith("The function-space view draws one output")


def test_a_new_result_redraws_every_layer_of_each_figure_in_one_pass(monkeypatch):
    """Each figure overlays three DynamicMaps; a new closed form sends to all three at once
    (one redraw, not three), and every layer takes the new result."""
    session = Session(Limits())
    session.finite.show = False
    session.wait(300)
    views = [FunctionSpaceView(session=session), LossView(session=session)]
    doc = Document()
    for view in views:
        doc.add_root(pn.panel(view).get_root(doc))
    names = ("fs_train", "fs_mean", "fs_band", "loss_train", "loss_marker")
    before = {name: _data(doc, name) for name in names}
    triggers = []
    original = hv.streams.Stream.trigger.__func__
    monkeypatch.setattr(hv.streams.Stream, "trigger", classmethod(
        lambda cls, streams: triggers.append(len(streams)) or original(cls, streams)))
    session.data.n_train = session.data.n_train // 2 + 1
    session.wait(300)
    assert triggers == [3, 3]  # one redraw per figure
    for name in names:
        after = _data(doc, name)
        assert any(not np.array_equal(before[name][k], after[k]) for k in after), name


@pytest.mark.parametrize("view", [FunctionSpaceView, LossView])
def test_an_ensemble_that_goes_is_emptied_in_place_and_stays_gone(finite_session, view,
                                                                   monkeypatch):
    """New finite settings clear the shown ensemble: its glyphs are emptied without a
    redraw (at every student's change it redrew the figure on the shared event loop), and
    a later redraw does not bring the old lines back."""
    shown = view(session=finite_session)
    doc = _render(shown)
    names = importlib.import_module(view.__module__).FINITE_GLYPHS
    run = finite_session.finite_run
    assert run is not None and any(len(next(iter(_data(doc, n).values()))) for n in names)
    triggers = []
    original = hv.streams.Stream.trigger.__func__
    monkeypatch.setattr(hv.streams.Stream, "trigger", classmethod(
        lambda cls, streams: triggers.append(len(streams)) or original(cls, streams)))
    finite_session.finite_run = None
    assert triggers == []  # no redraw
    assert all(len(column) == 0 for n in names for column in _data(doc, n).values())
    shown._on_result()  # a redraw of the whole figure (a new closed form)
    assert all(len(column) == 0 for n in names for column in _data(doc, n).values())
    finite_session.finite_run = run  # it comes back: drawn again
    assert all(len(next(iter(_data(doc, n).values()))) for n in names)


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
def test_a_delivered_ensemble_is_written_in_place_as_a_redraw_would_draw_it(
        finite_session, view, monkeypatch):
    """Each part of a training that arrives (more steps) and a new ensemble (other members)
    is written into the rendered glyphs, with no HoloViews redraw of the figure (which, on
    the event loop, held every other student's page for most of a lesson step), and the
    figure then holds what a fresh render of the same run draws."""
    whole = finite_session.finite_run
    names = importlib.import_module(view.__module__).FINITE_GLYPHS
    try:
        finite_session.finite_run = _part(whole, steps=4, members=3)
        shown = _render(view(session=finite_session))
        triggers = []
        original = hv.streams.Stream.trigger.__func__
        monkeypatch.setattr(hv.streams.Stream, "trigger", classmethod(
            lambda cls, streams: triggers.append(len(streams)) or original(cls, streams)))
        for delivered in (_part(whole, steps=len(whole.run.steps), members=3, scale=1.5),
                          _part(whole, steps=7, members=2, scale=0.5)):
            finite_session.finite_run = delivered
            assert triggers == []  # no redraw
            fresh = _render(view(session=finite_session))
            triggers.clear()  # the fresh render's own
            for name in names:
                patched, drawn = _data(shown, name), _data(fresh, name)
                assert patched.keys() == drawn.keys(), name
                for key in drawn:
                    np.testing.assert_allclose(np.asarray(patched[key], float),
                                               np.asarray(drawn[key], float), rtol=1e-12,
                                               err_msg=f"{name}.{key}")
    finally:
        finite_session.finite_run = whole
