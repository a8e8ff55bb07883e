"""Arc-cosine kernels: Sign and RectifiedMonomial ((x >= 0) x^n), functions of the angle.

With s = sqrt(q11 q22), rho = q12 / s (in [-1, 1]) and theta = arccos(rho):

Sign, phi(x) = sign(x) (Sheppard's arc-sine law):
  E[phi phi] = 1 - 2 theta / pi = (2 / pi) arcsin(rho).
phi' is 0 almost everywhere, and the NTK factor is taken as 0 (as in neural-tangents): the
finite network's gradient never flows through a sign.

RectifiedMonomial(n), phi(x) = (x >= 0) x^n (Cho & Saul 2009, "Kernel methods for deep
learning"):
  E[phi phi]   = s^n J_n(theta) / (2 pi),
  E[phi' phi'] = n^2 s^(n-1) J_(n-1)(theta) / (2 pi)   (0 for n = 0, a step function),
  J_n(theta) = (-1)^n sin(theta)^(2n+1) (1/sin(theta) d/dtheta)^n ((pi - theta) / sin(theta)).
We write J_n = sin(theta) A_n(rho) + (pi - theta) B_n(rho) with polynomials A_n, B_n built
exactly (in fractions) at construction from Price's theorem -J_n' / sin = n^2 J_(n-1):
  B_n' = n^2 B_(n-1),  B_n(1) = (2n - 1)!!,
  (1 - rho^2) A_n' - rho A_n = n^2 (1 - rho^2) A_(n-1) - B_n,   (A_0, B_0) = (0, 1),
so evaluating J_n never divides by sin(theta) (exact at rho = +-1). n = 1 is ReLU.
"""
from __future__ import annotations

import math
from fractions import Fraction

import jax.numpy as jnp

from .activations import Activation, activation_layer, geometric_mean
from .angle import arccos, arcsin, sine
from .layer import Layer
from .polynomial import check_degree, horner


def Sign() -> Layer:
    """phi(x) = sign(x).

    For pre-activations (u, v) ~ N(0, [[q11, q12], [q12, q22]]) the layer maps
    Sigma -> E[phi(u) phi(v)] and Theta -> E[phi'(u) phi'(v)] Theta, with
    rho = q12 / sqrt(q11 q22) (Sheppard's arc-sine law):
      E[phi(u) phi(v)]   = (2 / pi) arcsin(rho)
      E[phi'(u) phi'(v)] = 0
    (phi' is 0 almost everywhere; the NTK factor is taken as 0, as in neural-tangents: the
    finite network's gradient never flows through a sign).

    Args:
      none.
    """
    def dual(q11, rho, q22):
        return (2 / math.pi) * arcsin(rho), jnp.zeros_like(rho)
    return activation_layer(Activation(("Sign",), jnp.sign, dual))


def _next_j(n, a_prev, b_prev):
    """(A_n, B_n) from (A_(n-1), B_(n-1)); polynomials as Fraction lists, lowest power first."""
    antiderivative = [Fraction(0)] + [c / (k + 1) for k, c in enumerate(b_prev)]
    b = [n * n * c for c in antiderivative]
    b[0] += math.prod(range(1, 2 * n, 2)) - sum(b)  # B_n(1) = (2n - 1)!!
    # rhs = n^2 (1 - rho^2) A_(n-1) - B_n, degree n
    rhs = [-c for c in b] + [Fraction(0)] * 2
    for k, c in enumerate(a_prev):
        rhs[k] += n * n * c
        rhs[k + 2] -= n * n * c
    # (1 - rho^2) A' - rho A sends rho^k to k rho^(k-1) - (k+1) rho^(k+1): solve from the top
    a = [Fraction(0)] * (n + 2)
    for j in range(n, 0, -1):
        a[j - 1] = ((j + 1) * a[j + 1] - rhs[j]) / j
    assert a[1] == rhs[0], "inconsistent arc-cosine recursion"
    return a[:n], b


def arccos_polynomials(degree):
    """[(A_k, B_k) for k = 0..degree] as float tuples, lowest power first."""
    polys = [([Fraction(0)], [Fraction(1)])]
    for n in range(1, degree + 1):
        polys.append(_next_j(n, *polys[-1]))
    return [(tuple(map(float, a)), tuple(map(float, b))) for a, b in polys]


def _rectified_dual(n):
    polys = arccos_polynomials(n)

    def j(k, rho, theta, sin_t):
        a, b = polys[k]
        return sin_t * horner(a, rho) + (math.pi - theta) * horner(b, rho)

    def dual(q11, rho, q22):
        s = geometric_mean(q11, q22)
        theta = arccos(rho)
        sin_t = sine(rho)
        nngp = s ** n * j(n, rho, theta, sin_t) / (2 * math.pi)
        if n == 0:
            return nngp, jnp.zeros_like(nngp)
        return nngp, n * n * s ** (n - 1) * j(n - 1, rho, theta, sin_t) / (2 * math.pi)
    return dual


def RectifiedMonomial(degree) -> Layer:
    """phi(x) = x^n for x >= 0, else 0, n = ``degree`` (n = 0: the step function; 1: ReLU).

    Arc-cosine kernels (Cho & Saul 2009, "Kernel methods for deep learning"). For
    pre-activations (u, v) ~ N(0, [[q11, q12], [q12, q22]]) the layer maps
    Sigma -> E[phi(u) phi(v)] and Theta -> E[phi'(u) phi'(v)] Theta, with s = sqrt(q11 q22)
    and theta = arccos(q12 / s):
      E[phi(u) phi(v)]   = s^n J_n(theta) / (2 pi)
      E[phi'(u) phi'(v)] = n^2 s^(n-1) J_(n-1)(theta) / (2 pi)   (0 for n = 0)
      J_n(theta) = (-1)^n sin(theta)^(2n+1) (1/sin(theta) d/dtheta)^n ((pi - theta) / sin(theta))
    (evaluated without dividing by sin(theta); see the module docstring).

    Args:
      degree: n, an integer from 0 to 100.
    """
    check_degree("RectifiedMonomial", degree)
    fn = lambda x: jnp.where(x >= 0, x ** degree, 0.0)  # noqa: E731
    return activation_layer(Activation(("RectifiedMonomial", degree), fn, _rectified_dual(degree)))

