"""stax.ConvTranspose and stax.ConvLocal: neural-tangents' numbers, Monte Carlo, messages.

Kernels: every case of nt_conv_variants_reference.json (written once by
make_nt_conv_variants_reference.py with neural-tangents 0.6.5 in the peer venv) is
layer -> Relu -> Flatten or GlobalAvgPool -> Dense(1) on 1-D signals (N, 5, 2) or 2-D images
(N, 4, 3, 2): each layer x padding x strides x parameterization, in 1-D and 2-D, Flatten
(the diagonal layout) and GlobalAvgPool (the full layout) alternating, plus edge cases (a
filter shorter than the stride, longer than the input, no bias). Ours equal NT's to 1e-6
relative in float64 (seen: 2e-15). The cases of one layer and input kind are one jitted
function of the inputs' Kernel (kernel_fn composition; one compile instead of one per case
keeps the file cheap); kernel_fn(x1, x2) itself runs in the law and Monte Carlo tests.
Finite networks: NT's params from one key equal ours, and our apply_fn on NT's params gives
NT's outputs. The Monte Carlo rows check the finite networks against our kernels.
"""
import functools
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from engine import stax
from engine.kernel import input_kernel
from tests.engine.monte_carlo import rel_frobenius

REFERENCE = json.load(open(os.path.join(os.path.dirname(__file__),
                                        "nt_conv_variants_reference.json")))
INPUTS = {name: np.asarray(x) for name, x in REFERENCE["inputs"].items()}
W_STD, B_STD = 1.3, 0.2  # the reference's readout Dense


def layer(name, kwargs):
    kwargs = dict(kwargs, filter_shape=tuple(kwargs["filter_shape"]))
    if kwargs.get("strides") is not None:
        kwargs["strides"] = tuple(kwargs["strides"])
    return getattr(stax, name)(**kwargs)


def network(case):
    pool = stax.Flatten() if case["readout"] == "flatten" else stax.GlobalAvgPool()
    parameterization = case["kwargs"].get("parameterization", "ntk")
    return stax.serial(layer(case["layer"], case["kwargs"]), stax.Relu(), pool,
                       stax.Dense(1, W_STD, B_STD, parameterization=parameterization))


@functools.lru_cache(maxsize=None)
def group_kernels(layer_name, kind):
    """Our (nngp, ntk) of every reference case of one layer and input kind, one jit.

    Each network's kernel_fn is applied to the inputs' Kernel (composition), in the layout
    kernel_fn(x1, x2) picks for it: per position for Flatten, per pair for GlobalAvgPool.
    """
    names = [n for n, c in REFERENCE["kernels"].items()
             if c["layer"] == layer_name and c["input"] == kind]
    cases = [REFERENCE["kernels"][n] for n in names]
    kernel_fns = [network(case)[2] for case in cases]

    def compute(x1, x2):
        inputs = {readout: input_kernel(x1, x2, diagonal=readout == "flatten")
                  for readout in ("flatten", "gap")}
        return [fn(inputs[case["readout"]], get=("nngp", "ntk"))
                for fn, case in zip(kernel_fns, cases)]
    return dict(zip(names, jax.jit(compute)(INPUTS[kind + "1"], INPUTS[kind + "2"])))


@pytest.mark.parametrize("name", sorted(REFERENCE["kernels"]))
def test_kernels_equal_neural_tangents(name):
    case = REFERENCE["kernels"][name]
    ours = group_kernels(case["layer"], case["input"])[name]
    for get in ("nngp", "ntk"):
        np.testing.assert_allclose(getattr(ours, get), np.asarray(case[get]), rtol=1e-6, atol=0,
                                   err_msg=f"{name}: {get}")


def test_reference_covers_the_grid():
    """Each layer x input kind x padding x strides x parameterization, and both readouts."""
    seen = {(c["layer"], c["input"], c["kwargs"].get("padding", "VALID"), str(c["kwargs"].get("strides")),
             c["kwargs"].get("parameterization", "ntk"), c["readout"])
            for c in REFERENCE["kernels"].values()}
    grid = {key for key in seen if key[3] in ("[1]", "[2]", "[1, 1]", "[2, 1]")}
    assert len({key[:5] for key in grid}) == 2 * 2 * 3 * 2 * 2
    for name in ("ConvTranspose", "ConvLocal"):
        for padding in ("VALID", "SAME", "CIRCULAR"):
            assert {k[5] for k in grid if k[0] == name and k[2] == padding} == {"flatten", "gap"}


# ---------------------------------------------------------------- finite networks, params

@pytest.mark.parametrize("name", sorted(REFERENCE["apply"]))
def test_params_and_apply_equal_neural_tangents(name):
    case = REFERENCE["apply"][name]
    x = INPUTS[case["input"] + "1"]
    init_fn, apply_fn, _ = layer(case["layer"], case["kwargs"])
    out_shape, params = init_fn(jax.random.PRNGKey(1), x.shape)
    theirs = [None if p is None else np.asarray(p) for p in case["params"]]
    assert tuple(out_shape) == tuple(case["out_shape"])
    assert isinstance(params, tuple) and len(params) == 2
    assert [None if p is None else p.shape for p in params] == \
        [None if p is None else p.shape for p in theirs]
    for ours, nt_value in zip(params, theirs):  # the same key gives the same numbers
        if nt_value is not None:
            np.testing.assert_allclose(ours, nt_value, rtol=1e-12, atol=1e-14)
    y = apply_fn([None if p is None else jnp.asarray(p) for p in theirs], x)
    assert y.shape == tuple(case["out_shape"])
    np.testing.assert_allclose(y, np.asarray(case["output"]), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- laws

def test_conv_local_equals_conv_under_flatten_and_zeroes_other_pairs():
    """Without pooling an LCN has the CNN's kernel (Novak et al. 2019); between different
    positions its covariance is zero, on the diagonal it is Conv's."""
    x1, x2 = INPUTS["image1"], INPUTS["image2"]
    kwargs = dict(out_chan=3, filter_shape=(2, 2), padding="SAME", W_std=W_STD, b_std=B_STD)

    def head(make):
        return stax.serial(make(**kwargs), stax.Relu(), make(**kwargs))
    flat = [stax.serial(head(make), stax.Flatten(), stax.Dense(1))[2](x1, x2, ("nngp", "ntk"))
            for make in (stax.Conv, stax.ConvLocal)]
    for get in (0, 1):
        np.testing.assert_allclose(flat[1][get], flat[0][get], rtol=1e-12)
    # AvgPool((1, 1)) asks for the full layout (N1, N2, H, H, W, W) and changes nothing
    conv, local = (stax.serial(head(make), stax.AvgPool((1, 1)))[2](x1, x2, "nngp")
                   for make in (stax.Conv, stax.ConvLocal))
    eye = np.einsum("hi,wj->hiwj", np.eye(4), np.eye(3)).astype(bool)
    np.testing.assert_array_equal(np.asarray(local)[:, :, ~eye], 0.0)
    np.testing.assert_allclose(np.asarray(local)[:, :, eye], np.asarray(conv)[:, :, eye],
                               rtol=1e-12)


# ---------------------------------------------------------------- messages

X1D = np.ones((2, 5, 2))


@pytest.mark.parametrize("make", [stax.ConvTranspose, stax.ConvLocal],
                         ids=["ConvTranspose", "ConvLocal"])
def test_refusals(make):
    """What neural-tangents refuses: a bad padding or parameterization, a filter of another
    rank than the inputs, flat inputs, empty filters, strides of another rank than the filter
    (NT refuses those for ConvLocal only); and, as our Conv does, out_chan < 1 and W_std < 0."""
    name = make.__name__
    cases = [
        (lambda: make(3, (2,), padding="FOO"),
         rf"{name}\(padding='FOO'\): expected one of \['VALID', 'SAME', 'CIRCULAR'\]"),
        (lambda: make(3, (2,), parameterization="foo"),
         rf"{name}\(parameterization='foo'\): expected one of \['ntk', 'standard'\]"),
        (lambda: make(3, (2, 2))[2](X1D),
         rf"{name}: filter_shape \(2, 2\) has one entry per spatial axis, but inputs of shape "
         r"\('N', 5, 2\) have 1"),
        (lambda: make(3, (2,))[0](jax.random.PRNGKey(0), (2, 3)),
         rf"{name}: needs inputs with 1 or 2 spatial axes \(NWC or NHWC\); got inputs of shape "
         r"\('N', 3\)"),
        (lambda: make(3, (0,)),
         rf"{name}\(filter_shape=\(0,\)\): filter_shape must be a tuple of 1 or 2 positive "
         "integers, one per spatial axis"),
        (lambda: make(3, (2,), strides=(1, 1)),
         rf"{name}\(strides=\(1, 1\)\): strides must have one entry per axis of "
         r"filter_shape=\(2,\)"),
        (lambda: make(0, (2,)), rf"{name}\(out_chan=0\): out_chan must be a positive integer"),
        (lambda: make(3, (2,), W_std=-1.0), rf"{name}\(W_std=-1.0\): W_std must be non-negative"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()


def test_conv_local_valid_filter_must_fit_but_transpose_needs_not():
    """neural-tangents gives ConvLocal an empty output here; we refuse it as Conv does."""
    with pytest.raises(ValueError, match=r"ConvLocal: filter_shape \(7,\) is larger than the "
                                         r"input's spatial size \(5,\) with padding='VALID'"):
        stax.ConvLocal(3, (7,))[2](X1D)
    assert stax.ConvTranspose(3, (7,))[0](jax.random.PRNGKey(0), X1D.shape)[0] == (2, 11, 3)


# ---------------------------------------------------------------- Monte Carlo

WIDTH, SAMPLES, TOLERANCE = 256, 128, 0.06


def transpose_2d(n, r):
    return stax.serial(stax.ConvTranspose(n, (2, 2), (2, 1), "SAME", 1.4, 0.1), stax.Relu(),
                       stax.GlobalAvgPool(), stax.Dense(r, 1.4, 0.1))


def local_1d_standard(n, r):
    return stax.serial(
        stax.ConvLocal(n, (3,), (2,), "CIRCULAR", 1.4, 0.1, parameterization="standard"),
        stax.Relu(),
        stax.GlobalAvgPool(), stax.Dense(r, 1.4, 0.1, parameterization="standard"))


#: GlobalAvgPool readouts: the kernels between positions matter (the diagonal layout is
#: compared with neural-tangents above, and the finite layers' outputs too)
MC_ROWS = {"ConvTranspose_2d": (transpose_2d, (3, 3, 2)),
           "ConvLocal_1d_standard": (local_1d_standard, (5, 2))}


def monte_carlo(make, x1, x2):
    """(nngp, ntk) over SAMPLES initialisations: f f^T / WIDTH with a readout of WIDTH
    outputs, and J J^T summed over all parameters with one output."""
    wide_init, wide_apply, _ = make(WIDTH, WIDTH)
    init_fn, apply_fn, _ = make(WIDTH, 1)

    def one(key):
        _, params = wide_init(key, x1.shape)
        nngp = wide_apply(params, x1) @ wide_apply(params, x2).T / WIDTH
        _, params = init_fn(key, x1.shape)
        j1, j2 = (jax.jacrev(lambda p, x=x: apply_fn(p, x))(params) for x in (x1, x2))
        ntk = sum(jnp.einsum("az,bz->ab", a.reshape(len(x1), -1), b.reshape(len(x2), -1))
                  for a, b in zip(jax.tree_util.tree_leaves(j1), jax.tree_util.tree_leaves(j2)))
        return nngp, ntk

    keys = jax.random.split(jax.random.PRNGKey(0), SAMPLES)
    nngp, ntk = jax.jit(lambda keys: jax.lax.map(one, keys))(keys)
    return np.asarray(nngp.mean(0)), np.asarray(ntk.mean(0))


def correlated_inputs(rng, n, shape):
    """One value per channel shared by every position, plus half as much noise per position."""
    common = rng.standard_normal((n,) + (1,) * (len(shape) - 1) + shape[-1:])
    return common + 0.5 * rng.standard_normal((n,) + shape)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MC_ROWS))
def test_finite_networks_match_kernels(name):
    """Width 256, 128 initialisations, within 6 % relative Frobenius on NNGP and NTK.

    The sampling error of a mean over 128 networks of width 256 is about 1 % (seen: 0.4-1.1 %);
    6 % leaves room for other seeds, not for a wrong rule. The inputs are correlated across
    positions so that covariances between positions weigh: Conv's kernel in place of
    ConvLocal's is about 60 % off here, ConvTranspose's with VALID in place of SAME padding
    about 16 %.
    """
    make, shape = MC_ROWS[name]
    rng = np.random.default_rng(3)
    x1, x2 = correlated_inputs(rng, 3, shape), correlated_inputs(rng, 2, shape)
    nngp_mc, ntk_mc = monte_carlo(make, jnp.asarray(x1), jnp.asarray(x2))
    exact = make(WIDTH, 1)[2](x1, x2, ("nngp", "ntk"))
    errors = rel_frobenius(nngp_mc, exact.nngp), rel_frobenius(ntk_mc, exact.ntk)
    assert max(errors) < TOLERANCE, errors
