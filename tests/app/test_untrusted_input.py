"""Untrusted input (links, the JSON box) opens the page with a message, never a crash or a
server-wide stall; a spec beyond the server's limits is refused before it reaches the session."""
import json
import time
import urllib.parse

import pytest
from panel.io.location import Location

from app.state import spec_input, url
from app.state.limits import Limits, from_environment
from app.state.session import Session
from app.state.settings import DEFAULT_WIDTH
from app.views.stack_editor import StackEditor

READOUT = ["Dense", {"out_dim": 1}]


def _location(query: str) -> Location:
    return Location(search="?" + query)


def _linked(query: str, limits: Limits | None = None) -> Session:
    session = Session(limits or Limits())
    url.sync(session, _location(query))
    return session


def _serial(depth: int) -> list:
    spec = [READOUT]
    for _ in range(depth):
        spec = [["serial", {"layers": spec}]]
    return spec


# ------------------------------------------------------------- links Panel could not read

@pytest.mark.parametrize("query, shown", [
    ("n_train=%C2%B2&t=100", "n_train='²' is not a valid value of n_train"),
    ("seed=" + "9" * 4301 + "&t=100", "seed='99999999999"),
    ("dataset=%C2%B2&t=100", "dataset='²' is not a valid value of dataset"),
])
def test_a_value_panel_cannot_read_is_reported_and_the_rest_applied(query, shown):
    """int('²') and a 4,301-digit int() raised in Panel's parse_query: the page never rendered."""
    location = _location(query)
    session = Session(Limits())
    url.sync(session, location)
    assert session.notice.startswith("This link asks for settings the server refuses: ")
    assert shown in session.notice and len(session.notice) < 400
    assert session.training.t == 100
    assert location.query_params["t"] == 100  # the query reads again


def test_seeds_are_bounded():
    """network_seed=2**70 failed the finite job with an integer overflow."""
    session = _linked(f"network_seed={2 ** 70}&seed={2 ** 40}&image_seed=-1")
    assert "network_seed=1180591620717411303424 is outside the range 0 to 1073741824" in session.notice
    assert "seed=1099511627776 is outside the range 0 to 1073741824" in session.notice
    assert "image_seed=-1.0 is outside the range 0 to 1073741824" in session.notice
    assert session.finite.network_seed == 0 and session.data.seed == 0


# ------------------------------------------------------------- specs beyond the limits

@pytest.mark.parametrize("spec, message", [
    ([["Dense", {"out_dim": 8}], ["FanOut", {"num": 100000}], ["FanInSum", {}], READOUT],
     "spec: layer 1 (FanOut): FanOut(num=100000): num is beyond the limit max_fan_out = 16 "
     "(set IWE_MAX_FAN_OUT or --max-fan-out when starting the server)"),
    ([["Dense", {"out_dim": 8}], ["Relu", {}]] * 150 + [READOUT],
     "spec: layer 64: the spec has more than 64 layers (combinators and nested layers included); "
     "the limit is max_layers = 64 (set IWE_MAX_LAYERS"),
    (_serial(250), "spec: the spec text nests lists and objects 753 deep; a spec within "
                   "max_depth = 8 (set IWE_MAX_DEPTH or --max-depth when starting the server) "
                   "nests at most 37 deep"),
    ([["Conv", {"out_chan": 1, "filter_shape": [10000], "padding": "SAME"}]],
     "filter_shape is beyond the limit max_window = 32 (set IWE_MAX_WINDOW"),
    ([["Dense", {"out_dim": 100000}], READOUT],
     "Dense(out_dim=100000): out_dim is beyond the limit max_width = 4096 (set IWE_MAX_WIDTH"),
])
def test_a_link_with_a_spec_beyond_the_limits_is_refused_at_once(spec, message):
    """One GET with FanOut(num=100000) held the event loop for minutes (5.3 GB, SIGTERM ignored)."""
    start = time.perf_counter()
    session = _linked(urllib.parse.urlencode({"spec": json.dumps(spec), "t": 100}))
    assert time.perf_counter() - start < 20
    assert message in session.notice
    assert session.architecture.width == DEFAULT_WIDTH and len(session.architecture.spec) < 10
    assert session.training.t == 100


def test_a_link_nested_20000_deep_is_refused():
    session = _linked("spec=" + "[" * 20_000 + "]" * 20_000)
    assert "spec: the spec text nests lists and objects 20,000 deep" in session.notice


def test_the_spec_limits_are_configurable():
    limits = from_environment([], {"IWE_MAX_LAYERS": "3", "IWE_MAX_FAN_OUT": "2"})
    spec = [["Dense", {"out_dim": 8}], ["Relu", {}], ["Dense", {"out_dim": 8}], READOUT]
    session = _linked(urllib.parse.urlencode({"spec": json.dumps(spec)}), limits)
    assert "the limit is max_layers = 3 (set IWE_MAX_LAYERS" in session.notice
    with pytest.raises(ValueError, match=r"max_fan_out = 2 \(set IWE_MAX_FAN_OUT"):
        spec_input.parse('[["FanOut", {"num": 3}]]', limits)
    big = from_environment(["--max-layers", "400"])
    assert spec_input.parse(json.dumps(spec * 50), big) == spec * 50


# ------------------------------------------------------------- the JSON box

@pytest.mark.parametrize("text, message", [
    ("[" * 20_000 + "]" * 20_000, "Spec (JSON): the spec text nests lists and objects 20,000 deep"),
    (json.dumps(_serial(250)), "Spec (JSON): the spec text nests lists and objects 753 deep"),
    ('[["FanOut", {"num": 10000}]]', "Spec (JSON): layer 0 (FanOut): FanOut(num=10000): num is "
                                     "beyond the limit max_fan_out = 16"),
    ('[["Dense", {"out_dim": ' + "9" * 5000 + "}]]", "Spec (JSON): Exceeds the limit (4300 digits)"),
    ("x" * 200_000, "Spec (JSON): the spec text has 200,000 characters; at most 100,000 are read"),
    ("[1, 2", "Spec (JSON): Expecting ',' delimiter"),
    ('{"a": 1}', "Spec (JSON): expected a list of [name, {arguments}] layers"),
])
def test_the_json_box_refuses_with_a_message(text, message):
    """RecursionError in the server log with nothing shown, before."""
    session = Session(Limits())
    editor = StackEditor(session=session)
    before = session.architecture.spec
    editor.spec_text = text
    editor.apply_json()
    assert editor.notice.startswith(message)
    assert session.architecture.spec == before


def test_the_editor_refuses_a_layer_beyond_the_limit():
    session = Session(Limits(max_layers=5))
    editor = StackEditor(session=session)
    before = session.architecture.spec
    assert len(before) == 5
    editor.add_layer()
    assert editor.notice.startswith("layer 5: the spec has more than 5 layers")
    assert session.architecture.spec == before


def test_nesting_is_measured_outside_strings():
    assert spec_input.nesting('[["a[[[", {"b": "\\"[{"}]]') == 3
    assert spec_input.nesting("") == 0


@pytest.mark.parametrize("text, message", [
    ('[["Dense", {}]]', "layer 0 (Dense): missing argument 'out_dim'"),  # a TypeError before
    ('[["Dense", {"out_dim": 1, "W_std": 1e300}]]',  # an OverflowError before (as an integer)
     "layer 0 (Dense): Dense(W_std=1e+300): W_std is beyond the limit max_magnitude = 1e+06"),
])
def test_an_engine_refusal_from_the_json_box_is_a_message(text, message):
    session = Session(Limits())
    editor = StackEditor(session=session)
    editor.spec_text = text
    editor.apply_json()
    if not editor.notice:  # applied: the closed form reports the engine's refusal
        getattr(session, "wait", lambda: None)()
    assert message in (editor.notice + session.stack_error)


def test_the_address_the_browser_sends_back_is_cleaned_before_panel_reads_it():
    """The page sends window.location.search once it loads: a value Panel cannot read would
    raise in every later URL update (each slider move), a spec would bypass the limits."""
    session = Session(Limits())
    location = _location("t=100")
    url.sync(session, location)
    fan_out = json.dumps([["FanOut", {"num": 100000}]])
    location.search = "?" + urllib.parse.urlencode({"n_train": "²", "spec": fan_out, "t": 10})
    assert location.query_params == {"t": 10}
    assert session.training.t == 10 and session.data.n_train == 10
    assert session.architecture.spec[0][0] == "Dense"
    session.training.t = 316  # the URL follows the session again
    session.architecture.width = 512  # Panel writes the spec back as a Python literal: kept
    assert location.query_params["t"] == 316
    assert location.query_params["spec"] == session.architecture.spec
