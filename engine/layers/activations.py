"""Elementwise activations: each one record of its function and its dual (kernel map).

For phi after a Gaussian layer, with (u, v) ~ N(0, [[q11, q12], [q12, q22]]):
  Sigma' = E[phi(u) phi(v)],  Theta' = E[phi'(u) phi'(v)] * Theta.
A dual maps (q11, q12, q22) -> (E[phi(u) phi(v)], E[phi'(u) phi'(v)]).

This module holds the record, the ReLU family and Erf; the other families live in
gelu, trigonometric, exponential, polynomial, arccosine and elementwise (quadrature).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import jax.numpy as jnp
from jax.scipy.special import erf

from ..kernel import variances
from .layer import Layer, Shape, check_number, expect_single


@dataclass(frozen=True)
class Activation:
    """phi and its dual; ``key`` names the constructor and its arguments."""

    key: tuple
    fn: Callable
    dual: Callable


def activation_layer(act: Activation) -> Layer:
    name = act.key[0]

    def shape(s):
        s = expect_single(name, s)
        if not s.is_gaussian:
            raise ValueError(f"{name}: its input must be Gaussian (the output of Dense, Conv, "
                             "pooling or LayerNorm); put a Dense or Conv layer before it")
        return Shape(s.dims, is_gaussian=False)

    def kernel(k):
        (q1, q2), (c1a, c1b), (c2a, c2b) = variances(k)
        nngp, sigma_dot = act.dual(q1, k.nngp, q2)
        cov1 = act.dual(c1a, k.cov1, c1b)[0]
        cov2 = act.dual(c2a, k.cov2, c2b)[0]
        return k.replace(nngp=nngp, ntk=sigma_dot * k.ntk, cov1=cov1, cov2=cov2,
                         is_gaussian=False)

    return Layer(key=act.key, shape=shape, kernel=kernel, apply=lambda params, x: act.fn(x))


#: correlations this close to +-1 are rounding noise of equal inputs (a few ulps)
ROUNDING = 1e-15


def correlation(q11, q12, q22):
    """(rho, sqrt(q11 q22)) with rho = q12 / sqrt(q11 q22) in [-1, 1].

    rho is 0 where a variance is 0 (a constant input), so no 0 / 0 reaches the duals, and
    rho within ROUNDING of +-1 is +-1: arcsin / arccos have infinite slope there, so
    rounding noise on the diagonal (1 - 1e-16) would become an error of 1e-8, and 1e-4
    one layer later.
    """
    s = jnp.sqrt(jnp.maximum(q11 * q22, 0.0))
    safe = jnp.where(s > 0, s, 1.0)
    rho = jnp.where(s > 0, jnp.clip(q12 / safe, -1.0, 1.0), 0.0)
    return jnp.where(jnp.abs(rho) > 1 - ROUNDING, jnp.sign(rho), rho), s


def check_flag(name, arg, value):
    if not isinstance(value, bool):
        raise ValueError(f"{name}({arg}={value!r}): {arg} must be True or False")


# ---------------------------------------------------------------- ReLU family

def _abrelu_dual(a, b):
    """Arc-cosine kernels (Cho & Saul 2009) for phi(x) = a min(x, 0) + b max(x, 0).

    With s = sqrt(q11 q22), theta = arccos(q12 / s):
      E[phi phi]   = s / (2 pi) [(a^2 + b^2)(sin t + (pi - t) cos t) - 2ab (sin t - t cos t)]
      E[phi' phi'] = [(a^2 + b^2)(pi - t) + 2ab t] / (2 pi)
    """
    def dual(q11, q12, q22):
        cos_t, s = correlation(q11, q12, q22)
        t = jnp.arccos(cos_t)
        sin_t = jnp.sqrt(1.0 - cos_t ** 2)
        same = (a * a + b * b) * (sin_t + (math.pi - t) * cos_t)
        cross = 2 * a * b * (sin_t - t * cos_t)
        nngp = s / (2 * math.pi) * (same - cross)
        sigma_dot = ((a * a + b * b) * (math.pi - t) + 2 * a * b * t) / (2 * math.pi)
        return nngp, sigma_dot
    return dual


def _abrelu(key, a, b) -> Layer:
    fn = lambda x: a * jnp.minimum(x, 0) + b * jnp.maximum(x, 0)  # noqa: E731
    return activation_layer(Activation(key, fn, _abrelu_dual(a, b)))


def ABRelu(a, b, do_stabilize=False) -> Layer:
    """phi(x) = a min(x, 0) + b max(x, 0): ReLU (0, 1), LeakyReLU (alpha, 1), Abs (-1, 1).

    ``do_stabilize`` is accepted for neural-tangents compatibility and changes nothing:
    this dual depends on the variances only through sqrt(q11 q22), so it needs no rescaling.
    """
    check_number("ABRelu", "a", a)
    check_number("ABRelu", "b", b)
    check_flag("ABRelu", "do_stabilize", do_stabilize)
    return _abrelu(("ABRelu", a, b), a, b)


def Relu(do_stabilize=False) -> Layer:
    check_flag("Relu", "do_stabilize", do_stabilize)
    return _abrelu(("Relu",), 0.0, 1.0)


def LeakyRelu(alpha, do_stabilize=False) -> Layer:
    check_number("LeakyRelu", "alpha", alpha)
    check_flag("LeakyRelu", "do_stabilize", do_stabilize)
    return _abrelu(("LeakyRelu", alpha), alpha, 1.0)


def Abs(do_stabilize=False) -> Layer:
    check_flag("Abs", "do_stabilize", do_stabilize)
    return _abrelu(("Abs",), -1.0, 1.0)


# ---------------------------------------------------------------- Erf

def _erf_dual(a, b, c):
    """phi(x) = a erf(b x) + c (Williams 1997):
      E[phi phi]   = a^2 (2/pi) arcsin(2 b^2 q12 / sqrt((1 + 2 b^2 q11)(1 + 2 b^2 q22))) + c^2
      E[phi' phi'] = a^2 b^2 (4/pi) / sqrt((1 + 2 b^2 q11)(1 + 2 b^2 q22) - 4 b^4 q12^2)
    """
    def dual(q11, q12, q22):
        b2 = b * b
        prod = (1 + 2 * b2 * q11) * (1 + 2 * b2 * q22)
        nngp = a * a * (2 / math.pi) * jnp.arcsin(jnp.clip(2 * b2 * q12 / jnp.sqrt(prod), -1, 1))
        sigma_dot = a * a * b2 * (4 / math.pi) / jnp.sqrt(prod - 4 * b2 * b2 * q12 ** 2)
        return nngp + c * c, sigma_dot
    return dual


def Erf(a=1.0, b=1.0, c=0.0) -> Layer:
    for arg, v in (("a", a), ("b", b), ("c", c)):
        check_number("Erf", arg, v)
    fn = lambda x: a * erf(b * x) + c  # noqa: E731
    return activation_layer(Activation(("Erf", a, b, c), fn, _erf_dual(a, b, c)))


def Sigmoid_like() -> Layer:
    """phi(x) = 0.5 erf(x / 2.4020563531719796) + 0.5, neural-tangents' erf fit to the logistic
    sigmoid on [-5, 5]; its dual is Erf's. For the logistic sigmoid itself see Sigmoid."""
    a, b, c = 0.5, 1 / 2.4020563531719796, 0.5
    fn = lambda x: a * erf(b * x) + c  # noqa: E731
    return activation_layer(Activation(("Sigmoid_like",), fn, _erf_dual(a, b, c)))
