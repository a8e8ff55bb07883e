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
    return _numerical("Tanh", jnp.tanh)


def Sigmoid() -> Layer:
    return _numerical("Sigmoid", jax.nn.sigmoid)


def Softplus() -> Layer:
    return _numerical("Softplus", jax.nn.softplus)


def Silu() -> Layer:
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
    """Any elementwise activation ``fn`` (a JAX function applied to arrays).

    Its dual is ``nngp_fn(cov12, var1, var2) = E[fn(u) fn(v)]`` when given (a scalar function,
    neural-tangents' argument order), with the NTK factor ``d_nngp_fn`` (default: its
    derivative in cov12 by autodiff); otherwise both are computed numerically from ``fn``
    and its autodiff derivative (quadrature.py, 512 Hermite terms). Layers compare by the
    functions' identity.
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
    """``fn`` with its dual from its Hermite expansion up to degree ``deg`` (quadrature.py;
    Elementwise uses 511), ``df`` its derivative (default: autodiff). In neural-tangents
    ``deg`` counted 2-D Gauss-Hermite nodes; here a larger ``deg`` is cheap (linear cost per
    kernel entry) and 100-500 suits saturating functions at unit-scale variances."""
    _check_callable("ElementwiseNumerical", "fn", fn, allow_none=False)
    hyperparameter("ElementwiseNumerical", "deg", deg, positive=True, integer=True)
    _check_callable("ElementwiseNumerical", "df", df)
    dual = expectation_dual(fn, df, deg + 1)
    variance = expectation_variance(fn, deg + 1)
    return activation_layer(Activation(("ElementwiseNumerical", fn, deg, df), fn, dual, variance))
