"""The recurrent networks view: the RNN, FC and CNN compared on sequences; its exports."""
import numpy as np

from app.state.limits import Limits
from app.state.session import Session
from app.views.recurrent import RecurrentView


def test_the_view_compares_three_networks_and_exports_them():
    session = Session(Limits())
    session.finite.show = False
    session.wait()
    view = RecurrentView(session=session)
    assert not view.job.running  # waits until its tab is shown
    view.sequences.param.update(n_train=6, length=4)
    session.selection.view = "recurrent"
    view.job.wait(600)
    r = view.result
    assert r is not None, (view.job.status, view.reason)
    assert r.ntk_train.shape == (3, 6, 6) and r.predictions.shape == (3, 100)
    table = view.export_table()
    assert len(table["value"]) == 3 * (36 + 100) + 100
    namespace = {}
    exec(compile(view.export_python(), "<snippet>", "exec"), namespace)
    np.testing.assert_allclose(namespace["c"].test_loss, r.test_loss, rtol=1e-8)
