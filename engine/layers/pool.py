"""Pooling over positions: AvgPool, SumPool, GlobalAvgPool, GlobalSumPool, and Flatten.

All three are linear in the pre-activations, so the kernel maps are averages of K:
- AvgPool: K'[p, q] = sum over a in window(p), b in window(q) of K[a, b] / |window|^2; SAME
  pads with zeros that count in the mean (neural-tangents' normalize_edges=False), CIRCULAR
  wraps around; strides default to 1.
  normalize_edges=True divides by the number of real (unpadded) inputs of each window.
- SumPool: the same window sums without the division; GlobalSumPool: the sum over all pairs.
- GlobalAvgPool: K' = the mean of K[p, q] over all pairs of positions; channels stay C.
- Flatten: K' = the mean of the diagonal K[p, p]. The finite layer only reshapes to H*W*C
  features; the next Dense's 1/sqrt(n_in) = 1/sqrt(H*W*C) turns its sum into that mean.
  Flattened features are not identically distributed, so the output is not Gaussian.
AvgPool and GlobalAvgPool mix different positions: they need the full layout (``pools``).
(Novak et al. 2019, "Bayesian deep CNNs with many channels are Gaussian processes".)
"""
from __future__ import annotations

import dataclasses
import math

import jax.numpy as jnp
import numpy as np

from . import masking
from .conv import (check_padding, check_strides, check_window, check_window_fits,
                   layout_axes, padding_widths, spatial_out, window_masks, window_sum)
from .layer import Layer, Shape, expect_spatial
from .layout import check_axis, describe, normalized, order_in, with_axes


def _map_all(k, fn, **changes):
    """Apply one linear map to every array of the kernel record."""
    return k.map_covariances(fn).replace(ntk=fn(k.ntk), **changes)


def _expect_full(name, k):
    """Pooling layers mix positions: network.kernel_fn picks the full layout for them."""
    if not k.full:
        raise ValueError(f"{name}: needs the full spatial layout (covariances between "
                         "different positions); got the diagonal one")


def _window_counts(n, size, stride, padding) -> np.ndarray:
    """How many real (not padded) inputs each output position's window covers, (out,)."""
    low, _ = padding_widths(n, size, stride, padding)
    out = spatial_out(n, size, stride, padding)
    if padding != "SAME":  # VALID windows hold no padding, CIRCULAR pads with real inputs
        return np.full(out, float(size))
    starts = np.arange(out) * stride - low
    return (np.minimum(starts + size, n) - np.maximum(starts, 0)).astype(float)


def _scaled(x, ax, size, stride, padding, mode):
    """Window sum along ``ax``, then / size ('avg'), / real count ('edges') or as is ('sum')."""
    n = x.shape[ax]
    x = window_sum(x, (ax,), size, stride, padding)
    if mode == "avg":
        return x / size
    if mode == "edges":
        counts = _window_counts(n, size, stride, padding)
        return x / jnp.asarray(counts.reshape((-1,) + (1,) * (x.ndim - ax - 1)), x.dtype)
    return x


def _pool_layer(name, mode, window_shape, strides, padding) -> Layer:
    window_shape = check_window(name, "window_shape", window_shape)
    strides = check_strides(name, strides, window_shape, "window_shape")
    padding = check_padding(name, padding)
    geometry = tuple(zip(window_shape, strides))

    def shape(s):
        s = expect_spatial(name, s)
        check_window_fits(name, "window_shape", window_shape, s, padding)
        dims = tuple(spatial_out(n, w, st, padding) for n, (w, st) in zip(s.dims[:-1], geometry))
        return Shape(dims + (s.channels,), is_gaussian=s.is_gaussian)

    def apply(params, x):
        for d, (size, stride) in enumerate(geometry):
            x = _scaled(x, 1 + d, size, stride, padding, mode)
        return x

    def pool(x, spatial):
        """Each position of a pair pooled on its own (full layout only)."""
        for d, (size, stride) in enumerate(geometry):
            for ax in layout_axes(x.ndim, spatial, False, d):
                x = _scaled(x, ax, size, stride, padding, mode)
        return x

    def kernel(k):
        _expect_full(name, k)
        return _map_all(k, lambda x: pool(x, k.spatial))

    key = (name, window_shape, strides, padding)
    return Layer(key=key, shape=shape, kernel=kernel, apply=apply, pools=True,
                 masks=window_masks(name, window_shape, strides, padding), remask=True)


def AvgPool(window_shape, strides=None, padding="VALID", normalize_edges=False, batch_axis=0,
            channel_axis=-1) -> Layer:
    """Average over windows: K'[p, q] = sum_{a in w(p), b in w(q)} K[a, b] / (c(p) c(q)).

    Args:
      window_shape: 1 or 2 window sizes, one per spatial axis.
      strides: steps of the window (default 1 everywhere).
      padding: 'VALID', 'SAME' (zeros) or 'CIRCULAR' (wrap-around), or a stax.Padding member.
      normalize_edges: with SAME, divide by the number of real inputs in each window
        (c(p) = the window's count of non-padded positions) instead of its size.
      batch_axis, channel_axis: where the inputs hold the batch and the channels
        (engine.layers.layout); window_shape runs over the other axes in their order.
    """
    if not isinstance(normalize_edges, bool):
        raise ValueError(f"AvgPool(normalize_edges={normalize_edges!r}): normalize_edges "
                         "must be True or False")
    mode = "edges" if normalize_edges else "avg"
    layer = _pool_layer("AvgPool", mode, window_shape, strides, padding)
    if normalize_edges:
        layer = dataclasses.replace(layer, key=layer.key + ("normalize_edges",))
    return with_axes(layer, "AvgPool", batch_axis, channel_axis)


def SumPool(window_shape, strides=None, padding="VALID", batch_axis=0, channel_axis=-1) -> Layer:
    """Sum over windows: K'[p, q] = sum_{a in w(p), b in w(q)} K[a, b] (SAME pads zeros).

    Args:
      window_shape: 1 or 2 window sizes, one per spatial axis.
      strides: steps of the window (default 1 everywhere).
      padding: 'VALID', 'SAME' (zeros) or 'CIRCULAR' (wrap-around), or a stax.Padding member.
      batch_axis, channel_axis: as AvgPool's.
    """
    return with_axes(_pool_layer("SumPool", "sum", window_shape, strides, padding), "SumPool",
                     batch_axis, channel_axis)


def GlobalAvgPool(batch_axis=0, channel_axis=-1) -> Layer:
    """K' = the mean of K[p, q] over all pairs of positions; channels stay C.

    Args:
      batch_axis, channel_axis: where the inputs hold the batch and the channels
        (engine.layers.layout); the output (batch, channels) keeps their relative order.
    """
    return with_axes(_global_pool("GlobalAvgPool", jnp.mean), "GlobalAvgPool", batch_axis,
                     channel_axis)


def GlobalSumPool(batch_axis=0, channel_axis=-1) -> Layer:
    """K' = the sum of K[p, q] over all pairs of positions (P^2 times GlobalAvgPool's).

    Args:
      batch_axis, channel_axis: as GlobalAvgPool's.
    """
    return with_axes(_global_pool("GlobalSumPool", jnp.sum), "GlobalSumPool", batch_axis,
                     channel_axis)


def _global_pool(name, reduce) -> Layer:
    """GlobalAvgPool (``jnp.mean``) or GlobalSumPool (``jnp.sum``). With masked inputs the
    mean divides the sum by the number of unmasked positions (pairs of positions in the
    kernel; at least 1), as neural-tangents' does; the sum is unchanged."""
    average = reduce is jnp.mean

    def shape(s):
        s = expect_spatial(name, s)
        return Shape((s.channels,), is_gaussian=s.is_gaussian)

    def apply(params, x, mask=None):
        axes = tuple(range(1, x.ndim - 1))
        if mask is None or not average:
            return reduce(x, axis=axes)
        return _masked_mean(x, mask, axes)

    def kernel(k):
        _expect_full(name, k)

        def axes(x):
            return tuple(range(x.ndim - 2 * k.spatial, x.ndim))
        if not average or not masking.present(k):
            return _map_all(k, lambda x: reduce(x, axis=axes(x)), spatial=0, diagonal=False)
        m11, m12, m22 = masking.products(name, k)
        ntk = None if k.ntk is None else _masked_mean(k.ntk, m12, axes(k.ntk))
        return k.replace(nngp=_masked_mean(k.nngp, m12, axes(k.nngp)), ntk=ntk,
                         cov1=_masked_mean(k.cov1, m11, axes(k.cov1)),
                         cov2=_masked_mean(k.cov2, m22, axes(k.cov2)), spatial=0,
                         diagonal=False)

    return Layer(key=(name,), shape=shape, kernel=kernel, apply=apply, pools=True,
                 masks=masking.global_pooled, apply_mask=True)


def _masked_mean(x, mask, axes):
    """The sum of x over ``axes`` by the count of unmasked entries there (at least 1)."""
    count = jnp.sum(~jnp.broadcast_to(mask, x.shape), axis=axes)
    return jnp.sum(x, axis=axes) / jnp.maximum(count, 1)


def Flatten(batch_axis=0, batch_axis_out=0) -> Layer:
    """Reshape each input to one feature vector; K' = the mean of K[p, p] over positions.

    Args:
      batch_axis: where the inputs hold the batch; the other axes are flattened in their
        order (channels wherever the layers before put them).
      batch_axis_out: 0 for (batch, features) outputs, 1 for (features, batch).
    """
    name = f"Flatten(batch_axis={batch_axis!r}, batch_axis_out={batch_axis_out!r})"
    batch_axis = check_axis("Flatten", "batch_axis", batch_axis)
    out_axis = normalized("Flatten", "batch_axis_out", batch_axis_out, 2)
    out_order = None if out_axis == 0 else (1, 0)

    def shape(s):
        s = expect_spatial("Flatten", s)
        order = order_in(s)
        b = normalized("Flatten", "batch_axis", batch_axis, len(order))
        if order[b] != 0:
            raise ValueError(f"{name}: its inputs are laid out as {describe(order)} (set by "
                             "the layers before it); give it the batch axis they have")
        return Shape((math.prod(s.dims),), is_gaussian=False, order=out_order)

    def apply(params, x):
        b = batch_axis % x.ndim
        y = jnp.moveaxis(x, b, 0).reshape(x.shape[b], -1)
        return y if out_axis == 0 else y.T

    def kernel(k):
        positions = k.nngp.shape[2:] if k.diagonal else k.nngp.shape[2::2]
        return _map_all(k, lambda x: _diagonal_mean(x, k.spatial, k.diagonal), spatial=0,
                        channels=k.channels * math.prod(positions), is_gaussian=False)

    key = ("Flatten",) if (batch_axis, out_axis) == (0, 0) else ("Flatten", batch_axis, out_axis)
    return Layer(key=key, shape=shape, kernel=kernel, apply=apply, axes=(batch_axis, None),
                 masks=masking.flattened if out_axis == 0 else None)


def _diagonal_mean(x, spatial, diagonal):
    """Mean of K[p, p] over positions p, from either layout."""
    if diagonal:
        return jnp.mean(x, axis=tuple(range(x.ndim - spatial, x.ndim)))
    for _ in range(spatial):
        x = jnp.trace(x, axis1=-2, axis2=-1) / x.shape[-1]
    return x
