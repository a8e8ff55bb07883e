"""The images view: FC / CNN / residual CNN accuracy on the digits, in the background, cached."""
import numpy as np
import pytest

from app.jobs import image_jobs
from app.state.limits import Limits
from app.state.session import Session
from app.views.images import ImagesView

#: one xdist worker runs the module, so its module-scoped fixture is computed once
pytestmark = pytest.mark.xdist_group("app-images")

SMALL = dict(max_train=32, n_test=30)


@pytest.fixture(scope="module")
def small_result():
    """One small comparison for the module (kernels of 32 + 30 digits)."""
    session = Session(Limits())
    session.images.param.update(**SMALL)
    view = ImagesView(session=session)
    session.selection.view = "images"
    view.job.wait(300)
    assert view.result is not None, view.job.status
    return session, view


def test_nothing_is_computed_until_the_tab_is_shown():
    session = Session(Limits())
    view = ImagesView(session=session)
    assert not view.job.running and view.result is None


def test_the_comparison_has_every_network_size_and_time(small_result):
    session, view = small_result
    result = view.result
    assert list(result.accuracy) == ["FC", "CNN", "Residual CNN"]
    assert result.train_sizes.tolist() == [16, 32]
    for accuracy in result.accuracy.values():
        assert accuracy.shape == (2, len(image_jobs.TIMES))
        assert np.all((accuracy >= 0) & (accuracy <= 1))
    assert np.isinf(result.t[-1]) and not view.job.running and view.job.status == ""


def test_the_result_is_cached_server_wide(small_result):
    session, view = small_result
    other = Session(Limits())
    other.images.param.update(**SMALL)
    second = ImagesView(session=other)
    other.selection.view = "images"
    assert second.result is view.result  # delivered at once, no computation
    assert not second.job.running
    assert second.job.status == "From the server's cache (computed earlier with these settings)."


def test_a_new_setting_recomputes_and_cancel_stops(small_result):
    session, view = small_result
    session.images.seed = 7  # a new split: new kernels
    assert view.job.running
    view.job.cancel()
    view.job.wait(120)
    assert not view.job.running and view.job.status.startswith("Stopped")
    assert image_jobs.RESULTS.peek((32, 30, 1e-4, 7)) is None
    session.images.seed = 0
    assert view.result is image_jobs.RESULTS.peek(session.images.key)


def test_the_table_holds_what_is_plotted(small_result):
    session, view = small_result
    table = view.export_table()
    n = 3 * 2 * len(image_jobs.TIMES)
    assert all(len(column) == n for column in table.values())
    rows = [i for i, (name, size) in enumerate(zip(table["network"], table["train_size"]))
            if name == "CNN" and size == 32]
    np.testing.assert_array_equal(np.array(table["accuracy"])[rows],
                                  view.result.accuracy["CNN"][1])


def test_copy_as_python_recomputes_the_numbers(small_result):
    session, view = small_result
    namespace = {}
    exec(view.export_python(), namespace)
    for name, accuracy in view.result.accuracy.items():
        np.testing.assert_allclose(namespace["accuracy"][name], accuracy, atol=1e-12)


def test_one_part_per_network_joined_in_order(small_result):
    session, view = small_result
    pieces = image_jobs.pieces(session.images.key)
    assert [key[0] for key, _ in pieces.parts] == list(image_jobs.ARCHITECTURES)
    assert all(key[1:] == session.images.key for key, _ in pieces.parts)
    # the parts' values, as a worker returns them, make the view's comparison
    parts = [(view.result.accuracy[name], view.result.learning_rate[name])
             for name in image_jobs.ARCHITECTURES]
    joined = pieces.combine(parts)
    assert list(joined.accuracy) == list(view.result.accuracy)
    np.testing.assert_array_equal(joined.train_sizes, view.result.train_sizes)
    assert joined.learning_rate == view.result.learning_rate
