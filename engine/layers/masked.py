"""MaskedArray and unmask_fn: neural-tangents' record of values with a mask of entries to drop.

A ``MaskedArray(masked_value, mask)`` pairs an array (or pytree) with a boolean array (or
pytree) of the same or a broadcastable shape, True where an entry is masked (e.g. padding of
variable-length sequences). ``unmask_fn(fn)`` wraps a function so that every MaskedArray in
its output becomes a plain array with the masked entries set to zero, as neural-tangents'
``stax.unmask_fn`` does, e.g. before passing an apply function to empirical kernels.

``apply_fn(params, x, mask_constant=c)`` returns one; how masks pass the layers is
engine.layers.masking.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class MaskedArray:
    """Values and a mask, True where an entry is masked.

    Args:
      masked_value: an array or pytree of arrays.
      mask: booleans broadcastable to ``masked_value`` (same pytree structure), or None.
    """

    masked_value: Any
    mask: Any


def zero_masked(x):
    """A MaskedArray's values with masked entries set to 0; anything else unchanged."""
    if not isinstance(x, MaskedArray):
        return x
    if x.mask is None:
        return x.masked_value
    return jax.tree_util.tree_map(lambda v, m: jnp.where(m, jnp.zeros_like(v), v),
                                  x.masked_value, x.mask)


def unmask_fn(fn):
    """``fn`` returning plain arrays: each MaskedArray of its output has its masked entries
    set to zero.

    Args:
      fn: a function whose output may hold ``MaskedArray``s (anywhere in a pytree).
    """
    @functools.wraps(fn)
    def unmasked(*args, **kwargs):
        return jax.tree_util.tree_map(zero_masked, fn(*args, **kwargs),
                                      is_leaf=lambda x: isinstance(x, MaskedArray))
    return unmasked
