"""Layers whose finite form draws random numbers at apply time (Dropout), and what they need.

Such a layer is a ``RandomLayer``: its ``apply(params, x, rng=key)`` takes a PRNG key, and
combinators pass one down (split per child, as neural-tangents' stax does) only to children
that use it, so every other layer keeps the plain ``apply(params, x)``. ``same_inputs``
marks a kernel that must know which inputs of x1 and x2 are one and the same (the
Kernel's ``same`` mask), which ``kernel_fn`` then computes.
"""
from __future__ import annotations

from dataclasses import dataclass

import jax

from . import masking
from .keywords import used_keywords
from .layer import Layer


@dataclass(frozen=True, eq=False)
class RandomLayer(Layer):
    same_inputs: bool = False


def uses_rng(layer: Layer) -> bool:
    """The layer, or one inside it, takes a PRNG key at apply time."""
    return isinstance(layer, RandomLayer) or any(uses_rng(c) for c in layer.children)


def needs_same_inputs(layer: Layer) -> bool:
    """The layer's kernel, or one inside it, needs the Kernel's ``same`` mask."""
    return (isinstance(layer, RandomLayer) and layer.same_inputs) or \
        any(needs_same_inputs(c) for c in layer.children)


def call_apply(layer: Layer, params, x, rng, **keywords):
    """``layer.apply``, with ``rng`` only for a layer that uses one, the keywords it reads
    (engine.layers.keywords), and masks passed on when ``x`` is masked
    (engine.layers.masking)."""
    keywords = used_keywords(layer, keywords)
    if uses_rng(layer):
        keywords["rng"] = rng
    if masking.present(x):
        def call(values, mask):
            extra = {"mask": mask} if layer.apply_mask else {}
            return layer.apply(params, values, **keywords, **extra)
        return masking.apply(layer, x, call)
    return layer.apply(params, x, **keywords)


def split_rng(rng, n: int):
    """n keys from one (None stays None for each)."""
    if rng is None:
        return (None,) * n
    return tuple(jax.random.split(rng, max(n, 1)))[:n]
