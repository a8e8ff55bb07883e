"""The end of training (t = inf) by Cholesky solves: no eigendecomposition.

At t = inf the ensemble is a Gaussian-process posterior (Lee et al. 2019, eqs. 15-16;
Rasmussen & Williams 2006, eq. 2.19). With the regularised train kernel A_r = A + lambda I =
L L^T (A = the mode's kernel), t = test inputs, d = training inputs:

    NNGP (readout only; the Bayesian posterior), A = K, W = L^-1 K_dt:
        mean = K_td K_r^-1 y                                   = W^T (L^-1 y)
        cov  = K_tt - K_td K_r^-1 K_dt                         = K_tt - W^T W
    NTK (all layers trained; the NTK-GP), A = Theta, B = Theta_r^-1 Theta_dt:
        mean = Theta_td Theta_r^-1 y                           = B^T y
        cov  = K_tt + B^T K_dd B - (B^T K_dt + K_td B)         = K_tt + S + S^T,
               S = B^T (K_dd B / 2 - K_dt)

These equal engine.closed_form.dynamics at g = 1/w as long as no eigenvalue of A_r would have been
clipped there (w <= n eps max|w|, where the eigenbasis path takes the pseudo-inverse).
``cholesky_factor`` therefore returns None, and the caller takes the eigenbasis path, when
the factorisation fails or LAPACK's condition estimate (dpocon) comes within a margin of
that floor.
"""
from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import solve_triangular
from scipy.linalg import lapack

from engine.closed_form.flow import as_float64

#: the estimated condition number must stay below MARGIN / (n eps), far from the clipping
#: floor 1 / (n eps) (dpocon underestimates the 1-norm condition by small factors only)
MARGIN = 1e-3


@jax.tree_util.register_dataclass
@dataclass(frozen=True, eq=False)
class CholeskyFactor:
    """Lower-triangular L with A + lambda I = L L^T (float64)."""

    lower: jax.Array


def cholesky_factor(a: np.ndarray, lam: float, eps: float) -> CholeskyFactor | None:
    """L of the symmetrised ``a`` + ``lam`` I, or None when the eigenbasis path must be taken.

    Args:
      a: validated (n, n) train kernel.
      lam: the absolute diagonal regularizer lambda.
      eps: machine epsilon of the precision ``a`` was computed in (engine.closed_form.flow's floor).
    """
    lower, norm = _cholesky(as_float64(a), lam)
    host = np.asarray(lower)
    if not np.all(np.isfinite(np.diagonal(host))):
        return None
    rcond, info = lapack.dpocon(host, float(norm), uplo="L")
    n = host.shape[0]
    if info != 0 or not rcond * MARGIN > n * eps:
        return None
    return CholeskyFactor(lower)


@jax.jit
def _cholesky(a, lam):
    """(L, ||A_r||_1) of A_r = the symmetrised ``a`` + lam I."""
    a_r = 0.5 * (a + a.T) + lam * jnp.eye(a.shape[0], dtype=a.dtype)
    return jnp.linalg.cholesky(a_r), jnp.max(jnp.sum(jnp.abs(a_r), axis=0))


def nngp_posterior(factor: CholeskyFactor, y_train, nngp_test_train, nngp_test_test=None):
    """(mean, cov or None) of the NNGP posterior; arrays as validated by the caller."""
    k_td, y = as_float64(nngp_test_train), as_float64(y_train)
    if nngp_test_test is None:
        return _nngp_mean(factor, y, k_td), None
    return _nngp_mean_cov(factor, y, k_td, as_float64(nngp_test_test))


def ntk_posterior(factor: CholeskyFactor, y_train, ntk_test_train, nngp_test_train=None,
                  nngp_train_train=None, nngp_test_test=None):
    """(mean, cov or None) of the NTK-GP; the covariance needs all three NNGP kernels."""
    theta_td, y = as_float64(ntk_test_train), as_float64(y_train)
    if nngp_test_test is None:
        return _ntk_mean(factor, y, theta_td), None
    return _ntk_mean_cov(factor, y, theta_td, as_float64(nngp_test_train),
                         as_float64(nngp_train_train), as_float64(nngp_test_test))

def _solve(factor: CholeskyFactor, b):
    """A_r^-1 b by two triangular solves."""
    half = solve_triangular(factor.lower, b, lower=True)
    return solve_triangular(factor.lower, half, lower=True, trans=1)


@jax.jit
def _nngp_mean(factor, y, k_td):
    return k_td @ _solve(factor, y)


@jax.jit
def _nngp_mean_cov(factor, y, k_td, k_tt):
    w = solve_triangular(factor.lower, k_td.T, lower=True)
    u = solve_triangular(factor.lower, y, lower=True)
    reduction = w.T @ w
    return w.T @ u, 0.5 * ((k_tt - reduction) + (k_tt - reduction).T)


@jax.jit
def _ntk_mean(factor, y, theta_td):
    return theta_td @ _solve(factor, y)


@jax.jit
def _ntk_mean_cov(factor, y, theta_td, k_td, k_dd, k_tt):
    b = _solve(factor, theta_td.T)
    s = b.T @ (0.5 * (k_dd @ b) - k_td.T)
    return b.T @ y, 0.5 * (k_tt + k_tt.T) + (s + s.T)


def posterior(mode: str, factor: CholeskyFactor, y_train, k_test_train: dict,
              nngp_train_train=None, nngp_test_test=None):
    """(mean, cov or None) of ``mode`` ('nngp' or 'ntk') at t = inf.

    Args:
      mode: 'nngp' (readout trained) or 'ntk' (all layers); ``factor`` is of its train kernel.
      y_train: (n_train, k) targets.
      k_test_train: {name: (n_test, n_train) array}; 'ntk' needs both names for a covariance.
      nngp_train_train: the unregularised (n_train, n_train) NNGP (the NTK covariance).
      nngp_test_test: the (n_test, n_test) NNGP, or None for the mean alone.
    """
    if mode == "ntk":
        return ntk_posterior(factor, y_train, k_test_train["ntk"], k_test_train.get("nngp"),
                             nngp_train_train, nngp_test_test)
    return nngp_posterior(factor, y_train, k_test_train["nngp"], nngp_test_test)
