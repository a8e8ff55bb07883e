"""The density of the squared singular values of a deep network's input-output Jacobian.

J = W_L D_L ... W_1 D_1 for [Dense(W_std, b_std), phi] x L at initialisation, with
W_l = (W_std / sqrt(n)) G_l (G_l n x n, N(0, 1) entries) and D_l = diag(phi'(h)), h ~ N(0, q*)
at the fixed length q*. As n -> inf, J J^T is the free product of L Wishart matrices and L
copies of D^2, so its S-transform is the product of theirs (Pennington, Schoenholz & Ganguli
2017, "Resurrecting the sigmoid in deep learning through dynamical isometry";
Pennington, Schoenholz & Ganguli 2018, "The emergence of spectral universality in deep
networks"). With the moment generating function M_X(z) = E[x / (z - x)] and
S_X(m) = (1 + m) / (m M_X^{-1}(m)):

  S_{J J^T}(m) = S_{W W^T}(m)^L S_{D^2}(m)^L,   S_{W W^T}(m) = 1 / (W_std^2 (1 + m)).

Writing w = M_{D^2}^{-1}(m) (so S_{D^2}(m) = (1 + m) / (m w)), the inverse of M_{J J^T} is
explicit in w:

  z = M_{J J^T}^{-1}(m) = (1 + m) m^(L-1) (W_std^2 w)^L,   m = M_{D^2}(w) = E[d^2 / (w - d^2)].

For each x on a grid we solve z(w) = x for w in the upper half plane (Newton in log w,
continued from the upper edge of the support down to small x), then G(x) = (1 + m) / x and
the density is rho(x) = -Im G(x + i0) / pi (Stieltjes inversion). E[.] over d^2 = phi'(h)^2
is the trapezoid rule on an even grid of h / sqrt(q*) in [-12, 12] (no node at a kink at
h = 0): at small x the solution w is small and M_{D^2}(w) is resolved only by nodes with
d^2 near |w|, which 200 Gauss-Hermite nodes space too far apart in the tails (the density
of a chaotic erf network came out wavy, 20 % off below 10^-25); 1200 nodes agree with 4800
to 1e-11. Where phi' vanishes with probability p0 (ReLU: 1/2) J J^T has an atom p0 at 0;
``density`` is then the continuous part, of mass 1 - p0. Linear phi at depth 1 gives
Marchenko-Pastur (ratio 1) scaled by W_std^2. Where the lengths shrink to q* = 0 the law is
its limit q -> 0, taken at the length LIMIT_LENGTH (D = phi'(0) I for smooth phi; the ReLU
family's D^2 does not depend on q).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .random_matrix import _derivative
from .signal_propagation import LIMIT_LENGTH, _layer, propagation

#: grid points per unit of y = log(x / (x+ - x)): log-spaced towards 0 and towards the edge x+
STEP = 0.04
#: the grid's end next to the upper edge, x+ - x = x+ e^(-EDGE_GAP)
EDGE_GAP = 18.0
#: the grid runs down from x+ until the law's mass per decade of sigma^2 falls below TAIL
#: (Gaussian weights alone give rho ~ x^(-L/(L+1)) towards 0: a mass per decade of about
#: x^(1/(L+1)) ln 10 / (L+1)), or x reaches 10^-FLOOR
TAIL, FLOOR = 1e-8, 300
#: nodes of the trapezoid rule over h / sqrt(q*) ~ N(0, 1), on [-REACH, REACH]
NODES, REACH = 1200, 12.0
#: Newton: relative residual that counts as solved, and most iterations per point
TOLERANCE, ITERATIONS = 1e-12, 60


@dataclass(frozen=True, eq=False)
class JacobianSpectrum:
    """The law of the squared singular values sigma^2 of J on a grid."""

    x: np.ndarray        # sigma^2, increasing, up to the upper edge of the support
    density: np.ndarray  # rho(x): the continuous part (mass 1 - zero_mass)
    zero_mass: float     # the atom at sigma^2 = 0 (the probability that phi'(h) = 0)
    upper_edge: float    # x+: the largest sigma^2 the law reaches

    @property
    def log10_density(self) -> np.ndarray:
        """The density of log10 sigma^2 at log10(x): rho(x) x ln 10."""
        return self.density * self.x * math.log(10)

    def cdf(self, x) -> np.ndarray:
        """P(sigma^2 <= x) = 1 - the density's mass above x (trapezoid rule in log x), so the
        atom at 0 and the mass below the grid count; constant below the grid's first point."""
        f, log_x = self.density * self.x, np.log(self.x)
        segments = np.diff(log_x) * (f[1:] + f[:-1]) / 2
        above = np.concatenate([np.cumsum(segments[::-1])[::-1], [0.0]])
        return np.interp(np.log(np.maximum(np.asarray(x, float), 1e-320)), log_x, 1 - above)


def _squared_derivatives(layer, q):
    """(d^2, weights) of the nonzero phi'(h)^2, h ~ N(0, q), and the weight where phi' = 0."""
    z = np.linspace(-REACH, REACH, NODES)
    weights = np.exp(-z ** 2 / 2)
    weights /= weights.sum()
    d2 = np.asarray(_derivative(layer)(math.sqrt(q) * z)) ** 2
    nonzero = d2 > 0
    return d2[nonzero], weights[nonzero], float(weights[~nonzero].sum())


class _Inverse:
    """log(z(w) / x) and its derivative in u = log w, for one (D^2, W_std, L)."""

    def __init__(self, d2, weights, zero_mass, w_std, depth):
        self.d2, self.p, self.p0 = d2, weights, zero_mass
        self.log_scale, self.depth = 2 * math.log(w_std), depth

    def log_z(self, w):
        """(log z(w), d log z / d log w), branches irrelevant (only exp of it is used)."""
        r = 1 / (w - self.d2)
        one_plus_m = self.p0 + w * np.sum(self.p * r)
        m = one_plus_m - 1
        dm = -np.sum(self.p * self.d2 * r * r)
        log_z = (np.log(one_plus_m) + (self.depth - 1) * np.log(m)
                 + self.depth * (self.log_scale + np.log(w)))
        return log_z, w * dm * (1 / one_plus_m + (self.depth - 1) / m) + self.depth, one_plus_m

    def newton(self, u, log_x):
        """u = log w with z(w) = x, from the guess u; None if it does not converge."""
        for _ in range(ITERATIONS):
            log_z, slope, _ = self.log_z(np.exp(u))
            ratio = np.exp(log_z - log_x)
            step = (ratio - 1) / (ratio * slope)
            u = u - step
            if abs(ratio - 1) < TOLERANCE:
                return u
        return None


def _upper_edge(inverse: _Inverse):
    """(x+, w at x+, d^2 log z / d (log w)^2 there): the least z(w) over real w > max d^2."""
    top = inverse.d2.max()
    t = np.linspace(-25, 25, 2001)
    log_z = np.array([inverse.log_z(top + math.exp(s))[0] for s in t])
    i = int(np.argmin(log_z))
    low, high = t[max(i - 1, 0)], t[min(i + 1, t.size - 1)]
    for _ in range(80):  # golden-section search on the bracket
        a, b = high - 0.618 * (high - low), low + 0.618 * (high - low)
        fa, fb = (inverse.log_z(top + math.exp(s))[0] for s in (a, b))
        low, high = (low, b) if fa < fb else (a, high)
    w = top + math.exp(0.5 * (low + high))
    h = 1e-4
    curvature = (inverse.log_z(w * math.exp(h))[0] - 2 * inverse.log_z(w)[0]
                 + inverse.log_z(w * math.exp(-h))[0]) / h ** 2
    return math.exp(inverse.log_z(w)[0]), w, curvature


def _check(w_std, b_std, depth):
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1:
        raise ValueError(f"jacobian_spectrum(depth={depth!r}): the depth must be an integer "
                         f">= 1")
    if not (isinstance(w_std, (int, float)) and 0 < w_std < 1e100):
        raise ValueError(f"jacobian_spectrum(w_std={w_std!r}): W_std must be a number in "
                         f"(0, 1e100)")
    if not (isinstance(b_std, (int, float)) and 0 <= b_std < 1e100):
        raise ValueError(f"jacobian_spectrum(b_std={b_std!r}): b_std must be a number in "
                         f"[0, 1e100)")


def jacobian_spectrum(activation, w_std, b_std, depth) -> JacobianSpectrum:
    """The free-probability density of the squared singular values of the input-output
    Jacobian of [Dense(W_std, b_std), activation] x depth at initialisation (see the module
    docstring: S_{JJ^T} = S_{WW^T}^L S_{D^2}^L, Pennington et al. 2017, 2018).

    Args:
      activation: an elementwise activation layer (or stax network), e.g. ``stax.Tanh()``.
      w_std: the Dense layers' weight standard deviation W_std > 0.
      b_std: their bias standard deviation b_std >= 0.
      depth: L >= 1, the number of [Dense, activation] blocks.
    """
    _check(w_std, b_std, depth)
    layer = _layer(activation)
    q = propagation(layer, w_std, b_std).q_star
    if not math.isfinite(q):
        raise ValueError(f"jacobian_spectrum(w_std={w_std!r}): the lengths grow without "
                         f"bound, there is no fixed length q* to start the Jacobian at")
    d2, weights, zero_mass = _squared_derivatives(layer, q if q > 0 else LIMIT_LENGTH)
    if d2.size == 0 or zero_mass > 1 - 1e-12:
        raise ValueError(f"jacobian_spectrum(activation={layer.name}): phi' is 0 "
                         f"almost everywhere at q* = {q:.4g}, so the Jacobian is 0")
    inverse = _Inverse(d2, weights, zero_mass, float(w_std), int(depth))
    edge, w_edge, curvature = _upper_edge(inverse)
    x, density = _march(inverse, edge, w_edge, curvature)
    return JacobianSpectrum(x[::-1], density[::-1], zero_mass, edge)


def _march(inverse: _Inverse, edge, w_edge, curvature):
    """(x, rho(x)) from next to the upper edge x+ down towards 0 (x decreasing)."""
    lowest = (-FLOOR - math.log10(edge)) * math.log(10)  # y at x = 10^-FLOOR
    y = np.arange(EDGE_GAP, lowest, -STEP)
    x = edge / (1 + np.exp(-y))
    # next to the edge log z - log x+ = curvature (log w - log w+)^2 / 2: the root above
    u = previous = math.log(w_edge) + 1j * math.sqrt(2 * -math.log(x[0] / edge) / curvature)
    density = np.zeros(x.size)
    for i, log_x in enumerate(np.log(x)):
        solved = inverse.newton(2 * u - previous if i > 1 else u, log_x)
        if solved is None or solved.imag <= 0:
            solved = inverse.newton(u, log_x)
        if solved is None:
            raise ArithmeticError(f"jacobian_spectrum: Newton's method did not converge at "
                                  f"x = {x[i]:.4g}")
        previous, u = u, solved
        density[i] = max(-inverse.log_z(np.exp(u))[2].imag / (np.pi * x[i]), 0.0)
        if y[i] < 0 and density[i] * x[i] * math.log(10) < TAIL:
            return x[:i + 1], density[:i + 1]
    return x, density
