"""Polynomials: Polynomial (sum_k coef[k] x^k), Monomial (x^degree), Hermite (h_degree).

Dual: by Price's theorem d^l/dq12^l E[f(u) g(v)] = E[f^(l)(u) g^(l)(v)], and at q12 = 0
u and v are independent, so Taylor's expansion in q12 (finite for a polynomial) gives
  E[phi phi]   = sum_l A_l(q11) A_l(q22) q12^l,
  E[phi' phi'] = sum_l (l + 1) A_(l+1)(q11) A_(l+1)(q22) q12^l,
  A_l(q) = E[phi^(l)(sqrt(q) z)] / sqrt(l!) = sum_i coef[l+2i] (l+2i)! / (2^i i! sqrt(l!)) q^i,
using E[z^(2i)] = (2i)! / (2^i i!) (Isserlis). This is the Hermite (Mehler) expansion of
dual activations (Daniely, Frostig & Singer 2016, "Toward deeper understanding of neural
networks"; Han et al. 2022, arXiv:2209.04121) written without sqrt(q), so it is exact at zero
variance and at q12 = +-sqrt(q11 q22) (q12 = rho sqrt(q11 q22) from the clipped correlation);
the series is summed by Horner's rule (quadrature.mehler_series).

Hermite(degree) is the probabilists' Hermite polynomial normalised to unit norm under
N(0, 1), h_n = He_n / sqrt(n!) (neural-tangents' definition). From He_n' = n He_(n-1) and
E[He_k(sqrt(q) z)] = (k-1)!! (q - 1)^(k/2) (k even, else 0), its coefficients are
  A_(n-2j)(q) = sqrt(n! / (n-2j)!) (q - 1)^j / (2^j j!),
evaluated in powers of q - 1 (no cancellation near unit variance). At q11 = q22 = 1 the dual
is q12^n with NTK factor n q12^(n-1), neural-tangents' formula; unlike neural-tangents,
which assumes unit variances, this dual is exact for any variances.
"""
from __future__ import annotations

import math

import numpy as np

from ..checks import hyperparameter
from .activations import Activation, activation_layer, covariance
from .layer import Layer
from .quadrature import mehler_series

#: the largest degree accepted (the dual's coefficients stay within float64 range)
MAX_DEGREE = 100


def horner(coefs, x):
    out = 0.0
    for c in reversed(coefs):
        out = out * x + c
    return out


def _power_table(coef):
    """T[l, i] with A_l(q) = sum_i T[l, i] q^i for phi = sum_k coef[k] x^k."""
    degree = len(coef) - 1
    table = np.zeros((degree + 1, degree // 2 + 1))
    for l in range(degree + 1):
        for i in range((degree - l) // 2 + 1):
            moment = math.factorial(l + 2 * i) / (2 ** i * math.factorial(i))
            table[l, i] = coef[l + 2 * i] * moment / math.sqrt(math.factorial(l))
    return table


def _hermite_table(degree):
    """T[l, j] with A_l(q) = sum_j T[l, j] (q - 1)^j for phi = h_degree."""
    table = np.zeros((degree + 1, degree // 2 + 1))
    for j in range(degree // 2 + 1):
        ratio = math.factorial(degree) / math.factorial(degree - 2 * j)
        table[degree - 2 * j, j] = math.sqrt(ratio) / (2 ** j * math.factorial(j))
    return table


def _series_dual(table, shift):
    """The dual from A_l(q) = sum_i table[l, i] (q - shift)^i (see the module docstring)."""
    slope = np.zeros_like(table)  # row l: sqrt(l + 1) A_(l+1), so the NTK series is alike
    slope[:-1] = np.sqrt(np.arange(1, len(table)))[:, None] * table[1:]

    def coefficients(q):
        powers = (q - shift)[..., None] ** np.arange(table.shape[1])
        return powers @ table.T, powers @ slope.T

    def dual(q11, rho, q22):
        (a1, b1), (a2, b2) = coefficients(q11), coefficients(q22)
        return mehler_series(covariance(q11, rho, q22), a1, b1, a2, b2)
    return dual


def _polynomial_layer(key, coef) -> Layer:
    coef = tuple(float(c) for c in coef)
    fn = lambda x: horner(coef, x) + 0.0 * x  # noqa: E731  (a constant keeps x's shape)
    return activation_layer(Activation(key, fn, _series_dual(_power_table(coef), 0.0)))


def check_degree(name, degree):
    if isinstance(degree, bool) or not isinstance(degree, int) or degree < 0:
        raise ValueError(f"{name}(degree={degree!r}): degree must be a non-negative integer")
    if degree > MAX_DEGREE:
        raise ValueError(f"{name}(degree={degree!r}): degree must be at most {MAX_DEGREE}")


def Polynomial(coef) -> Layer:
    """phi(x) = coef[0] + coef[1] x + ... + coef[n] x^n (numpy.polynomial's order).

    For pre-activations (u, v) ~ N(0, [[q11, q12], [q12, q22]]) the layer maps
    Sigma -> E[phi(u) phi(v)] and Theta -> E[phi'(u) phi'(v)] Theta, by Price's
    theorem and Taylor's expansion in q12 (the Hermite expansion of dual activations:
    Daniely, Frostig & Singer 2016; Han et al. 2022, arXiv:2209.04121):
      E[phi(u) phi(v)]   = sum_l A_l(q11) A_l(q22) q12^l
      E[phi'(u) phi'(v)] = sum_l (l + 1) A_(l+1)(q11) A_(l+1)(q22) q12^l
      A_l(q) = sum_i coef[l+2i] (l+2i)! / (2^i i! sqrt(l!)) q^i
    (exact: the series is finite).

    Args:
      coef: the coefficients, lowest power first: a non-empty sequence of at most 101
        finite numbers (degree at most 100).
    """
    if isinstance(coef, (str, bytes)) or not hasattr(coef, "__len__") or len(coef) == 0:
        raise ValueError(f"Polynomial(coef={coef!r}): coef must be a non-empty sequence of "
                         "numbers, lowest power first")
    if len(coef) > MAX_DEGREE + 1:
        raise ValueError(f"Polynomial(coef=<{len(coef)} numbers>): at most {MAX_DEGREE + 1} "
                         f"coefficients (degree {MAX_DEGREE})")
    for k, c in enumerate(coef):
        hyperparameter("Polynomial", f"coef[{k}]", c)
    return _polynomial_layer(("Polynomial", tuple(coef)), coef)


def Monomial(degree) -> Layer:
    """phi(x) = x^n, n = ``degree``.

    For pre-activations (u, v) ~ N(0, [[q11, q12], [q12, q22]]) the layer maps
    Sigma -> E[phi(u) phi(v)] and Theta -> E[phi'(u) phi'(v)] Theta as for
    Polynomial with coef = (0, ..., 0, 1) (Price's theorem; exact, finite series):
      E[phi(u) phi(v)]   = sum_l A_l(q11) A_l(q22) q12^l
      E[phi'(u) phi'(v)] = sum_l (l + 1) A_(l+1)(q11) A_(l+1)(q22) q12^l
      A_(n-2i)(q) = n! / (2^i i! sqrt((n-2i)!)) q^i, and A_l = 0 for other l.

    Args:
      degree: n, an integer from 0 to 100.
    """
    check_degree("Monomial", degree)
    return _polynomial_layer(("Monomial", degree), (0.0,) * degree + (1.0,))


def hermite(degree, x):
    """h_degree(x) by the stable recurrence h_(k+1) = (x h_k - sqrt(k) h_(k-1)) / sqrt(k+1)."""
    previous, current = 0.0 * x, 1.0 + 0.0 * x
    for k in range(degree):
        previous, current = current, (x * current - math.sqrt(k) * previous) / math.sqrt(k + 1)
    return current


def Hermite(degree) -> Layer:
    """phi(x) = h_n(x) = He_n(x) / sqrt(n!), n = ``degree``: the probabilists' Hermite
    polynomial normalised to unit norm under N(0, 1) (neural-tangents' definition).

    For pre-activations (u, v) ~ N(0, [[q11, q12], [q12, q22]]) the layer maps
    Sigma -> E[phi(u) phi(v)] and Theta -> E[phi'(u) phi'(v)] Theta, with
      A_(n-2j)(q) = sqrt(n! / (n-2j)!) (q - 1)^j / (2^j j!)   (A_l = 0 for other l):
      E[phi(u) phi(v)]   = sum_l A_l(q11) A_l(q22) q12^l
      E[phi'(u) phi'(v)] = sum_l (l + 1) A_(l+1)(q11) A_(l+1)(q22) q12^l
    At q11 = q22 = 1 this is q12^n with NTK factor n q12^(n-1), neural-tangents' formula;
    unlike neural-tangents, which assumes unit variances, it is exact for any variances.

    Args:
      degree: n, an integer from 0 to 100.
    """
    check_degree("Hermite", degree)
    fn = lambda x: hermite(degree, x)  # noqa: E731
    dual = _series_dual(_hermite_table(degree), 1.0)
    return activation_layer(Activation(("Hermite", degree), fn, dual))
