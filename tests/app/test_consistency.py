"""The session is always consistent (issue "Dashboard state is always consistent", B1-B11).

Each test replays a defect found by hand: settings that change while a computation runs,
presets visited in different orders, a learning rate above the maximum, a residual-block
error, a closed tab. Interleavings are forced (a hook runs the second edit in the middle of
the first computation), not left to timing.
"""
import threading
import time

import numpy as np
import pytest

from app.jobs import finite_jobs, results
from app.jobs.service import SERVICE
from app.state import stack
from app.state.limits import Limits
from app.state.presets import PRESETS
from app.state.session import Session
from app.state.settings import Finite
from app.views.stack_editor import StackEditor

REGRESSION = [name for name, p in PRESETS.items() if p.settings.get("dataset") != "digits"]


def _consistent(session):
    """The shown result belongs to the current data settings, shape for shape."""
    result = session.closed_form
    data = result.data
    assert (data.n_train, data.n_test) == (session.data.n_train, session.data.n_test)
    assert result.at(10).mean.shape[0] == data.n_test == result.predictor.y_test.shape[0]
    assert result.request == session.request()


def test_b1_an_edit_during_a_computation_never_pairs_two_settings(monkeypatch):
    """Test points 1700 then 300 while the first is computed: the 300 request must not get
    the 1700 kernels, and a second session asking for 300 must see a consistent result."""
    session = Session(Limits())
    session.data.n_train = 12
    session.wait()
    original = results.dataset
    moved = threading.Event()

    def dataset_with_a_second_edit(key, *limits):
        data = original(key, *limits)
        if dict(key[1]).get("n_test") == 1700 and not moved.is_set():
            moved.set()
            session.data.n_test = 300  # the second edit lands mid-computation
        return data
    monkeypatch.setattr(results, "dataset", dataset_with_a_second_edit)
    session.data.n_test = 1700
    deadline = time.time() + 60
    while not moved.is_set() and time.time() < deadline:
        time.sleep(0.01)
    session.wait()
    assert moved.is_set() and session.data.n_test == 300
    _consistent(session)
    other = Session(Limits())
    other.data.param.update(n_train=12, n_test=300)
    other.training.mode = "nngp"
    other.wait()
    _consistent(other)
    for name in ("KERNELS", "OUTCOMES"):  # nothing stored under a key it does not belong to
        cache = getattr(results, name)
        for key, (value, _, _) in list(cache._values.items()):
            if name == "KERNELS":
                n_test = dict(key[1][1]).get("n_test")
                assert value.test_train.nngp.shape[0] == n_test
            elif value.result is not None:
                assert value.result.data.n_test == dict(key.data_key[1]).get("n_test")


def test_b2_finite_ensembles_always_pair_a_spec_with_its_own_data(monkeypatch):
    """Preset changes between a dense net on sin and a CNN on digits: every training the
    server starts gets the spec and the data of one snapshot."""
    pairs = []

    def train(spec, data, settings, report, should_stop):
        pairs.append((spec[0][0], data.name))
        raise finite_jobs.Cancelled()  # the pairing is the point, not the training
    monkeypatch.setattr(finite_jobs, "_train", train)
    monkeypatch.setattr(finite_jobs, "SETTLE", 0.0)
    session = Session(Limits(max_steps=10), finite=Finite(show=True))
    session.wait()
    for name in ["CNN with global average pooling", "Cookbook Erf net",
                 "CNN with global average pooling", "ReLU MLP"]:
        session.load_preset(name)
        session.data.param.update(n_train=12, n_test=12) if "CNN" in name else None
        session.wait(300)
    assert pairs, "no training was started"
    for layer, dataset in pairs:
        assert (layer == "Conv") == (dataset == "digits"), pairs


def _preset_state(session) -> dict:
    result = session.closed_form
    return {"spec": session.architecture.spec, "width": session.architecture.width,
            "data": session.data.key, "learning_rate": session.training.learning_rate,
            "diag_reg": session.training.diag_reg, "eta": result.learning_rate,
            "mean": result.at(100).mean}


@pytest.mark.slow
def test_b4_a_preset_looks_the_same_whatever_came_before():
    fresh = {}
    for name in REGRESSION:
        session = Session(Limits())
        session.load_preset(name)
        session.wait()
        fresh[name] = _preset_state(session)
    for order in (REGRESSION, REGRESSION[::-1]):
        session = Session(Limits())
        session.architecture.width = 512
        session.data.param.update(n_test=60, noise=0.5)
        session.training.learning_rate = 0.01
        for name in order:
            session.load_preset(name)
            session.wait()
            got, want = _preset_state(session), dict(fresh[name])
            np.testing.assert_allclose(got.pop("mean"), want.pop("mean"), rtol=1e-12)
            assert got == want, name


def test_b5_the_learning_rate_follows_the_network_until_the_user_sets_one():
    session = Session(Limits())
    editor = StackEditor(session=session)
    session.wait()
    ntk_rate = session.closed_form.learning_rate
    editor.parameterization = "standard"
    session.wait()
    standard = session.closed_form
    assert standard.learning_rate < ntk_rate / 10  # the standard NTK grows with the width
    assert standard.learning_rate == results.safe_learning_rate(standard.max_learning_rate)
    editor.parameterization = "ntk"
    session.wait()
    assert session.closed_form.learning_rate == ntk_rate and session.notice == ""
    assert not session.closed_form.diverges


def test_b9_a_residual_block_error_speaks_in_the_editors_terms():
    session = Session(Limits())
    items = [["Dense", {"out_dim": 128}], ["Erf", {}],
             [stack.RESIDUAL, {"layers": [["Dense", {"out_dim": 64}], ["Erf", {}]]}],
             ["Dense", {"out_dim": 1}]]
    session.architecture.edit(items)
    session.wait()
    assert session.stack_error == (
        "Residual block 2: its layers turn an input of shape ('N', 128) into ('N', 64); "
        "y = x + f(x) needs f(x) shaped like x (keep the width and the spatial size inside "
        "the block)")
    assert session.error_path == (2,)
    items[2][1]["layers"][0] = ["Dense", {"out_dim": 0}]
    session.architecture.spec = stack.unfold(items)  # keeps its own widths: out_dim=0 stays
    session.wait()
    assert session.stack_error.startswith("layer 2.0 (Dense): ")
    assert session.error_path == (2, 0)


def test_b11_closing_a_tab_stops_its_closed_form(monkeypatch):
    started, stopped = threading.Event(), threading.Event()

    def slow(request, report=lambda f: None):
        started.set()
        while True:  # a long computation that reports progress between pieces
            try:
                report(0.5)
            except Exception:
                stopped.set()
                raise
            time.sleep(0.01)
    session = Session(Limits())
    session.wait()
    monkeypatch.setattr(results, "closed_form", slow)
    session.data.seed = 99
    assert started.wait(30)
    session.close()
    assert stopped.wait(1.0)  # within a second of the tab closing
    deadline = time.time() + 5
    while SERVICE.active() and time.time() < deadline:
        time.sleep(0.01)
    assert not session.closed_form_job.running


@pytest.mark.parametrize("owner, name, value, message", [
    ("data", "n_train", 0, "Training points: 0 is not allowed; it must be at least 1 and at "
                           "most 1000 (max_train = 1000 (set IWE_MAX_TRAIN or --max-train when "
                           "starting the server)). Kept 10."),
    ("data", "n_train", 1001, "Training points: 1001 is not allowed; it must be at least 1 and "
                              "at most 1000 (max_train = 1000 (set IWE_MAX_TRAIN or --max-train "
                              "when starting the server)). Kept 10."),
    ("training", "learning_rate", -1.0, "Learning rate: -1.0 is not allowed; it must be above 0. "
                                        "Kept None."),
    ("training", "learning_rate", 0.0, "Learning rate: 0.0 is not allowed; it must be above 0. "
                                       "Kept None."),
    ("training", "diag_reg", 5.0, "diag_reg: 5.0 is not allowed; it must be at least 0 and at "
                                  "most 1. Kept 0.0001."),
    ("sweep", "seeds", 99, "Seeds per width: 99 is not allowed; it must be at least 1 and at "
                           "most 16. Kept 4."),
    ("sweep", "samples", 50, "Networks per width: 50 is not allowed; it must be at least 100 "
                             "and at most 10000. Kept 1000."),
])
def test_b6_a_number_out_of_range_is_refused_in_place(owner, name, value, message):
    import panel as pn
    from app.views.checked_input import checked_input
    from app.views.literal import literal

    session = Session(Limits())
    target = getattr(session, owner)
    labels = {"n_train": "Training points", "learning_rate": "Learning rate",
              "diag_reg": "diag_reg", "seeds": "Seeds per width", "samples": "Networks per width"}
    widget_type = pn.widgets.FloatInput if isinstance(value, float) else pn.widgets.IntInput
    limit = session.limits.describe("max_train") if name == "n_train" else ""
    box = checked_input(target, name, widget_type, labels[name], limit=limit)
    widget, shown = box[0], box[1]
    before = getattr(target, name)
    widget.value = value
    assert getattr(target, name) == before and widget.value == before  # the box goes back
    assert shown.visible and shown.object == literal(message)
    accepted = 2 if widget_type is pn.widgets.IntInput else 0.5
    accepted = 200 if name == "samples" else accepted
    widget.value = accepted
    assert getattr(target, name) == accepted and not shown.visible


def test_b7_hidden_layers_show_no_width_box_the_readout_does():
    session = Session(Limits())
    editor = StackEditor(session=session)
    hidden, readout = editor._rows[(0,)], editor._rows[(4,)]
    assert "out_dim" not in hidden._args.objects[0].objects[1].parameters
    assert hidden._args.objects[0].objects[0].object.startswith("width: the width slider's")
    assert "out_dim" in readout._args.objects[0].parameters
    session.architecture.width = 512
    assert [k["out_dim"] for n, k in session.architecture.spec if n == "Dense"] == [512, 512, 1]


def test_b8_the_marker_shows_the_current_time():
    """The loss figure's marker (a line and a point per curve) at t after every move; it
    was once redrawn late from the t of before the move."""
    import panel as pn
    from bokeh.document import Document

    from app.views.loss import LossView
    session = Session(Limits())
    session.wait()
    doc = Document()
    doc.add_root(pn.panel(LossView(session=session)).get_root(doc))
    for t in (16, 1000, 0):
        session.training.t = t
        assert doc.select_one({"name": "loss_time"}).location == max(t, 1)
        assert list(doc.select_one({"name": "loss_marker:source"}).data["x"]) == [max(t, 1)] * 2


def test_the_learning_rate_box_is_empty_after_a_reset_to_the_policy():
    """Reset to ½ η_max (None), the box showed "NaN": Panel's FloatInput sends None to the
    browser as NaN. The box sends null, which the browser shows as the placeholder."""
    from app.views.checked_input import OptionalFloatInput

    box = OptionalFloatInput(value=0.3, placeholder="½ η_max")
    model = box.get_root()
    box.value = None
    assert model.value is None and model.placeholder == "½ η_max"
    box.value = 0.25
    assert model.value == 0.25
