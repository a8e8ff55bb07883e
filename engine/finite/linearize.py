"""Taylor expansions of a network in its parameters (neural-tangents' linearize, taylor_expand).

    f_lin = linearize(apply_fn, params_0)
    y = f_lin(params, x)      # f(params_0, x) + J(x) (params - params_0)

Training ``f_lin`` by gradient descent on MSE is what the NTK predictions describe exactly
(Lee et al. 2019, "Wide neural networks of any depth evolve as linear models").
"""
from __future__ import annotations

import math

import jax

from .. import checks


def _difference(params, params_0):
    return jax.tree_util.tree_map(lambda p, p0: p - p0, params, params_0)


def linearize(f, params):
    """``f_lin(p, *args, **kwargs) = f(params, ...) + d/dt f(params + t (p - params), ...)|t=0``.

    Args:
      f: ``f(params, *args, **kwargs)``.
      params: the point of expansion (a pytree like f's params).
    """
    def f_lin(p, *args, **kwargs):
        def at(q):
            return f(q, *args, **kwargs)
        value, change = jax.jvp(at, (params,), (_difference(p, params),))
        return jax.tree_util.tree_map(lambda v, c: v + c, value, change)

    return f_lin


def taylor_expand(f, params, degree: int):
    """``f_tayl(p, ...) = sum_{k <= degree} D^k f(params)[p - params]^k / k!``.

    Args:
      f: ``f(params, *args, **kwargs)``.
      params: the point of expansion.
      degree: the order (0: the constant f(params); 1: ``linearize``).
    """
    if isinstance(degree, bool) or not isinstance(degree, int) or degree < 0:
        raise checks.fail("taylor_expand", "degree", repr(degree), "a whole number >= 0")

    def f_tayl(p, *args, **kwargs):
        delta = _difference(p, params)

        def along(order):
            """The order-th derivative of t -> f(params + t delta) at t = 0."""
            g = lambda q: f(q, *args, **kwargs)  # noqa: E731
            for _ in range(order):
                g = (lambda h: lambda q: jax.jvp(h, (q,), (delta,))[1])(g)
            return g(params)

        terms = [along(k) for k in range(degree + 1)]
        return jax.tree_util.tree_map(
            lambda *ts: sum(t / math.factorial(k) for k, t in enumerate(ts)), *terms)

    return f_tayl
