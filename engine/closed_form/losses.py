"""Expected MSE loss of the infinite ensemble at every training time, and its spread.

The ensemble's outputs at m inputs are Gaussian, independent across the k output columns
with a shared covariance: f_c ~ N(mu_c, Sigma). With targets y, residual r = mu - y and the
training loss L = 0.5 / (m k) * ||f - y||^2 (0.5 * mean over all outputs, design.md §2):

    E[L]   = 0.5 / (m k) * (||r||^2 + k tr Sigma)
    Var[L] = (0.5 / (m k))^2 * (2 k tr(Sigma^2) + 4 sum_c r_c^T Sigma r_c)

(the moments of a quadratic form of a Gaussian). ``std`` is sqrt(Var[L]): the spread of the
loss across the members of the ensemble, not an error bar on the mean.
"""
from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from engine import checks


@dataclass(frozen=True, eq=False)
class LossCurve:
    """Loss mean and std across the ensemble at the training times ``t`` (all (T,))."""

    t: np.ndarray
    mean: np.ndarray
    std: np.ndarray


def gaussian_loss_moments(mean: jax.Array, cov: jax.Array, y: jax.Array):
    """(E[L], Var[L]) for f ~ N(mean, cov) per output column; mean, y (m, k), cov (m, m)."""
    m, k = y.shape
    scale = 0.5 / (m * k)
    r = mean - y
    expected = scale * (jnp.sum(r ** 2) + k * jnp.trace(cov))
    variance = scale ** 2 * (2 * k * jnp.sum(cov * cov) + 4 * jnp.sum(r * (cov @ r)))
    return expected, jnp.maximum(variance, 0.0)


@jax.jit
def _loss_moments(dynamics, y, t):
    def at(time):
        return gaussian_loss_moments(dynamics.mean_at(time), dynamics.cov_at(time), y)

    return jax.lax.map(at, t)


def expected_loss(dynamics, y, t) -> LossCurve:
    """The loss curve of the ensemble described by ``dynamics`` against targets ``y``.

    ``dynamics`` is an NtkDynamics/NngpDynamics built with the full test-test kernel of the
    inputs ``y`` belongs to (the training inputs for the train loss); ``t`` as in its
    ``mean(t)``. Costs one (n_test, n_test) covariance per time, evaluated one after another
    (memory stays O(n_test^2) for any number of times).
    """
    fn = "expected_loss"
    times, _ = dynamics.flow.times(fn, t)
    y = checks.matrix(fn, "y", y, (dynamics.nngp_test_v.shape[0], dynamics.y_v.shape[1]))
    if dynamics.nngp_test_test is None:
        raise checks.fail(fn, "dynamics", type(dynamics).__name__,
                                "built with nngp_test_test (the full covariance is needed)")
    expected, variance = _loss_moments(dynamics, jnp.asarray(y), jnp.asarray(times))
    return LossCurve(times, np.asarray(expected), np.sqrt(np.asarray(variance)))
