"""The lazy vs rich view: what it computes, when, what it refuses and what it exports."""
import numpy as np
import pytest

from app.state.limits import Limits
from app.state.session import Session
from app.views.lazy_rich import LazyRichView
from app.views.literal import literal

#: one xdist worker runs the module, so its module-scoped fixture is computed once
pytestmark = pytest.mark.xdist_group("app-lazy-rich")

SMALL = dict(widths=[8, 64], seeds=2, steps=10)


@pytest.fixture(scope="module")
def shown():
    session = Session(Limits())
    session.finite.show = False
    session.sweep.param.update(**SMALL)
    session.wait()
    view = LazyRichView(session=session)
    assert not view.job.running  # waits until its tab is shown
    view.lazy.param.update(alphas=[0.5, 8.0], width=8)
    session.selection.view = "lazy"
    view.job.wait(600)
    assert view.result is not None, (view.job.status, view.reason)
    return session, view


def test_the_sweep_covers_alphas_widths_and_seeds(shown):
    session, view = shown
    r = view.result
    assert r.alphas.tolist() == [0.5, 8.0] and r.widths.tolist() == [8, 64] and r.width == 8
    assert r.change_by_alpha.shape == (2, 2) and r.test_loss_by_width.shape == (2, 2)
    assert np.isfinite(r.kernel_test_loss) and r.steps == 10
    table = view.export_table()
    assert len(table["value"]) == 2 * (2 * 2 + 2 * 2) + 1
    assert set(table["quantity"]) == {"relative_change", "test_loss", "kernel_test_loss"}


def test_the_python_export_recomputes_the_numbers(shown):
    session, view = shown
    namespace = {}
    exec(compile(view.export_python(), "<snippet>", "exec"), namespace)
    np.testing.assert_allclose(namespace["r"].change_by_alpha, view.result.change_by_alpha,
                               rtol=1e-6)


def test_no_alpha_is_refused_with_a_reason(shown):
    session, view = shown
    view.lazy.alphas = []
    assert view.reason == "Choose at least one alpha." and view._notice.visible
    view.lazy.alphas = [0.5, 8.0]
    assert not view._notice.visible


def test_data_without_test_targets_is_refused_with_a_reason(shown):
    """Runs last: it leaves the module's session on XOR (test inputs are a plotting grid)."""
    session, view = shown
    session.data.dataset = "xor"
    session.wait()
    assert view.reason == "The test loss needs data with test targets; choose other data."
    assert view._notice.visible


def test_diverged_runs_are_named_in_a_warning():
    from app.views.lazy_rich import diverged_note
    from engine.theory.lazy_training import LazyRich
    nan = np.full((1, 1), np.nan)
    result = LazyRich(np.array([0.25]), np.array([8]), np.array([0]), 8, 1.0, nan, nan, nan,
                      nan, 0.1, 10, 1.0, diverged=(("alpha", 0.25, 8, 0),))
    assert diverged_note(result) == literal(
        "Training diverged for α = 0.25 at width 8 (seed 0): the step η/α² was too large for "
        "these networks. They are left out of the plots and are NaN in the CSV; choose larger "
        "α or a smaller learning rate.")
    assert diverged_note(LazyRich(*[result.__dict__[k] for k in list(result.__dict__)[:-1]])) == ""
