"""The angle theta = arccos(rho) of the arc-cosine duals: arccos (a polynomial the CPU
evaluates on whole vectors, for large arrays), arcsin and sin(theta) = sqrt(1 - rho^2).

At rho = +-1 (an input paired with itself, or with a multiple of itself) all three have an
infinite slope, and the kernels they build are not differentiable in every direction there
(sqrt(1 - rho^2) grows like |angle|). Their derivative is taken as 0 at rho = +-1, as
neural-tangents does for the same square roots: rho is at its maximum there, so its own
derivative is 0 and the kernel's derivative is the one along the pair's direction (without
it: 0 * inf = NaN). Inside (-1, 1) the derivatives are the exact ones.

XLA:CPU computes float64 ``jnp.arccos`` through an atan2 per element that it does not
vectorise; in a ReLU network's kernel it is the single most expensive step (~10 ns an
entry). ``polynomial_arccos`` is a sqrt, a degree-12 polynomial and a few selects, within 2
ulp of ``np.arccos`` on [-1, 1] (tested), exact at rho = +-1 (0 and pi) and differentiable
inside. It costs compile time: ~40 operations for XLA to fuse at every use (with it
everywhere, the engine's tests compiled ~25 % longer; commit 9253ce5). So ``arccos`` takes it
only for arrays of at least POLYNOMIAL_SIZE entries (a kernel's row chunk of a large
workload: 65,000 entries for 1,000 flat inputs, 262,144 for 64 8x8 images) and
``jnp.arccos`` below, where running time is small and compiling dominates. Measured here (2
cores, ours alone, median of 7): FC 3xReLU N=1000 0.118 -> 0.049 s, CNN 3x[Conv, ReLU] N=64
on 8x8 images 1.60 -> 1.36 s.

With z the reduced argument, asin(s) = s + s z R(z), R(z) = sum_k c_(k+1) z^k and
c_k = (2k)! / (4^k (k!)^2 (2k + 1)) (the Taylor series of asin(s) / s):
  |x| <= 1/2:  z = x^2,           s = x,        arccos x = pi/2 - asin(s);
  x > 1/2:     z = (1 - x) / 2,   s = sqrt(z),  arccos x = 2 asin(s);
  x < -1/2:    z = (1 + x) / 2,   s = sqrt(z),  arccos x = pi - 2 asin(s).
z stays in [0, 1/4], where R is the Chebyshev interpolant of its series (built once here).
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

#: degree of R's interpolant; 11 already reaches 2 ulp, one more for margin
DEGREE = 12
#: entries from which an array's arccos is the polynomial (its shape is static under jit)
POLYNOMIAL_SIZE = 2 ** 15


def _asin_ratio_series(z, terms=80):
    """R(z) = (asin(sqrt z) / sqrt z - 1) / z from its Taylor series (converges on [0, 1/4])."""
    total, power, c = np.zeros_like(z), np.ones_like(z), 1.0
    for k in range(1, terms):
        c *= (2 * k - 1) / (2 * k)
        total += c / (2 * k + 1) * power
        power *= z
    return total


def _coefficients(degree=DEGREE) -> tuple[float, ...]:
    cheb = np.polynomial.Chebyshev.interpolate(_asin_ratio_series, degree, domain=[0, 0.25])
    return tuple(float(c) for c in cheb.convert(kind=np.polynomial.Polynomial).coef)


COEFFICIENTS = _coefficients()


def _zero_slope_at_ends(fn, slope):
    """fn on [-1, 1] with derivative slope(x) inside and 0 at x = +-1."""
    fn = jax.custom_jvp(fn)

    @fn.defjvp
    def _jvp(primals, tangents):
        (x,), (dx,) = primals, tangents
        inside = jnp.abs(x) < 1
        return fn(x), jnp.where(inside, slope(jnp.where(inside, x, 0.0)) * dx, 0.0)
    return fn


def _arccos(x):
    if jnp.size(x) < POLYNOMIAL_SIZE:
        return jnp.arccos(x)
    return polynomial_arccos(x)


def _inverse_sine(x):
    return -1 / jnp.sqrt((1 - x) * (1 + x))


#: arccos of x in [-1, 1] (callers clip), elementwise: the polynomial for arrays of at least
#: POLYNOMIAL_SIZE entries, ``jnp.arccos`` for smaller ones
arccos = _zero_slope_at_ends(_arccos, _inverse_sine)
#: arcsin of x in [-1, 1]
arcsin = _zero_slope_at_ends(jnp.arcsin, lambda x: -_inverse_sine(x))
#: sqrt(1 - x^2) = sin(arccos x) for x in [-1, 1], without cancellation near +-1
sine = _zero_slope_at_ends(lambda x: jnp.sqrt((1 - x) * (1 + x)), lambda x: x * _inverse_sine(x))


def polynomial_arccos(x):
    """arccos of x in [-1, 1] by the reduced argument and R's polynomial (module docstring)."""
    big = jnp.abs(x) > 0.5
    z = jnp.where(big, (1 - jnp.abs(x)) / 2, x * x)
    s = jnp.where(big, jnp.sqrt(jnp.where(big, z, 1.0)), x)  # no sqrt(0) slope off branch
    r = 0.0
    for c in reversed(COEFFICIENTS):  # Horner
        r = r * z + c
    asin = s + s * z * r
    return jnp.where(big, jnp.where(x > 0, 2 * asin, math.pi - 2 * asin), math.pi / 2 - asin)
