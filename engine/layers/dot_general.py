"""DotGeneral: a constant (untrained) linear map of the inputs by ``lax.dot_general``.

Finite network: y = lax.dot_general(x, rhs, dimension_numbers) or lax.dot_general(lhs, x,
dimension_numbers), whichever constant is given (neither: y = x). Here the batch and channel
axes keep their places (batch first and channels last, or where batch_axis / channel_axis
say), so the constant C is a scalar or has every axis contracted with a spatial axis of x (a
weighted sum over positions), written for the canonical layout:
  y[n, p, c] = sum_a C[a] x[n, (p, a), c],   p the kept positions, a the contracted ones.
(A constant with free axes, or dot_general batch dimensions, would move the batch or the
channel axis; neural-tangents lets such a kernel exist but refuses it at the next layer.)

Kernel: a constant linear map of a Gaussian process acts on both sides of its covariance,
with nothing to train (Lee et al. 2018, "Deep neural networks as Gaussian processes";
neural-tangents 0.6.5, stax.DotGeneral):
  K'[n, m, p, q] = sum_{a, b} C[a] C[b] K[n, m, (p, a), (q, b)]
for nngp, ntk, cov1 and cov2 alike (the NTK has no term of its own). A scalar multiplies all
four by C^2 and keeps per-position variances; a contraction needs the covariances between
positions.

Masked inputs (mask_constant), as neural-tangents: an output entry is masked when every
entry it sums with a nonzero weight is masked, i.e. mask' = ~dot_general(~mask, C != 0) in
booleans (a zero scalar masks everything); the channels keep their own masks, and the kernel
is not remasked.
"""
from __future__ import annotations

import dataclasses
import string

import jax.numpy as jnp
import numpy as np
from jax import lax

from .layer import Layer, Shape, expect_single
from .layout import check_axes, check_input, describe, order_of, without_axes

NAME = "DotGeneral"


def _axes(value) -> tuple[int, ...] | None:
    """A tuple of non-negative integers, or None when ``value`` is not one."""
    if not isinstance(value, (tuple, list)):
        return None
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0
               for v in value):
        return None
    return tuple(int(v) for v in value)


def _check_dimension_numbers(dimension_numbers, const, is_lhs, batch_axis):
    """(input's contracted axes, constant's contracted axes), in pairs' order."""
    try:
        (c_lhs, c_rhs), (b_lhs, b_rhs) = dimension_numbers
    except (TypeError, ValueError):
        c_lhs = None
    axes = [_axes(a) for a in (c_lhs, c_rhs, b_lhs, b_rhs)] if c_lhs is not None else [None]
    if any(a is None for a in axes) or len(axes[0]) != len(axes[1]):
        raise ValueError(f"{NAME}(dimension_numbers={dimension_numbers!r}): expected "
                         "((lhs_contracting_dims, rhs_contracting_dims), (lhs_batch_dims, "
                         "rhs_batch_dims)), tuples of non-negative axes, the contracting ones "
                         "of equal length")
    c_lhs, c_rhs, b_lhs, b_rhs = axes
    if b_lhs or b_rhs:
        raise ValueError(f"{NAME}(dimension_numbers={dimension_numbers!r}): batch dimensions "
                         "are not supported; they would move the inputs' batch axis from the "
                         "front (this engine keeps batch_axis=0)")
    x_axes, c_axes = (c_rhs, c_lhs) if is_lhs else (c_lhs, c_rhs)
    if sorted(c_axes) != list(range(const.ndim)):
        side = "lhs" if is_lhs else "rhs"
        raise ValueError(f"{NAME}({side} of shape {const.shape}, dimension_numbers="
                         f"{dimension_numbers!r}): every axis of {side} must be contracted "
                         f"exactly once; a free axis would come {'before' if is_lhs else 'after'}"
                         f" the inputs' {'batch' if is_lhs else 'channel'} axis")
    if batch_axis is not None and batch_axis in x_axes:  # (a negative one: in the static pass)
        raise ValueError(f"{NAME}(dimension_numbers={dimension_numbers!r}): the inputs' batch "
                         f"axis {batch_axis} cannot be contracted")
    return x_axes, c_axes


def _constant(lhs, rhs):
    """(constant as float64 NumPy array or None, is_lhs), checked."""
    if lhs is not None and rhs is not None:
        raise ValueError(f"{NAME}(lhs=..., rhs=...): give at most one of lhs and rhs; the "
                         "other factor is the layer's inputs")
    is_lhs = rhs is None
    given = lhs if is_lhs else rhs
    if given is None:
        return None, is_lhs
    const = np.asarray(given)
    if const.dtype.kind not in "fiu" or not np.isfinite(const).all():
        raise ValueError(f"{NAME}({'lhs' if is_lhs else 'rhs'}={given!r}): expected a finite "
                         "number or array of numbers")
    return const.astype(float), is_lhs


def DotGeneral(*, lhs=None, rhs=None, dimension_numbers=(((), ()), ((), ())), precision=None,
               batch_axis=0, channel_axis=-1) -> Layer:
    """A constant linear map: ``lax.dot_general`` of the inputs with ``lhs`` or ``rhs``.

    Args:
      lhs: a constant the inputs are the right factor of (``dot_general(lhs, x)``), or None.
      rhs: a constant the inputs are the left factor of (``dot_general(x, rhs)``), or None.
        At most one of the two; neither makes the layer the identity.
      dimension_numbers: ``((lhs_contracting_dims, rhs_contracting_dims), (lhs_batch_dims,
        rhs_batch_dims))`` as in ``lax.dot_general``. Here the batch dims must be empty, every
        axis of the constant contracted, and only spatial axes of the inputs contracted.
      precision: ``lax.dot_general``'s precision for the finite network (None: default).
      batch_axis: the inputs' batch axis (engine.layers.layout); it cannot be contracted.
      channel_axis: the inputs' channel axis; it cannot be contracted. Axes in
        dimension_numbers are axes of the inputs in this layout; the output keeps the
        inputs' remaining axes in their order.

    Kernel: K'[n, m, p, q] = sum_{a, b} C[a] C[b] K[n, m, (p, a), (q, b)] for nngp, ntk,
    cov1 and cov2, C the constant (Lee et al. 2018; see the module docstring).
    """
    batch_axis, channel_axis = check_axes(NAME, batch_axis, channel_axis)
    const, is_lhs = _constant(lhs, rhs)
    if const is None:
        x_axes, c_axes = (), ()
    else:
        x_axes, c_axes = _check_dimension_numbers(dimension_numbers, const, is_lhs,
                                                  batch_axis if batch_axis >= 0 else None)
    dn = ((tuple(c_axes), tuple(x_axes)) if is_lhs else (tuple(x_axes), tuple(c_axes)),
          ((), ()))
    if (batch_axis, channel_axis) == (0, -1):
        return _dot_general(const, is_lhs, x_axes, c_axes, dn, precision, dimension_numbers)
    return _laid_out(const, is_lhs, x_axes, c_axes, dn, precision, dimension_numbers,
                     batch_axis, channel_axis)


def _laid_out(const, is_lhs, x_axes, c_axes, dn, precision, dimension_numbers, batch_axis,
              channel_axis) -> Layer:
    """DotGeneral of inputs in another layout: lax.dot_general as given in apply_fn (the
    output keeps the inputs' other axes in order); the static pass and the kernel see the
    contracted axes moved to the canonical layout."""
    def canonical_layer(ndim):
        order = order_of(NAME, batch_axis, channel_axis, ndim)
        bad = [a for a in x_axes if a >= ndim or order[a] in (0, ndim - 1)]
        if bad:
            raise ValueError(f"{NAME}(dimension_numbers={dimension_numbers!r}): can contract "
                             f"only spatial axes of inputs laid out as {describe(order)}; got "
                             f"axis {bad[0]}")
        axes = tuple(order[a] for a in x_axes)
        return order, axes, _dot_general(const, is_lhs, axes, c_axes, dn, precision,
                                         dimension_numbers)

    def shape(s):
        s = expect_single(NAME, s)
        order, dropped, inner = canonical_layer(len(s.dims) + 1)
        check_input(NAME, s, batch_axis, channel_axis)
        out = inner.shape(dataclasses.replace(s, order=None))
        return dataclasses.replace(out, order=without_axes(order, dropped))

    def kernel(k):
        return canonical_layer(k.spatial + 2)[2].kernel(k)

    def apply(params, x):
        if const is None:
            return x
        c = jnp.asarray(const, x.dtype)
        return lax.dot_general(*((c, x) if is_lhs else (x, c)), dn, precision=precision)

    def masks(mask, dims):  # masks are canonical, as the kernel's inputs
        return canonical_layer(mask.ndim)[2].masks(mask, dims)

    key = (NAME, is_lhs, None if const is None else (const.shape, tuple(const.ravel())), dn,
           precision, ("axes", batch_axis, channel_axis))
    return Layer(key=key, shape=shape, kernel=kernel, apply=apply, pools=bool(x_axes),
                 axes=(batch_axis, channel_axis), masks=masks)


def _dot_general(const, is_lhs, x_axes, c_axes, dn, precision, dimension_numbers) -> Layer:
    """DotGeneral of canonical inputs, contracting ``x_axes`` of the inputs with ``c_axes``
    of the constant (``dn`` for apply_fn; ``dimension_numbers`` the user's, for messages)."""
    def shape(s):
        s = expect_single(NAME, s)
        ndim = len(s.dims) + 1
        bad = [a for a in x_axes if not 1 <= a <= ndim - 2]
        if bad:
            raise ValueError(f"{NAME}(dimension_numbers={dimension_numbers!r}): can contract "
                             f"only spatial axes 1..{ndim - 2} of inputs of shape "
                             f"{('N',) + s.dims}; got axis {bad[0]} (the channel axis and "
                             "axes past it cannot be contracted)")
        for a, b in zip(x_axes, c_axes):
            if s.dims[a - 1] != const.shape[b]:
                raise ValueError(f"{NAME}: axis {a} of inputs of shape {('N',) + s.dims} has "
                                 f"size {s.dims[a - 1]}, but the constant's axis {b} it is "
                                 f"contracted with has size {const.shape[b]}")
        kept = tuple(d for i, d in enumerate(s.dims, start=1) if i not in x_axes)
        return Shape(kept, is_gaussian=s.is_gaussian)

    def apply(params, x):
        if const is None:
            return x
        c = jnp.asarray(const, x.dtype)
        args = (c, x) if is_lhs else (x, c)
        return lax.dot_general(*args, dn, precision=precision)

    def kernel(k):
        if const is None:
            return k
        if not x_axes:
            return k.replace(nngp=k.nngp * const ** 2, ntk=k.ntk * const ** 2,
                             cov1=k.cov1 * const ** 2, cov2=k.cov2 * const ** 2)
        spatial = [a - 1 for a in x_axes]  # contracted spatial axes, in the constant's order
        order = [spatial[list(c_axes).index(b)] for b in range(const.ndim)]
        c = jnp.asarray(const, k.nngp.dtype)
        return k.replace(nngp=_both_sides(k.nngp, 2, order, c), ntk=_both_sides(k.ntk, 2, order, c),
                         cov1=_both_sides(k.cov1, 1, order, c),
                         cov2=_both_sides(k.cov2, 1, order, c),
                         spatial=k.spatial - len(x_axes))

    def masks(mask, dims):
        """~dot_general(~mask, C != 0): masked where all entries summed with a nonzero
        weight are (neural-tangents' mask_fn)."""
        if const is None:
            return mask
        kept = ~jnp.broadcast_to(mask, mask.shape[:1] + tuple(dims[:-1]) + mask.shape[-1:])
        weighted = jnp.asarray(const != 0)
        axes = (tuple(c_axes), tuple(x_axes)) if is_lhs else (tuple(x_axes), tuple(c_axes))
        return ~lax.dot_general(*((weighted, kept) if is_lhs else (kept, weighted)),
                                (axes, ((), ())))

    key = (NAME, is_lhs, None if const is None else (const.shape, tuple(const.ravel())),
           dn, precision)
    return Layer(key=key, shape=shape, kernel=kernel, apply=apply, pools=bool(x_axes),
                 masks=masks)


def _both_sides(m, lead, order, c):
    """sum_{a, b} C[a] C[b] M[lead..., (p, a), (q, b)] in the interleaved pair layout.

    ``order[i]`` is the spatial axis contracted with the constant's axis i.
    """
    spatial = (m.ndim - lead) // 2
    letters = iter(string.ascii_letters)
    first = [next(letters) for _ in range(spatial)]
    second = [next(letters) for _ in range(spatial)]
    heads = "".join(next(letters) for _ in range(lead))
    pairs = "".join(a + b for a, b in zip(first, second))
    kept = "".join(a + b for i, (a, b) in enumerate(zip(first, second)) if i not in order)
    c1 = "".join(first[i] for i in order)
    c2 = "".join(second[i] for i in order)
    return jnp.einsum(f"{heads}{pairs},{c1},{c2}->{heads}{kept}", m, c, c)
