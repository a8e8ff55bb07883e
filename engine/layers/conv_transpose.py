"""ConvTranspose: the transpose of a strided convolution (NWC or NHWC), weights shared.

Per spatial axis, input position p reaches output position o through filter tap a when
  o = p s + lo - a            (VALID and SAME; o outside the output is dropped),
lo being lax.conv_transpose's low padding (f - 1, or ceil((f + s - 2) / 2) for SAME when
s <= f - 1). Output sizes: VALID n s + max(f - s, 0), SAME and CIRCULAR n s. CIRCULAR takes
VALID's output and wraps it onto n s positions: o = (p s + f - 1 - a - floor(e / 2)) mod n s,
e = max(f - s, 0). With T_a[o, p] = 1 on those pairs (products over the spatial axes),
finite network, NTK parameterization (default), input channels c:
  z[o] = (W_std / sqrt(C_in |filter|)) sum_{a, c, p} W[a, c] T_a[o, p] h[p, c] + b_std b,
  with W, b ~ N(0, 1) (standard: the scale moves into W's variance, b ~ N(0, b_std^2)).
Kernel, with convT(K)[o, o'] = (1/|filter|) sum_a sum_{p, p'} T_a[o, p] T_a[o', p'] K[p, p']
(one tap a on both positions; a position gets at most one p per tap):
  "ntk":      Sigma' = W_std^2 convT(Sigma) + b_std^2,  Theta' = Sigma' + W_std^2 convT(Theta);
  "standard": Theta' = C_in |filter| convT(Sigma) + W_std^2 convT(Theta) + (1 if bias).
In the diagonal layout convT(K)[o, o] = (1/|filter|) sum_a sum_p T_a[o, p] K[p, p].
(Novak et al. 2019, "Bayesian deep CNNs with many channels are GPs", for the convolution
kernel; the transpose by the same argument, as neural-tangents' stax.ConvTranspose.)

Masked inputs (mask_constant), as neural-tangents: with the channels merged (a position is
masked when all its channels are), an output position is masked when any input position
reaching it through some tap is (lax.conv_transpose of the mask with a filter of ones; CIRCULAR
takes SAME's taps, as neural-tangents does), and the covariances of masked positions are
zeroed.
"""
from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from . import masking
from .conv import init_filter, layout_axes
from .conv_checks import check_filter_layer, check_window_fits
from .dense import affine_kernel, check_scaling
from .layer import Layer, Shape, expect_spatial
from .layout import filter_layer


def transpose_low_padding(size, stride, padding) -> int:
    """lax.conv_transpose's padding before the dilated input, for one axis."""
    if padding == "SAME" and stride <= size - 1:
        return math.ceil((size + stride - 2) / 2)
    return size - 1


def transpose_out(n, size, stride, padding) -> int:
    """Output size of one axis: VALID n s + max(f - s, 0), SAME and CIRCULAR n s."""
    return n * stride + (max(size - stride, 0) if padding == "VALID" else 0)


def transpose_taps(n, size, stride, padding) -> np.ndarray:
    """T[a, o, p] = 1 where input position p reaches output position o through tap a."""
    out = transpose_out(n, size, stride, padding)
    low = transpose_low_padding(size, stride, padding)
    shift = max(size - stride, 0) // 2
    taps = np.zeros((size, out, n))
    for a in range(size):
        for p in range(n):
            o = p * stride + low - a
            if padding == "CIRCULAR":
                o = (o - shift) % out
            if 0 <= o < out:
                taps[a, o, p] = 1.0
    return taps


def _taps(filter_shape, strides, padding, positions, dtype):
    return [jnp.asarray(transpose_taps(n, f, s, padding), dtype)
            for n, f, s in zip(positions, filter_shape, strides)]


def _transpose_apply(x, taps, W):
    """z[n, o, out] = sum_{a, c, p} W[a, c, out] T_a[o, p] x[n, p, c] (all spatial axes)."""
    d = range(len(taps))
    p, a, o = [1 + i for i in d], [10 + i for i in d], [20 + i for i in d]
    operands = [x, [0, *p, 30]]
    for i in d:
        operands += [taps[i], [a[i], o[i], p[i]]]
    return jnp.einsum(*operands, W, [*a, 30, 31], [0, *o, 31])


def transpose_map(x, spatial, diagonal, filter_shape, strides, padding):
    """convT(K) on a kernel array whose trailing axes are positions, one axis at a time."""
    for d, (size, stride) in enumerate(zip(filter_shape, strides)):
        axes = layout_axes(x.ndim, spatial, diagonal, d)
        taps = jnp.asarray(transpose_taps(x.shape[axes[0]], size, stride, padding), x.dtype)
        labels = list(range(x.ndim))
        out = list(labels)
        if diagonal:
            out[axes[0]] = 40
            x = jnp.einsum(taps.sum(0), [40, axes[0]], x, labels, out)
        else:
            out[axes[0]], out[axes[1]] = 40, 41
            x = jnp.einsum(taps, [42, 40, axes[0]], taps, [42, 41, axes[1]], x, labels, out)
        x = x / size
    return x


def ConvTranspose(out_chan, filter_shape, strides=None, padding="VALID", W_std=1.0,
                  b_std=None, dimension_numbers=None, parameterization="ntk",
                  s=(1, 1)) -> Layer:
    """Transposed convolution over 1 or 2 spatial axes, as neural-tangents' ConvTranspose.

    Args:
      out_chan: output channels (a positive integer).
      filter_shape: 1 or 2 positive integers, one per spatial axis of the inputs.
      strides: the upsampling factor per axis (None: 1 everywhere).
      padding: 'VALID', 'SAME' or 'CIRCULAR' (lax.conv_transpose's VALID output wrapped
        around onto n s positions).
      W_std: weight standard deviation (non-negative).
      b_std: bias standard deviation, or None for no bias.
      dimension_numbers: (lhs_spec, rhs_spec, out_spec) as Conv's.
      parameterization: 'ntk' or 'standard' (as Dense and Conv).
      s: (s_in, s_out) of the standard parameterization, as Conv's.

    Kernel: Sigma' = W_std^2 convT(Sigma) + b_std^2 with convT the same-tap average of the
    module docstring (Novak et al. 2019); Theta' by the parameterization as for Dense.
    """
    return filter_layer("ConvTranspose", lambda order: _conv_transpose(
        out_chan, filter_shape, strides, padding, W_std, b_std, parameterization, s, order),
        dimension_numbers)


def _conv_transpose(out_chan, filter_shape, strides, padding, W_std, b_std, parameterization,
                    scaling, weight_order=None) -> Layer:
    name = "ConvTranspose"
    args = check_filter_layer(name, out_chan, filter_shape, strides, padding, W_std, b_std,
                              parameterization)
    filter_shape, strides, padding = args.filter_shape, args.strides, args.padding
    ntk_param, fan_in = args.ntk_param, args.fan_in
    s_in, s_out = check_scaling(name, scaling, parameterization)
    width = out_chan * s_out

    def shape(s):
        s = expect_spatial(name, s)
        # a transposed convolution never outputs fewer positions than it receives: only
        # the number of filter axes is checked, for every padding
        check_window_fits(name, "filter_shape", filter_shape, s, "SAME")
        dims = tuple(transpose_out(n, f, st, padding)
                     for n, f, st in zip(s.dims[:-1], filter_shape, strides))
        return Shape(dims + (width,), is_gaussian=True)

    def init(key, s):
        return init_filter(key, s, filter_shape, width, W_std, b_std, ntk_param, weight_order,
                           s_in)

    def apply(params, x):
        W, b = params
        taps = _taps(filter_shape, strides, padding, x.shape[1:-1], x.dtype)
        z = _transpose_apply(x, taps, W)
        z = z * (W_std / math.sqrt(x.shape[-1] * fan_in) if ntk_param else 1 / math.sqrt(s_in))
        if b_std is None:
            return z
        return z + (b_std if ntk_param else 1.0) * b

    def kernel(k):
        def conv(x):
            return transpose_map(x, k.spatial, k.diagonal, filter_shape, strides, padding)
        return affine_kernel(k, conv(k.nngp), conv(k.ntk), conv, k.channels * fan_in / s_in,
                             W_std, b_std, parameterization, width)

    scaled = () if (s_in, s_out) == (1, 1) else (("s", s_in, s_out),)
    return Layer(key=(name, out_chan, filter_shape, strides, padding, W_std, b_std,
                      parameterization) + scaled, shape=shape, kernel=kernel, apply=apply,
                 init=init, masks=_transpose_masks(filter_shape, strides, padding), remask=True)


def _transpose_masks(filter_shape, strides, padding):
    """The masks' rule: output o is masked when a masked input p reaches it (T_a[o, p] = 1
    for some tap a), the channels merged first; CIRCULAR as SAME (neural-tangents' mask_fn
    pads it so)."""
    taps_padding = "SAME" if padding == "CIRCULAR" else padding

    def rule(mask, dims):
        mask = masking.all_channels(mask, dims)
        mask = jnp.broadcast_to(mask, mask.shape[:1] + tuple(dims[:-1]) + (1,))
        for d, (size, stride) in enumerate(zip(filter_shape, strides)):
            reach = transpose_taps(mask.shape[1 + d], size, stride, taps_padding).any(axis=0)
            hits = jnp.tensordot(jnp.asarray(reach, jnp.int32), mask.astype(jnp.int32),
                                 axes=((1,), (1 + d,)))
            mask = jnp.moveaxis(hits > 0, 0, 1 + d)
        return mask
    return rule
