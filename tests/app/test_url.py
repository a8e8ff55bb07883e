"""app/url.py: the URL carries every setting; refused values are reported, others applied."""
import json
import urllib.parse

from panel.io.location import Location

from app import url
from app.limits import Limits
from app.settings import DEFAULT_WIDTH
from app.state import Session

SPEC = [["Dense", {"out_dim": 64, "W_std": 1.2, "b_std": 0.1}], ["Relu", {}],
        ["Dense", {"out_dim": 1, "W_std": 1.2, "b_std": 0.1}]]


def _location(**query):
    values = {k: json.dumps(v) if isinstance(v, list) else v for k, v in query.items()}
    return Location(search="?" + urllib.parse.urlencode(values))


def test_the_url_sets_the_view():
    session = Session(Limits())
    url.sync(session, _location(spec=SPEC, width=64, t=100, mode="nngp", n_train=7,
                                learning_rate=0.05, ensemble_size=4, finite="false"))
    session.wait()
    assert session.architecture.spec == SPEC and session.architecture.width == 64
    assert (session.training.t, session.training.mode, session.training.learning_rate) == (
        100, "nngp", 0.05)
    assert session.data.n_train == 7 and session.closed_form.data.n_train == 7
    assert session.finite.ensemble_size == 4 and session.finite.show is False
    assert session.notice == ""


def test_the_session_writes_its_settings_to_the_url():
    session = Session(Limits())
    location = _location()
    url.sync(session, location)
    session.training.t = 316
    session.architecture.width = 1024
    query = location.query_params
    assert query["t"] == 316 and query["width"] == 1024
    assert query["spec"] == session.architecture.spec
    assert query["dataset"] == "sin"
    assert "learning_rate" not in query  # the policy (half the maximum) travels as no value
    session.training.learning_rate = 0.05
    assert location.query_params["learning_rate"] == 0.05


def test_refused_values_are_reported_and_the_rest_applied():
    session = Session(Limits(max_width=1024))
    url.sync(session, _location(width=4096, t=100, n_train=5000, mode="x", noise=0.3))
    assert (session.training.t, session.data.noise) == (100, 0.3)
    assert (session.architecture.width, session.data.n_train, session.training.mode) == (
        DEFAULT_WIDTH, 10, "ntk")
    assert session.notice == (
        "This link asks for settings the server refuses: width=4096 is beyond the limit "
        "max_width = 1024 (set IWE_MAX_WIDTH or --max-width when starting the server); "
        "n_train=5000 is beyond the limit max_train = 1000 (set IWE_MAX_TRAIN or --max-train "
        "when starting the server); mode='x' is not a valid value of mode")


def test_a_width_off_the_slider_is_not_a_valid_value():
    session = Session(Limits())
    url.sync(session, _location(width=300))
    assert session.notice == ("This link asks for settings the server refuses: width=300 is "
                              "not a valid value of width")


def test_a_malformed_spec_in_the_url_is_shown_as_a_stack_error():
    session = Session(Limits())
    session.wait()
    result = session.closed_form
    url.sync(session, _location(spec=[["Dense", {"out_dim": "wide"}]]))
    session.wait()
    assert session.stack_error == ("layer 0 (Dense): Dense(out_dim='wide'): out_dim must be an "
                                   "integer")
    assert session.closed_form is result
