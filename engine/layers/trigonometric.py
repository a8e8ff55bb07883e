"""Sinusoids: Sin, Cos and the Rbf activation (random Fourier features).

For phi(x) = a sin(b x + c), by sin A sin B = [cos(A - B) - cos(A + B)] / 2 and the
Gaussian characteristic function E[cos(t w)] = exp(-t^2 Var(w) / 2), with
  m = exp(-b^2 (q11 + q22 - 2 q12) / 2)   (from u - v),
  p = exp(-b^2 (q11 + q22 + 2 q12) / 2)   (from u + v):
  E[phi phi]   = a^2 / 2 (m - cos(2c) p)
  E[phi' phi'] = a^2 b^2 / 2 (m + cos(2c) p)
(Pearce, Tsuchida & Nott 2019, "Expressive priors in Bayesian neural networks: kernel
combinations and periodic functions"). Cos(a, b, c) is Sin(a, b, c + pi/2), so cos(2c)
changes sign. Rbf(gamma) = sqrt(2) sin(sqrt(2 gamma) x + pi/4) has cos(2c) = 0:
  E[phi phi] = exp(-gamma (q11 + q22 - 2 q12)),  E[phi' phi'] = 2 gamma E[phi phi],
the squared-exponential kernel of the pre-activations (Rahimi & Recht 2007).
Both exponents are <= 0, so nothing overflows; they are evaluated as
q11 + q22 -+ 2 q12 = (sqrt q11 - sqrt q22)^2 + 2 sqrt(q11 q22) (1 -+ rho), exactly 0 for
an input with itself.
"""
from __future__ import annotations

import math

import jax.numpy as jnp

from ..checks import hyperparameter
from .activations import Activation, activation_layer, geometric_mean, root
from .layer import Layer


def _sinusoid_dual(a, b, cos_2c):
    def dual(q11, rho, q22):
        gap = (root(q11) - root(q22)) ** 2
        s = geometric_mean(q11, q22)
        m = jnp.exp(-b * b * (gap + 2 * s * (1 - rho)) / 2)
        p = jnp.exp(-b * b * (gap + 2 * s * (1 + rho)) / 2)
        # p = m exp(y), y = -2 b^2 s rho: m -+ cos(2c) p in terms of expm1 of a number
        # <= 0 (from m for rho >= 0, from p for rho < 0) keeps its digits at small q, where
        # 1 - exp(-2q) rounds (to 0 below q ~ 1e-17: spurious fixed lengths for Sin)
        near = rho >= 0
        e_near = jnp.expm1(jnp.minimum(-2 * b * b * s * rho, 0.0))  # p / m - 1, rho >= 0
        e_far = jnp.expm1(jnp.minimum(2 * b * b * s * rho, 0.0))    # m / p - 1, rho < 0
        nngp = jnp.where(near, m * ((1 - cos_2c) - cos_2c * e_near), p * ((1 - cos_2c) + e_far))
        ntk = jnp.where(near, m * ((1 + cos_2c) + cos_2c * e_near), p * ((1 + cos_2c) + e_far))
        return a * a / 2 * nngp, a * a * b * b / 2 * ntk
    return dual


def _check_abc(name, a, b, c):
    for arg, v in (("a", a), ("b", b), ("c", c)):
        hyperparameter(name, arg, v)


def Sin(a=1.0, b=1.0, c=0.0) -> Layer:
    """phi(x) = a sin(b x + c).

    For pre-activations (u, v) ~ N(0, [[q11, q12], [q12, q22]]) the layer maps
    Sigma -> E[phi(u) phi(v)] and Theta -> E[phi'(u) phi'(v)] Theta, with
    m = exp(-b^2 (q11 + q22 - 2 q12) / 2) and p = exp(-b^2 (q11 + q22 + 2 q12) / 2):
      E[phi(u) phi(v)]   = a^2 / 2 (m - cos(2c) p)
      E[phi'(u) phi'(v)] = a^2 b^2 / 2 (m + cos(2c) p)
    (Pearce, Tsuchida & Nott 2019, "Expressive priors in Bayesian neural networks: kernel
    combinations and periodic functions").

    Args:
      a: the amplitude (any finite number).
      b: the frequency (any finite number).
      c: the phase (any finite number).
    """
    _check_abc("Sin", a, b, c)
    fn = lambda x: a * jnp.sin(b * x + c)  # noqa: E731
    dual = _sinusoid_dual(a, b, math.cos(2 * c))
    return activation_layer(Activation(("Sin", a, b, c), fn, dual))


def Cos(a=1.0, b=1.0, c=0.0) -> Layer:
    """phi(x) = a cos(b x + c), i.e. Sin(a, b, c + pi / 2).

    For pre-activations (u, v) ~ N(0, [[q11, q12], [q12, q22]]) the layer maps
    Sigma -> E[phi(u) phi(v)] and Theta -> E[phi'(u) phi'(v)] Theta, with
    m = exp(-b^2 (q11 + q22 - 2 q12) / 2) and p = exp(-b^2 (q11 + q22 + 2 q12) / 2):
      E[phi(u) phi(v)]   = a^2 / 2 (m + cos(2c) p)
      E[phi'(u) phi'(v)] = a^2 b^2 / 2 (m - cos(2c) p)
    (Pearce, Tsuchida & Nott 2019; Sin's dual with cos(2c) changing sign).

    Args:
      a: the amplitude (any finite number).
      b: the frequency (any finite number).
      c: the phase (any finite number).
    """
    _check_abc("Cos", a, b, c)
    fn = lambda x: a * jnp.cos(b * x + c)  # noqa: E731
    dual = _sinusoid_dual(a, b, -math.cos(2 * c))
    return activation_layer(Activation(("Cos", a, b, c), fn, dual))


def Rbf(gamma=1.0) -> Layer:
    """phi(x) = sqrt(2) sin(sqrt(2 gamma) x + pi / 4): random Fourier features.

    For pre-activations (u, v) ~ N(0, [[q11, q12], [q12, q22]]) the layer maps
    Sigma -> E[phi(u) phi(v)] and Theta -> E[phi'(u) phi'(v)] Theta:
      E[phi(u) phi(v)]   = exp(-gamma (q11 + q22 - 2 q12)),
      E[phi'(u) phi'(v)] = 2 gamma E[phi(u) phi(v)],
    the squared-exponential kernel of the pre-activations (Rahimi & Recht 2007; Sin's dual
    with cos(2c) = 0).

    Args:
      gamma: the inverse squared length scale, gamma = 1 / (2 lengthscale^2) (non-negative).
    """
    hyperparameter("Rbf", "gamma", gamma, nonnegative=True)
    b = math.sqrt(2 * gamma)
    fn = lambda x: math.sqrt(2) * jnp.sin(b * x + math.pi / 4)  # noqa: E731
    return activation_layer(Activation(("Rbf", gamma), fn, _sinusoid_dual(math.sqrt(2), b, 0.0)))
