"""Layers that read keyword arguments of apply_fn and kernel_fn (Aggregate's ``pattern``).

neural-tangents passes every keyword of ``apply_fn(params, x, **kwargs)`` and
``kernel_fn(x1, x2, get, **kwargs)`` down to every layer. Here a layer that reads some
declares their names (a ``KeywordLayer``); combinators forward the keywords, and
``call_apply`` / ``call_kernel`` hand a layer only the names it or a layer inside it reads, so
every other layer keeps the plain ``apply(params, x)`` and ``kernel(k)``.

What a layer receives: in ``apply``, the value as given (``pattern=p``, one entry per input
along its leading axis); in ``kernel``, a pair for x1 and x2 (``pattern=(p1, p2)``), each with
a leading axis of the inputs' length (kernel_fn cuts the first entry into row chunks with x1).
"""
from __future__ import annotations

from dataclasses import dataclass

from . import masking
from .layer import Layer


@dataclass(frozen=True, eq=False)
class KeywordLayer(Layer):
    keywords: tuple[str, ...] = ()


def keywords_of(layer: Layer) -> frozenset:
    """Names of the keywords the layer, or a layer inside it, reads."""
    own = layer.keywords if isinstance(layer, KeywordLayer) else ()
    return frozenset(own).union(*(keywords_of(c) for c in layer.children))


def used_keywords(layer: Layer, keywords: dict) -> dict:
    """The entries of ``keywords`` that the layer (or one inside it) reads."""
    if not keywords:
        return {}
    names = keywords_of(layer)
    return {name: value for name, value in keywords.items() if name in names}


def call_kernel(layer: Layer, k, keywords: dict):
    """``layer.kernel(k)`` with the keywords it reads (and masks passed on, if any)."""
    used = used_keywords(layer, keywords)
    if masking.present(k):
        return masking.kernel(layer, k, lambda kk: layer.kernel(kk, **used))
    return layer.kernel(k, **used)
