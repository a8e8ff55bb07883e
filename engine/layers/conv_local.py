"""ConvLocal: a locally connected layer, Conv's windows with unshared weights per position.

Finite network, NTK parameterization (default), output position q, filter offsets a, input
channels c:
  z[q] = (W_std / sqrt(C_in |filter|)) sum_{a, c} W[q, a, c] h[q s + a, c] + b_std b[q],
  with W, b ~ N(0, 1) (standard: the scale moves into W's variance, b ~ N(0, b_std^2)).
Two output positions share no weight or bias, so their covariance is zero; at one position
the kernel is Conv's windowed mean of the diagonal, conv(K)[q] = (1/|filter|) sum_a
K[q s + a, q s + a] (padded positions counted, CIRCULAR wrapping):
  "ntk":      Sigma'[q, q] = W_std^2 conv(Sigma)[q] + b_std^2,
              Theta'[q, q] = Sigma'[q, q] + W_std^2 conv(Theta)[q];
  "standard": Theta'[q, q] = C_in |filter| conv(Sigma)[q] + W_std^2 conv(Theta)[q] + (1 if bias);
  Sigma'[q, q'] = Theta'[q, q'] = 0 for q != q'.
(Novak et al. 2019, "Bayesian deep CNNs with many channels are GPs": without pooling a
locally connected network's NNGP is the CNN's, its covariances between positions vanish;
as neural-tangents' stax.ConvLocal.)

Masked inputs (mask_constant): as Conv's, an output position takes the mask of its window's
centre once the channels are merged, and the covariances of masked positions are zeroed
(neural-tangents' ConvLocal shares Conv's mask rule).
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from .conv import _patches, conv_map, pad, padding_widths, spatial_out, window_masks
from .conv_checks import check_filter_layer, check_window_fits
from .dense import affine_kernel, check_scaling
from .layer import Layer, Shape, expect_spatial
from .layout import drawn, filter_layer


def position_diagonal(x, spatial):
    """K[..., p, p, q, q] of a full-layout array as (..., p, q)."""
    lead = x.ndim - 2 * spatial
    for _ in range(spatial):
        x = jnp.diagonal(x, axis1=lead, axis2=lead + 1)  # the diagonal moves to the end
    return x


def position_embed(x, spatial):
    """(..., p, q) as the full layout (..., p, p', q, q'), zero where p != p' or q != q'."""
    lead = x.ndim - spatial
    for d in range(spatial):
        axis = lead + 2 * d
        n = x.shape[axis]
        x = jnp.moveaxis(jnp.moveaxis(x, axis, -1)[..., None] * jnp.eye(n, dtype=x.dtype),
                         (-2, -1), (axis, axis + 1))
    return x


def ConvLocal(out_chan, filter_shape, strides=None, padding="VALID", W_std=1.0, b_std=None,
              dimension_numbers=None, parameterization="ntk", s=(1, 1)) -> Layer:
    """Locally connected layer over 1 or 2 spatial axes, as neural-tangents' ConvLocal.

    Args:
      out_chan: output channels (a positive integer).
      filter_shape: 1 or 2 positive integers, one per spatial axis of the inputs.
      strides: the window's step per axis (None: 1 everywhere).
      padding: 'VALID', 'SAME' or 'CIRCULAR' (as Conv).
      W_std: weight standard deviation (non-negative).
      b_std: bias standard deviation, or None for no bias (one bias per position).
      dimension_numbers: (lhs_spec, rhs_spec, out_spec) as Conv's; W's spatial axes are the
        output positions, its I axis the input channels times the filter.
      parameterization: 'ntk' or 'standard' (as Dense and Conv).
      s: (s_in, s_out) of the standard parameterization, as Conv's.

    Kernel: at each position Conv's Sigma' = W_std^2 conv(Sigma) + b_std^2, zero between
    different positions (Novak et al. 2019); Theta' by the parameterization as for Dense.
    """
    return filter_layer("ConvLocal", lambda order: _conv_local(
        out_chan, filter_shape, strides, padding, W_std, b_std, parameterization, s, order),
        dimension_numbers)


def _conv_local(out_chan, filter_shape, strides, padding, W_std, b_std, parameterization,
                scaling, weight_order=None) -> Layer:
    name = "ConvLocal"
    args = check_filter_layer(name, out_chan, filter_shape, strides, padding, W_std, b_std,
                              parameterization)
    filter_shape, strides, padding = args.filter_shape, args.strides, args.padding
    ntk_param, fan_in = args.ntk_param, args.fan_in
    s_in, s_out = check_scaling(name, scaling, parameterization)
    width = out_chan * s_out

    def positions(s):
        return tuple(spatial_out(n, f, st, padding)
                     for n, f, st in zip(s.dims[:-1], filter_shape, strides))

    def shape(s):
        s = expect_spatial(name, s)
        check_window_fits(name, "filter_shape", filter_shape, s, padding)
        return Shape(positions(s) + (width,), is_gaussian=True)

    def init(key, s):
        """(W, b) as neural-tangents lays them out: W (*out positions, C_in |filter|, out)
        with the input channel major in its second last axis, b (1, *out positions, out);
        each drawn in the user's layout (``weight_order``, ``s.order``) as neural-tangents
        draws it, returned in these canonical ones."""
        kw, kb = jax.random.split(key)
        out = positions(s)
        W = drawn(kw, out + (s.channels * fan_in, width), weight_order)
        if not ntk_param:
            W = W * (W_std / math.sqrt(s.channels * fan_in / s_in))
        if b_std is None:
            return W, None
        b = drawn(kb, (1,) + out + (width,), s.order)
        return W, (b if ntk_param else b * b_std)

    def apply(params, x):
        W, b = params
        channels = x.shape[-1]
        for d, (size, stride) in enumerate(zip(filter_shape, strides)):
            x = pad(x, (1 + d,), padding_widths(x.shape[1 + d], size, stride, padding), padding)
        # W's (channel, offset) order to the patches' (offset, channel) order
        out = W.shape[:-2]
        W = W.reshape(out + (channels, fan_in, width))
        W = jnp.swapaxes(W, -3, -2).reshape(out + (fan_in * channels, width))
        z = jnp.einsum("n...i,...io->n...o", _patches(x, filter_shape, strides), W)
        z = z * (W_std / math.sqrt(channels * fan_in) if ntk_param else 1 / math.sqrt(s_in))
        if b_std is None:
            return z
        return z + (b_std if ntk_param else 1.0) * b

    def kernel(k):
        full = not k.diagonal
        if full:  # only equal positions reach the output
            k = k.replace(nngp=position_diagonal(k.nngp, k.spatial),
                          ntk=position_diagonal(k.ntk, k.spatial),
                          cov1=position_diagonal(k.cov1, k.spatial),
                          cov2=position_diagonal(k.cov2, k.spatial), diagonal=True)

        def conv(x):
            return conv_map(x, k.spatial, True, filter_shape, strides, padding)
        out = affine_kernel(k, conv(k.nngp), conv(k.ntk), conv, k.channels * fan_in / s_in,
                            W_std, b_std, parameterization, width)
        if not full:
            return out
        return out.replace(nngp=position_embed(out.nngp, k.spatial),
                           ntk=position_embed(out.ntk, k.spatial),
                           cov1=position_embed(out.cov1, k.spatial),
                           cov2=position_embed(out.cov2, k.spatial), diagonal=False)

    scaled = () if (s_in, s_out) == (1, 1) else (("s", s_in, s_out),)
    return Layer(key=(name, out_chan, filter_shape, strides, padding, W_std, b_std,
                      parameterization) + scaled, shape=shape, kernel=kernel, apply=apply,
                 init=init, masks=window_masks(name, filter_shape, strides, padding),
                 remask=True)

