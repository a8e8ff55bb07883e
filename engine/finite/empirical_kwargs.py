"""Keyword arguments of an empirical kernel fn, split between the x1 and the x2 side.

``ntk_fn(x1, x2, params, **apply_fn_kwargs)`` calls ``f(params, x1, **kwargs1)`` and
``f(params, x2, **kwargs2)`` with neural-tangents' convention (its ``utils.split_kwargs``):

- a tuple of two, ``pattern=(pattern1, pattern2)``: the first entry to x1, the second to x2;
- ``rng`` (one PRNG key) when x2 is given: x1 gets it, x2 gets the same key if x2 equals x1
  (entries within 1e-12) and ``jax.random.fold_in(rng, 1)`` otherwise, so different inputs
  draw independent noise (Dropout); a pair (key1, key2) is used as given, except that key2
  becomes ``fold_in(key2, 1)`` when the keys are equal and the inputs are not, and key1
  when the inputs are equal;
- anything else to both sides.

With x2=None only x1's side is used (f's outputs on x1 serve for both). Array-valued
keywords are traced (one compiled function for every value); others (strings, numbers,
functions) are bound to f and compiled per call.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from ..overflow import concrete

#: inputs closer than this in every entry count as the same (neural-tangents' x1_is_x2)
SAME_INPUTS = 1e-12


def split_kwargs(kwargs: dict, x1, x2) -> tuple[dict, dict]:
    """(kwargs1, kwargs2) for the x1 and x2 sides; kwargs2 is kwargs1 when x2 is None."""
    kwargs1, kwargs2 = {}, {}
    for name, value in kwargs.items():
        if name == "rng" and x2 is not None and value is not None:
            kwargs1[name], kwargs2[name] = _keys(value, x1, x2)
        elif isinstance(value, tuple) and len(value) == 2:
            kwargs1[name], kwargs2[name] = value
        else:
            kwargs1[name] = kwargs2[name] = value
    return kwargs1, (kwargs1 if x2 is None else kwargs2)


def _same(a, b):
    """Whether a equals b (a Python bool when both are concrete, else a traced one)."""
    if a is b:
        return True
    if jnp.shape(a) != jnp.shape(b):
        return False
    try:
        equal = jnp.all(jnp.abs(jnp.asarray(a) - jnp.asarray(b)) < SAME_INPUTS)
    except TypeError:  # typed PRNG keys have no subtraction
        equal = jnp.all(a == b)
    value = concrete(equal)
    return equal if value is None else bool(value)


def _where(condition, a, b):
    if isinstance(condition, bool):
        return a if condition else b
    return jnp.where(condition, a, b)


def _keys(rng, x1, x2):
    """neural-tangents' pair of dropout keys (utils._read_keys) for inputs x1 and x2."""
    if isinstance(rng, tuple) and len(rng) == 2:
        key1, key2 = rng
        key2 = _where(_same(key1, key2), jax.random.fold_in(key2, 1), key2)
    else:
        key1, key2 = rng, jax.random.fold_in(rng, 1)
    return key1, _where(_same(x1, x2), key1, key2)


def _is_traceable(value) -> bool:
    """None or a pytree of arrays: passed to a compiled function as an argument."""
    leaves = jax.tree_util.tree_leaves(value)
    return all(hasattr(leaf, "shape") and hasattr(leaf, "dtype") for leaf in leaves)


def bind(f, kwargs: dict):
    """(g, traced): f with the keywords that cannot be traced bound (``functools.partial``),
    and the dict of the others, so that ``g(params, x, **traced)`` is f's call."""
    traced = {name: v for name, v in kwargs.items() if _is_traceable(v)}
    fixed = {name: v for name, v in kwargs.items() if name not in traced}
    return (functools.partial(f, **fixed) if fixed else f), traced
