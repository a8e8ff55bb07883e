"""The finite views draw a partial run (training still going on) up to the step trained and
say which step they show when it is not t."""
import numpy as np
import panel as pn
import pytest
from bokeh.document import Document

import engine
from app.jobs.finite_run import FiniteRun
from app.state.limits import Limits
from app.state.session import Session
from app.state.settings import Finite
from app.views.classification import ClassificationView
from app.views.function_space import FunctionSpaceView
from app.views.loss import LossView


def partial_run(session, steps=(0, 1, 2, 5, 10), planned=1000, members=3) -> FiniteRun:
    """A FiniteRun of the session's data recorded to ``steps[-1]`` of ``planned`` steps."""
    data, rng = session.closed_form.data, np.random.default_rng(0)
    t = len(steps)
    test = rng.normal(size=(members, t, len(data.x_test), 1)).astype(np.float32)
    train = rng.normal(size=(members, t, len(data.x_train), 1)).astype(np.float32)
    run = engine.EnsembleRun(np.array(steps), test, train, np.ones((members, t)),
                             np.ones((members, t)), 16, 0, 0.1)
    return FiniteRun(run, 0.3, planned)


@pytest.fixture(scope="module")
def session():
    s = Session(Limits(max_steps=1000), finite=Finite(show=False))
    s.wait()
    return s


def test_function_space_draws_the_last_trained_step_and_says_so(session):
    view = FunctionSpaceView(session=session)
    run = partial_run(session)
    session.training.t = 1000
    session.finite_run = run
    note = view._finite_note
    assert note.visible and note.object == (
        "Red: the finite networks at step 10, as far as training has got (of 1,000); later "
        "steps follow as it goes on.")
    np.testing.assert_array_equal(view._finite_data()["members"], run.run.test_outputs[:, 4, :, 0])
    session.training.t = 5  # reached: the lines are at t, no note
    assert not note.visible
    np.testing.assert_array_equal(view._finite_data()["members"], run.run.test_outputs[:, 3, :, 0])
    session.training.t = 1000
    session.finite_run = run.halt()
    assert note.object == ("Red: the finite networks at step 10, where their training was "
                           "stopped (of 1,000).")
    session.finite_run = None
    assert not note.visible


def test_loss_lines_end_at_the_step_trained(session):
    view = LossView(session=session)
    doc = Document()
    doc.add_root(pn.panel(view).get_root(doc))
    session.finite_run = partial_run(session)
    members = doc.select_one({"name": "loss_finite_train_members:source"}).data
    mean = doc.select_one({"name": "loss_finite_train:source"}).data
    assert len(members["ys"]) == 3 and all(list(xs) == [1, 2, 5, 10] for xs in members["xs"])
    assert list(mean["x"]) == [1, 2, 5, 10] and len(mean["y"]) == 4
    session.finite_run = None
    assert len(doc.select_one({"name": "loss_finite_train:source"}).data["x"]) == 0


def test_classification_says_which_step_its_finite_maps_show():
    session = Session(Limits(max_steps=1000), finite=Finite(show=False))
    session.data.param.update(dataset="circle", n_train=20)
    session.wait()
    view = ClassificationView(session=session)
    session.training.t = 1000
    session.finite_run = partial_run(session)
    assert view._finite_note.visible and view._finite_note.object.startswith(
        "Bottom row: the finite networks at step 10, as far as training has got (of 1,000)")
    assert view.maps()["finite_mean"].shape == (len(session.closed_form.data.x_test),)
