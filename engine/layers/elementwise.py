"""Activations without a closed-form dual, computed numerically (see quadrature.py), and any
user function: Tanh, Sigmoid, Softplus, Silu, Elementwise, ElementwiseNumerical.

  Tanh      phi(x) = tanh(x)
  Sigmoid   phi(x) = 1 / (1 + exp(-x))            (the logistic function; Sigmoid_like is
                                                    neural-tangents' erf approximation)
  Softplus  phi(x) = log(1 + exp(x))
  Silu      phi(x) = x / (1 + exp(-x))            (SiLU / swish, Hendrycks & Gimpel 2016)

E[phi(u) phi(v)] and E[phi'(u) phi'(v)] come from the Hermite expansion of quadrature.py
(512 terms); phi' from forward-mode autodiff (jax.jvp).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from ..checks import hyperparameter
from .activations import Activation, activation_layer
from .layer import Layer
from .quadrature import closed_form_dual, expectation_dual, expectation_variance


def _numerical(name, fn) -> Layer:
    act = Activation((name,), fn, expectation_dual(fn), expectation_variance(fn))
    return activation_layer(act)


def Tanh() -> Layer:
    """phi(x) = tanh(x).

    No closed-form dual: for pre-activations (u, v) ~ N(0, [[q11, q12], [q12, q22]]) the
    layer maps Sigma -> E[phi(u) phi(v)] and Theta -> E[phi'(u) phi'(v)] Theta, both computed
    numerically by the Hermite (Mehler) expansion of dual activations (Daniely, Frostig &
    Singer 2016) sum_l a_l(sqrt q11) a_l(sqrt q22) rho^l, rho = q12 / sqrt(q11 q22), truncated
    after 512 terms, with a_l(s) = E[f(s z) h_l(z)] by the trapezoidal rule on [-14, 14]
    (engine.layers.quadrature), f = phi or phi', and phi' by forward-mode autodiff (jax.jvp).
    Worst-case relative error over rho (the NTK factor is the hardest part): 1e-13 at
    variances up to 5, 3e-7 up to 17, 6e-5 up to 34.

    Args:
      none.
    """
    return _numerical("Tanh", jnp.tanh)


def Sigmoid() -> Layer:
    """phi(x) = 1 / (1 + exp(-x)), the logistic function (Sigmoid_like is neural-tangents'
    erf approximation, with a closed-form dual).

    No closed-form dual: for pre-activations (u, v) ~ N(0, [[q11, q12], [q12, q22]]) the
    layer maps Sigma -> E[phi(u) phi(v)] and Theta -> E[phi'(u) phi'(v)] Theta, both computed
    numerically by the Hermite (Mehler) expansion of dual activations (Daniely, Frostig &
    Singer 2016) sum_l a_l(sqrt q11) a_l(sqrt q22) rho^l, rho = q12 / sqrt(q11 q22), truncated
    after 512 terms, with a_l(s) = E[f(s z) h_l(z)] by the trapezoidal rule on [-14, 14],
    f = phi or phi', and phi' by forward-mode autodiff (jax.jvp); accuracy in
    engine.layers.quadrature (tanh, the steepest built-in, is its worst case).

    Args:
      none.
    """
    return _numerical("Sigmoid", jax.nn.sigmoid)


def Softplus() -> Layer:
    """phi(x) = log(1 + exp(x)).

    No closed-form dual: for pre-activations (u, v) ~ N(0, [[q11, q12], [q12, q22]]) the
    layer maps Sigma -> E[phi(u) phi(v)] and Theta -> E[phi'(u) phi'(v)] Theta, both computed
    numerically by the Hermite (Mehler) expansion of dual activations (Daniely, Frostig &
    Singer 2016) sum_l a_l(sqrt q11) a_l(sqrt q22) rho^l, rho = q12 / sqrt(q11 q22), truncated
    after 512 terms, with a_l(s) = E[f(s z) h_l(z)] by the trapezoidal rule on [-14, 14],
    f = phi or phi', and phi' by forward-mode autodiff (jax.jvp); accuracy in
    engine.layers.quadrature (tanh, the steepest built-in, is its worst case).

    Args:
      none.
    """
    return _numerical("Softplus", jax.nn.softplus)


def Silu() -> Layer:
    """phi(x) = x / (1 + exp(-x)), SiLU / swish (Hendrycks & Gimpel 2016).

    No closed-form dual: for pre-activations (u, v) ~ N(0, [[q11, q12], [q12, q22]]) the
    layer maps Sigma -> E[phi(u) phi(v)] and Theta -> E[phi'(u) phi'(v)] Theta, both computed
    numerically by the Hermite (Mehler) expansion of dual activations (Daniely, Frostig &
    Singer 2016) sum_l a_l(sqrt q11) a_l(sqrt q22) rho^l, rho = q12 / sqrt(q11 q22), truncated
    after 512 terms, with a_l(s) = E[f(s z) h_l(z)] by the trapezoidal rule on [-14, 14],
    f = phi or phi', and phi' by forward-mode autodiff (jax.jvp); accuracy in
    engine.layers.quadrature (tanh, the steepest built-in, is its worst case).

    Args:
      none.
    """
    return _numerical("Silu", jax.nn.silu)


def _check_callable(name, arg, value, allow_none=True):
    if value is None and allow_none:
        return
    if not callable(value):
        raise ValueError(f"{name}({arg}={value!r}): {arg} must be a function "
                         f"(a JAX-traceable callable){' or None' if allow_none else ''}")


def _kernel_only(name):
    def apply(x):
        raise ValueError(f"{name}(fn=None): the finite network needs fn; "
                         "this layer defines only the kernel (nngp_fn)")
    return apply


def Elementwise(fn=None, nngp_fn=None, d_nngp_fn=None) -> Layer:
    """Any elementwise activation phi = ``fn`` (a JAX function applied to arrays).

    For pre-activations (u, v) ~ N(0, [[q11, q12], [q12, q22]]) the layer maps
    Sigma -> E[phi(u) phi(v)] and Theta -> E[phi'(u) phi'(v)] Theta. With ``nngp_fn`` given,
    E[phi(u) phi(v)] = nngp_fn(q12, q11, q22) and E[phi'(u) phi'(v)] = d_nngp_fn(q12, q11, q22)
    (default: d nngp_fn / d q12 by autodiff, Price's theorem); otherwise both are computed
    numerically from ``fn`` and its autodiff derivative (the Hermite expansion of
    engine.layers.quadrature, 512 terms). Layers compare by the functions' identity.

    Args:
      fn: the activation, a JAX-traceable elementwise function, or None for a kernel-only
        layer (its apply_fn then raises ValueError). fn or nngp_fn must be given.
      nngp_fn: None, or a scalar function nngp_fn(cov12, var1, var2) = E[fn(u) fn(v)]
        (neural-tangents' argument order), vectorised with jnp.vectorize; it receives
        cov12 = rho sqrt(var1 var2), never outside the Cauchy-Schwarz bound.
      d_nngp_fn: None, or the NTK factor E[fn'(u) fn'(v)] as a scalar function of the same
        arguments; needs nngp_fn.
    """
    for arg, value in (("fn", fn), ("nngp_fn", nngp_fn), ("d_nngp_fn", d_nngp_fn)):
        _check_callable("Elementwise", arg, value)
    if fn is None and nngp_fn is None:
        raise ValueError("Elementwise(fn=None, nngp_fn=None): give fn (the activation) or "
                         "nngp_fn (its kernel map), or both")
    if d_nngp_fn is not None and nngp_fn is None:
        raise ValueError("Elementwise(d_nngp_fn=...): d_nngp_fn needs nngp_fn; without "
                         "nngp_fn both kernel maps are computed numerically from fn")
    if nngp_fn is not None:
        dual, variance = closed_form_dual(nngp_fn, d_nngp_fn), None
    else:
        dual, variance = expectation_dual(fn), expectation_variance(fn)
    apply = fn if fn is not None else _kernel_only("Elementwise")
    key = ("Elementwise", fn, nngp_fn, d_nngp_fn)
    return activation_layer(Activation(key, apply, dual, variance))


def ElementwiseNumerical(fn, deg, df=None) -> Layer:
    """phi = ``fn`` with its dual from its Hermite expansion up to degree ``deg``.

    For pre-activations (u, v) ~ N(0, [[q11, q12], [q12, q22]]) the layer maps
    Sigma -> E[phi(u) phi(v)] and Theta -> E[phi'(u) phi'(v)] Theta, each computed as
    sum_{l <= deg} a_l(sqrt q11) a_l(sqrt q22) rho^l, rho = q12 / sqrt(q11 q22), with
    a_l(s) = E[f(s z) h_l(z)] (h_l the normalised Hermite polynomials, f = phi or phi') by the
    trapezoidal rule (engine.layers.quadrature; Elementwise uses deg = 511).

    Args:
      fn: the activation, a JAX-traceable elementwise function.
      deg: the degree of the Hermite expansion (a positive integer). In neural-tangents
        ``deg`` counted 2-D Gauss-Hermite nodes; here a larger ``deg`` is cheap (linear cost
        per kernel entry) and 100-500 suits saturating functions at unit-scale variances.
      df: None (phi' by forward-mode autodiff) or fn's derivative, elementwise.
    """
    _check_callable("ElementwiseNumerical", "fn", fn, allow_none=False)
    hyperparameter("ElementwiseNumerical", "deg", deg, positive=True, integer=True)
    _check_callable("ElementwiseNumerical", "df", df)
    dual = expectation_dual(fn, df, deg + 1)
    variance = expectation_variance(fn, deg + 1)
    return activation_layer(Activation(("ElementwiseNumerical", fn, deg, df), fn, dual, variance))
