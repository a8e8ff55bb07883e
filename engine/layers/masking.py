"""Masked inputs, as neural-tangents' ``mask_constant``: entries equal to it are left out.

    k = kernel_fn(x1, x2, "ntk", mask_constant=100.0)   # padding of sequences, say
    out = apply_fn(params, x, mask_constant=100.0)        # a MaskedArray(values, mask)

An input entry equal to the constant (NaN: a NaN entry) is masked: it is set to zero and a
boolean mask, True there, travels beside the values through the network. Each layer says how
its output's mask follows from its input's (``Layer.masks``, a rule on canonical-layout
masks ``(N, *positions, c)``, c the channels or 1):

- elementwise layers keep it (``same``);
- a layer mixing the channels (Dense, Conv, attention) masks a position when all its
  channels are masked (``all_channels``), and Conv, pooling and resizing also move it to
  their outputs' positions;
- global pooling masks an input whose positions are all masked; FanInSum and FanInProd an
  entry masked in every branch; FanInConcat concatenates the masks.

Layers that average or normalise over positions (GlobalAvgPool, LayerNorm, attention) leave
the masked positions out of their averages, in ``apply`` (``mask=``, ``Layer.apply_mask``)
and in the kernel (``Kernel.mask1``/``mask2``). After layers neural-tangents marks with
``remask_kernel`` the covariances of masked entries are set to zero (``remask``). A layer
with no rule refuses masked inputs with a ValueError instead of ignoring the mask.

Before each layer the masked entries of its input are set to zero (``apply``), as
neural-tangents does. The network's output is a ``MaskedArray`` (``unmask_fn`` zeroes its
masked entries); kernel_fn's Kernel carries the output masks as ``mask1``/``mask2``.
"""
from __future__ import annotations

import math

import jax.numpy as jnp

from ..kernel import Kernel, positions, spread
from .layer import Layer
from .masked import MaskedArray

#: combinators: the layers inside them handle the masks
INSIDE = "inside"


def same(mask, dims):
    """Elementwise layers: the output is masked where the input is."""
    return mask


def all_channels(mask, dims):
    """A position is masked when every channel of it is (layers mixing the channels)."""
    return jnp.all(mask, axis=-1, keepdims=True)


def uniform_channels(name: str, mask):
    """``mask`` with one entry per position; a ValueError when channels differ there."""
    if mask.shape[-1] != 1:
        raise ValueError(f"{name}: masks that differ between the channels of a position "
                         "have no infinite-width kernel here (as in neural-tangents); mask "
                         "whole positions (every channel), or put a Dense or Conv first")
    return mask


def input_mask(x, mask_constant):
    """True where ``x`` equals ``mask_constant`` (where x is NaN for a NaN constant)."""
    c = jnp.asarray(mask_constant, x.dtype)
    return jnp.where(jnp.isnan(c), jnp.isnan(x), x == c)


def zeroed(x, mask):
    """``x`` with its masked entries set to zero (mask None: x)."""
    if mask is None:
        return x
    return jnp.where(mask, jnp.zeros((), x.dtype), x)


def present(value) -> bool:
    """The value (a Kernel, a MaskedArray, or a tuple of them for branches) carries masks."""
    if isinstance(value, tuple):
        return any(present(v) for v in value)
    if isinstance(value, Kernel):
        return value.mask1 is not None or value.mask2 is not None
    return isinstance(value, MaskedArray) and value.mask is not None


def refused(where: str) -> ValueError:
    return ValueError(f"{where}: does not take masked inputs (mask_constant=...); the layers "
                      "that do are listed in the README's porting notes")


def check_supported(layer: Layer) -> None:
    """A ValueError naming the first layer (its position in the top serial, and its name)
    that does not take masked inputs, before anything is computed."""
    def first(node):
        if node.masks is INSIDE:
            for child in node.children:
                found = first(child)
                if found is not None:
                    return found
            return None
        return node if node.masks is None else None
    tops = layer.children if layer.masks is INSIDE and layer.key[0] == "serial" else (layer,)
    for i, top in enumerate(tops):
        bad = first(top)
        if bad is not None:
            raise refused(f"layer {i} ({bad.name})" if top is not layer else bad.name)


def _rule(layer: Layer):
    if layer.masks is None:
        raise refused(layer.name)
    return layer.masks


def _map(fn, value, *rest):
    """``fn`` on each branch of a tuple value, or on the value."""
    if isinstance(value, tuple):
        return tuple(fn(*parts) for parts in zip(value, *rest))
    return fn(value, *rest)


# ----------------------------------------------------------------------------- kernels


def kernel(layer: Layer, k, call):
    """``call(k)``, the layer's kernel, with the masks passed on and, for a ``remask``
    layer, the covariances of masked entries set to zero."""
    rule = layer.masks
    if rule is INSIDE:
        return call(k)
    rule = _rule(layer)
    out = call(k)

    def dims(kk):
        return positions(kk) + (kk.channels,)

    shapes = _map(dims, k)
    m1 = rule(_map(lambda kk: kk.mask1, k), shapes)
    m2 = rule(_map(lambda kk: kk.mask2, k), shapes)
    out = _map(lambda kk, a, b: kk.replace(mask1=a, mask2=b), out,
               *(_spread_branches(out, m) for m in (m1, m2)))
    return _map(lambda kk: remasked(layer.name, kk), out) if layer.remask else out


def _spread_branches(out, masks):
    """Masks for each branch of a tuple output (a rule returning one mask per branch)."""
    if isinstance(out, tuple) and not isinstance(masks, tuple):
        return (masks,) * len(out)
    return masks


def _products(k: Kernel, m1, m2):
    """Masks broadcastable to cov1, nngp and cov2: an entry is masked when either of its two
    positions is (neural-tangents' Kernel.mask); laid out as the variances (kernel.spread)."""
    def pair(a, b, paired):
        return (spread(a, k.spatial, k.full, True, paired)
                | spread(b, k.spatial, k.full, False, paired))
    return pair(m1, m1, False), pair(m1, m2, True), pair(m2, m2, False)


def masks_of(name: str, k: Kernel):
    """The Kernel's masks as (N, *positions) booleans (nothing masked: all False)."""
    def one(m, n):
        if m is None:
            return jnp.zeros((n,) + positions(k), bool)
        return uniform_channels(name, m)[..., 0]
    return one(k.mask1, k.nngp.shape[0]), one(k.mask2, k.nngp.shape[1])


def remasked(name: str, k: Kernel) -> Kernel:
    """The covariances of masked entries set to zero."""
    if k.mask1 is None and k.mask2 is None:
        return k
    m11, m12, m22 = _products(k, *masks_of(name, k))
    ntk = None if k.ntk is None else zeroed(k.ntk, m12)
    return k.replace(nngp=zeroed(k.nngp, m12), ntk=ntk, cov1=zeroed(k.cov1, m11),
                     cov2=zeroed(k.cov2, m22))


def products(name: str, k: Kernel):
    """(m11, m12, m22): the masked entries of cov1, nngp and cov2, for layers averaging
    over positions."""
    return _products(k, *masks_of(name, k))


# ----------------------------------------------------------------------------- apply


def apply(layer: Layer, x, call):
    """``call(values, mask)``, the layer's apply on the zeroed values of a MaskedArray (or a
    tuple of them), as a MaskedArray with the layer's output mask."""
    rule = layer.masks
    if rule is INSIDE:
        return call(x, None)
    rule = _rule(layer)
    values = _map(lambda v: zeroed(v.masked_value, v.mask), x)
    masks = _map(lambda v: v.mask if v.mask is not None else
                 jnp.zeros(v.masked_value.shape[:1] + (1,) * (v.masked_value.ndim - 1), bool),
                 x)
    out = call(values, masks)
    out_masks = rule(masks, _map(lambda v: tuple(v.shape[1:]), values))
    return _map(MaskedArray, out, _spread_branches(out, out_masks))


def masked_input(x, mask_constant) -> MaskedArray:
    """The network's input as neural-tangents masks it (masked entries set to zero)."""
    mask = input_mask(x, mask_constant)
    return MaskedArray(zeroed(x, mask), mask)


# ----------------------------------------------------------------------------- rules


def pooled(name: str, window, strides, padding_widths):
    """The rule of a layer with windows over positions (Conv, AvgPool, SumPool): the channels
    merged (``all_channels``), each output position takes the mask of its window's centre
    (neural-tangents' ``_pool_mask``). ``padding_widths(size, window, stride)`` gives an
    axis' (low, high) padding (CIRCULAR pads as SAME here, as in neural-tangents)."""
    def rule(mask, dims):
        mask = uniform_channels(name, all_channels(mask, dims))
        index = [slice(None)]
        for size, w, s in zip(mask.shape[1:-1], window, strides):
            low, high = padding_widths(size, w, s)
            out = (size + low + high - w) // s + 1
            start = -low + (w - 1) // 2
            index.append(slice(start, start + 1 + (out - 1) * s, s))
        index.append(slice(None))
        return _strided(mask, tuple(index))
    return rule


def _strided(mask, index):
    """``mask[index]`` where a start below zero (windows padded at the start) reads False."""
    fronts = [max(0, -sl.start) if isinstance(sl.start, int) else 0 for sl in index]
    if any(fronts):
        mask = jnp.pad(mask, [(f, 0) for f in fronts], constant_values=False)
        index = tuple(slice(sl.start + f, sl.stop + f, sl.step) if isinstance(sl.start, int)
                      else sl for sl, f in zip(index, fronts))
    return mask[index]


def global_pooled(mask, dims):
    """Global pooling: an input is masked when all its positions are."""
    mask = uniform_channels("global pooling", mask)
    return jnp.all(mask, axis=tuple(range(1, mask.ndim - 1)))


def flattened(mask, dims):
    """Flatten: the mask of each (position, channel) entry, in the values' order."""
    full = jnp.broadcast_to(mask, mask.shape[:1] + tuple(dims))
    return full.reshape(mask.shape[0], math.prod(dims))


def fanned_out(num):
    def rule(mask, dims):
        return (mask,) * num
    return rule


def summed(masks, dims):
    """FanInSum / FanInProd: an entry is masked when it is masked in every branch."""
    out = masks[0]
    for m in masks[1:]:
        out = out & m
    return out


def concatenated(axis):
    """FanInConcat along the canonical ``axis`` (an index into (batch, spatial..., C))."""
    def rule(masks, dims):
        parts = []
        shape = jnp.broadcast_shapes(*(m.shape for m in masks))
        for m, d in zip(masks, dims):
            size = (m.shape[0],) + tuple(d)
            target = list(shape)
            target[axis] = size[axis]
            parts.append(jnp.broadcast_to(m, tuple(target)))
        return jnp.concatenate(parts, axis=axis)
    return rule

