"""LayerNorm over the channel axis (per position for images).

Finite layer: y = (x - mean_c x) / sqrt(var_c x + eps), statistics over the channels c.
Kernel: K'_ij = K_ij / sqrt((K_ii + eps)(K_jj + eps)), Theta'_ij = Theta_ij / sqrt((K_ii +
eps)(K_jj + eps)), with K_ii the variance of input i at the position in question. After an
affine layer the channel mean vanishes and the channel variance concentrates on K_ii as the
width grows, so this is the exact limit there. On non-Gaussian inputs (after an activation) the
mean does not vanish; the kernel follows neural-tangents and ignores it. The output is Gaussian
when the input is (a per-input rescaling), so an activation may follow.
"""
from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from ..checks import hyperparameter
from ..kernel import variances
from . import masking
from .layer import Layer, Shape, expect_single
from .layout import check_axes, normalized, with_axes


def _check_axis(axis) -> tuple[int, ...]:
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    if not axes or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
        raise ValueError(f"LayerNorm(axis={axis!r}): axis must be an integer or a tuple of "
                         "integers")
    return axes


def LayerNorm(axis=-1, eps=1e-12, batch_axis=0, channel_axis=-1) -> Layer:
    """Normalise each input over its channels: (x - mean_c x) / sqrt(var_c x + eps).

    Args:
      axis: the axis (or axes) normalised over; only the channel axis is supported (the
        infinite-width limit over spatial axes is not a closed form here).
      eps: added to the variance (non-negative).
      batch_axis, channel_axis: where the inputs hold the batch and the channels
        (engine.layers.layout).

    Kernel: K'(x, x') = K(x, x') / sqrt((K(x, x) + eps) (K(x', x') + eps)) per position pair.
    """
    axes = _check_axis(axis)
    hyperparameter("LayerNorm", "eps", eps, nonnegative=True)
    batch_axis, channel_axis = check_axes("LayerNorm", batch_axis, channel_axis)
    if (batch_axis, channel_axis) == (0, -1):
        return _layer_norm(axis, axes, eps)
    inner = with_axes(_layer_norm(-1, (-1,), eps), "LayerNorm", batch_axis, channel_axis)

    def shape(s):
        ndim = len(s.dims) + 1
        c = normalized("LayerNorm", "channel_axis", channel_axis, ndim)
        if any(not -ndim <= a < ndim or a % ndim != c for a in axes):
            raise ValueError(f"LayerNorm(axis={axis!r}, channel_axis={channel_axis}): only the "
                             f"channel axis ({channel_axis}) can be normalised")
        return inner.shape(s)

    return dataclasses.replace(inner, key=inner.key + (axes,), shape=shape)


def _layer_norm(axis, axes, eps) -> Layer:
    def shape(s):
        s = expect_single("LayerNorm", s)
        ndim = len(s.dims) + 1
        if any(not -ndim <= a < ndim or a % ndim != ndim - 1 for a in axes):
            raise ValueError(f"LayerNorm(axis={axis!r}): only the channel axis (-1, or "
                             f"{ndim - 1} for inputs of shape {('N',) + s.dims}) can be "
                             "normalised")
        return Shape(s.dims, is_gaussian=s.is_gaussian)

    def apply(params, x, mask=None):
        if mask is None:
            mean = jnp.mean(x, axis=-1, keepdims=True)
            var = jnp.var(x, axis=-1, keepdims=True)
            return (x - mean) / jnp.sqrt(var + eps)
        # statistics of the unmasked channels (at least one counted, as neural-tangents'):
        # a fully masked position gives 0
        kept = ~jnp.broadcast_to(mask, x.shape)
        count = jnp.maximum(jnp.sum(kept, axis=-1, keepdims=True), 1)
        mean = jnp.sum(jnp.where(kept, x, 0), axis=-1, keepdims=True) / count
        var = jnp.sum(jnp.where(kept, x - mean, 0) ** 2, axis=-1, keepdims=True) / count
        return (x - mean) / jnp.sqrt(var + eps)

    def kernel(k):
        (q1, q2), (c1a, c1b), (c2a, c2b) = variances(k)
        scale = 1.0 / jnp.sqrt((q1 + eps) * (q2 + eps))
        return k.replace(nngp=k.nngp * scale, ntk=k.ntk * scale,
                         cov1=k.cov1 / jnp.sqrt((c1a + eps) * (c1b + eps)),
                         cov2=k.cov2 / jnp.sqrt((c2a + eps) * (c2b + eps)))

    return Layer(key=("LayerNorm", axes, eps), shape=shape, kernel=kernel, apply=apply,
                 masks=masking.same, apply_mask=True)
