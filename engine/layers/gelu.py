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

Evaluated scale-free, with rho = q12 / sqrt(q11 q22), g = sqrt(q11 q22 / P) < 1 and
cos(theta) = D / sqrt(P) = sqrt((1 - g^2) + g^2 (1 - rho^2)), 1 - g^2 = (1 + q11 + q22) / P:
  E[phi phi]   = sqrt(q11 q22) [rho / 4 + (rho theta + rho^2 g / (P cos theta)
                                 + g cos theta) / (2 pi)]
  E[phi' phi'] = 1/4 + theta / (2 pi) + rho g / (2 pi cos theta) [1 + 1/P - g^2
                                                                   + 1 / (P cos^2 theta)]
so P - q12^2 never cancels (it read NaN at variances ~1e15) and nothing overflows before the
variances themselves do. At large variances this tends to ReLU's arc-cosine kernel.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from .activations import (Activation, activation_layer, check_flag, geometric_mean,
                          one_minus_square)
from .layer import Layer


def _gelu_dual(q11, rho, q22):
    r = geometric_mean(q11, q22)                          # sqrt(q11 q22)
    a1, a2 = q11 / (1 + q11), q22 / (1 + q22)
    g = geometric_mean(a1, a2)                            # sqrt(q11 q22 / P) < 1
    u2 = 1 / ((1 + q11) * (1 + q22))                      # 1 / P
    gap = 1 / (1 + q11) + a1 / (1 + q22)                  # 1 - g^2
    c = jnp.sqrt(gap + g * g * one_minus_square(rho))     # D / sqrt(P) = cos(theta)
    theta = jnp.arctan2(g * rho, c)
    nngp = r * (rho / 4 + (rho * theta + rho * rho * g * u2 / c + g * c) / (2 * math.pi))
    sigma_dot = 0.25 + theta / (2 * math.pi) + rho * g / (2 * math.pi * c) * (1 + u2 - g * g
                                                                            + u2 / (c * c))
    return nngp, sigma_dot


def Gelu(approximate=False) -> Layer:
    """phi(x) = x Phi(x), Phi the standard normal CDF (Hendrycks & Gimpel 2016).

    For pre-activations (u, v) ~ N(0, [[q11, q12], [q12, q22]]) the layer maps
    Sigma -> E[phi(u) phi(v)] and Theta -> E[phi'(u) phi'(v)] Theta, where
    P = (1 + q11)(1 + q22), D = sqrt(P - q12^2) and theta = arcsin(q12 / sqrt(P)) (Tsuchida,
    Pearce & Gallagher 2021, arXiv:2002.08517):
      E[phi(u) phi(v)]   = q12 / 4 + [q12 theta + (q12^2 + q11 q22 D^2) / (P D)] / (2 pi)
      E[phi'(u) phi'(v)] = 1/4 + theta / (2 pi) + q12 / (2 pi D) [1 + (1 - q11 q22) / P + 1 / D^2]
    (the latter d E[phi(u) phi(v)] / d q12, by Price's theorem).

    Args:
      approximate: True or False. True makes the finite network use the tanh approximation
        (as in neural-tangents); the kernel is always the exact Gelu's.
    """
    check_flag("Gelu", "approximate", approximate)
    fn = lambda x: jax.nn.gelu(x, approximate=approximate)  # noqa: E731
    return activation_layer(Activation(("Gelu", approximate), fn, _gelu_dual))
