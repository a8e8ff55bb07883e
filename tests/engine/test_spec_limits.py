"""Specs beyond the engine's limits, and specs whose errors were not ValueErrors, are refused
with a ValueError naming the position and the limit, before anything is traced or compiled."""
import time

import numpy as np
import pytest

import engine
from engine import SpecLimits, check_spec

D = ["Dense", {"out_dim": 8}]
READOUT = ["Dense", {"out_dim": 1}]
X = np.ones((3, 4))


def nested(depth: int, combinator: str = "serial") -> list:
    spec = [READOUT]
    for _ in range(depth):
        spec = [["serial", {"layers": spec}]] if combinator == "serial" else \
            [["FanOut", {"num": 1}], ["parallel", {"branches": [spec]}], ["FanInSum", {}]]
    return spec


def refused(spec, message, limits=SpecLimits()):
    """build (and kernel_fn) refuse ``spec`` with ``message``, quickly."""
    start = time.perf_counter()
    with pytest.raises(ValueError, match=message):
        engine.build(spec, limits=limits).kernel_fn(X, None, get="nngp")
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize("spec, message", [
    # the defects: >120 s compile, 52 s trace, 28.8 GB asked of XLA, RecursionError
    ([D, ["Relu", {}]] * 150 + [READOUT],
     r"layer 64: the spec has more than 64 layers .* the limit is max_layers = 64"),
    ([D, ["FanOut", {"num": 10000}], ["FanInSum", {}], READOUT],
     r"layer 1 \(FanOut\): FanOut\(num=10000\): num is beyond the limit max_fan_out = 16"),
    ([["Conv", {"out_chan": 4, "filter_shape": [10000], "padding": "SAME"}]],
     r"layer 0 \(Conv\): Conv\(filter_shape=\[10000\]\): filter_shape is beyond the limit "
     r"max_window = 32"),
    ([["AvgPool", {"window_shape": [2, 64]}]], r"window_shape is beyond the limit max_window = 32"),
    ([["AvgPool", {"window_shape": [2], "strides": [99]}]], r"strides is beyond the limit max_window"),
    (nested(1000), r"^(layer 0 > ){8}layer 0 \(serial\): combinators nest more than 8 deep here; "
                   r"the limit is max_depth = 8"),
    (nested(9, "parallel"), r"layer 1 > branch 0 > .*\(parallel\): combinators nest more than 8"),
    ([["parallel", {"branches": [[D]] * 17}]],
     r"layer 0 \(parallel\): 17 branches is beyond the limit max_fan_out = 16"),
    ([["Dense", {"out_dim": 10 ** 6}]],
     r"layer 0 \(Dense\): Dense\(out_dim=1000000\): out_dim is beyond the limit max_width = 8192"),
    ([["Conv", {"out_chan": 10 ** 5, "filter_shape": [3]}]], r"out_chan is beyond the limit max_width"),
    # an OverflowError inside the compiled kernel before
    ([["Dense", {"out_dim": 1, "W_std": 10 ** 30}]],
     r"layer 0 \(Dense\): Dense\(W_std=1000000000000000000000000000000\): W_std is beyond the "
     r"limit max_magnitude = 1e\+06"),
    ([["Dense", {"out_dim": 1, "b_std": -1e300}]], r"b_std is beyond the limit max_magnitude"),
    ([["Dense", {"out_dim": 1, "W_std": 10 ** 5000}]],
     r"Dense\(W_std=<a number with more than 4300 digits>\)"),
    # a TypeError before
    ([["Dense", {}]], r"layer 0 \(Dense\): missing argument 'out_dim'"),
    ([D, ["Conv", {"out_chan": 3}]], r"layer 1 \(Conv\): missing argument 'filter_shape'"),
])
def test_refused(spec, message):
    refused(spec, message)


def test_limits_are_configurable():
    small = SpecLimits(max_layers=3, max_depth=1, max_fan_out=2, max_window=2, max_width=16,
                       max_magnitude=10.0)
    refused([D, D, D, READOUT], r"layer 3: .* max_layers = 3", small)
    refused(nested(2), r"layer 0 > layer 0 \(serial\): .* max_depth = 1", small)
    refused([["FanOut", {"num": 3}]], r"max_fan_out = 2", small)
    refused([["Dense", {"out_dim": 32}]], r"max_width = 16", small)
    refused([["Dense", {"out_dim": 1, "W_std": 11}]], r"max_magnitude = 10", small)
    engine.build([D, ["Relu", {}], READOUT], limits=small)  # within: built
    with pytest.raises(ValueError, match=r"SpecLimits\(max_layers=0\): max_layers must be a "
                                         r"positive number"):
        SpecLimits(max_layers=0)
    with pytest.raises(ValueError, match=r"check_spec\(limits=3\): expected an engine.SpecLimits"):
        check_spec([D], 3)


def test_the_limits_admit_what_they_bound():
    limits = SpecLimits()
    spec = [D, ["Relu", {}]] * 31 + [D, READOUT]  # 64 layers
    check_spec(spec, limits)
    check_spec(nested(8), limits)
    check_spec([["FanOut", {"num": 16}], ["parallel", {"branches": [[D]] * 16}], ["FanInSum", {}]])
    check_spec([["Conv", {"out_chan": 8192, "filter_shape": [32, 32], "strides": [32, 32]}]])


def test_presets_are_within_the_default_limits():
    from pathlib import Path
    import json
    for path in sorted((Path(__file__).parents[2] / "assets" / "presets").glob("*.json")):
        check_spec(json.loads(path.read_text())["spec"])


def test_messages_quote_long_values_briefly():
    name = "<script>" + "x" * 10_000
    with pytest.raises(ValueError) as info:
        engine.build([[name, {}]])
    assert len(str(info.value)) < 1000 and "<script>xxx" in str(info.value)


def test_seeds_are_bounded():
    """network_seed=2**70 failed the finite job with an integer overflow."""
    x = np.linspace(-1, 1, 4)[:, None]
    args = dict(x_train=x, y_train=x, x_test=x, y_test=x, width=8, ensemble_size=2,
                learning_rate=0.1, steps=[0, 1])
    with pytest.raises(ValueError, match=r"train_ensemble\(seed=1180591620717411303424\): seed "
                                         r"must be a whole number from 0 to 1073741824"):
        engine.train_ensemble([D, ["Relu", {}], READOUT], seed=2 ** 70, **args)
    assert engine.MAX_SEED == 2 ** 30
