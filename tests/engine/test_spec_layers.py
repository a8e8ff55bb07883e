"""The layers added to the JSON spec after the first ones (engine/spec_layers.py): each builds
from JSON into the very network engine.stax builds from Python, computes a finite kernel,
and refuses bad arguments with a message naming the position and the argument; their
limits (engine/spec_limits.py) refuse a spec before anything is built."""
import jax
import numpy as np
import pytest

import engine
from engine import SpecLimits, check_spec, stax
from engine.spec_layers import ADDED, LAYERS, parse_index

IMAGES = np.random.default_rng(0).standard_normal((2, 5, 5, 2))
POINTS = np.random.default_rng(1).standard_normal((3, 4))
SEQUENCES = np.random.default_rng(2).standard_normal((2, 4, 3))
CONV = ["Conv", {"out_chan": 3, "filter_shape": [2, 2]}]
READOUT = ["Dense", {"out_dim": 1}]
TWO = [["FanOut", {"num": 2}],
       ["parallel", {"branches": [[["Dense", {"out_dim": 3}]], [["Dense", {"out_dim": 3}]]]}]]
GRAPH = np.ones((2, 4, 4)) + np.eye(4)

#: layer -> (JSON spec, the same network from engine.stax, inputs, kernel_fn keywords)
CASES = {
    "SumPool": ([CONV, ["SumPool", {"window_shape": [2, 2], "padding": "SAME"}], ["Flatten", {}]],
                [stax.Conv(3, (2, 2)), stax.SumPool((2, 2), padding="SAME"), stax.Flatten()],
                IMAGES, {}),
    "GlobalSumPool": ([CONV, ["GlobalSumPool", {}]], [stax.Conv(3, (2, 2)), stax.GlobalSumPool()],
                      IMAGES, {}),
    "Dropout": ([["Dense", {"out_dim": 3}], ["Dropout", {"rate": 0.5}], READOUT],
                [stax.Dense(3), stax.Dropout(0.5), stax.Dense(1)], POINTS, {}),
    "FanInConcat": (TWO + [["FanInConcat", {}]],
                    [stax.FanOut(2), stax.parallel(stax.Dense(3), stax.Dense(3)),
                     stax.FanInConcat()], POINTS, {}),
    "FanInProd": (TWO + [["FanInProd", {}]],
                  [stax.FanOut(2), stax.parallel(stax.Dense(3), stax.Dense(3)), stax.FanInProd()],
                  POINTS, {}),
    "ExpNormalized": ([["Dense", {"out_dim": 3}], ["ExpNormalized", {"gamma": 2.0, "shift": -1.5}]],
                      [stax.Dense(3), stax.ExpNormalized(gamma=2.0, shift=-1.5)], POINTS, {}),
    "Index": ([["Index", {"idx": "..., 1:4, ::2, :"}], CONV],
              [stax.Index(stax.Slice[..., 1:4, ::2, :]), stax.Conv(3, (2, 2))], IMAGES, {}),
    "ConvTranspose": ([["ConvTranspose", {"out_chan": 3, "filter_shape": [3, 2], "strides": [2, 1],
                                          "padding": "CIRCULAR", "b_std": 0.1}], ["Relu", {}]],
                      [stax.ConvTranspose(3, (3, 2), (2, 1), "CIRCULAR", b_std=0.1), stax.Relu()],
                      IMAGES, {}),
    "ConvLocal": ([["ConvLocal", {"out_chan": 3, "filter_shape": [2, 2], "padding": "SAME",
                                  "parameterization": "standard"}], ["Erf", {}]],
                  [stax.ConvLocal(3, (2, 2), padding="SAME", parameterization="standard"),
                   stax.Erf()], IMAGES, {}),
    "GlobalSelfAttention": (
        [CONV, ["GlobalSelfAttention", {"n_chan_out": 3, "n_chan_key": 2, "n_chan_val": 2,
                                        "n_heads": 2, "pos_emb_type": "CONCAT",
                                        "pos_emb_decay_fn": None, "b_std": 0.1}]],
        [stax.Conv(3, (2, 2)), stax.GlobalSelfAttention(3, 2, 2, 2, pos_emb_type="CONCAT",
                                                        b_std=0.1)], IMAGES, {}),
    "Aggregate": ([["Conv", {"out_chan": 3, "filter_shape": [1]}],
                   ["Aggregate", {"aggregate_axis": [1], "to_dense": None}]],
                  [stax.Conv(3, (1,)), stax.Aggregate(aggregate_axis=(1,))], SEQUENCES,
                  {"pattern": (GRAPH, GRAPH)}),
    "ImageResize": ([["ImageResize", {"shape": [-1, 3, 7, -1], "method": "linear",
                                      "precision": "highest"}], CONV],
                    [stax.ImageResize((-1, 3, 7, -1), "linear"), stax.Conv(3, (2, 2))],
                    IMAGES, {}),
    "Rnn": ([["Rnn", {"out_dim": 3, "activation": ["Erf", {"a": 2.0}], "readout": "mean"}]],
            [stax.Rnn(3, activation=stax.Erf(a=2.0), readout="mean")], SEQUENCES, {}),
}


def test_every_public_stax_layer_is_in_the_json_spec():
    """Every layer constructor engine.stax exports can be named in a JSON spec (Slice builds
    Index's argument, repeat is a Python helper, the enums name choices, Bool, Diagonal and
    MaskedArray belong to custom layers), except Gabor and DotGeneral: Python only until the
    app's editor has help lines for them (every JSON layer is offered or hidden there)."""
    helpers = {"Slice", "repeat", "serial", "parallel", "AggregateImplementation", "Network",
               "Padding", "AttentionMechanism", "PositionalEmbedding", "Bool", "Diagonal",
               "MaskedArray"}
    python_only = {"Gabor", "DotGeneral"}
    public = {n for n in dir(stax) if n[:1].isupper() and n != "LAYERS"} - helpers
    assert public - python_only == set(LAYERS) and python_only <= public
    assert set(CASES) == set(ADDED)


@pytest.mark.parametrize("name", sorted(CASES))
def test_json_builds_the_stax_network_and_a_finite_kernel(name):
    spec, layers, x, kwargs = CASES[name]
    from_json = engine.build(spec).kernel_fn(x, None, ("nngp", "ntk"), **kwargs)
    from_python = stax.serial(*layers)[2](x, None, ("nngp", "ntk"), **kwargs)
    for got, want in ((from_json.nngp, from_python.nngp), (from_json.ntk, from_python.ntk)):
        assert np.all(np.isfinite(got)) and np.abs(got).max() > 0
        np.testing.assert_array_equal(got, want)


def test_json_networks_init_and_apply():
    """The finite network too: init_fn's shape, apply_fn's output from the same params."""
    key = jax.random.PRNGKey(0)
    for name in ("GlobalSelfAttention", "Index"):
        spec, layers, x, _ = CASES[name]
        shape, params = engine.build(spec)[0](key, x.shape)
        np.testing.assert_array_equal(engine.build(spec)[1](params, x),
                                      stax.serial(*layers)[1](params, x))
        assert shape == engine.build(spec)[1](params, x).shape


def test_index_text():
    assert parse_index("..., 1:7, ::2, -1") == (Ellipsis, slice(1, 7), slice(None, None, 2), -1)
    assert parse_index(" 2 ") == 2
    assert parse_index(":") == slice(None)
    assert parse_index("::-1, 0:") == (slice(None, None, -1), slice(0, None))


@pytest.mark.parametrize("spec, message", [
    ([["Index", {"idx": 3}]],
     r"^layer 0 \(Index\): Index\(idx=3\): in a JSON spec idx is NumPy index text such as "
     r"'\.\.\., 1:7, 1:7, :'$"),
    ([["Index", {"idx": " "}]], r"Index\(idx=' '\): in a JSON spec idx is NumPy index text"),
    ([CONV, ["Index", {"idx": "..., __import__('os'), :"}]],
     r"^layer 1 \(Index\): Index\(idx=\"\.\.\., __import__\('os'\), :\"\): entry "
     r"\"__import__\('os'\)\" is not an integer, a slice start:stop:step of integers or "
     r"\.\.\.; expected text such as '\.\.\., 1:7, 1:7, :'$"),
    ([["Index", {"idx": "1:2:3:4"}]], r"entry '1:2:3:4' is not an integer, a slice"),
    ([["Index", {"idx": "..., ..."}]], r"layer 0 \(Index\): Index\(idx=\(Ellipsis, Ellipsis\)\): "
                                       r"at most one \.\.\. \(Ellipsis\)"),
    ([["GlobalSelfAttention", {"n_chan_out": 2, "n_chan_key": 2, "n_chan_val": 2, "n_heads": 1,
                               "pos_emb_decay_fn": "lambda d: d"}]],
     r"^layer 0 \(GlobalSelfAttention\): GlobalSelfAttention\(pos_emb_decay_fn='lambda d: d'\): "
     r"pos_emb_decay_fn takes a Python function, which a JSON spec cannot give; use null \(the "
     r"default\) here, or engine\.stax\.GlobalSelfAttention from Python$"),
    ([["Aggregate", {"to_dense": "np.eye"}]],
     r"^layer 0 \(Aggregate\): Aggregate\(to_dense='np\.eye'\): to_dense takes a Python function"),
    ([["Rnn", {"out_dim": 3, "activation": ["Dense", {"out_dim": 3}]}]],
     r"^layer 0 \(Rnn\): Rnn\(activation=\['Dense', \{'out_dim': 3\}\]\): activation must be an "
     r"elementwise activation entry such as \[\"Erf\", \{\}\]$"),
    ([["Rnn", {"out_dim": 3, "activation": ["Erf", {"a": "x"}]}]],
     r"^layer 0 > activation \(Erf\): Erf\(a='x'\): a must be a number$"),
    ([["Rnn", {"out_dim": 3, "activation": "Erf"}]],
     r"^layer 0 > activation: expected \[name, \{arguments\}\]; got 'Erf'$"),
    # the constructors' own checks, reached from JSON with the position in front
    ([["ConvTranspose", {"out_chan": 3, "filter_shape": [2], "padding": "FULL"}]],
     r"^layer 0 \(ConvTranspose\): ConvTranspose\(padding='FULL'\): expected one of "
     r"\['VALID', 'SAME', 'CIRCULAR'\]$"),
    ([["ConvLocal", {"out_chan": 3, "filter_shape": [2, 0]}]],
     r"^layer 0 \(ConvLocal\): ConvLocal\(filter_shape=\(2, 0\)\): filter_shape must be a tuple"),
    ([["GlobalSelfAttention", {"n_chan_out": 2, "n_chan_key": 2, "n_chan_val": 2, "n_heads": 0}]],
     r"^layer 0 \(GlobalSelfAttention\): GlobalSelfAttention\(n_heads=0\): n_heads must be a "
     r"positive integer$"),
    ([["GlobalSelfAttention", {"n_chan_out": 2, "n_chan_key": 2, "n_chan_val": 2, "n_heads": 1,
                               "attention_mechanism": "softmax"}]],
     r"attention_mechanism='softmax'\): expected one of \['SOFTMAX', 'IDENTITY', 'ABS', 'RELU'\]"),
    ([["ImageResize", {"shape": [2, 4, 4, -1], "method": "linear"}]],
     r"^layer 0 \(ImageResize\): ImageResize\(shape=\(2, 4, 4, -1\)\): the batch axis's entry "
     r"\(shape\[0\]\) must be -1"),
    ([["ImageResize", {"shape": [-1, 4, -1], "method": "bilinear", "precision": "HIGHEST"}]],
     r"ImageResize\(precision='HIGHEST'\): expected None, a jax\.lax\.Precision or its name"),
    ([["ImageResize", {"shape": [-1, 4, -1]}]], r"^layer 0 \(ImageResize\): missing argument "
                                                r"'method'$"),
    ([["Dropout", {"rate": 1.5}]], r"^layer 0 \(Dropout\): Dropout\(rate=1\.5\): rate is the keep "
                                   r"probability and must be in \(0, 1\]$"),
    ([["Aggregate", {"implementation": "CSR"}]],
     r"^layer 0 \(Aggregate\): Aggregate\(implementation='CSR'\): expected 'DENSE' or 'SPARSE'$"),
    ([["FanInConcat", {"axis": 0.5}]], r"FanInConcat\(axis=0\.5\): axis must be an integer"),
    ([["ExpNormalized", {"do_clip": "yes"}]], r"ExpNormalized\(do_clip='yes'\): do_clip must be "
                                              r"True or False"),
    ([["SumPool", {"window_shape": [2], "strides": [1, 1]}]],
     r"^layer 0 \(SumPool\): SumPool\(strides=\(1, 1\)\): strides must have one entry per axis"),
])
def test_build_refuses(spec, message):
    with pytest.raises(ValueError, match=message):
        engine.build(spec)


@pytest.mark.parametrize("spec, message", [
    ([["ConvTranspose", {"out_chan": 3, "filter_shape": [2, 2], "strides": [4, 2]}],
      ["ConvTranspose", {"out_chan": 3, "filter_shape": [2, 2], "strides": [2, 2]}]],
     r"^layer 1 \(ConvTranspose\): ConvTranspose\(strides=\[2, 2\]\): the ConvTranspose layers "
     r"of the spec up to here multiply the number of positions by 32 \(the product of their "
     r"strides\), beyond the limit max_upsampling = 16$"),
    ([["ConvTranspose", {"out_chan": 3, "filter_shape": [2, 2], "strides": [32, 32]}]],
     r"^layer 0 \(ConvTranspose\): ConvTranspose\(strides=\[32, 32\]\): the ConvTranspose layers "
     r"of the spec up to here multiply the number of positions by 1024 \(the product of their "
     r"strides\), beyond the limit max_upsampling = 16$"),
    ([["ConvTranspose", {"out_chan": 3, "filter_shape": [64]}]],
     r"^layer 0 \(ConvTranspose\): ConvTranspose\(filter_shape=\[64\]\): filter_shape is beyond "
     r"the limit max_window = 32$"),
    ([["ConvLocal", {"out_chan": 3, "filter_shape": [3, 40]}]],
     r"ConvLocal\(filter_shape=\[3, 40\]\): filter_shape is beyond the limit max_window = 32"),
    ([["ConvLocal", {"out_chan": 10 ** 4, "filter_shape": [3]}]],
     r"ConvLocal\(out_chan=10000\): out_chan is beyond the limit max_width = 8192"),
    ([["ConvTranspose", {"out_chan": 10 ** 4, "filter_shape": [3]}]],
     r"ConvTranspose\(out_chan=10000\): out_chan is beyond the limit max_width"),
    ([["GlobalSelfAttention", {"n_chan_out": 2, "n_chan_key": 2, "n_chan_val": 2, "n_heads": 17}]],
     r"^layer 0 \(GlobalSelfAttention\): GlobalSelfAttention\(n_heads=17\): n_heads is beyond the "
     r"limit max_heads = 16$"),
    ([["GlobalSelfAttention", {"n_chan_out": 2, "n_chan_key": 10 ** 5, "n_chan_val": 2,
                               "n_heads": 1}]],
     r"GlobalSelfAttention\(n_chan_key=100000\): n_chan_key is beyond the limit max_width"),
    ([["GlobalSelfAttention", {"n_chan_out": 2, "n_chan_key": 2, "n_chan_val": 2, "n_heads": 1,
                               "n_chan_pos_emb": 10 ** 5}]], r"n_chan_pos_emb is beyond the limit"),
    ([["ImageResize", {"shape": [-1, 33, 8, -1], "method": "linear"}]],
     r"^layer 0 \(ImageResize\): ImageResize\(shape=\[-1, 33, 8, -1\]\): shape is beyond the "
     r"limit max_resize = 32$"),
    ([["Rnn", {"out_dim": 10 ** 5}]], r"Rnn\(out_dim=100000\): out_dim is beyond the limit"),
    ([["Rnn", {"out_dim": 3, "activation": ["Polynomial", {"coef": [1.0, 1e300]}]}]],
     r"^layer 0 > activation \(Polynomial\): Polynomial\(coef=\[1\.0, 1e\+300\]\): coef is beyond "
     r"the limit max_magnitude"),
])
def test_limits_refuse(spec, message):
    with pytest.raises(ValueError, match=message):
        engine.build(spec)


def test_upsampling_is_counted_over_the_whole_spec_and_configurable():
    up = ["ConvTranspose", {"out_chan": 3, "filter_shape": [2, 2], "strides": [2, 2]}]
    check_spec([up, up])  # 16 = the limit
    with pytest.raises(ValueError, match=r"^layer 2 > layer 0 \(ConvTranspose\): .* by 64 .*"
                                         r"max_upsampling = 16$"):
        check_spec([up, up, ["serial", {"layers": [up]}]])
    check_spec([up, up, up], SpecLimits(max_upsampling=64))
    with pytest.raises(ValueError, match=r"max_heads = 2$"):
        check_spec([["GlobalSelfAttention", {"n_heads": 3}]], SpecLimits(max_heads=2))
    with pytest.raises(ValueError, match=r"SpecLimits\(max_resize=0\): max_resize must be a "
                                         r"positive number"):
        SpecLimits(max_resize=0)


def test_rnn_activations_count_as_layers():
    rnn = ["Rnn", {"out_dim": 3, "activation": ["Erf", {}]}]
    check_spec([rnn] * 32)
    with pytest.raises(ValueError, match=r"> activation: the spec has more than 64 layers"):
        check_spec([rnn] * 33)
    deep = [rnn]  # an activation entry is an argument, not one more level of nesting
    for _ in range(8):
        deep = [["serial", {"layers": deep}]]
    check_spec(deep)
