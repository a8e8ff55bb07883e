"""Gabor: phi(x) = exp(-x^2) sin(x), a Gaussian-windowed sinusoid.

Dual. With (u, v) ~ N(0, Q), Q = [[q11, q12], [q12, q22]], write sin u sin v =
(cos(u - v) - cos(u + v)) / 2 and use the Gaussian integral, for t in R^2,
  E[exp(-u^2 - v^2 + i t.(u, v))] = det(I + 2Q)^(-1/2) exp(-t^T M t / 2),
  M = (Q^-1 + 2I)^-1 = Q (I + 2Q)^-1 = [[q11 + 2 delta, q12], [q12, q22 + 2 delta]] / D,
with delta = det Q = q11 q22 - q12^2, s = q11 + q22 and D = det(I + 2Q) = 1 + 2 s + 4 delta.
At t = (1, -1) and (1, 1), t^T M t = (s + 4 delta -+ 2 q12) / D and s + 4 delta = D - 1 - s, so
  E[phi(u) phi(v)] = exp((1 + s) / (2D) - 1/2) sinh(q12 / D) / sqrt(D).
By Price's theorem E[phi'(u) phi'(v)] is its derivative in q12 (dD/dq12 = -8 q12):
  E[phi' phi'] = exp((1 + s) / (2D) - 1/2) D^(-5/2)
                 * (4 q12 (D + 1 + s) sinh(q12 / D) + (D + 8 q12^2) cosh(q12 / D)).
One input with itself (q11 = q22 = q12 = q, D = 1 + 4q): E[phi(u)^2] = (1 - exp(-2q / D)) /
(2 sqrt(D)). Every exponent is bounded (D >= 1 + 2s, |q12| <= s / 2), so nothing overflows.
The same Gaussian-integral route as for Sin and the squared-exponential activations (Pearce,
Tsuchida & Nott 2019, "Expressive priors in Bayesian neural networks: kernel combinations and
periodic functions", UAI; Williams 1997, "Computing with infinite networks", NeurIPS);
neural-tangents 0.6.5 has the same layer, stax.Gabor.
"""
from __future__ import annotations

import jax.numpy as jnp

from .activations import Activation, activation_layer, covariance, geometric_mean
from .activations import one_minus_square


def _gabor_dual(q11, rho, q22):
    q12 = covariance(q11, rho, q22)
    s = q11 + q22
    d = 1 + 2 * s + 4 * geometric_mean(q11, q22) ** 2 * one_minus_square(rho)
    scale = jnp.exp((1 + s) / (2 * d) - 0.5)
    nngp = scale * jnp.sinh(q12 / d) / jnp.sqrt(d)
    sigma_dot = scale * d ** -2.5 * (4 * q12 * (d + 1 + s) * jnp.sinh(q12 / d)
                                     + (d + 8 * q12 ** 2) * jnp.cosh(q12 / d))
    return nngp, sigma_dot


def _gabor_variance(q):
    d = 1 + 4 * q
    return -jnp.expm1(-2 * q / d) / (2 * jnp.sqrt(d))


def Gabor():
    """phi(x) = exp(-x^2) sin(x); its kernel in closed form (see the module docstring).

    Args:
      (none): the layer has no hyperparameters, as in neural-tangents.

    Kernel, with D = 1 + 2 (q11 + q22) + 4 (q11 q22 - q12^2):
      Sigma' = exp((1 + q11 + q22) / (2D) - 1/2) sinh(q12 / D) / sqrt(D),
      Theta' = E[phi'(u) phi'(v)] Theta (its q12-derivative, by Price's theorem).
    """
    fn = lambda x: jnp.exp(-x ** 2) * jnp.sin(x)  # noqa: E731
    return activation_layer(Activation(("Gabor",), fn, _gabor_dual, _gabor_variance))
