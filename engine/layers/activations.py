"""Elementwise activations: each one record of its function and its dual (kernel map).

For phi after a Gaussian layer, with (u, v) ~ N(0, [[q11, q12], [q12, q22]]):
  Sigma' = E[phi(u) phi(v)],  Theta' = E[phi'(u) phi'(v)] * Theta.
A dual maps (q11, rho, q22) -> (E[phi(u) phi(v)], E[phi'(u) phi'(v)]), rho = q12 / sqrt(q11 q22)
taken in [-1, 1] once, here, for every dual (``apply_dual``); an input paired with itself gets
its single-input map E[phi(u)^2], so a kernel's diagonal is exactly each input's own kernel at
any depth, also in the chaotic regime where rounding on it would grow layer after layer.
Rounding rho and taking the single-input map change values only: derivatives with respect to
the inputs follow the exact correlation and dual (``geometric_mean``, ``correlation``; the
angle's infinite slopes at rho = +-1 are 0, engine.layers.angle).

This module holds the record, the ReLU family and Erf; the other families live in
gelu, trigonometric, exponential, polynomial, arccosine and elementwise (quadrature).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp
from jax.scipy.special import erf

from ..checks import hyperparameter
from ..kernel import variances
from . import masking
from .angle import arccos, sine
from .layer import Layer, Shape, expect_single
from .layout import ANY


@dataclass(frozen=True)
class Activation:
    """phi and its dual; ``key`` names the constructor and its arguments.

    ``dual(q11, rho, q22) -> (E[phi(u) phi(v)], E[phi'(u) phi'(v)])`` receives the
    correlation rho = q12 / sqrt(q11 q22), already in [-1, 1], and variances >= 0.
    """

    key: tuple
    fn: Callable
    dual: Callable
    variance: Callable | None = None  # q -> E[phi(u)^2]; default: the dual at rho = 1

    def variance_of(self, q):
        """The single-input map: E[phi(u)^2] for u ~ N(0, q)."""
        if self.variance is not None:
            return self.variance(q)
        return self.dual(q, jnp.where(q > 0, 1.0, 0.0), q)[0]  # rho as correlation() sets it


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
        nngp, sigma_dot = apply_dual(act, q1, k.nngp, q2)
        if k.full:  # covariances between positions
            cov1 = apply_dual(act, c1a, k.cov1, c1b)[0]
            cov2 = apply_dual(act, c2a, k.cov2, c2b)[0]
        else:  # variances only: the single-point recursion itself
            cov1 = act.variance_of(jnp.maximum(k.cov1, 0.0))
            cov2 = act.variance_of(jnp.maximum(k.cov2, 0.0))
        return k.replace(nngp=nngp, ntk=sigma_dot * k.ntk, cov1=cov1, cov2=cov2,
                         is_gaussian=False)

    return Layer(key=act.key, shape=shape, kernel=kernel, apply=lambda params, x: act.fn(x),
                 axes=ANY, masks=masking.same, remask=name not in KEEP_MASKED_COVARIANCES)


#: activations after which neural-tangents leaves the covariances of masked entries as they
#: are (phi(0) = 0 for all but Gabor/Gelu's derivative, so they stay zero); after every other
#: activation they are set to zero again (its ``remask_kernel``)
KEEP_MASKED_COVARIANCES = frozenset({"ABRelu", "Relu", "LeakyRelu", "Abs", "Sign", "Gabor",
                                     "Gelu", "Monomial", "RectifiedMonomial", "Polynomial"})


#: correlations this close to +-1 are rounding noise of equal inputs (a layer's rounding is
#: a few ulps; in the chaotic regime it would grow by chi_1 > 1 at every layer)
ROUNDING = 1e-13
#: variances this close (relative) belong to one input; taking them as equal errs by the
#: square of the mismatch (rho* = 1 is the maximum of the correlation map), ~1e-16 here
VARIANCE_MATCH = 1e-8


@jax.custom_jvp
def geometric_mean(a, b):
    """sqrt(a b) for a, b >= 0 without overflow, exactly a when a == b; its derivative is
    (b da + a db) / (2 sqrt(a b)), taken as 0 where a or b is 0 (an infinite slope there)."""
    return jnp.where(a == b, a, jnp.sqrt(a) * jnp.sqrt(b))


@geometric_mean.defjvp
def _geometric_mean_jvp(primals, tangents):
    (a, b), (da, db) = primals, tangents
    g = geometric_mean(a, b)
    positive = g > 0
    safe = jnp.where(positive, g, 1.0)
    return g, jnp.where(positive, (b * da + a * db) / (2 * safe), 0.0)


@jax.custom_jvp
def root(q):
    """sqrt(q) for q >= 0, with slope 0 at q = 0 (infinite there): a variance's square root,
    whose variance is quadratic in the inputs where it vanishes (a zero input, no bias)."""
    return jnp.sqrt(q)


@root.defjvp
def _root_jvp(primals, tangents):
    (q,), (dq,) = primals, tangents
    r = jnp.sqrt(q)
    return r, jnp.where(r > 0, dq / (2 * jnp.where(r > 0, r, 1.0)), 0.0)


@jax.custom_jvp
def _with_slope_of(value, follow):
    """value, whose derivative is follow's: a rounded number that keeps its exact slope."""
    return value


@_with_slope_of.defjvp
def _with_slope_of_jvp(primals, tangents):
    return primals[0], tangents[1]


def correlation(q11, q12, q22):
    """(rho, same): rho = q12 / sqrt(q11 q22) in [-1, 1], and where it is the input itself.

    rho is 0 where a variance is 0 (a constant input), so no 0 / 0 reaches the duals, and
    rho within ROUNDING of +-1 is +-1. ``same`` marks rho = 1 with matching variances: an
    input paired with itself, whose correlation is 1 at every depth. The rounding moves the
    value only: rho's derivative is that of q12 / sqrt(q11 q22) (0 at an input paired with
    itself, where the correlation is at its maximum).
    """
    s = geometric_mean(q11, q22)
    safe = jnp.where(s > 0, s, 1.0)
    exact = jnp.where(s > 0, q12 / safe, 0.0)
    rho = jnp.clip(exact, -1.0, 1.0)
    rho = jnp.where(jnp.abs(rho) > 1 - ROUNDING, jnp.sign(rho), rho)
    same = (rho == 1) & (jnp.abs(q11 - q22) <= VARIANCE_MATCH * jnp.maximum(q11, q22))
    return _with_slope_of(rho, exact), same


def apply_dual(act: Activation, q11, q12, q22):
    """(E[phi phi], E[phi' phi']) of a covariance block, exact on the diagonal by construction.

    Off-diagonal entries go through the correlation; an input paired with itself gets the
    single-input map E[phi(u)^2] of its variances (their geometric mean when the two
    variances differ by rounding), the same number its own kernel has. So the diagonal never
    drifts from its single-point recursion, which in the chaotic regime (chi_1 > 1) would
    amplify rounding by chi_1 per layer (Poole et al. 2016; Schoenholz et al. 2017).

    Derivatives (``_apply_dual_jvp``) go through the correlation, except where a variance is
    0 (an input of zeros without bias) and the correlation says nothing: there E[phi phi]'s
    derivative in q12 is E[phi' phi'] (Price's theorem; for Sign and the step function, whose
    E[phi' phi'] is 0 by convention, so is that derivative, as in neural-tangents).
    """
    return _apply_dual(act, q11, q12, q22)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _apply_dual(act: Activation, q11, q12, q22):
    q11, q22 = jnp.maximum(q11, 0.0), jnp.maximum(q22, 0.0)
    rho, same = correlation(q11, q12, q22)
    nngp, sigma_dot = act.dual(q11, rho, q22)
    self1, self2 = act.variance_of(q11), act.variance_of(q22)
    return jnp.where(same, geometric_mean(self1, self2), nngp), sigma_dot


@_apply_dual.defjvp
def _apply_dual_jvp(act, primals, tangents):
    q11, q12, q22 = primals
    (nngp, sigma_dot), (d_nngp, d_sigma_dot) = jax.jvp(
        lambda *q: _dual_through_correlation(act, *q), primals, tangents)

    def at_fixed_q12(a, b):
        return _dual_through_correlation(act, a, q12, b)[0]

    _, d_variances = jax.jvp(at_fixed_q12, (q11, q22), (tangents[0], tangents[2]))
    constant = geometric_mean(jnp.maximum(q11, 0.0), jnp.maximum(q22, 0.0)) == 0
    d_nngp = jnp.where(constant, sigma_dot * tangents[1] + d_variances, d_nngp)
    return _apply_dual(act, q11, q12, q22), (d_nngp, d_sigma_dot)


def _dual_through_correlation(act, q11, q12, q22):
    q11, q22 = jnp.maximum(q11, 0.0), jnp.maximum(q22, 0.0)
    return act.dual(q11, correlation(q11, q12, q22)[0], q22)


def covariance(q11, rho, q22):
    """q12 = rho sqrt(q11 q22), so |q12| <= sqrt(q11 q22) holds exactly."""
    return rho * geometric_mean(q11, q22)


def one_minus_square(rho):
    """1 - rho^2 without cancellation near |rho| = 1."""
    return (1 - rho) * (1 + rho)


def check_flag(name, arg, value):
    if not isinstance(value, bool):
        raise ValueError(f"{name}({arg}={value!r}): {arg} must be True or False")


# ---------------------------------------------------------------- ReLU family

def _abrelu_dual(a, b):
    """Arc-cosine kernels (Cho & Saul 2009) for phi(x) = a min(x, 0) + b max(x, 0).

    With s = sqrt(q11 q22), theta = arccos(rho):
      E[phi phi]   = s / (2 pi) [(a^2 + b^2)(sin t + (pi - t) cos t) - 2ab (sin t - t cos t)]
      E[phi' phi'] = [(a^2 + b^2)(pi - t) + 2ab t] / (2 pi)
    """
    def dual(q11, cos_t, q22):
        s = geometric_mean(q11, q22)
        t = arccos(cos_t)
        sin_t = sine(cos_t)
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

    Arc-cosine kernels (Cho & Saul 2009). For pre-activations
    (u, v) ~ N(0, [[q11, q12], [q12, q22]]) the layer maps Sigma -> E[phi(u) phi(v)] and
    Theta -> E[phi'(u) phi'(v)] Theta, with s = sqrt(q11 q22) and theta = arccos(q12 / s):
      E[phi(u) phi(v)]   = s / (2 pi) [(a^2 + b^2)(sin theta + (pi - theta) cos theta)
                                       - 2ab (sin theta - theta cos theta)]
      E[phi'(u) phi'(v)] = [(a^2 + b^2)(pi - theta) + 2ab theta] / (2 pi)

    Args:
      a: the slope for x < 0 (any finite number).
      b: the slope for x > 0 (any finite number).
      do_stabilize: True or False; accepted for neural-tangents compatibility and changes
        nothing: this dual depends on the variances only through sqrt(q11 q22), so it needs
        no rescaling.
    """
    hyperparameter("ABRelu", "a", a)
    hyperparameter("ABRelu", "b", b)
    check_flag("ABRelu", "do_stabilize", do_stabilize)
    return _abrelu(("ABRelu", a, b), a, b)


def Relu(do_stabilize=False) -> Layer:
    """phi(x) = max(x, 0), i.e. ABRelu(0, 1).

    Arc-cosine kernel of degree 1 (Cho & Saul 2009). For pre-activations
    (u, v) ~ N(0, [[q11, q12], [q12, q22]]) the layer maps Sigma -> E[phi(u) phi(v)] and
    Theta -> E[phi'(u) phi'(v)] Theta, with s = sqrt(q11 q22) and theta = arccos(q12 / s):
      E[phi(u) phi(v)]   = s / (2 pi) (sin theta + (pi - theta) cos theta)
      E[phi'(u) phi'(v)] = (pi - theta) / (2 pi)

    Args:
      do_stabilize: True or False; accepted for neural-tangents compatibility and changes
        nothing (the dual needs no rescaling; see ABRelu).
    """
    check_flag("Relu", "do_stabilize", do_stabilize)
    return _abrelu(("Relu",), 0.0, 1.0)


def LeakyRelu(alpha, do_stabilize=False) -> Layer:
    """phi(x) = alpha x for x < 0, x for x >= 0, i.e. ABRelu(alpha, 1).

    Arc-cosine kernels (Cho & Saul 2009). For pre-activations
    (u, v) ~ N(0, [[q11, q12], [q12, q22]]) the layer maps Sigma -> E[phi(u) phi(v)] and
    Theta -> E[phi'(u) phi'(v)] Theta, with s = sqrt(q11 q22) and theta = arccos(q12 / s):
      E[phi(u) phi(v)]   = s / (2 pi) [(alpha^2 + 1)(sin theta + (pi - theta) cos theta)
                                       - 2 alpha (sin theta - theta cos theta)]
      E[phi'(u) phi'(v)] = [(alpha^2 + 1)(pi - theta) + 2 alpha theta] / (2 pi)

    Args:
      alpha: the slope for x < 0 (any finite number; 0 is Relu, -1 is Abs).
      do_stabilize: True or False; accepted for neural-tangents compatibility and changes
        nothing (the dual needs no rescaling; see ABRelu).
    """
    hyperparameter("LeakyRelu", "alpha", alpha)
    check_flag("LeakyRelu", "do_stabilize", do_stabilize)
    return _abrelu(("LeakyRelu", alpha), alpha, 1.0)


def Abs(do_stabilize=False) -> Layer:
    """phi(x) = |x|, i.e. ABRelu(-1, 1).

    Arc-cosine kernels (Cho & Saul 2009). For pre-activations
    (u, v) ~ N(0, [[q11, q12], [q12, q22]]) the layer maps Sigma -> E[phi(u) phi(v)] and
    Theta -> E[phi'(u) phi'(v)] Theta, with s = sqrt(q11 q22) and theta = arccos(q12 / s):
      E[phi(u) phi(v)]   = (s / pi) (2 sin theta + (pi - 2 theta) cos theta)
      E[phi'(u) phi'(v)] = 1 - 2 theta / pi

    Args:
      do_stabilize: True or False; accepted for neural-tangents compatibility and changes
        nothing (the dual needs no rescaling; see ABRelu).
    """
    check_flag("Abs", "do_stabilize", do_stabilize)
    return _abrelu(("Abs",), -1.0, 1.0)


# ---------------------------------------------------------------- Erf

def _erf_dual(a, b, c):
    """phi(x) = a erf(b x) + c (Williams 1997):
      E[phi phi]   = a^2 (2/pi) arcsin(2 b^2 q12 / sqrt((1 + 2 b^2 q11)(1 + 2 b^2 q22))) + c^2
      E[phi' phi'] = a^2 b^2 (4/pi) / sqrt((1 + 2 b^2 q11)(1 + 2 b^2 q22) - 4 b^4 q12^2)
    Evaluated as a^2 (2/pi) arcsin(g rho) + c^2 and a^2 b^2 (4/pi) u / sqrt(1 - g^2 rho^2) with
    r_i = 2 b^2 q_ii / (1 + 2 b^2 q_ii), g = sqrt(r_1 r_2) < 1, u^2 = 1 / ((1 + 2 b^2 q11)
    (1 + 2 b^2 q22)) and 1 - g^2 rho^2 = (1 - r_1) + r_1 (1 - r_2) + g^2 (1 - rho^2): no
    cancellation and no overflow at any variance, and the arcsin argument stays in [-1, 1].
    """
    def dual(q11, rho, q22):
        p1, p2 = 1 + 2 * b * b * q11, 1 + 2 * b * b * q22
        r1, r2 = 2 * b * b * q11 / p1, 2 * b * b * q22 / p2
        g = geometric_mean(r1, r2)
        nngp = a * a * (2 / math.pi) * jnp.arcsin(jnp.clip(g * rho, -1, 1))
        gap = 1 / p1 + r1 / p2 + g * g * one_minus_square(rho)
        u = 1 / geometric_mean(p1, p2)
        sigma_dot = a * a * b * b * (4 / math.pi) * u / jnp.sqrt(gap)
        return nngp + c * c, sigma_dot
    return dual


def Erf(a=1.0, b=1.0, c=0.0) -> Layer:
    """phi(x) = a erf(b x) + c.

    Williams 1997 ("Computing with infinite networks"). For pre-activations
    (u, v) ~ N(0, [[q11, q12], [q12, q22]]) the layer maps Sigma -> E[phi(u) phi(v)] and
    Theta -> E[phi'(u) phi'(v)] Theta:
      E[phi(u) phi(v)]   = a^2 (2/pi) arcsin(2 b^2 q12 / sqrt((1 + 2 b^2 q11)(1 + 2 b^2 q22)))
                           + c^2
      E[phi'(u) phi'(v)] = a^2 b^2 (4/pi) / sqrt((1 + 2 b^2 q11)(1 + 2 b^2 q22) - 4 b^4 q12^2)
    (evaluated without cancellation or overflow at any variance: ``_erf_dual``).

    Args:
      a: the output scale (any finite number).
      b: the input scale (any finite number).
      c: the output shift (any finite number).
    """
    for arg, v in (("a", a), ("b", b), ("c", c)):
        hyperparameter("Erf", arg, v)
    fn = lambda x: a * erf(b * x) + c  # noqa: E731
    return activation_layer(Activation(("Erf", a, b, c), fn, _erf_dual(a, b, c)))


def Sigmoid_like() -> Layer:
    """phi(x) = 0.5 erf(x / 2.4020563531719796) + 0.5, neural-tangents' erf fit to the logistic
    sigmoid on [-5, 5]; its dual is Erf's (Williams 1997) with a = 0.5,
    b = 1 / 2.4020563531719796 and c = 0.5. For the logistic sigmoid itself see Sigmoid.

    Args:
      none.
    """
    a, b, c = 0.5, 1 / 2.4020563531719796, 0.5
    fn = lambda x: a * erf(b * x) + c  # noqa: E731
    return activation_layer(Activation(("Sigmoid_like",), fn, _erf_dual(a, b, c)))
