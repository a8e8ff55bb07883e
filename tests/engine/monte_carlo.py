"""Monte Carlo estimates of NNGP and NTK from finite networks built by the same spec.

NNGP: mean over initialisations of f(x1) f(x2)^T (averaged over output units and, for
spatial outputs, kept per position pair). NTK: mean over initialisations of the plain
Jacobian contraction J(x1) J(x2)^T, summed over all parameters.
"""
import jax
import jax.numpy as jnp
import numpy as np

import engine
from engine.widths import with_width  # noqa: F401  (re-exported for the tests)


#: initialisations computed side by side (vectorised) in mc_kernels
BATCH = 10


def mc_kernels(spec, x1, x2, width=1024, samples=100, seed=0, ntk=True, readout=256):
    """(nngp, ntk) Monte Carlo estimates; ntk is None when ``ntk=False``.

    The NNGP comes from a copy with a wide readout (``readout`` outputs, averaged over:
    its sampling variance per initialisation falls like 1/readout, the hidden layers' like
    1/width), the NTK from the network as specified (its Jacobian concentrates at large
    width). Drawing the readout's weights is most of the time (width x readout normals per
    initialisation), so it is narrower than the hidden layers.
    """
    return _estimate(engine.build(with_width(spec, width, readout=readout)),
                     engine.build(with_width(spec, width)), x1, x2, samples, seed, ntk)


def _estimate(wide, narrow, x1, x2, samples, seed, ntk=True):
    """NNGP from ``wide`` (the wide readout), NTK from ``narrow`` (readout 1), averaged over
    ``samples`` initialisations drawn from the same keys."""
    wide_init, wide_apply, _ = wide
    init_fn, apply_fn, _ = narrow
    x1, x2 = jnp.asarray(x1), jnp.asarray(x2)
    # XLA's own bit generator: statistically fine for Monte Carlo, and it compiles and runs
    # in a fraction of threefry's time on CPU (which every init's normals otherwise use)
    keys = jax.random.split(jax.random.key(seed, impl="unsafe_rbg"), samples)

    def one(key):
        _, params = wide_init(key, x1.shape)
        nngp = _outer(wide_apply(params, x1), wide_apply(params, x2))
        if not ntk:
            return nngp, jnp.zeros_like(nngp)
        _, params = init_fn(key, x1.shape)
        f1 = apply_fn(params, x1)
        j1 = jax.jacrev(lambda p: apply_fn(p, x1))(params)
        j2 = jax.jacrev(lambda p: apply_fn(p, x2))(params)
        return nngp, _contract(j1, j2, f1.ndim)

    # one compiled program for every initialisation, BATCH of them side by side
    nngp, ntk_ = jax.jit(lambda keys: jax.lax.map(one, keys, batch_size=BATCH))(keys)
    return (np.asarray(nngp.mean(axis=0)),
            np.asarray(ntk_.mean(axis=0)) if ntk else None)


def _outer(f1, f2):
    """Mean over output channels of f1[a, p, c] f2[b, q, c] in the Kernel's pair layout."""
    spatial = f1.ndim - 2
    p1, p2 = "hw"[:spatial], "ij"[:spatial]
    pairs = "".join(a + b for a, b in zip(p1, p2))
    return jnp.einsum(f"a{p1}c,b{p2}c->ab{pairs}", f1, f2) / f1.shape[-1]


def _contract(j1, j2, out_ndim):
    """Sum over parameters of J1[a, p, c, theta] J2[b, q, c, theta], mean over c."""
    total = 0.0
    for a, b in zip(jax.tree_util.tree_leaves(j1), jax.tree_util.tree_leaves(j2)):
        a = a.reshape(a.shape[:out_ndim] + (-1,))
        b = b.reshape(b.shape[:out_ndim] + (-1,))
        spatial = out_ndim - 2
        p1, p2 = "hw"[:spatial], "ij"[:spatial]
        pairs = "".join(x + y for x, y in zip(p1, p2))
        total = total + jnp.einsum(f"a{p1}cz,b{p2}cz->ab{pairs}", a, b) / a.shape[out_ndim - 1]
    return total


def rel_frobenius(estimate, exact):
    return float(np.linalg.norm(estimate - exact) / np.linalg.norm(exact))


def mc_network_kernels(make, x1, x2, width=256, samples=128, seed=0, readout=256):
    """``mc_kernels`` for a network given in Python: ``make(width, readout)`` returns the
    stax triple (for layers a JSON spec does not name). Same estimates, same keys."""
    return _estimate(make(width, readout), make(width, 1), x1, x2, samples, seed)
