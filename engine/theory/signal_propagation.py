"""Signal propagation in deep random networks: the order-to-chaos transition.

For [Dense(W_std, b_std), phi] repeated, at infinite width (Poole et al. 2016, "Exponential
expressivity in deep neural networks through transient chaos"; Schoenholz et al. 2017, "Deep
information propagation"), with V(q) = E[phi(u)^2], u ~ N(0, q):

  length map       q -> W_std^2 V(q) + b_std^2,            fixed point q*
  correlation map  c -> (W_std^2 E[phi(u) phi(v)] + b_std^2) / q*,  (u, v) ~ N(0, q* [[1, c],
                   [c, 1]]), fixed point c* (1 in the ordered phase, < 1 in the chaotic one)
  chi_1  = W_std^2 E[phi'(u)^2] at q*: the slope of the correlation map at c = 1; chi_1 < 1
           ordered, chi_1 > 1 chaotic, chi_1 = 1 the critical line
  chi_c  = W_std^2 E[phi'(u) phi'(v)] at (q*, c*): the slope at c*
  xi_q   = -1 / log(dq'/dq at q*),   xi_c = -1 / log(chi_c):  depths over which lengths and
           correlations approach their fixed points (xi_c diverges on the critical line)

Every expectation is the activation layer's own dual (its kernel function on a 2 x 2
covariance), so any activation the engine has, closed form or quadrature, has a phase
diagram. Functions of (w_std, b_std) are pure JAX and vectorise over grids.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ..kernel import Kernel

#: most iterations of a map towards its fixed point (next to the critical line correlations
#: approach it only like a power of the depth), and the relative step that counts as there
ITERATIONS = 2000
TOLERANCE = 1e-13


def _pair(activation, q11, q12, q22) -> Kernel:
    """The activation's kernel function on one pair of inputs with these second moments."""
    one = jnp.ones((1, 1))
    return activation.kernel(Kernel(nngp=one * q12, ntk=one, cov1=jnp.reshape(q11, (1,)),
                                    cov2=jnp.reshape(q22, (1,)), channels=1, spatial=0,
                                    diagonal=False, is_gaussian=True))


def dual(activation, q11, q12, q22):
    """(E[phi(u) phi(v)], E[phi'(u) phi'(v)]) for scalars, from the layer's kernel function."""
    out = _pair(activation, q11, q12, q22)
    return out.nngp[0, 0], out.ntk[0, 0]


def length_map(activation, q, w_std, b_std):
    """q -> W_std^2 E[phi(u)^2] + b_std^2, u ~ N(0, q)."""
    return w_std ** 2 * dual(activation, q, q, q)[0] + b_std ** 2


def _fixed_point(step, x0):
    """Iterate ``step`` from x0 until it moves by less than TOLERANCE (relative), or its next
    value would overflow; returns (the last finite iterate, whether it converged)."""
    def moving(carry):
        i, x, previous = carry
        return (i < ITERATIONS) & jnp.isfinite(x) & (jnp.abs(x - previous) > TOLERANCE * jnp.abs(x))

    def advance(carry):
        i, x, _ = carry
        return i + 1, step(x), x
    x0 = jnp.asarray(x0, float)
    _, x, previous = jax.lax.while_loop(moving, advance, (0, step(x0), x0))
    converged = jnp.isfinite(x) & (jnp.abs(x - previous) <= TOLERANCE * jnp.abs(x))
    return jnp.where(jnp.isfinite(x), x, previous), converged


def fixed_length(activation, w_std, b_std, q0=1.0):
    """(q*, found): q* by iterating the length map from q0; where lengths grow without bound
    (found False) the largest length reached before float64 overflows, at which chi_1 is
    its limit for homogeneous activations (ReLU: W_std^2 / 2)."""
    return _fixed_point(lambda q: length_map(activation, q, w_std, b_std), q0)


def correlation_map(activation, c, q, w_std, b_std):
    """c -> (W_std^2 E[phi(u) phi(v)] + b_std^2) / q at equal lengths q (take q = q*)."""
    return (w_std ** 2 * dual(activation, q, c * q, q)[0] + b_std ** 2) / q


def fixed_correlation(activation, q, w_std, b_std, c0=0.0):
    """c*, by iterating the correlation map from c0 (1 in the ordered phase)."""
    return _fixed_point(lambda c: jnp.clip(correlation_map(activation, c, q, w_std, b_std),
                                           -1, 1), c0)[0]


def depth_scale(slope):
    """-1 / log(slope): layers per e-fold of the approach to a fixed point; inf where the
    slope is >= 1 (the fixed point is not approached, or only like a power of the depth)."""
    slope = jnp.abs(slope)
    return jnp.where(slope < 1, -1 / jnp.log(jnp.where(slope < 1, slope, 0.5)), jnp.inf)


def chi_1(activation, w_std, b_std):
    """W_std^2 E[phi'(u)^2] at the fixed length q*."""
    q = fixed_length(activation, w_std, b_std)[0]
    return w_std ** 2 * dual(activation, q, q, q)[1]


@dataclass(frozen=True)
class Propagation:
    """The fixed points, slopes and depth scales of one (activation, W_std, b_std)."""

    q_star: float  # inf where the lengths grow without bound
    c_star: float
    chi_1: float
    chi_c: float
    xi_q: float
    xi_c: float


@functools.partial(jax.jit, static_argnums=0)
def _propagation_arrays(activation, w_std, b_std):
    q, found = fixed_length(activation, w_std, b_std)
    c = fixed_correlation(activation, q, w_std, b_std)
    chi = w_std ** 2 * dual(activation, q, q, q)[1]
    chi_c = w_std ** 2 * dual(activation, q, c * q, q)[1]
    slope_q = jax.jvp(lambda x: length_map(activation, x, w_std, b_std), (q,), (1.0,))[1]
    xi_q = jnp.where(found, depth_scale(slope_q), jnp.inf)
    return jnp.where(found, q, jnp.inf), c, chi, chi_c, xi_q, depth_scale(chi_c)


def propagation(activation, w_std, b_std) -> Propagation:
    """q*, c*, chi_1, chi_c, xi_q and xi_c for [Dense(W_std, b_std), activation] repeated."""
    values = _propagation_arrays(_layer(activation), w_std, b_std)
    return Propagation(*(float(v) for v in values))


@dataclass(frozen=True)
class PhaseDiagram:
    """chi_1 (and q*, xi_c) on a grid: rows follow b_std, columns W_std."""

    w_std: np.ndarray
    b_std: np.ndarray
    chi_1: np.ndarray
    q_star: np.ndarray
    xi_c: np.ndarray


@functools.partial(jax.jit, static_argnums=0)
def _grid(activation, w_std, b_std):
    w, b = jnp.meshgrid(w_std, b_std)
    one = lambda w_, b_: _propagation_arrays(activation, w_, b_)  # noqa: E731
    q, _, chi, _, _, xi_c = jax.vmap(jax.vmap(one))(w, b)
    return chi, q, xi_c


def phase_diagram(activation, w_std, b_std) -> PhaseDiagram:
    """chi_1 over the grid W_std x b_std (1-D arrays): < 1 ordered, > 1 chaotic."""
    w_std, b_std = np.asarray(w_std, float), np.asarray(b_std, float)
    chi, q, xi_c = _grid(_layer(activation), w_std, b_std)
    return PhaseDiagram(w_std, b_std, np.asarray(chi), np.asarray(q), np.asarray(xi_c))


_chi_1 = jax.jit(chi_1, static_argnums=0)


def critical_w_std(activation, b_std, low=0.1, high=10.0, steps=40) -> float:
    """W_std on the critical line chi_1 = 1 at this b_std, by bisection on [low, high]
    (chi_1 grows with W_std for the usual activations); NaN when [low, high] holds none."""
    activation = _layer(activation)
    above = lambda w: float(_chi_1(activation, w, b_std)) > 1  # noqa: E731
    if above(low) or not above(high):
        return float("nan")
    for _ in range(steps):
        mid = 0.5 * (low + high)
        low, high = (low, mid) if above(mid) else (mid, high)
    return 0.5 * (low + high)


@functools.partial(jax.jit, static_argnums=(0, 6))
def _correlations(activation, w_std, b_std, q11, q12, q22, depth):
    def block(moments, _):
        q = [w_std ** 2 * m + b_std ** 2 for m in moments]  # Dense
        k = _pair(activation, *q)
        return (k.cov1[0], k.nngp[0, 0], k.cov2[0]), q[1] / jnp.sqrt(q[0] * q[2])
    return jax.lax.scan(block, (q11, q12, q22), None, length=depth)[1]


def correlations_over_depth(activation, w_std, b_std, q11, q12, q22, depth) -> np.ndarray:
    """Correlations of two inputs' pre-activations after each of ``depth`` [Dense,
    activation] blocks (entry 0: after the first Dense), from the inputs' second moments
    q11 = x . x / d, q12 = x . x' / d, q22 = x' . x' / d."""
    moments = (float(q11), float(q12), float(q22))
    return np.asarray(_correlations(_layer(activation), w_std, b_std, *moments, depth))


def _layer(activation):
    """The Layer of an activation given as a layer or as a stax network."""
    return getattr(activation, "layer", activation)
