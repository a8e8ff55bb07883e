"""Gelu: phi(x) = x Phi(x), Phi the standard normal CDF (Hendrycks & Gimpel 2016).

Dual (Tsuchida, Pearce & Gallagher 2021, "Avoiding kernel fixed points: computing with ELU
and GELU infinite networks", arXiv:2002.08517), with P = (1 + q11)(1 + q22),
D = sqrt(P - q12^2) and theta = arcsin(q12 / sqrt(P)):

  E[phi phi]   = q12 / 4 + [q12 theta + (q12^2 + q11 q22 D^2) / (P D)] / (2 pi)
  E[phi' phi'] = d E[phi phi] / d q12   (Price's theorem)
               = 1/4 + theta / (2 pi) + q12 / (2 pi D) [1 + (1 - q11 q22) / P + 1 / D^2]

Derivation: Phi(u) = P(g <= u) for an independent g ~ N(0, 1), so E[phi(u) phi(v)] is an
orthant expectation of the Gaussian vector (u, v, u - g1, v - g2). D^2 >= 1 + q11 + q22 > 0,
so neither expression has a singularity, not even at q12 = q11 = q22.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from .activations import Activation, activation_layer, check_flag
from .layer import Layer


def _gelu_dual(q11, q12, q22):
    p = (1 + q11) * (1 + q22)
    d2 = p - q12 ** 2
    d = jnp.sqrt(d2)
    theta = jnp.arctan2(q12, d)  # = arcsin(q12 / sqrt(p)), exact near |q12| = sqrt(p)
    prod = q11 * q22
    nngp = q12 / 4 + (q12 * theta + (q12 ** 2 + prod * d2) / (p * d)) / (2 * math.pi)
    slope = q12 / (2 * math.pi * d) * (1 + (1 - prod) / p + 1 / d2)
    sigma_dot = 0.25 + theta / (2 * math.pi) + slope
    return nngp, sigma_dot


def Gelu(approximate=False) -> Layer:
    """phi(x) = x Phi(x). ``approximate=True`` makes the finite network use the tanh
    approximation (as in neural-tangents); the kernel is always the exact Gelu's."""
    check_flag("Gelu", "approximate", approximate)
    fn = lambda x: jax.nn.gelu(x, approximate=approximate)  # noqa: E731
    return activation_layer(Activation(("Gelu", approximate), fn, _gelu_dual))
