"""app/state/url.py: the URL carries every setting; refused values are reported, others applied."""
import html
import json
import urllib.parse

import pytest
from panel.io.location import Location

from app.state import url
from app.state.limits import Limits
from app.state.session import Session
from app.state.settings import DEFAULT_WIDTH
from app.views.literal import literal

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


# ------------------------------------------------------------- the theory tabs' settings

#: per tab: the settings object on the session and a link's non-default values for it
THEORY_LINKS = {
    "signal": {"signal_depth": 7, "signal_correlation": -0.3},
    "matrices": {"rm_width": 64, "rm_ratio": 0.25, "rm_depth": 3},
    "lazy": {"lazy_alphas": [0.5, 8.0], "lazy_width": 8},
    "sequences": {"rnn_n_train": 10, "rnn_length": 4, "rnn_noise": 0.3, "rnn_w_std": 1.2},
}
#: per tab: one change a user makes (parameter, value)
CHANGES = {"signal": ("input_correlation", 0.9), "matrices": ("width", 512),
           "lazy": ("alphas", [1.0, 32.0]), "sequences": ("noise", 0.5)}


def _settings(session, owner):
    """{query name: value} of one settings object, as url.SYNCED names them."""
    target = getattr(session, owner)
    return {query: getattr(target, name) for name, query in url.SYNCED[owner].items()}


@pytest.mark.parametrize("owner", list(THEORY_LINKS))
def test_a_theory_tab_round_trips_through_the_url(owner):
    """A link sets the tab's settings; a change is written back; the written link restores it."""
    link = THEORY_LINKS[owner]
    session = Session(Limits())
    location = _location(**link)
    url.sync(session, location)
    assert session.notice == ""
    assert _settings(session, owner) == link
    name, value = CHANGES[owner]
    setattr(getattr(session, owner), name, value)
    written = location.query_params
    assert written[url.SYNCED[owner][name]] == value
    again = Session(Limits())
    url.sync(again, Location(search=location.search))
    assert again.notice == "" and _settings(again, owner) == _settings(session, owner)


def test_a_tab_built_after_the_link_reads_its_settings():
    """The views are made when their tab is first shown, after the link: they use the
    session's settings, which the link set."""
    from app.views.lazy_rich import LazyRichView
    from app.views.random_matrix import RandomMatrixView
    from app.views.recurrent import RecurrentView
    from app.views.signal_propagation import SignalPropagationView

    session = Session(Limits())
    url.sync(session, _location(**{k: v for link in THEORY_LINKS.values()
                                   for k, v in link.items()}))
    assert session.notice == ""
    assert SignalPropagationView(session=session).settings.depth == 7
    assert RandomMatrixView(session=session).settings.width == 64
    assert LazyRichView(session=session).lazy.alphas == [0.5, 8.0]
    assert RecurrentView(session=session).sequences.key == (10, 4, 0.3, 1.2)


#: the URL's query text -> the notice's words about it
REFUSED = {
    "signal_depth=201": "signal_depth=201 is outside the range 2 to 200",
    "signal_depth=true": "signal_depth=True is not a valid value of signal_depth",
    "signal_correlation=nan": "signal_correlation=nan is not a valid value of signal_correlation",
    "signal_correlation=-1.5": "signal_correlation=-1.5 is outside the range -1.0 to 1.0",
    "rm_width=300": "rm_width=300 is not a valid value of rm_width",
    "rm_width=256.0": "rm_width=256.0 is not a valid value of rm_width",
    "rm_width=4096": "rm_width=4096 is not a valid value of rm_width",  # no server limit named
    "rm_ratio=inf": "rm_ratio=inf is outside the range 0.05 to 1.0",
    "rm_depth=0": "rm_depth=0 is outside the range 1 to 32",
    "rm_depth=4.5": "rm_depth=4.5 is not a valid value of rm_depth",
    "lazy_alphas=%5B3%5D": ("lazy_alphas=[3] is not a valid value of lazy_alphas: a list of "
                            "distinct values among 0.25, 0.5, 1, 2, 4, 8, 16, 32"),
    "lazy_alphas=%5B1%2C1%5D": "lazy_alphas=[1, 1] is not a valid value of lazy_alphas: a list",
    "lazy_alphas=%5Btrue%5D": "lazy_alphas=[True] is not a valid value of lazy_alphas: a list",
    "lazy_alphas=" + urllib.parse.quote(json.dumps([1.0] * 5000)): (
        "lazy_alphas=[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, "
        "1.0, 1... is not a valid value of lazy_alphas: a list"),
    "lazy_width=12": "lazy_width=12 is not a valid value of lazy_width",
    "rnn_n_train=5000": "rnn_n_train=5000 is outside the range 4 to 200",  # not max_train
    "rnn_n_train=1e3": "rnn_n_train=1000.0 is outside the range 4 to 200",
    "rnn_length=1": "rnn_length=1 is outside the range 2 to 32",
    "rnn_noise=-0.1": "rnn_noise=-0.1 is outside the range 0.0 to 1.0",
    "rnn_w_std=%5B1%5D": "rnn_w_std=[1] is not a valid value of rnn_w_std",
}


@pytest.mark.parametrize("query", list(REFUSED))
def test_a_refused_theory_setting_is_reported_and_the_rest_applied(query):
    session = Session(Limits())
    defaults = {owner: _settings(session, owner) for owner in THEORY_LINKS}
    owner, name, value = ("matrices", "rm_depth", 5) if query.startswith("rnn") else (
        "sequences", "rnn_length", 5)  # another tab's setting in the same link
    location = Location(search=f"?{query}&t=100&{name}={value}")
    url.sync(session, location)
    prefix = "This link asks for settings the server refuses: "
    assert session.notice.startswith(prefix + REFUSED[query]), session.notice
    assert len(session.notice) < 400  # a long value is cut
    assert session.training.t == 100  # the rest of the link applies
    defaults[owner][name] = value
    assert {owner: _settings(session, owner) for owner in THEORY_LINKS} == defaults


def test_a_crafted_theory_value_is_shown_literally():
    payload = "<img src=x onerror=alert(1)>*bold*"
    session = Session(Limits())
    url.sync(session, Location(search="?" + urllib.parse.urlencode({"lazy_width": payload})))
    assert session.notice.endswith(f"lazy_width={payload!r} is not a valid value of lazy_width")
    shown = literal(session.notice)  # as the dashboard's notice pane receives it
    assert "<" not in shown and "*" not in shown and html.unescape(shown) == session.notice
