"""Joining branches other than by a sum: FanInConcat and FanInProd.

Both assume independent, mean-zero branches (each with its own Dense/Conv after FanOut), as
FanInSum does; nothing checks it. With kernels K_i and NTKs T_i of the branches:

FanInConcat along the channel axis (the default): the next layer's 1 / n_in averages over
all channels, so  K' = sum_i C_i K_i / sum_i C_i,  T' likewise (C_i the branch's finite
channel count; equal counts weigh equally, as neural-tangents does). The channels are not
identically distributed, so the result is not Gaussian: a Dense/Conv must come before an
activation. Along a spatial axis: positions of different branches are independent, so the
kernel is block-diagonal along that axis (the diagonal layout just concatenates); this needs
Gaussian branches. Along the batch axis: apply_fn only.

FanInProd, y = prod_i y_i elementwise: for independent mean-zero branches
  K' = prod_i K_i,   T' = sum_i T_i prod_{j != i} K_j   (product rule of the Jacobian),
and the output is not Gaussian. (neural-tangents' branching.py documents the same rules.)
"""
from __future__ import annotations

import functools

import jax.numpy as jnp

from ..checks import hyperparameter
from . import masking
from .layer import Layer, Shape
from .layout import ANY


def _branches(name, s):
    if not isinstance(s, tuple):
        raise ValueError(f"{name}: there are no branches to join; it needs a FanOut (and "
                         "parallel) before it")
    return s


def FanInConcat(axis=-1) -> Layer:
    """Concatenate the branches' outputs along ``axis``.

    Args:
      axis: the axis of the outputs (batch axis 0 included) to concatenate along; -1 (the
        channels) by default. A spatial axis needs Gaussian branches (each ending in Dense,
        Conv or pooling); the batch axis works in apply_fn only.

    Kernel: the channel-count-weighted mean of the branches' kernels for the channel axis;
    block-diagonal along a spatial axis (see the module docstring).
    """
    hyperparameter("FanInConcat", "axis", axis, integer=True)

    def shape(s):
        s = _branches("FanInConcat", s)
        ndim = len(s[0].dims) + 1
        if not -ndim <= axis < ndim:
            raise ValueError(f"FanInConcat(axis={axis}): inputs of shape "
                             f"{('N',) + s[0].dims} have no such axis")
        a = axis % ndim
        rest = {si.dims[:a - 1] + si.dims[a:] if a else si.dims for si in s}
        if len(rest) != 1 or len({len(si.dims) for si in s}) != 1:
            raise ValueError("FanInConcat: branches must agree on every axis but the "
                             f"concatenated one; got {[('N',) + si.dims for si in s]}")
        if a == 0:
            return Shape(s[0].dims, is_gaussian=all(si.is_gaussian for si in s))
        size = sum(si.dims[a - 1] for si in s)
        dims = s[0].dims[:a - 1] + (size,) + s[0].dims[a:]
        if a == ndim - 1:
            return Shape(dims, is_gaussian=False)
        if not all(si.is_gaussian for si in s):
            raise ValueError(f"FanInConcat(axis={axis}): concatenating along a spatial axis "
                             "needs Gaussian branches (each ending in Dense, Conv or "
                             "pooling)")
        return Shape(dims, is_gaussian=True)

    def apply(params, xs):
        return jnp.concatenate(xs, axis)

    def kernel(ks):
        spatial = ks[0].spatial
        ndim = spatial + 2
        a = axis % ndim
        if a == 0:
            raise ValueError(f"FanInConcat(axis={axis}): the kernel of a concatenation along "
                             "the batch axis is not supported; concatenate the inputs instead")
        if a == ndim - 1:
            widths = [k.channels for k in ks]
            weights = [1] * len(ks) if len(set(widths)) == 1 else widths

            def mean(name):
                return sum(w * getattr(k, name) for w, k in zip(weights, ks)) / sum(weights)
            return ks[0].replace(nngp=mean("nngp"), ntk=mean("ntk"), cov1=mean("cov1"),
                                 cov2=mean("cov2"), channels=sum(widths), is_gaussian=False)
        d = a - 1  # the spatial axis

        def join(name, lead):
            return _concat_positions([getattr(k, name) for k in ks], d, spatial,
                                     ks[0].diagonal, lead)
        return ks[0].replace(nngp=join("nngp", 2), ntk=join("ntk", 2), cov1=join("cov1", 1),
                             cov2=join("cov2", 1), is_gaussian=True)

    return Layer(key=("FanInConcat", axis), shape=shape, kernel=kernel, apply=apply,
                 masks=masking.concatenated(axis))


def _concat_positions(mats, d, spatial, diagonal, lead):
    """Kernels of branches joined along spatial axis d: block-diagonal in the full layout."""
    if diagonal:
        return jnp.concatenate(mats, lead + d)
    first, second = lead + 2 * d, lead + 2 * d + 1
    sizes = [m.shape[first] for m in mats]
    rows = []
    for i, m in enumerate(mats):
        pads = [(0, 0)] * m.ndim
        pads[second] = (sum(sizes[:i]), sum(sizes[i + 1:]))
        rows.append(jnp.pad(m, pads))
    return jnp.concatenate(rows, first)


def FanInProd() -> Layer:
    """Multiply the branches' outputs elementwise.

    Kernel (independent mean-zero branches): nngp = prod_i nngp_i,
    ntk = sum_i ntk_i prod_{j != i} nngp_j (product rule of the Jacobian), covariances
    multiplied like nngp; the output is not Gaussian.

    Args:
      none.
    """
    def shape(s):
        s = _branches("FanInProd", s)
        if len({si.dims for si in s}) != 1:
            raise ValueError("FanInProd: branches have different shapes "
                             f"{[('N',) + si.dims for si in s]}")
        return Shape(s[0].dims, is_gaussian=len(s) == 1 and s[0].is_gaussian)

    def apply(params, xs):
        return functools.reduce(jnp.multiply, xs)

    def kernel(ks):
        nngp, ntk = ks[0].nngp, ks[0].ntk
        for k in ks[1:]:
            nngp, ntk = nngp * k.nngp, ntk * k.nngp + nngp * k.ntk
        cov1 = functools.reduce(jnp.multiply, [k.cov1 for k in ks])
        cov2 = functools.reduce(jnp.multiply, [k.cov2 for k in ks])
        return ks[0].replace(nngp=nngp, ntk=ntk, cov1=cov1, cov2=cov2,
                             is_gaussian=len(ks) == 1 and ks[0].is_gaussian)

    return Layer(key=("FanInProd",), shape=shape, kernel=kernel, apply=apply, axes=ANY,
                 masks=masking.summed)
