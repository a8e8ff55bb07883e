"""Gabor, phi(x) = exp(-x^2) sin(x): neural-tangents' numbers, quadrature, Monte Carlo.

- neural-tangents 0.6.5's kernels (make_nt_gabor_dot_general_reference.py, run by hand in the
  peer venv; values in nt_gabor_dot_general_reference.json) to 1e-9 relative to the largest
  entry (seen: below 1e-15), flat and 1-D signal networks, x1 with x2 and with itself.
- The dual against 2-D Gauss-Hermite quadrature of E[phi phi] and E[phi' phi'] (300 x 300
  nodes: at variance 4 the window exp(-u^2) is narrow on the Hermite scale and 60 nodes err
  by 7e-5; 300 agree with 120 to 1e-9) at variances up to 4 and correlations in [-1, 1], to
  1e-9.
- Finite networks (tests/engine/monte_carlo.py): Dense, Gabor, Dense, Gabor, Dense; width
  256, 128 initialisations; within 5 % relative Frobenius on NNGP and NTK (seen 1.3-3.0 %
  over four seeds; dropping the sinh term of E[phi' phi'] moves the NTK by 7 %).
"""
import functools
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from engine import stax
from engine.layers.gabor import _gabor_dual, _gabor_variance
from tests.engine.make_nt_gabor_dot_general_reference import OUT, network
from tests.engine.monte_carlo import mc_network_kernels, rel_frobenius


@pytest.fixture(scope="module")
def reference():
    with open(OUT) as f:
        return json.load(f)


def assert_close(ours, theirs, rtol=1e-9):
    theirs = np.asarray(theirs)
    np.testing.assert_allclose(np.asarray(ours), theirs, rtol=0,
                               atol=rtol * np.abs(theirs).max())


@pytest.mark.parametrize("name", ["gabor_dense", "gabor_conv"])
def test_kernel_equals_neural_tangents(name, reference):
    case = reference[name]
    x1, x2 = np.array(case["x1"]), np.array(case["x2"])
    kernel_fn = network(stax, name)[2]
    k12, k11 = kernel_fn(x1, x2, ("nngp", "ntk")), kernel_fn(x1, None, ("nngp", "ntk"))
    for got, key in ((k12.nngp, "nngp"), (k12.ntk, "ntk"), (k11.nngp, "nngp_11"),
                     (k11.ntk, "ntk_11")):
        assert_close(got, case[key])


@functools.cache
def hermite_nodes(nodes):
    t, w = np.polynomial.hermite_e.hermegauss(nodes)
    return t, w / w.sum()


def quadrature(q11, q12, q22, nodes=300):
    """(E[phi(u) phi(v)], E[phi'(u) phi'(v)]) by Gauss-Hermite on (u, v) = R z, R R^T = Q."""
    t, w = hermite_nodes(nodes)
    values, vectors = np.linalg.eigh(np.array([[q11, q12], [q12, q22]]))
    root = vectors * np.sqrt(np.clip(values, 0, None))  # root @ root.T = Q, also for |rho| = 1
    z1, z2 = np.meshgrid(t, t, indexing="ij")
    u = root[0, 0] * z1 + root[0, 1] * z2
    v = root[1, 0] * z1 + root[1, 1] * z2
    ww = np.outer(w, w)
    phi = lambda x: np.exp(-x ** 2) * np.sin(x)  # noqa: E731
    dphi = lambda x: np.exp(-x ** 2) * (np.cos(x) - 2 * x * np.sin(x))  # noqa: E731
    return (ww * phi(u) * phi(v)).sum(), (ww * dphi(u) * dphi(v)).sum()


def test_dual_equals_quadrature():
    cases = [(q11, rho, q22) for q11, q22 in [(0.3, 0.3), (1.0, 2.5), (4.0, 0.1)]
             for rho in [-1.0, -0.6, 0.0, 0.45, 0.9, 1.0]]
    q11, rho, q22 = (jnp.asarray(column) for column in zip(*cases))
    nngp, sigma_dot = _gabor_dual(q11, rho, q22)
    want = np.array([quadrature(a, r * np.sqrt(a * b), b) for a, r, b in cases])
    np.testing.assert_allclose(np.stack([nngp, sigma_dot], 1), want, rtol=0, atol=1e-9)


@pytest.mark.parametrize("q", [0.0, 1e-9, 0.5, 3.0, 1e6])
def test_variance_is_the_dual_of_an_input_with_itself(q):
    nngp, _ = _gabor_dual(jnp.asarray(q), jnp.asarray(1.0), jnp.asarray(q))
    np.testing.assert_allclose(float(_gabor_variance(jnp.asarray(q))), float(nngp),
                               rtol=1e-12, atol=1e-300)
    assert np.isfinite(float(nngp))


def test_apply_and_refusal_of_a_non_gaussian_input():
    x = np.linspace(-3, 3, 7)[:, None]
    _, apply_fn, _ = stax.Gabor()
    np.testing.assert_allclose(apply_fn((), x), np.exp(-x ** 2) * np.sin(x), rtol=1e-15)
    init_fn = stax.serial(stax.Dense(3), stax.Gabor())[0]
    assert init_fn(jax.random.PRNGKey(0), (-1, 1))[0] == (-1, 3)
    with pytest.raises(ValueError, match="Gabor: its input must be Gaussian"):
        stax.Gabor()[2](x)


@pytest.mark.slow
def test_kernel_matches_finite_networks():
    rng = np.random.default_rng(1)
    x1, x2 = rng.standard_normal((4, 3)), rng.standard_normal((3, 3))

    def make(width, readout):
        return stax.serial(stax.Dense(width, 1.5, 0.1), stax.Gabor(),
                           stax.Dense(width, 2.0, 0.3), stax.Gabor(),
                           stax.Dense(readout, 1.2, 0.2))

    nngp, ntk = mc_network_kernels(make, x1, x2, width=256, samples=128)
    k = make(256, 1)[2](x1, x2, ("nngp", "ntk"))
    assert rel_frobenius(nngp, k.nngp) < 0.05
    assert rel_frobenius(ntk, k.ntk) < 0.05
