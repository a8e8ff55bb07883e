"""The layers ported from neural-tangents' stax against finite networks (Monte Carlo).

One row per layer: a small network around it, built by ``make(width, readout)``. The NNGP is
the mean over initialisations of f(x1) f(x2)^T / readout with a readout of ``width``
outputs; the NTK the mean of J(x1) J(x2)^T of the same network with one output. Width 256,
128 initialisations (one compiled loop per row), within 6 % relative Frobenius on both
(seen: 1-3 %; a wrong rule, e.g. Dropout's 1 / rate missing on the diagonal, is off by
10 % or more). Spatial rows use 1-D signals (N, 5, 2) to keep compile times short.
repeat is checked equal to the unrolled serial chain in test_layers_ported.py.
Dropout is checked on x1 with itself: its noise is shared only by an input with itself, in
one forward pass. ExpNormalized has no finite network; it is checked in
test_layers_ported.py against its formula and neural-tangents' numbers.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from engine import stax
from tests.engine.monte_carlo import rel_frobenius

#: training and Monte Carlo ensembles run their programs many times (tests/engine/conftest.py)
pytestmark = [pytest.mark.slow, pytest.mark.xla_optimized]

W, B = 1.4, 0.1
WIDTH, SAMPLES, TOLERANCE = 256, 128, 0.06


def dense(n, w=W, b=B):
    return stax.Dense(n, w, b)


def conv(n, f, **kwargs):
    return stax.Conv(n, f, W_std=W, b_std=B, **kwargs)


ROWS = {
    "Dropout": ("flat", True, lambda n, r: stax.serial(
        dense(n), stax.Relu(), stax.Dropout(0.6), dense(r))),
    "FanInConcat_channels": ("flat", False, lambda n, r: stax.serial(
        dense(n), stax.FanOut(2),
        stax.parallel(dense(n // 2), stax.serial(stax.Relu(), dense(n, 1.0, 0.4))),
        stax.FanInConcat(), dense(r))),
    "FanInConcat_spatial": ("signal", False, lambda n, r: stax.serial(
        conv(n, (2,)), stax.FanOut(2),
        stax.parallel(conv(n, (1,)), stax.serial(stax.Relu(), conv(n, (2,), padding="SAME"))),
        stax.FanInConcat(axis=1), stax.Relu(), stax.Flatten(), dense(r))),
    "FanInProd": ("flat", False, lambda n, r: stax.serial(
        dense(n), stax.FanOut(2), stax.parallel(dense(n), stax.serial(stax.Relu(), dense(n))),
        stax.FanInProd(), dense(r))),
    "Index": ("signal", False, lambda n, r: stax.serial(
        conv(n, (2,), padding="SAME"), stax.Relu(), stax.Index(stax.Slice[:, 1::2, :]),
        conv(n, (2,)), stax.Relu(), stax.GlobalAvgPool(), dense(r))),
}


def monte_carlo(make, x1, x2, dropout):
    """(nngp, ntk) averaged over SAMPLES initialisations (and dropout masks)."""
    wide_init, wide_apply, _ = make(WIDTH, WIDTH)
    init_fn, apply_fn, _ = make(WIDTH, 1)

    def one(key):
        k_init, k_mask = jax.random.split(key)
        _, params = wide_init(k_init, x1.shape)
        f1 = wide_apply(params, x1, rng=k_mask)
        f2 = f1 if dropout else wide_apply(params, x2, rng=k_mask)
        nngp = f1 @ f2.T / WIDTH
        _, params = init_fn(k_init, x1.shape)
        j1 = jax.jacrev(lambda p: apply_fn(p, x1, rng=k_mask))(params)
        j2 = j1 if dropout else jax.jacrev(lambda p: apply_fn(p, x2, rng=k_mask))(params)
        ntk = sum(jnp.einsum("az,bz->ab", a.reshape(len(x1), -1), b.reshape(len(b), -1))
                  for a, b in zip(jax.tree_util.tree_leaves(j1), jax.tree_util.tree_leaves(j2)))
        return nngp, ntk

    keys = jax.random.split(jax.random.PRNGKey(0), SAMPLES)
    nngp, ntk = jax.jit(lambda keys: jax.lax.map(one, keys))(keys)
    return np.asarray(nngp.mean(0)), np.asarray(ntk.mean(0))


@pytest.mark.parametrize("name", sorted(ROWS))
def test_layer_matches_monte_carlo(name):
    kind, dropout, make = ROWS[name]
    rng = np.random.default_rng(2)
    shape = {"flat": (3,), "signal": (5, 2)}[kind]
    x1, x2 = rng.standard_normal((3,) + shape), rng.standard_normal((2,) + shape)
    if dropout:
        x2 = x1
    nngp_mc, ntk_mc = monte_carlo(make, jnp.asarray(x1), jnp.asarray(x2), dropout)
    exact = make(WIDTH, 1)[2](x1, None if dropout else x2, ("nngp", "ntk"))
    assert rel_frobenius(nngp_mc, exact.nngp) < TOLERANCE
    assert rel_frobenius(ntk_mc, exact.ntk) < TOLERANCE
