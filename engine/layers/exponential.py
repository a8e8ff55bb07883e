"""Exponentials: Exp (a exp(b x)) and Gaussian (a exp(b x^2)).

Both duals are Gaussian integrals of exponentials of linear or quadratic forms (e.g. Han et
al. 2022, "Fast neural kernel embeddings for general activations", arXiv:2209.04121).

Exp, phi(x) = a exp(b x): u + v is Gaussian with variance q11 + q22 + 2 q12, so by the
moment generating function
  E[phi phi]   = a^2 exp(b^2 (q11 + q22 + 2 q12) / 2),   E[phi' phi'] = b^2 E[phi phi].
Evaluated as one exponential of (sqrt q11 - sqrt q22)^2 + 2 sqrt(q11 q22) (1 + rho), so it
overflows only when the exponent passes ~709 (then the network's kernel raises ValueError).

Gaussian, phi(x) = a exp(b x^2): with Q the covariance and det = det(I - 2 b Q)
  = (1 - 2 b q11)(1 - 2 b q22) - 4 b^2 q12^2 = 1 - 2 b (q11 + q22) + 4 b^2 q11 q22 (1 - rho^2),
  E[phi phi]   = a^2 / sqrt(det),
  E[phi' phi'] = 4 a^2 b^2 E[u v exp(b u^2 + b v^2)] = 4 a^2 b^2 q12 / det^(3/2)
(the tilted covariance is (I - 2 b Q)^-1 Q, whose off-diagonal entry is q12 / det).
For b <= 0 (the default b = -1) every term of the second form is >= 0, so det >= 1; for
b > 0 the expectation diverges once I - 2 b Q stops being positive definite, and the dual is
+inf there (the network's kernel then raises ValueError naming the layer).
"""
from __future__ import annotations

import jax.numpy as jnp

from ..checks import hyperparameter
from .activations import Activation, activation_layer, geometric_mean, one_minus_square, root
from .layer import Layer


def _exp_dual(a, b):
    def dual(q11, rho, q22):
        spread = (root(q11) - root(q22)) ** 2 + 2 * geometric_mean(q11, q22) * (1 + rho)
        nngp = a * a * jnp.exp(b * b * spread / 2)
        return nngp, b * b * nngp
    return dual


def Exp(a=1.0, b=1.0) -> Layer:
    """phi(x) = a exp(b x).

    For pre-activations (u, v) ~ N(0, [[q11, q12], [q12, q22]]) the layer maps
    Sigma -> E[phi(u) phi(v)] and Theta -> E[phi'(u) phi'(v)] Theta, by the
    moment generating function of u + v (e.g. Han et al. 2022, arXiv:2209.04121):
      E[phi(u) phi(v)]   = a^2 exp(b^2 (q11 + q22 + 2 q12) / 2)
      E[phi'(u) phi'(v)] = b^2 E[phi(u) phi(v)]
    Overflows only when the exponent passes ~709; the network's kernel then raises ValueError.

    Args:
      a: the output scale (any finite number).
      b: the input scale (any finite number).
    """
    hyperparameter("Exp", "a", a)
    hyperparameter("Exp", "b", b)
    fn = lambda x: a * jnp.exp(b * x)  # noqa: E731
    return activation_layer(Activation(("Exp", a, b), fn, _exp_dual(a, b)))


def _gaussian_dual(a, b):
    def dual(q11, rho, q22):
        s = geometric_mean(q11, q22)
        det = 1 - 2 * b * (q11 + q22) + (2 * b * s) ** 2 * one_minus_square(rho)
        finite = (1 - 2 * b * q11 > 0) & (det > 0)
        safe = jnp.where(finite, det, 1.0)
        nngp = jnp.where(finite, a * a / jnp.sqrt(safe), jnp.inf)
        sigma_dot = jnp.where(finite, 4 * a * a * b * b * rho * s / safe ** 1.5, jnp.inf)
        return nngp, sigma_dot
    return dual


def Gaussian(a=1.0, b=-1.0) -> Layer:
    """phi(x) = a exp(b x^2).

    For pre-activations (u, v) ~ N(0, [[q11, q12], [q12, q22]]) the layer maps
    Sigma -> E[phi(u) phi(v)] and Theta -> E[phi'(u) phi'(v)] Theta, with
    det = det(I - 2 b Q) = (1 - 2 b q11)(1 - 2 b q22) - 4 b^2 q12^2 (Q the covariance;
    Gaussian integrals, e.g. Han et al. 2022, arXiv:2209.04121):
      E[phi(u) phi(v)]   = a^2 / sqrt(det)
      E[phi'(u) phi'(v)] = 4 a^2 b^2 q12 / det^(3/2)

    Args:
      a: the output scale (any finite number).
      b: the coefficient of x^2 (any finite number). b <= 0 (the default -1) keeps the kernel
        finite (det >= 1); for b > 0 the expectation diverges once I - 2 b Q (Q the
        covariance) stops being positive definite, the dual is +inf there and the network's
        kernel raises ValueError naming the layer.
    """
    hyperparameter("Gaussian", "a", a)
    hyperparameter("Gaussian", "b", b)
    fn = lambda x: a * jnp.exp(b * x ** 2)  # noqa: E731
    return activation_layer(Activation(("Gaussian", a, b), fn, _gaussian_dual(a, b)))
