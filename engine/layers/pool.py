"""Pooling over positions: AvgPool, GlobalAvgPool, and Flatten (which feeds a Dense readout).

All three are linear in the pre-activations, so the kernel maps are averages of K:
- AvgPool: K'[p, q] = sum over a in window(p), b in window(q) of K[a, b] / |window|^2; SAME
  pads with zeros that count in the mean (neural-tangents' normalize_edges=False), CIRCULAR
  wraps around; strides default to 1.
- GlobalAvgPool: K' = the mean of K[p, q] over all pairs of positions; channels stay C.
- Flatten: K' = the mean of the diagonal K[p, p]. The finite layer only reshapes to H*W*C
  features; the next Dense's 1/sqrt(n_in) = 1/sqrt(H*W*C) turns its sum into that mean.
  Flattened features are not identically distributed, so the output is not Gaussian.
AvgPool and GlobalAvgPool mix different positions: they need the full layout (``pools``).
(Novak et al. 2019, "Bayesian deep CNNs with many channels are Gaussian processes".)
"""
from __future__ import annotations

import math

import jax.numpy as jnp

from .conv import (check_padding, check_strides, check_window, check_window_fits,
                   layout_axes, spatial_out, window_sum)
from .layer import Layer, Shape, expect_spatial


def _map_all(k, fn, **changes):
    """Apply one linear map to every array of the kernel record."""
    return k.map_covariances(fn).replace(ntk=fn(k.ntk), **changes)


def _expect_full(name, k):
    """Pooling layers mix positions: network.kernel_fn picks the full layout for them."""
    if not k.full:
        raise ValueError(f"{name}: needs the full spatial layout (covariances between "
                         "different positions); got the diagonal one")


def AvgPool(window_shape, strides=None, padding="VALID") -> Layer:
    window_shape = check_window("AvgPool", "window_shape", window_shape)
    strides = check_strides("AvgPool", strides, window_shape, "window_shape")
    padding = check_padding("AvgPool", padding)
    geometry = tuple(zip(window_shape, strides))

    def shape(s):
        s = expect_spatial("AvgPool", s)
        check_window_fits("AvgPool", "window_shape", window_shape, s, padding)
        dims = tuple(spatial_out(n, w, st, padding) for n, (w, st) in zip(s.dims[:-1], geometry))
        return Shape(dims + (s.channels,), is_gaussian=s.is_gaussian)

    def apply(params, x):
        for d, (size, stride) in enumerate(geometry):
            x = window_sum(x, (1 + d,), size, stride, padding) / size
        return x

    def pool(x, spatial):
        """Each position of a pair pooled on its own (full layout only)."""
        for d, (size, stride) in enumerate(geometry):
            for ax in layout_axes(x.ndim, spatial, False, d):
                x = window_sum(x, (ax,), size, stride, padding) / size
        return x

    def kernel(k):
        _expect_full("AvgPool", k)
        return _map_all(k, lambda x: pool(x, k.spatial))

    return Layer(key=("AvgPool", window_shape, strides, padding), shape=shape,
                 kernel=kernel, apply=apply, pools=True)


def GlobalAvgPool() -> Layer:
    def shape(s):
        s = expect_spatial("GlobalAvgPool", s)
        return Shape((s.channels,), is_gaussian=s.is_gaussian)

    def apply(params, x):
        return jnp.mean(x, axis=tuple(range(1, x.ndim - 1)))

    def kernel(k):
        _expect_full("GlobalAvgPool", k)

        def mean(x):
            return jnp.mean(x, axis=tuple(range(x.ndim - 2 * k.spatial, x.ndim)))
        return _map_all(k, mean, spatial=0, diagonal=False)

    return Layer(key=("GlobalAvgPool",), shape=shape, kernel=kernel, apply=apply, pools=True)


def Flatten() -> Layer:
    def shape(s):
        s = expect_spatial("Flatten", s)
        return Shape((math.prod(s.dims),), is_gaussian=False)

    def apply(params, x):
        return x.reshape(x.shape[0], -1)

    def kernel(k):
        positions = k.nngp.shape[2:] if k.diagonal else k.nngp.shape[2::2]
        return _map_all(k, lambda x: _diagonal_mean(x, k.spatial, k.diagonal), spatial=0,
                        channels=k.channels * math.prod(positions), is_gaussian=False)

    return Layer(key=("Flatten",), shape=shape, kernel=kernel, apply=apply)


def _diagonal_mean(x, spatial, diagonal):
    """Mean of K[p, p] over positions p, from either layout."""
    if diagonal:
        return jnp.mean(x, axis=tuple(range(x.ndim - spatial, x.ndim)))
    for _ in range(spatial):
        x = jnp.trace(x, axis1=-2, axis2=-1) / x.shape[-1]
    return x
