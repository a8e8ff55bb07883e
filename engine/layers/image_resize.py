"""ImageResize: the spatial axes resized by ``jax.image.resize`` (interpolation).

Finite layer: y = jax.image.resize(x, shape, method, antialias, precision), with -1 in
``shape`` keeping an axis. Along each resized spatial axis this is one linear map M (out x
in) applied to every channel: for 'linear' the weights of a triangle filter (widened by
the scale when downsampling with antialias), for 'nearest' a single 1 per output position.

Kernel: a linear map of the positions acting on all channels alike maps a (Gaussian)
process with covariance K to one with
  K'(x, x')[p, q] = sum_{a, b} M[p, a] K(x, x')[a, b] M[q, b],   i.e.  M K M^T per axis,
for the NNGP and the NTK (no parameters); ``jax.image.resize`` is separable, so resizing
both position axes of every pair of the kernel with the same method computes exactly this
(the rule of linear maps of positions, as for pooling in Novak et al. 2019, "Bayesian deep
convolutional networks with many channels are Gaussian processes"; neural-tangents'
``stax.ImageResize`` uses the same construction). As in neural-tangents, kernel_fn supports
'linear' and 'nearest' only, and the channel axis (infinite in the limit) cannot be resized
there; the other methods (cubic, lanczos3, lanczos5, ...) work in apply_fn. Resizing the
batch axis is not supported (shape[0] must be -1).

Masked inputs (mask_constant), as neural-tangents: an output entry is masked when it draws on
masked entries only, i.e. the mask is ~resize(~mask) (a nonzero interpolation of unmasked
entries unmasks it: content wins over the mask, so a masked pixel does not spread); then the
covariances of masked positions are zeroed, which needs masks equal across the channels.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from ..kernel import Kernel
from .layer import Layer, Shape, expect_single
from .layout import order_of, to_canonical, with_axes

#: the methods whose kernel is computed (neural-tangents' list)
KERNEL_METHODS = (jax.image.ResizeMethod.LINEAR, jax.image.ResizeMethod.NEAREST)


def _check_shape(shape) -> tuple[int, ...]:
    entries = tuple(shape) if isinstance(shape, (tuple, list)) else None
    if not entries or any(isinstance(s, bool) or not isinstance(s, int) or (s < 1 and s != -1)
                          for s in entries):
        raise ValueError(f"ImageResize(shape={shape!r}): shape must be a sequence of positive "
                         "integers or -1 (keep the axis), one per axis of the inputs")
    return entries


def _check_method(method) -> jax.image.ResizeMethod:
    if isinstance(method, jax.image.ResizeMethod):
        return method
    try:
        return jax.image.ResizeMethod.from_string(method)
    except (ValueError, AttributeError, TypeError):
        names = [m.name.lower() for m in jax.image.ResizeMethod]
        raise ValueError(f"ImageResize(method={method!r}): expected one of {names} (or "
                         "'bilinear', 'trilinear', 'triangle', 'bicubic', 'tricubic')") from None


def _check_precision(precision):
    if precision is None or isinstance(precision, lax.Precision):
        return precision
    try:
        return lax.Precision(precision)
    except (ValueError, TypeError):
        raise ValueError(f"ImageResize(precision={precision!r}): expected None, a "
                         "jax.lax.Precision or its name") from None


def ImageResize(shape, method, antialias=True, precision=lax.Precision.HIGHEST, batch_axis=0,
                channel_axis=-1) -> Layer:
    """Resize the spatial axes: y = jax.image.resize(x, shape, method); kernel M K M^T.

    Args:
      shape: the output shape, one entry per axis of the inputs (in their layout), -1 to
        keep an axis; the batch axis's entry must be -1. Resizing the channel axis works in
        apply_fn only.
      method: a ``jax.image.ResizeMethod`` or its name: 'linear' (also 'bilinear',
        'trilinear', 'triangle') or 'nearest' everywhere; 'cubic', 'lanczos3', 'lanczos5'
        (and the other methods of jax.image.resize) in apply_fn only.
      antialias: with 'linear' and the like, widen the filter when downsampling.
      precision: the ``jax.lax.Precision`` of the interpolation's products.
      batch_axis: the inputs' batch axis (engine.layers.layout).
      channel_axis: the inputs' channel axis.

    Kernel: M K M^T along each resized axis (see the module docstring).
    """
    entries = _check_shape(shape)
    method = _check_method(method)
    if not isinstance(antialias, bool):
        raise ValueError(f"ImageResize(antialias={antialias!r}): antialias must be True or "
                         "False")
    precision = _check_precision(precision)
    order = order_of("ImageResize", batch_axis, channel_axis, len(entries))
    if entries[order.index(0)] != -1:
        raise ValueError(f"ImageResize(shape={shape!r}): the batch axis's entry "
                         f"(shape[{order.index(0)}]) must be -1; resizing the batch axis is not "
                         "supported")
    layer = _resize(shape, to_canonical(entries, order), method, antialias, precision)
    return with_axes(layer, "ImageResize", batch_axis, channel_axis)


def _resize(shape, entries, method, antialias, precision) -> Layer:
    """ImageResize on canonical inputs, ``entries`` the canonical output shape (``shape`` the
    user's, for messages)."""
    resizes_positions = any(s != -1 for s in entries[1:-1])

    def resize(x, sizes):
        return jax.image.resize(x, sizes, method=method, antialias=antialias,
                                precision=precision)

    def new_dims(dims):
        return tuple(d if s == -1 else s for d, s in zip(dims, entries[1:]))

    def shape_fn(s):
        s = expect_single("ImageResize", s)
        if len(entries) != len(s.dims) + 1:
            raise ValueError(f"ImageResize(shape={shape!r}): inputs of shape "
                             f"{('N',) + s.dims} need {len(s.dims) + 1} entries")
        return Shape(new_dims(s.dims), is_gaussian=s.is_gaussian)

    def apply(params, x):
        return resize(x, x.shape[:1] + new_dims(x.shape[1:]))

    def kernel(k: Kernel) -> Kernel:
        if entries[-1] != -1:
            raise ValueError(f"ImageResize(shape={shape!r}): kernel_fn cannot resize the "
                             "channel axis (infinite in the limit); keep its entry -1")
        if method not in KERNEL_METHODS:
            raise ValueError(f"ImageResize(method={method.name.lower()!r}): kernel_fn supports "
                             "'linear' and 'nearest' only (as neural-tangents); other methods "
                             "work in apply_fn")
        if not resizes_positions:
            return k
        positions = new_dims(k.nngp.shape[2::2] + (k.channels,))[:-1]
        pairs = tuple(p for p in positions for _ in (0, 1))

        def cov(c):
            return resize(c, c.shape[:1] + pairs)
        return k.replace(nngp=resize(k.nngp, k.nngp.shape[:2] + pairs),
                         ntk=resize(k.ntk, k.ntk.shape[:2] + pairs), cov1=cov(k.cov1),
                         cov2=cov(k.cov2))

    def masks(mask, dims):
        """~resize(~mask): masked where only masked entries contribute (channels kept)."""
        mask = jnp.broadcast_to(mask, mask.shape[:1] + tuple(dims[:-1]) + mask.shape[-1:])
        kept = resize(~mask, mask.shape[:1] + new_dims(mask.shape[1:]))
        return ~kept.astype(bool)

    key = ("ImageResize", entries, method, antialias, precision)
    return Layer(key=key, shape=shape_fn, kernel=kernel, apply=apply, pools=resizes_positions,
                 masks=masks, remask=True)
