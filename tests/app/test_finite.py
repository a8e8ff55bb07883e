"""app/jobs/finite_jobs.py: finite ensembles train in the background, are cached, can be stopped."""
import pickle
import time

import numpy as np
import pytest

import engine
from app.jobs import finite_jobs
from app.jobs.finite_run import FiniteRun
from app.state.limits import Limits
from app.state.session import Session
from app.state.settings import Finite


def _wait(session, timeout=120):
    session.wait(timeout)


@pytest.fixture
def session():
    s = Session(Limits(max_steps=100), finite=Finite(show=False))
    s.architecture.width = 16
    s.finite.ensemble_size = 2
    s.wait()
    return s


def test_training_delivers_the_engine_ensemble(session):
    session.finite.show = True
    _wait(session)
    run = session.finite_run
    assert run is not None and not session.finite_ensembles.job.running
    expected = engine.train_ensemble(
        engine.with_width(session.architecture.spec, 16), *[getattr(session.closed_form.data, a)
                                                             for a in ("x_train", "y_train", "x_test", "y_test")],
        width=16, ensemble_size=2, learning_rate=session.closed_form.learning_rate,
        steps=session.finite_ensembles.steps(), float32=True)
    np.testing.assert_allclose(run.run.test_outputs, expected.test_outputs, rtol=1e-5)
    assert list(run.run.steps) == [t for t in session.training.param.t.objects if t <= 100]
    snapshot = run.at(1000)  # beyond the step limit: the last recorded step
    assert snapshot.step == 100 and snapshot.members.shape == (2, 200, 1)
    assert session.finite_ensembles.note.startswith("2 networks of width 16 trained to 100 steps")


def test_returning_to_a_width_is_instant(session):
    session.finite.show = True
    _wait(session)
    first = session.finite_run
    session.architecture.width = 24
    _wait(session)
    assert session.finite_run is not first
    misses = finite_jobs.RUNS.misses
    session.architecture.width = 16
    assert session.finite_run is first  # delivered from the cache, no thread
    assert finite_jobs.RUNS.misses == misses


def test_an_invalid_stack_keeps_the_ensemble(session):
    session.finite.show = True
    _wait(session)
    first, spec = session.finite_run, session.architecture.spec
    session.architecture.spec = [["Erf", {}]] + spec  # Erf first: no Gaussian input
    _wait(session)
    assert session.stack_error and session.finite_run is first  # kept, like the closed form
    session.architecture.spec = spec
    _wait(session)
    assert session.finite_run is first and session.stack_error == ""
    assert not session.finite_ensembles.job.running


def test_training_shows_its_chunks_before_the_final_run(session):
    """Each finished chunk is shown: partial runs, prefixes of the final one, notes saying
    how far training has got; then the final run."""
    shown, notes = [], []
    session.param.watch(lambda event: shown.append(event.new), "finite_run")
    session.finite_ensembles.param.watch(lambda event: notes.append(event.new), "note")
    session.finite.show = True
    _wait(session)
    runs = [run for run in shown if run is not None]
    final, parts = runs[-1], runs[:-1]
    assert final is session.finite_run and not final.partial and final.last_step == 100
    assert parts and all(part.partial and part.planned_step == 100 for part in parts)
    assert [p.last_step for p in parts] == sorted({p.last_step for p in parts})
    first = parts[0]
    assert first.last_step <= 16  # engine.finite.gradient_descent.FIRST_CHUNK_STEPS
    np.testing.assert_array_equal(first.run.test_outputs,
                                  final.run.test_outputs[:, :len(first.run.steps)])
    assert any(note.startswith(f"Training 2 networks of width 16: trained to step "
                               f"{first.last_step} of 100 so far (") for note in notes)
    assert first.shown_at(100) == (f"Red: the finite networks at step {first.last_step}, as "
                                   "far as training has got (of 100); later steps follow as it "
                                   "goes on.")
    assert first.shown_at(first.last_step) == "" and final.shown_at(100) == ""
    assert final.shown_at(1000) == "Red: the finite networks at step 100, the last trained."


def test_a_partial_run_pickles():
    """What a chunk reports may travel from another process: a dataclass of arrays."""
    run = engine.EnsembleRun(np.arange(3), np.ones((2, 3, 4, 1), np.float32),
                             np.ones((2, 3, 5, 1), np.float32), np.ones((2, 3)), None, 8, 0, 0.5)
    part = pickle.loads(pickle.dumps(FiniteRun(run, 0.5, planned_step=10)))
    assert part.partial and part.last_step == 2 and part.at(5).step == 2
    assert part.halt().describe() == ("Training stopped at step 2 of 10: the red lines end "
                                      "there. Change a setting to train again.")
    assert part.halt().shown_at(5) == ("Red: the finite networks at step 2, where their "
                                       "training was stopped (of 10).")


def test_stop_cancels_the_training_and_keeps_its_part(session):
    session.limits.max_steps = 10_000
    session.architecture.width = 256
    session.finite.show = True
    job = session.finite_ensembles.job
    session.finite_ensembles._timer.join()  # the settings settle first
    assert session.finite_ensembles.note == "Training 2 networks of width 256 for 10,000 steps…"
    deadline = time.time() + 60
    while session.finite_run is None and time.time() < deadline:
        time.sleep(0.05)
    job.cancel()
    _wait(session)
    run = session.finite_run
    assert not job.running and run.partial and run.halted
    assert job.status == "Stopped; change a setting to compute again."
    assert session.finite_ensembles.note == (
        f"Training stopped at step {run.last_step:,} of 10,000: the red lines end there. "
        "Change a setting to train again.")
    session.finite.ensemble_size = 3  # a change clears it
    assert session.finite_run is None
    session.finite_ensembles.stop()


def test_no_finite_ensembles_outside_the_ntk_mode(session):
    session.finite.show = True
    session.training.mode = "nngp"
    _wait(session)
    assert session.finite_run is None
    assert session.finite_ensembles.note == (
        "Finite ensembles are trained by gradient descent on all layers; they are shown in "
        "the NTK gradient descent mode.")


def test_switched_off(session):
    assert session.finite_ensembles.note == "Finite ensembles are off."


def test_a_slider_passing_through_widths_trains_only_where_it_stops(session):
    session.finite.show = True
    _wait(session)
    misses = finite_jobs.RUNS.misses
    for width in (24, 32, 48):
        session.architecture.width = width
    _wait(session)
    assert finite_jobs.RUNS.misses == misses + 1
    assert session.finite_run.run.width == 48


def test_closing_the_session_stops_its_training(session):
    session.limits.max_steps = 10_000
    session.architecture.width = 256
    session.finite.show = True
    session.close()
    session.finite_ensembles.wait(60)
    assert not session.finite_ensembles.job.running and session.finite_run is None


def test_closing_the_session_leaves_its_plots_alone(session):
    """A closed tab's document is being destroyed: closing must not redraw its views."""
    session.finite.show = True
    _wait(session)
    run = session.finite_run
    session.close()
    assert session.finite_run is run and not session.finite_ensembles.job.running
