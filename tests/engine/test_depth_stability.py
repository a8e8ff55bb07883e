"""Kernels stay exact at any depth: the diagonal is the single-point recursion, matrices stay
symmetric PSD, nothing turns NaN; a kernel beyond float64 is a ValueError naming the layer.

In the chaotic regime (chi_1 = W_std^2 E[phi'^2] > 1 at the fixed point) the correlation
c = 1 of an input with itself is an unstable fixed point, so any rounding on the diagonal grew
by chi_1 at every layer (issue 11: Erf W_std=4 depth 50, Tanh W_std=3 depth 100, ...).

The depth-200 sweep runs each activation's real kernel function under ``lax.scan``, with the
Dense rule of the design notes (Sigma' = W_std^2 Sigma + b_std^2, Theta' = Sigma' + W_std^2
Theta) between activations and W_std traced, so one compilation serves all five W_std.
"""
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.scipy.special import erf

from engine import stax
from engine.kernel import input_kernel

#: 200-layer programs, run on ensembles of finite networks too (tests/engine/conftest.py)
pytestmark = pytest.mark.xla_optimized

DEPTH = 200
W_STDS = (0.5, 1.0, 2.0, 4.0, 10.0)
B_STD = 0.1
X = np.random.default_rng(11).normal(size=(8, 5))

ACTIVATIONS = {
    "Relu": stax.Relu(), "LeakyRelu": stax.LeakyRelu(0.1), "Abs": stax.Abs(),
    "ABRelu": stax.ABRelu(-0.5, 1.2), "Erf": stax.Erf(), "Erf_abc": stax.Erf(0.7, 1.3, 0.1),
    "Sigmoid_like": stax.Sigmoid_like(), "Gelu": stax.Gelu(), "Sin": stax.Sin(),
    "Cos": stax.Cos(1.2, 0.9, 0.3), "Rbf": stax.Rbf(0.5), "Exp": stax.Exp(0.8, 0.5),
    "Gaussian": stax.Gaussian(), "Sign": stax.Sign(), "Step": stax.RectifiedMonomial(0),
    "RectifiedQuadratic": stax.RectifiedMonomial(2), "Monomial": stax.Monomial(3),
    "Polynomial": stax.Polynomial([0.1, 1.0, 0.5, -0.2]), "Hermite": stax.Hermite(3),
    "Tanh": stax.Tanh(), "Sigmoid": stax.Sigmoid(), "Softplus": stax.Softplus(),
    "Silu": stax.Silu(),
    "Elementwise_nngp_fn": stax.Elementwise(
        erf, nngp_fn=lambda c, v1, v2: 2 / jnp.pi * jnp.arcsin(
            2 * c / jnp.sqrt((1 + 2 * v1) * (1 + 2 * v2)))),
    "ElementwiseNumerical": stax.ElementwiseNumerical(jnp.sin, deg=100),
}


def _dense(k, w_std, b_std):
    w2, b2 = w_std ** 2, b_std ** 2
    nngp = w2 * k.nngp + b2
    return k.replace(nngp=nngp, ntk=nngp + w2 * k.ntk, cov1=w2 * k.cov1 + b2,
                     cov2=w2 * k.cov2 + b2, is_gaussian=True)


def _trajectory(layer, x, w_std):
    """(nngp, ntk, cov1) after every [Dense, activation] block, each with a leading depth axis."""
    def block(k, _):
        k = layer.kernel(_dense(k, w_std, B_STD))
        return k, (k.nngp, k.ntk, k.cov1)
    return jax.lax.scan(block, rounded(input_kernel(x, x, False)), None, length=DEPTH)[1]


def rounded(k):
    """The input kernel as another summation order could round it: a few ulps off on every
    entry, so the diagonal is no longer bitwise sqrt(cov1 cov2) (as in kernel_fn's chunks)."""
    noise = np.random.default_rng(0).integers(-3, 4, size=k.nngp.shape)
    return k.replace(nngp=k.nngp * (1 + np.finfo(np.float64).eps * (noise + noise.T)))


@functools.partial(jax.jit, static_argnums=0)
def trajectories(layer):
    """(nngp, ntk, cov1) of X for every W_std (leading axis), then every depth."""
    return jax.vmap(lambda w: _trajectory(layer, jnp.asarray(X), w))(jnp.asarray(W_STDS))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_depth_200_diagonal_is_the_single_point_recursion(name):
    """cov1 is each input's kernel with itself: the single-point recursion."""
    nngp, ntk, cov = (np.asarray(a) for a in trajectories(ACTIVATIONS[name].layer))
    for w, w_std in enumerate(W_STDS):
        own = np.concatenate([cov[w], np.diagonal(ntk[w], axis1=1, axis2=2)], axis=1)
        finite = (np.abs(own) < 1e300).all(axis=1)  # False for inf and NaN too
        for layer in np.flatnonzero(np.cumprod(finite)):  # until an input's own kernel overflows
            k, t, where = nngp[w, layer], ntk[w, layer], f"{name}, W_std={w_std}, layer {layer}"
            assert np.isfinite(k).all() and np.isfinite(t).all(), where
            assert np.allclose(np.diag(k), cov[w, layer], rtol=1e-10, atol=0), where
            scale = np.max(np.abs(k))
            assert np.max(np.abs(k - k.T)) <= 1e-12 * scale, where
            assert np.max(np.abs(t - t.T)) <= 1e-12 * np.max(np.abs(t)), where
            eig = np.linalg.eigvalsh((k + k.T) / 2)
            assert eig.min() >= -1e-12 * scale, f"{where}: eigenvalues {eig}"


def _deep(act, w_std, depth, b_std=0.0):
    layers = []
    for _ in range(depth):
        layers += [stax.Dense(64, W_std=w_std, b_std=b_std), act]
    return stax.serial(*layers, stax.Dense(1, W_std=w_std, b_std=b_std))


ISSUE_CASES = [  # issue 11, measured on main before the fix, at the issue's depths
    ("Erf W_std=4 depth 50", stax.Erf(), 4.0, 50),
    ("Sin W_std=4 depth 20", stax.Sin(), 4.0, 20),
    ("Tanh W_std=3 depth 100", stax.Tanh(), 3.0, 100),
    ("Gelu W_std=2 depth 50", stax.Gelu(), 2.0, 50),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", ISSUE_CASES, ids=[c[0] for c in ISSUE_CASES])
def test_issue_networks_keep_their_diagonal(case):
    """The issue's networks, [Dense(64), act] x depth + Dense(1), written with stax.repeat:
    the same kernel as the unrolled serial chain (test_layers_ported.py), compiled once
    per block instead of once per layer (unrolled, Erf at depth 50 compiled for minutes)."""
    _, act, w_std, depth = case
    block = stax.serial(stax.Dense(64, W_std=w_std, b_std=0.0), act)
    kernel_fn = stax.serial(block, stax.repeat(block, depth - 1),  # 5 -> 64, then 64 -> 64
                            stax.Dense(1, W_std=w_std, b_std=0.0)).kernel_fn
    k = kernel_fn(X, None, ("nngp", "ntk"))
    single = [kernel_fn(X[i:i + 1], None, ("nngp", "ntk")) for i in range(2)]
    nngp, ntk = np.asarray(k.nngp), np.asarray(k.ntk)
    assert np.isfinite(nngp).all() and np.isfinite(ntk).all()
    for i, s in enumerate(single):
        assert math.isclose(nngp[i, i], float(s.nngp[0, 0]), rel_tol=1e-10)
        assert math.isclose(ntk[i, i], float(s.ntk[0, 0]), rel_tol=1e-10)
    assert np.linalg.eigvalsh(nngp).min() >= -1e-12 * np.abs(nngp).max()


# ---------------------------------------------------------------- kernels beyond float64

def test_exploding_kernel_names_the_layer():
    """[Dense(W_std=4), Exp] blocks: the exponent doubles every block and leaves float64."""
    network = _deep(stax.Exp(), 4.0, 6)
    with pytest.raises(ValueError, match=r"^layer \d+ \(Exp\): kernel overflows float64 "
                                         r"\(inf or NaN; the largest variance entering the "
                                         r"layer is .*\): lower W_std"):
        network.kernel_fn(X, None, "nngp")


def test_overflow_names_the_first_layer_that_overflows():
    entering, block = 16.0, 0  # unit input variance times W_std^2 = 16
    while 2 * entering <= 709:  # E[exp(u)^2] = exp(2 q) stays below 1.8e308
        entering, block = 16 * math.exp(2 * entering), block + 1
    network = _deep(stax.Exp(), 4.0, 6)
    with pytest.raises(ValueError, match=rf"^layer {2 * block + 1} \(Exp\)"):
        network.kernel_fn(np.ones((2, 5)), None, "nngp")


def test_infinite_gaussian_kernel_is_an_error():
    """Gaussian(b > 0): E[exp(b u^2) exp(b v^2)] diverges once 2 b q >= 1."""
    network = stax.serial(stax.Dense(8, W_std=2.0), stax.Gaussian(1.0, 1.0))
    with pytest.raises(ValueError, match=r"^layer 1 \(Gaussian\): kernel overflows float64"):
        network.kernel_fn(X, None, ("nngp", "ntk"))


def test_w_std_whose_square_overflows_is_a_value_error():
    network = stax.serial(stax.Dense(8, W_std=1.5e154), stax.Relu())
    with pytest.raises(ValueError, match=r"^layer 0 \(Dense\): kernel overflows float64 "
                                         r"\(a hyperparameter squared"):
        network.kernel_fn(X, None, "nngp")


def test_large_but_finite_variances_stay_finite():
    """Gelu, Erf and ReLU at variances ~1e200 (where P - q12^2 or q11 q22 used to fail)."""
    for act in (stax.Gelu(), stax.Erf(), stax.Relu()):
        network = stax.serial(stax.Dense(8, W_std=1e100), act, stax.Dense(1))
        k = network.kernel_fn(X, None, ("nngp", "ntk"))
        assert np.isfinite(np.asarray(k.nngp)).all() and np.isfinite(np.asarray(k.ntk)).all()
        assert np.linalg.eigvalsh(np.asarray(k.nngp)).min() > -1e-12 * np.abs(k.nngp).max()
