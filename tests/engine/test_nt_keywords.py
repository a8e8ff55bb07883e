"""neural-tangents' layer keywords beyond the math: inputs in other layouts (batch_axis /
channel_axis, Conv(dimension_numbers=...), Flatten's batch_axis_out; engine.layers.layout) and
the width scalings ``s`` of the standard parameterization (engine.layers.dense.check_scaling).

Against neural-tangents 0.6.5: nt_keywords_reference.json (written once by
make_nt_keywords_reference.py in the peer venv) holds sixteen networks (channel-first images with
OIHW and HWIO weights, channel-first signals with LayerNorm and sum pooling, batch-last
features, a (features, batch) Flatten, scaled Dense and Conv stacks, a channel-first and a
scaled ConvTranspose and ConvLocal, channel-first attention with summed and concatenated
positional embeddings, ImageResize, Index and DotGeneral): their nngp / ntk, output shape,
params from one key and outputs. Ours equal NT's; a channel-first graph network (Aggregate,
whose pattern the reference maker does not pass) equals the channel-last one on transposed
inputs; Monte Carlo rows check a channel-first and a scaled finite network against our
kernels; the errors name the layer and the layout it received.
"""
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import engine
from engine import stax
from tests.engine.make_nt_keywords_reference import network
from tests.engine.monte_carlo import rel_frobenius

REFERENCE = json.load(open(os.path.join(os.path.dirname(__file__), "nt_keywords_reference.json")))
NCHW = ("NCHW", "OIHW", "NCHW")


def like(ours, theirs):
    """NT's params from JSON (lists, None) as arrays in the nesting of ours."""
    if ours is None:
        assert theirs is None
        return None
    if isinstance(ours, (tuple, list)):
        assert len(ours) == len(theirs)
        return type(ours)(like(a, b) for a, b in zip(ours, theirs))
    return jnp.asarray(theirs)


@pytest.mark.parametrize("case", sorted(REFERENCE))
def test_kernels_params_and_outputs_equal_neural_tangents(case):
    ref = REFERENCE[case]
    init_fn, apply_fn, kernel_fn = network(stax, ref["layers"])
    x1, x2 = np.asarray(ref["x1"]), np.asarray(ref["x2"])
    k = kernel_fn(x1, x2, ("nngp", "ntk"))
    np.testing.assert_allclose(k.nngp, ref["nngp"], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(k.ntk, ref["ntk"], rtol=1e-10, atol=1e-13)
    shape, params = init_fn(jax.random.PRNGKey(1), x1.shape)
    assert list(shape) == ref["output_shape"]
    theirs = like(params, ref["params"])
    for a, b in zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(theirs)):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(apply_fn(theirs, x1), ref["apply"], rtol=1e-10, atol=1e-12)


def test_a_channel_first_network_is_the_channel_last_one_on_transposed_inputs():
    rng = np.random.default_rng(3)
    x1, x2 = rng.standard_normal((4, 5, 6, 3)), rng.standard_normal((2, 5, 6, 3))
    last = stax.serial(stax.Conv(4, (3, 2), padding="SAME", W_std=1.4, b_std=0.1), stax.Relu(),
                       stax.AvgPool((2, 2), padding="SAME"), stax.GlobalAvgPool(),
                       stax.Dense(1, 1.4, 0.1))
    first = stax.serial(stax.Conv(4, (3, 2), padding="SAME", W_std=1.4, b_std=0.1,
                                  dimension_numbers=NCHW), stax.Relu(),
                        stax.AvgPool((2, 2), padding="SAME", channel_axis=1),
                        stax.GlobalAvgPool(channel_axis=1), stax.Dense(1, 1.4, 0.1))
    t = (0, 3, 1, 2)
    a = last[2](x1, x2, ("nngp", "ntk"))
    b = first[2](np.transpose(x1, t), np.transpose(x2, t), ("nngp", "ntk"))
    np.testing.assert_array_equal(a.nngp, b.nngp)
    np.testing.assert_array_equal(a.ntk, b.ntk)
    jitted = jax.jit(first[2], static_argnames="get")(np.transpose(x1, t), None, get="ntk")
    np.testing.assert_allclose(jitted, last[2](x1, None, "ntk"), rtol=1e-12)


@pytest.mark.parametrize("implementation", ["DENSE", "SPARSE"])
def test_a_channel_first_graph_network_is_the_channel_last_one(implementation):
    """Aggregate with channel_axis=1 (neural-tangents' own docstring example: NCH inputs,
    aggregate_axis=2): kernels and outputs equal those of the channel-last network on
    transposed inputs; the pattern keeps its (batch, vertices, vertices) layout."""
    rng = np.random.default_rng(5)
    x1, x2 = rng.standard_normal((3, 6, 2)), rng.standard_normal((2, 6, 2))  # NHC

    def pattern(n):
        if implementation == "SPARSE":
            return rng.integers(0, 6, (n, 7, 1, 2))
        return rng.binomial(1, 0.4, (n, 6, 6)).astype(float)
    p1, p2 = pattern(3), pattern(2)

    def net(axis, channel_axis):
        agg = stax.Aggregate(aggregate_axis=axis, channel_axis=channel_axis,
                             implementation=implementation)
        return stax.serial(stax.Dense(4, 1.3, 0.1, channel_axis=channel_axis), stax.Relu(),
                           agg, stax.Dense(3, 1.2, 0.2, channel_axis=channel_axis), stax.Erf(),
                           agg, stax.GlobalAvgPool(channel_axis=channel_axis),
                           stax.Dense(1, 1.3, 0.1))
    last, first = net(1, -1), net(2, 1)
    t = (0, 2, 1)
    a = last[2](x1, x2, ("nngp", "ntk"), pattern=(p1, p2))
    b = first[2](np.transpose(x1, t), np.transpose(x2, t), ("nngp", "ntk"), pattern=(p1, p2))
    np.testing.assert_allclose(b.nngp, a.nngp, rtol=1e-13)
    np.testing.assert_allclose(b.ntk, a.ntk, rtol=1e-13)
    _, params_last = last[0](jax.random.PRNGKey(0), x1.shape)
    _, params_first = first[0](jax.random.PRNGKey(0), np.transpose(x1, t).shape)
    np.testing.assert_allclose(first[1](params_first, np.transpose(x1, t), pattern=p1),
                               last[1](params_last, x1, pattern=p1), rtol=1e-12)


def test_a_channel_first_finite_network_converges_to_its_kernel():
    """Monte Carlo: 256 initialisations of a width-512 channel-first CNN (its own init and
    apply, no transposes by the test) against kernel_fn."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 2, 4, 4))  # NCHW
    init_fn, apply_fn, kernel_fn = stax.serial(
        stax.Conv(512, (2, 2), padding="SAME", W_std=1.5, b_std=0.2, dimension_numbers=NCHW),
        stax.Relu(), stax.GlobalAvgPool(channel_axis=1), stax.Dense(64, 1.5, 0.2))
    _, params0 = init_fn(jax.random.PRNGKey(0), x.shape)
    keys = jax.random.split(jax.random.PRNGKey(7), 256)

    @jax.jit
    def outer(key):
        params = init_fn(key, x.shape)[1]
        f = apply_fn(params, x)
        return f @ f.T / f.shape[1]

    estimate = np.mean([outer(k) for k in keys], axis=0)
    assert jax.tree_util.tree_structure(params0) is not None
    assert rel_frobenius(estimate, kernel_fn(x, None, "nngp")) < 0.05


def _scaled_mlp(width, s_hidden):
    return stax.serial(
        stax.Dense(width, 1.4, 0.2, parameterization="standard", s=(1, s_hidden)), stax.Erf(),
        stax.Dense(1, 1.4, 0.2, parameterization="standard", s=(s_hidden, 1)))


def _scaled_local(width, s_hidden):
    return stax.serial(
        stax.ConvLocal(width, (2,), W_std=1.4, b_std=0.2, parameterization="standard",
                       s=(1, s_hidden)), stax.Erf(), stax.Flatten(),
        stax.Dense(1, 1.4, 0.2, parameterization="standard", s=(s_hidden, 1)))


@pytest.mark.parametrize("make, shape", [(_scaled_mlp, (4, 3)), (_scaled_local, (4, 3, 2))])
def test_a_scaled_standard_network_converges_to_its_ntk(make, shape):
    """Monte Carlo: the empirical NTK of a standard-parameterization network whose hidden
    layer is s = 2 times wider (512), averaged over 64 initialisations, against kernel_fn's
    NTK. The scaling weights the NTK's Sigma term by n_in / s_in: the kernel is the 256-wide
    unscaled network's, not the 512-wide one's. (neural-tangents' ConvLocal draws out_chan
    channels whatever s_out, and its kernel divides by s_in all the same: there its kernel
    is not its finite network's limit.)"""
    x = np.random.default_rng(5).standard_normal(shape)
    init_fn, apply_fn, kernel_fn = make(256, 2)
    ntk_fn = jax.jit(engine.empirical_ntk_fn(apply_fn, trace_axes=(-1,)))
    keys = jax.random.split(jax.random.PRNGKey(2), 64)
    estimate = np.mean([ntk_fn(x, None, init_fn(k, x.shape)[1]) for k in keys], axis=0)
    exact = kernel_fn(x, None, "ntk")
    assert rel_frobenius(estimate, exact) < 0.05
    np.testing.assert_allclose(make(256, 1)[2](x, None, "ntk"), exact, rtol=1e-12)
    assert rel_frobenius(make(512, 1)[2](x, None, "ntk"), exact) > 0.2


@pytest.mark.parametrize("make, message", [
    (lambda: stax.serial(stax.Conv(2, (2, 2), dimension_numbers=NCHW), stax.Relu(),
                         stax.Dense(1)),
     r"layer 2 \(Dense\): its inputs are laid out as \(batch, channels, spatial, spatial\), "
     r"but as built it takes \(batch, spatial\.\.\., channels\) inputs; give it the inputs' "
     r"batch_axis and channel_axis where it takes them"),
    (lambda: stax.serial(stax.Conv(2, (2, 2)), stax.GlobalAvgPool(channel_axis=1)),
     r"layer 1 \(GlobalAvgPool\): GlobalAvgPool\(batch_axis=0, channel_axis=1\): its inputs "
     r"are laid out as \(batch, spatial, spatial, channels\) \(set by the layers before it\)"),
    (lambda: stax.serial(stax.Conv(2, (2, 2), dimension_numbers=NCHW),
                         stax.Flatten(batch_axis=1)),
     r"Flatten\(batch_axis=1, batch_axis_out=0\): its inputs are laid out as \(batch, "
     r"channels, spatial, spatial\)"),
    (lambda: stax.serial(stax.Conv(2, (2, 2), dimension_numbers=NCHW),
                         stax.LayerNorm(axis=2, channel_axis=1)),
     r"LayerNorm\(axis=2, channel_axis=1\): only the channel axis \(1\) can be normalised"),
    (lambda: stax.serial(stax.Conv(2, (2, 2), dimension_numbers=NCHW), stax.FanOut(2),
                         stax.FanInConcat()),
     r"layer 2 \(FanInConcat\): its inputs are laid out as \(batch, channels, spatial, "
     r"spatial\)"),
])
def test_a_layer_given_another_layout_than_its_inputs_have_is_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()[2](np.ones((2, 3, 4, 4)))


@pytest.mark.parametrize("make, message", [
    (lambda: stax.Conv(2, (2, 2), dimension_numbers=("NCHW", "OIHW", "NHWC")),
     r"out_spec 'NHWC' must equal lhs_spec 'NCHW'"),
    (lambda: stax.Conv(2, (2, 2), dimension_numbers=("NCHW", "OIWH", "NCHW")),
     r"rhs_spec 'OIWH' must name O, I and the spatial axes of lhs_spec in the same order "
     r"\(HW\)"),
    (lambda: stax.Conv(2, (2, 2), dimension_numbers=("NCH", "OIH", "NCH")),
     r"lhs_spec 'NCH' must name N, C and 2 spatial axes"),
    (lambda: stax.Conv(2, (2, 2), dimension_numbers="NCHW"),
     r"expected three strings \(lhs_spec, rhs_spec, out_spec\)"),
    (lambda: stax.Dense(2, batch_axis=1, channel_axis=1),
     r"Dense\(batch_axis=1, channel_axis=1\): the batch and channel axes must differ"),
    (lambda: stax.Dense(2, channel_axis=1.0), r"Dense\(channel_axis=1.0\): expected an "
                                              r"integer axis"),
    (lambda: stax.Flatten(batch_axis_out=2), r"Flatten\(batch_axis_out=2\): out of range for "
                                             r"inputs with 2 axes"),
    (lambda: stax.Dense(2, parameterization="standard", s=(0, 1)),
     r"Dense\(s=\(0, 1\)\): expected two positive integers \(s_in, s_out\)"),
    (lambda: stax.Conv(2, (2, 2), parameterization="standard", s=2),
     r"Conv\(s=2\): expected two positive integers"),
])
def test_bad_layout_arguments_are_refused_when_the_layer_is_built(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_inputs_of_other_ranks_and_mismatched_x2_are_refused_with_the_batch_axis_named():
    kernel_fn = stax.serial(stax.Dense(3, batch_axis=1, channel_axis=0), stax.Relu())[2]
    with pytest.raises(ValueError, match=r"x2 has shape \(4, 2\) but x1 has \(5, 3\); they must "
                                         r"agree except along the batch axis \(1\)"):
        kernel_fn(np.ones((5, 3)), np.ones((4, 2)))
    assert kernel_fn(np.ones((5, 3)), np.ones((5, 2)), "nngp").shape == (3, 2)
    with pytest.raises(ValueError, match=r"Dense\(batch_axis=1, channel_axis=0\): for inputs "
                                         r"with 2 axes|out of range"):
        stax.Dense(3, batch_axis=2, channel_axis=0)[2](np.ones((5, 3)))


def test_engine_batch_refuses_a_network_whose_batch_is_not_axis_0():
    kernel_fn = stax.Dense(3, batch_axis=1, channel_axis=0)[2]
    with pytest.raises(ValueError, match=r"batch: the network takes the batch on axis 1 of its "
                                         r"inputs; blocks are cut along axis 0"):
        engine.batch(kernel_fn, 2)(np.ones((5, 6)))
    nchw = stax.serial(stax.Conv(2, (2, 2), dimension_numbers=NCHW), stax.Relu(),
                       stax.GlobalAvgPool(channel_axis=1))[2]
    x = np.random.default_rng(0).standard_normal((5, 3, 4, 4))
    np.testing.assert_allclose(engine.batch(nchw, 2)(x, None, "ntk"), nchw(x, None, "ntk"),
                               rtol=1e-12)


def test_a_json_spec_keeps_the_dashboards_layout():
    with pytest.raises(ValueError, match=r"layer 0 \(Conv\): Conv\(dimension_numbers="):
        engine.build([["Conv", {"out_chan": 2, "filter_shape": [2, 2],
                                "dimension_numbers": list(NCHW)}]])
    engine.build([["Dense", {"out_dim": 2, "batch_axis": 0, "channel_axis": -1}]])
