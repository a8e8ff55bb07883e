"""Dropout, FanInConcat, FanInProd, ExpNormalized, repeat, Index: numbers and messages.

The kernels agree with neural-tangents 0.6.5 on the networks in NT_CASES: its values,
computed once in the peer venv (/work/shared/peers/neural_tangents) by the same code with
``from neural_tangents import stax``, are recorded in nt_layers_reference.json. Finite
networks are checked against these kernels in test_layers_monte_carlo.py.
"""
import json
import os

import jax
import numpy as np
import pytest

import engine as nt
from engine import stax

RNG = np.random.default_rng(0)
X1, X2 = RNG.standard_normal((4, 3)), RNG.standard_normal((3, 3))
I1, I2 = RNG.standard_normal((3, 4, 4, 2)), RNG.standard_normal((2, 4, 4, 2))
REFERENCE = os.path.join(os.path.dirname(__file__), "nt_layers_reference.json")


def D(n, w=1.5, b=0.1):
    return stax.Dense(n, w, b)


def C(n, f, **kwargs):
    return stax.Conv(n, f, W_std=1.5, b_std=0.1, **kwargs)


def _two_convs(axis, pool):
    return stax.serial(C(8, (2, 2)), stax.FanOut(2),
                       stax.parallel(C(8, (1, 1)),
                                     stax.serial(stax.Relu(), C(8, (2, 1), padding="SAME"))),
                       stax.FanInConcat(axis=axis), stax.Relu(), pool, D(1))


NT_CASES = {
    "dropout_dense": (lambda: stax.serial(D(64), stax.Relu(), stax.Dropout(0.8), D(1)), "flat"),
    "dropout_conv_gap": (lambda: stax.serial(C(8, (2, 2), padding="SAME"), stax.Relu(),
                                             stax.Dropout(0.7), stax.GlobalAvgPool(), D(1)),
                         "img"),
    "dropout_conv_flatten": (lambda: stax.serial(C(8, (2, 2)), stax.Relu(), stax.Dropout(0.7),
                                                 stax.Flatten(), D(1)), "img"),
    "concat_channels": (lambda: stax.serial(
        D(8), stax.FanOut(2), stax.parallel(D(8), stax.serial(stax.Relu(), D(16, 1.2, 0.3))),
        stax.FanInConcat(), D(1)), "flat"),
    "concat_spatial_flatten": (lambda: _two_convs(1, stax.Flatten()), "img"),
    "prod": (lambda: stax.serial(
        D(8), stax.FanOut(3),
        stax.parallel(D(8), stax.serial(stax.Relu(), D(8)), stax.serial(stax.Erf(), D(8, 1.0, 0.5))),
        stax.FanInProd(), D(1)), "flat"),
    "exp_normalized": (lambda: stax.serial(D(8), stax.Relu(), D(8),
                                           stax.ExpNormalized(2.0, -1.0, True), D(1)), "flat"),
    "repeat": (lambda: stax.serial(D(8), stax.repeat(stax.serial(D(8), stax.Relu()), 4), D(1)),
               "flat"),
    "index_crop": (lambda: stax.serial(C(8, (2, 2), padding="SAME"), stax.Relu(),
                                       stax.Index(stax.Slice[:, 1:3, ::2, :]), C(8, (2, 1)),
                                       stax.Relu(), stax.GlobalAvgPool(), D(1)), "img"),
    "index_row": (lambda: stax.serial(C(8, (2, 2), padding="SAME"), stax.Relu(),
                                      stax.Index(stax.Slice[:, 0, ...]), C(8, (2,)), stax.Relu(),
                                      stax.Flatten(), D(1)), "img"),
}


@pytest.mark.parametrize("name", sorted(NT_CASES))
def test_kernels_equal_neural_tangents(name):
    reference = json.load(open(REFERENCE))[name]
    make, kind = NT_CASES[name]
    a, b = (X1, X2) if kind == "flat" else (I1, I2)
    kernel_fn = make()[2]
    tag, x2 = ("self", None) if name.startswith("dropout") else ("cross", b)  # one compile
    k = kernel_fn(a, x2, ("nngp", "ntk"))
    for ours, theirs in zip(k, reference[tag]):
        theirs = np.asarray(theirs)
        # 1e-8: neural-tangents' ReLU rounds the diagonal of equal inputs differently (1.5e-9)
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-8 * np.abs(theirs).max())


# ---------------------------------------------------------------- Dropout

def test_dropout_scales_only_an_input_with_itself():
    base = stax.serial(D(16), stax.Relu())
    k0 = base[2](X1, X2, ("nngp", "ntk"))
    with_dropout = stax.serial(D(16), stax.Relu(), stax.Dropout(0.5))[2]
    cross = with_dropout(X1, X2, ("nngp", "ntk"))
    np.testing.assert_allclose(cross.nngp, k0.nngp, rtol=1e-14)  # different inputs: unchanged
    self0, self1 = base[2](X1, None, "ntk"), with_dropout(X1, None, "ntk")
    np.testing.assert_allclose(np.diag(self1), 2 * np.diag(self0), rtol=1e-14)
    off = ~np.eye(4, dtype=bool)
    np.testing.assert_allclose(self1[off], self0[off], rtol=1e-14)
    # x2 equal to x1 counts as the same inputs (neural-tangents compares values)
    np.testing.assert_array_equal(with_dropout(X1, X1.copy(), "nngp"), with_dropout(X1, None, "nngp"))


def test_dropout_on_a_kernel_reads_its_x1_is_x2():
    """kernel_fn(kernel) of a network with Dropout: neural-tangents' composition."""
    _, _, first = stax.serial(D(16), stax.Relu())
    _, _, second = stax.serial(stax.Dropout(0.5), D(1))
    _, _, whole = stax.serial(D(16), stax.Relu(), stax.Dropout(0.5), D(1))
    for other in (None, X1.copy(), X2):
        np.testing.assert_allclose(second(first(X1, other), get="ntk"),
                                   whole(X1, other, "ntk"), rtol=1e-13)


def test_dropout_kernel_under_batch_and_jit():
    """engine.batch's tiles and a jitted kernel_fn find the same inputs by value too."""
    kernel_fn = stax.serial(D(8), stax.Relu(), stax.Dropout(0.5), D(1))[2]
    x = np.concatenate([X1, X2, X1[:3]])  # 10 inputs, tiles of 5
    whole = kernel_fn(x, None, "ntk")
    # equal to rounding (tiles are other programs: XLA may order a sum differently); a
    # missed repeated input would be off by Dropout's factor on its diagonal
    np.testing.assert_allclose(nt.batch(kernel_fn, batch_size=5)(x, None, "ntk"), whole,
                               rtol=1e-13)
    np.testing.assert_allclose(jax.jit(kernel_fn, static_argnames="get")(x, x, get="ntk"),
                               whole, rtol=1e-13)


def test_dropout_full_layout_scales_equal_positions_only():
    conv = stax.serial(C(4, (2, 2), padding="SAME"), stax.Relu())
    k0 = stax.serial(conv, stax.AvgPool((1, 1)))[2](I1[:2], None, "nngp")  # full layout
    k1 = stax.serial(conv, stax.Dropout(0.25), stax.AvgPool((1, 1)))[2](I1[:2], None, "nngp")
    ratio = np.asarray(k1 / k0)
    assert ratio[0, 0, 1, 1, 2, 2] == pytest.approx(4.0) and ratio[0, 0, 1, 2, 2, 2] == 1.0
    assert ratio[0, 1, 1, 1, 2, 2] == 1.0


def test_dropout_finite_layer_uses_the_key():
    init_fn, apply_fn, _ = stax.serial(D(32), stax.Dropout(0.5), D(2))
    _, params = init_fn(jax.random.PRNGKey(0), X1.shape)
    a = apply_fn(params, X1, rng=jax.random.PRNGKey(1))
    np.testing.assert_array_equal(a, apply_fn(params, X1, rng=jax.random.PRNGKey(1)))
    assert not np.allclose(a, apply_fn(params, X1, rng=jax.random.PRNGKey(2)))
    test_mode = stax.serial(D(32), stax.Dropout(0.5, mode="test"), D(2))
    np.testing.assert_array_equal(test_mode[1](params, X1),
                                  stax.serial(D(32), D(2))[1]([params[0], params[2]], X1))


def test_dropout_messages():
    with pytest.raises(ValueError, match=r"Dropout\(rate=0\): rate is the keep probability and "
                                         r"must be in \(0, 1\]"):
        stax.Dropout(0)
    with pytest.raises(ValueError, match=r"Dropout\(mode='eval'\): expected one of \['train', "
                                         r"'test'\]"):
        stax.Dropout(0.5, "eval")
    init_fn, apply_fn, kernel_fn = stax.serial(D(4), stax.Dropout(0.5))
    _, params = init_fn(jax.random.PRNGKey(0), X1.shape)
    with pytest.raises(ValueError, match=r"Dropout\(mode='train'\): apply_fn needs a random "
                                         r"key, apply_fn\(params, x, rng=key\)"):
        apply_fn(params, X1)
    k = stax.Dense(4)[2](X1).replace(x1_is_x2=None)  # a Kernel made by hand
    with pytest.raises(ValueError, match=r"the kernel does not say which inputs of x1 and x2 "
                                         r"are the same \(its x1_is_x2 is None\); pass a "
                                         r"Kernel made by a kernel_fn"):
        kernel_fn(k)


# ---------------------------------------------------------------- FanInConcat / FanInProd

def test_concat_channels_weighs_by_channel_counts():
    branches = stax.parallel(D(8), stax.serial(stax.Relu(), D(24, 0.7)))
    net = stax.serial(D(8), stax.FanOut(2), branches, stax.FanInConcat())
    first = D(8)[2](X1, X2, None)
    parts = [D(8)[2](first), stax.serial(stax.Relu(), D(24, 0.7))[2](first)]
    k = net[2](X1, X2, ("nngp", "ntk"))
    np.testing.assert_allclose(k.nngp, (8 * parts[0].nngp + 24 * parts[1].nngp) / 32, rtol=1e-13)
    assert net[0](jax.random.PRNGKey(0), X1.shape)[0] == (4, 32)


def test_fan_in_messages():
    two = stax.serial(D(4), stax.FanOut(2), stax.parallel(D(4), D(6)))
    with pytest.raises(ValueError, match=r"layer 1 \(FanInConcat\): branches must agree on "
                                         r"every axis but the concatenated one"):
        stax.serial(two, stax.FanInConcat(axis=0))[2](X1)
    with pytest.raises(ValueError, match=r"layer 1 \(FanInProd\): branches have different shapes"):
        stax.serial(two, stax.FanInProd())[2](X1)
    with pytest.raises(ValueError, match=r"FanInConcat\(axis=3\): inputs of shape \('N', 4\) "
                                         r"have no such axis"):
        stax.serial(D(4), stax.FanOut(2), stax.FanInConcat(axis=3))[2](X1)
    with pytest.raises(ValueError, match=r"layer 1 \(FanInConcat\): there are no branches to join"):
        stax.serial(D(4), stax.FanInConcat())[2](X1)
    relu_branches = stax.serial(C(4, (2, 2)), stax.Relu(), stax.FanOut(2))
    with pytest.raises(ValueError, match=r"concatenating along a spatial axis needs Gaussian "
                                         r"branches"):
        stax.serial(relu_branches, stax.FanInConcat(axis=1))[2](I1)
    with pytest.raises(ValueError, match=r"FanInConcat\(axis=0\): the kernel of a "
                                         r"concatenation along the batch axis is not supported"):
        stax.serial(D(4), stax.FanOut(2), stax.FanInConcat(axis=0))[2](X1)


# ---------------------------------------------------------------- ExpNormalized

def test_exp_normalized_formula():
    gamma, shift = 1.7, -0.4
    first = D(6, 1.3, 0.2)
    k0 = first[2](X1, X2, None)
    k = stax.serial(first, stax.ExpNormalized(gamma, shift))[2](X1, X2, None)
    q1, q2 = np.asarray(k0.cov1)[:, None], np.asarray(k0.cov2)[None, :]
    factor = np.exp(gamma * (k0.nngp / np.sqrt(q1 * q2) + shift))
    np.testing.assert_allclose(k.nngp, np.sqrt(q1 * q2) * factor, rtol=1e-13)
    np.testing.assert_allclose(k.ntk, gamma * k0.ntk * factor, rtol=1e-13)
    np.testing.assert_allclose(k.cov1, k0.cov1 * np.exp(gamma * (1 + shift)), rtol=1e-13)


def test_exp_normalized_messages():
    init_fn, apply_fn, _ = stax.serial(D(2), stax.ExpNormalized())
    _, params = init_fn(jax.random.PRNGKey(0), X1.shape)
    with pytest.raises(ValueError, match=r"ExpNormalized: there is no finite network for this "
                                         r"kernel map; use kernel_fn only"):
        apply_fn(params, X1)
    with pytest.raises(ValueError, match=r"ExpNormalized\(do_clip=1\): do_clip must be True or "
                                         r"False"):
        stax.ExpNormalized(do_clip=1)


# ---------------------------------------------------------------- repeat

def test_repeat_is_serial_of_copies_with_stacked_params():
    block = stax.serial(D(8), stax.Relu())
    looped = stax.serial(D(8), stax.repeat(block, 3), D(1))
    unrolled = stax.serial(D(8), block, block, block, D(1))
    np.testing.assert_allclose(looped[2](X1, X2, "ntk"), unrolled[2](X1, X2, "ntk"), rtol=1e-13)
    _, params = looped[0](jax.random.PRNGKey(0), X1.shape)
    W, b = params[1][0]
    assert W.shape == (3, 8, 8) and b.shape == (3, 1, 8)  # n copies along a leading axis
    per_copy = [[(W[i], b[i]), ()] for i in range(3)]
    np.testing.assert_allclose(looped[1](params, X1),
                               unrolled[1]([params[0]] + per_copy + [params[2]], X1), rtol=1e-13)
    identity = stax.serial(D(8), stax.repeat(block, 0))
    np.testing.assert_array_equal(identity[2](X1, None, "nngp"), D(8)[2](X1, None, "nngp"))


def test_repeat_message():
    with pytest.raises(ValueError, match=r"repeat\(Dense, n=2\): the layer must "
                                         r"keep its input's shape \('N', 3\); it outputs "
                                         r"\('N', 8\)"):
        stax.repeat(D(8), 2)[2](X1)
    with pytest.raises(ValueError, match=r"repeat\(n=-1\): n must be non-negative"):
        stax.repeat(D(8), -1)


# ---------------------------------------------------------------- Index

def test_index_matches_indexing_the_kernel():
    conv = stax.serial(C(4, (2, 2), padding="SAME"), stax.Relu())
    full = stax.serial(conv, stax.AvgPool((1, 1)))[2](I1, I2, "nngp")  # (N1, N2, H, H, W, W)
    cropped = stax.serial(conv, stax.Index(stax.Slice[:, 1:3, ::2]), stax.AvgPool((1, 1)))
    np.testing.assert_allclose(cropped[2](I1, I2, "nngp"), full[:, :, 1:3, 1:3, ::2, ::2],
                               rtol=1e-13)
    _, params = cropped[0](jax.random.PRNGKey(0), I1.shape)
    assert cropped[1](params, I1).shape == (3, 2, 2, 4)


def test_index_messages():
    with pytest.raises(ValueError, match=r"an integer index on the batch axis would drop it"):
        stax.serial(D(2), stax.Index(stax.Slice[0]))[2](X1)
    with pytest.raises(ValueError, match=r"each entry must be an integer, a slice or \.\.\."):
        stax.Index(stax.Slice[:, None])
    with pytest.raises(ValueError, match=r"in kernel_fn the batch and channel axes must be ':'"):
        stax.serial(D(2), stax.Index(stax.Slice[::2]))[2](X1)
    with pytest.raises(ValueError, match=r"Index\(idx=\(slice\(None, None, None\), slice\(5, "
                                         r"None, None\)\)\): selects nothing from inputs of "
                                         r"shape \('N', 2\)"):
        stax.serial(D(2), stax.Index(stax.Slice[:, 5:]))[2](X1)
    with pytest.raises(ValueError, match=r"Index\(idx=\(slice\(None, None, None\), 9, slice\("
                                         r"None, None, None\)\)\): does not fit inputs of shape "
                                         r"\('N', 3, 2\): index 9 is out of bounds for axis 1 "
                                         r"with size 3"):
        stax.serial(stax.Identity(), stax.Index((slice(None), 9, slice(None))))[2](np.ones((2, 3, 2)))


# ---------------------------------------------------------------- get='cov1' / 'cov2'

def test_get_covariances_of_each_input_with_itself():
    kernel_fn = stax.serial(D(8), stax.Relu(), D(1))[2]
    k = kernel_fn(X1, X2, ("nngp", "cov1", "cov2"))
    assert k._fields == ("nngp", "cov1", "cov2")
    np.testing.assert_allclose(k.cov1, np.diag(kernel_fn(X1, None, "nngp")), rtol=1e-13)
    np.testing.assert_allclose(kernel_fn(X1, X2, "cov2"), np.diag(kernel_fn(X2, None, "nngp")),
                               rtol=1e-13)
    with pytest.raises(ValueError, match=r"kernel_fn\(get='var'\): expected 'nngp', 'ntk', "
                                         r"'cov1', 'cov2' or a tuple of them"):
        kernel_fn(X1, None, "var")
