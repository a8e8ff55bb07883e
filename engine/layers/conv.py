"""Conv: a Dense layer shared across positions, over 1 or 2 spatial axes (NWC or NHWC).

Finite network, NTK parameterization (default), filter offsets a, input channels c:
  z[p] = (W_std / sqrt(C_in |filter|)) sum_{a, c} W[a, c] h[p s + a, c] + b_std b,
  with W, b ~ N(0, 1);
standard: W ~ N(0, W_std^2 / (C_in |filter|)), b ~ N(0, b_std^2) and no multiplier.
Kernel, with conv(K)[p, q] = (1/|filter|) sum_a K[p s + a, q s + a] (the same offset on both
positions, separable per spatial axis, padded positions counted):
  "ntk":      Sigma' = W_std^2 conv(Sigma) + b_std^2,  Theta' = Sigma' + W_std^2 conv(Theta);
  "standard": Sigma' as above,
              Theta' = C_in |filter| conv(Sigma) + W_std^2 conv(Theta) + (1 if bias).
In the diagonal layout conv is the windowed mean of the diagonal K[p, p]. Output sizes follow
lax.conv: VALID (n - f) // s + 1, SAME and CIRCULAR ceil(n / s) (CIRCULAR pads by wrapping).
(Novak et al. 2019; Garriga-Alonso et al. 2019; Arora et al. 2019 for the NTK.)
"""
from __future__ import annotations

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .conv_checks import check_filter_layer, check_window_fits
# pool.py imports these window checks from here (redundant aliases: explicit re-exports)
from .conv_checks import check_padding as check_padding, check_strides as check_strides
from .conv_checks import check_window as check_window
from . import masking
from .dense import affine_kernel, check_scaling
from .layer import Layer, Shape, expect_spatial
from .layout import drawn, filter_layer


# ------------------------------------------------ window geometry (shared with pool.py)

def padding_widths(size, window, stride, padding) -> tuple[int, int]:
    """(low, high) padding of one axis: none for VALID, JAX's SAME rule otherwise."""
    if padding == "VALID":
        return (0, 0)
    return tuple(lax.padtype_to_pads((size,), (window,), (stride,), "SAME")[0])


def spatial_out(size, window, stride, padding) -> int:
    low, high = padding_widths(size, window, stride, padding)
    return (size + low + high - window) // stride + 1


def pad(x, axes, widths, padding):
    """Zero padding (VALID, SAME) or wrap-around (CIRCULAR) of ``axes``."""
    if widths == (0, 0):
        return x
    pads = [(0, 0)] * x.ndim
    for ax in axes:
        pads[ax] = widths
    return jnp.pad(x, pads, mode="wrap" if padding == "CIRCULAR" else "constant")


def layout_axes(ndim, spatial, diagonal, d) -> tuple[int, ...]:
    """Axes of spatial axis d in a kernel array: (h,) diagonal, (h1, h2) full layout."""
    if diagonal:
        return (ndim - spatial + d,)
    return (ndim - 2 * spatial + 2 * d, ndim - 2 * spatial + 2 * d + 1)


def window_sum(x, axes, size, stride, padding):
    """sum over a < size of x[..., p stride + a, ...], with the same a on every axis in ``axes``.

    One axis: ``lax.reduce_window``. Two axes (a pair of the full layout, summed along the
    diagonal): strided slices. (A 2-D convolution with the identity filter would do the
    latter too, but XLA:CPU's float64 convolution with one channel crashes on large batches.)
    """
    count = spatial_out(x.shape[axes[0]], size, stride, padding)
    x = pad(x, axes, padding_widths(x.shape[axes[0]], size, stride, padding), padding)
    if len(axes) == 1:
        window, strides = [1] * x.ndim, [1] * x.ndim
        window[axes[0]], strides[axes[0]] = size, stride
        return lax.reduce_window(x, 0.0, lax.add, window, strides, "VALID")
    total = 0.0
    for a in range(size):
        part = x
        for ax in axes:
            part = lax.slice_in_dim(part, a, a + stride * (count - 1) + 1, stride, ax)
        total = total + part
    return total


# ------------------------------------------------ Conv

#: pairs of positions (n_in^2) up to which a pair's window sum is one matrix product
PAIR_MATRIX_MAX = 144


def conv_map(x, spatial, diagonal, filter_shape, strides, padding):
    """conv(K) on the trailing (positions of a) kernel array, one spatial axis at a time.

    In the full layout, a spatial axis whose pairs are few (n^2 <= PAIR_MATRIX_MAX, e.g.
    8 x 8 images) is mapped by one matrix product over its flattened pair of axes (a
    (n_out^2, n^2) matrix of 0 and 1 / size). XLA:CPU fuses a chain of strided window sums
    into its consumers and recomputes each input value once per window offset (and with it
    the preceding activation's arccos); a matrix product reads a materialised input once.
    """
    for d, (size, stride) in enumerate(zip(filter_shape, strides)):
        axes = layout_axes(x.ndim, spatial, diagonal, d)
        if len(axes) == 2 and x.shape[axes[0]] ** 2 <= PAIR_MATRIX_MAX:
            x = _pair_matmul(x, axes[0], size, stride, padding)
        else:
            x = window_sum(x, axes, size, stride, padding) / size
    return x


def pair_window_matrix(n, size, stride, padding) -> np.ndarray:
    """M[(p, q), (i, j)] = 1 / size for each offset a with (i, j) = (p s + a - lo, q s + a - lo).

    Rows are output pairs, columns input pairs (both flattened row-major); positions in the
    zero padding drop out, CIRCULAR wraps them around.
    """
    low, _ = padding_widths(n, size, stride, padding)
    out = spatial_out(n, size, stride, padding)
    m = np.zeros((out, out, n, n))
    for p in range(out):
        for q in range(out):
            for a in range(size):
                i, j = p * stride + a - low, q * stride + a - low
                if padding == "CIRCULAR":
                    i, j = i % n, j % n
                if 0 <= i < n and 0 <= j < n:
                    m[p, q, i, j] += 1.0 / size
    return m.reshape(out * out, n * n)


def _pair_matmul(x, axis, size, stride, padding):
    """The window mean over the pair of axes (axis, axis + 1) as one matrix product."""
    n = x.shape[axis]
    m = pair_window_matrix(n, size, stride, padding)
    out = math.isqrt(m.shape[0])
    lead, tail = x.shape[:axis], x.shape[axis + 2:]
    # the barrier keeps XLA from constant-folding the product of an all-zero input kernel
    y = lax.optimization_barrier(x).reshape((math.prod(lead), n * n, math.prod(tail)))
    y = jnp.einsum("oi,bit->bot", jnp.asarray(m, x.dtype), y)
    return y.reshape(lead + (out, out) + tail)


def _patches(x, filter_shape, strides):
    """(N, *out, |filter| C): the input under each filter position, offsets major, channels minor.

    Slices and one matmul instead of ``lax.conv_general_dilated``: on XLA:CPU the float64
    convolution's input gradient is ~20x slower than this, and it crashes with one channel.
    """
    out = [(x.shape[1 + d] - f) // s + 1 for d, (f, s) in enumerate(zip(filter_shape, strides))]
    columns = []
    for offset in itertools.product(*(range(f) for f in filter_shape)):
        part = x
        for d, (a, s) in enumerate(zip(offset, strides)):
            part = lax.slice_in_dim(part, a, a + s * (out[d] - 1) + 1, s, 1 + d)
        columns.append(part)
    return jnp.concatenate(columns, axis=-1)


def init_filter(key, s, filter_shape, out_chan, W_std, b_std, ntk_param, weight_order=None,
                s_in=1):
    """(W, b) of a filter layer as neural-tangents lays them out: W HWIO, b (1, 1, 1, out)
    or None; the standard parameterization scales W and b here, the NTK one in apply.

    ``weight_order`` (engine.layers.layout.conv_axes): W is drawn in that layout, as
    neural-tangents draws it for its rhs_spec, and returned in HWIO. ``s_in``: the standard
    parameterization's input scaling (engine.layers.dense.check_scaling).
    """
    kw, kb = jax.random.split(key)
    W = drawn(kw, filter_shape + (s.channels, out_chan), weight_order)
    if not ntk_param:
        W = W * (W_std / math.sqrt(s.channels * math.prod(filter_shape) / s_in))
    if b_std is None:
        return W, None
    b = jax.random.normal(kb, (1,) * len(s.dims) + (out_chan,))
    return W, (b if ntk_param else b * b_std)


def Conv(out_chan, filter_shape, strides=None, padding="VALID", W_std=1.0, b_std=None,
         dimension_numbers=None, parameterization="ntk", s=(1, 1)) -> Layer:
    """Convolution over 1 or 2 spatial axes, weights shared across positions.

    Args:
      out_chan: output channels (a positive integer).
      filter_shape: 1 or 2 positive integers, one per spatial axis of the inputs.
      strides: the window's step per axis (None: 1 everywhere).
      padding: 'VALID', 'SAME' (zeros) or 'CIRCULAR' (wrap-around), or a stax.Padding member.
      W_std: weight standard deviation (non-negative).
      b_std: bias standard deviation, or None for no bias.
      dimension_numbers: (lhs_spec, rhs_spec, out_spec) as in ``lax.conv_general_dilated``,
        e.g. ('NCHW', 'OIHW', 'NCHW'): the layout of the inputs, of W, and of the outputs
        (which must be the inputs'); None: ('NHWC', 'HWIO', 'NHWC') or ('NWC', 'WIO', 'NWC').
      parameterization: 'ntk' or 'standard' (as Dense).
      s: (s_in, s_out) of the standard parameterization, as Dense's (fan-in C_in |filter|).

    Kernel: Sigma' = W_std^2 conv(Sigma) + b_std^2 with conv the same-offset window mean of
    the module docstring (Novak et al. 2019; Garriga-Alonso et al. 2019; Arora et al. 2019
    for the NTK); Theta' by the parameterization as for Dense.
    """
    return filter_layer("Conv", lambda order: _conv(
        out_chan, filter_shape, strides, padding, W_std, b_std, parameterization, s, order),
        dimension_numbers)


def _conv(out_chan, filter_shape, strides, padding, W_std, b_std, parameterization, scaling,
          weight_order=None) -> Layer:
    args = check_filter_layer("Conv", out_chan, filter_shape, strides, padding, W_std, b_std,
                              parameterization)
    filter_shape, strides, padding = args.filter_shape, args.strides, args.padding
    ntk_param, fan_in = args.ntk_param, args.fan_in
    s_in, s_out = check_scaling("Conv", scaling, parameterization)
    width = out_chan * s_out

    def shape(s):
        s = expect_spatial("Conv", s)
        check_window_fits("Conv", "filter_shape", filter_shape, s, padding)
        dims = tuple(spatial_out(n, f, st, padding)
                     for n, f, st in zip(s.dims[:-1], filter_shape, strides))
        return Shape(dims + (width,), is_gaussian=True)

    def init(key, s):
        return init_filter(key, s, filter_shape, width, W_std, b_std, ntk_param, weight_order,
                           s_in)

    def apply(params, x):
        W, b = params
        for d, (size, stride) in enumerate(zip(filter_shape, strides)):
            x = pad(x, (1 + d,), padding_widths(x.shape[1 + d], size, stride, padding), padding)
        z = _patches(x, filter_shape, strides) @ W.reshape(-1, width)
        z = z * (W_std / math.sqrt(x.shape[-1] * fan_in) if ntk_param else 1 / math.sqrt(s_in))
        if b_std is None:
            return z
        return z + (b_std if ntk_param else 1.0) * b

    def kernel(k):
        def conv(x):
            return conv_map(x, k.spatial, k.diagonal, filter_shape, strides, padding)
        return affine_kernel(k, conv(k.nngp), conv(k.ntk), conv, k.channels * fan_in / s_in,
                             W_std, b_std, parameterization, width)

    scaled = () if (s_in, s_out) == (1, 1) else (("s", s_in, s_out),)
    return Layer(key=("Conv", out_chan, filter_shape, strides, padding, W_std, b_std,
                      parameterization) + scaled, shape=shape, kernel=kernel, apply=apply,
                 init=init, masks=window_masks("Conv", filter_shape, strides, padding),
                 remask=True)


def window_masks(name, window, strides, padding):
    """The masks' rule of a layer with windows (engine.layers.masking.pooled)."""
    same = "VALID" if padding == "VALID" else "SAME"  # CIRCULAR pads masks as SAME
    return masking.pooled(name, window, strides,
                          lambda size, w, s: padding_widths(size, w, s, same))
