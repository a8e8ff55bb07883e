"""Index (and its helper Slice): NumPy-style indexing of the outputs, x[idx].

    stax.Index(stax.Slice[:, 1:3, ::2, :])   # crop rows 1-2 and every other column

Finite layer: ``x[idx]``. Kernel: indexing positions of a Gaussian (or any) process picks the
same entries of its covariance, so each spatial index is applied to the kernel's position
axes: once per axis in the diagonal layout, on both axes of a pair in the full layout
(K'[p, q] = K[idx(p), idx(q)]); an integer index drops the axis. The batch axis and the
channel axis (infinite in the limit) can be indexed in apply_fn only; in kernel_fn they must
be ``:`` (as in neural-tangents, whose Kernel.__getitem__ does the same, and which in
addition allows slicing the batch axis there). New axes (None) are not supported.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .layer import Layer, Shape
from .layout import check_axes, check_input, order_of, to_canonical, without_axes


class _Slice:
    """``Slice[1:3, ::2]`` is the index ``(slice(1, 3), slice(None, None, 2))``."""

    def __getitem__(self, idx):
        return idx


Slice = _Slice()


def _frozen(entry):
    """A hashable stand-in for an index entry (slices are not hashable before Python 3.12)."""
    if isinstance(entry, slice):
        return ("slice", entry.start, entry.stop, entry.step)
    return entry


def _check_entries(idx) -> tuple:
    entries = idx if isinstance(idx, tuple) else (idx,)
    for e in entries:
        ok_int = isinstance(e, (int, np.integer)) and not isinstance(e, bool)
        if not (ok_int or e is Ellipsis or isinstance(e, slice)):
            raise ValueError(f"Index(idx={idx!r}): each entry must be an integer, a slice or "
                             f"...; got {e!r} (build idx with stax.Slice[...])")
        if isinstance(e, slice) and not all(v is None or isinstance(v, (int, np.integer))
                                            for v in (e.start, e.stop, e.step)):
            raise ValueError(f"Index(idx={idx!r}): slice bounds must be integers or None")
    if sum(e is Ellipsis for e in entries) > 1:
        raise ValueError(f"Index(idx={idx!r}): at most one ... (Ellipsis)")
    return entries


def _expand(entries, ndim):
    """The index with ... replaced by ':' so it has one entry per axis."""
    if len([e for e in entries if e is not Ellipsis]) > ndim:
        raise ValueError(f"Index: {len(entries)} index entries for inputs with {ndim} axes")
    if Ellipsis in entries:
        i = entries.index(Ellipsis)
        fill = ndim - (len(entries) - 1)
        entries = entries[:i] + (slice(None),) * fill + entries[i + 1:]
    return entries + (slice(None),) * (ndim - len(entries))


def _everything(e) -> bool:
    return isinstance(e, slice) and e == slice(None)


def Index(idx, batch_axis=0, channel_axis=-1) -> Layer:
    """x[idx] on the outputs, idx built with ``stax.Slice[...]``.

    Args:
      idx: an integer, slice, ... or a tuple of them, over all axes of the inputs in their
        layout.
      batch_axis: the inputs' batch axis (engine.layers.layout).
      channel_axis: the inputs' channel axis.

    Kernel: each spatial entry applied to the kernel's position axes (both of a pair in the
    full layout); batch and channel entries must be ':' there.
    """
    entries = _check_entries(idx)
    batch_axis, channel_axis = check_axes("Index", batch_axis, channel_axis)
    if (batch_axis, channel_axis) == (0, -1):
        return _index(idx, entries)
    return _laid_out(idx, entries, batch_axis, channel_axis)


def _laid_out(idx, entries, batch_axis: int, channel_axis: int) -> Layer:
    """Index of inputs in another layout: x[idx] as given in apply_fn; the static pass and
    the kernel use the index's entries moved to the canonical axes."""
    def canonical_entries(ndim):
        return to_canonical(_expand(entries, ndim), order_of("Index", batch_axis, channel_axis,
                                                             ndim))

    def shape(s):
        if isinstance(s, tuple):
            raise ValueError(f"Index: receives {len(s)} parallel branches; join them first")
        order = check_input("Index", s, batch_axis, channel_axis)
        moved = canonical_entries(len(order))
        out = _index(idx, moved).shape(dataclasses.replace(s, order=None))
        dropped = [a for a, e in enumerate(moved) if isinstance(e, (int, np.integer))]
        return dataclasses.replace(out, order=without_axes(order, dropped))

    def kernel(k):
        return _index(idx, canonical_entries(k.spatial + 2)).kernel(k)

    def masks(mask, dims):  # masks are canonical, as the kernel's inputs
        return _indexed_mask(mask, canonical_entries(mask.ndim))

    return Layer(key=("Index", tuple(_frozen(e) for e in entries), ("axes", batch_axis,
                                                                     channel_axis)),
                 shape=shape, kernel=kernel, apply=lambda params, x: x[idx],
                 axes=(batch_axis, channel_axis), masks=masks)


def _index(idx, entries) -> Layer:
    """Index of canonical inputs (``idx`` as the user gave it, for messages)."""
    def shape(s):
        if isinstance(s, tuple):
            raise ValueError(f"Index: receives {len(s)} parallel branches; join them first")
        full = _expand(entries, len(s.dims) + 1)
        if isinstance(full[0], (int, np.integer)):
            raise ValueError(f"Index(idx={idx!r}): an integer index on the batch axis would "
                             "drop it; use a slice such as i:i+1")
        if isinstance(full[-1], (int, np.integer)):
            raise ValueError(f"Index(idx={idx!r}): an integer index on the channel axis would "
                             "drop it; use a slice")
        try:
            dims = np.broadcast_to(np.empty(()), (1,) + s.dims)[full].shape[1:]
        except IndexError as err:  # an integer beyond its axis
            raise ValueError(f"Index(idx={idx!r}): does not fit inputs of shape "
                             f"{('N',) + s.dims}: {err}") from None
        if 0 in dims:
            raise ValueError(f"Index(idx={idx!r}): selects nothing from inputs of shape "
                             f"{('N',) + s.dims}")
        return Shape(tuple(dims), is_gaussian=s.is_gaussian)

    def apply(params, x):
        return x[idx]

    def kernel(k):
        full = _expand(entries, k.spatial + 2)
        if not _everything(full[0]) or not _everything(full[-1]):
            raise ValueError(f"Index(idx={idx!r}): in kernel_fn the batch and channel axes "
                             "must be ':' (index the inputs, or use apply_fn)")
        spatial = full[1:-1]
        arrays = {}
        for name, lead in (("nngp", 2), ("ntk", 2), ("cov1", 1), ("cov2", 1)):
            x = getattr(k, name)
            for d in reversed(range(k.spatial)):  # the last axes first: earlier ones keep place
                axes = (lead + d,) if not k.full else (lead + 2 * d, lead + 2 * d + 1)
                for ax in reversed(axes):
                    x = x[(slice(None),) * ax + (spatial[d],)]
            arrays[name] = x
        left = sum(not isinstance(e, (int, np.integer)) for e in spatial)
        return k.replace(spatial=left, diagonal=k.diagonal if left else False, **arrays)

    return Layer(key=("Index", tuple(_frozen(e) for e in entries)), shape=shape,
                 kernel=kernel, apply=apply, masks=lambda mask, dims: _indexed_mask(mask, entries))


def _indexed_mask(mask, entries):
    """The mask of the selected entries (a mask with one channel keeps it)."""
    full = list(_expand(entries, mask.ndim))
    if mask.shape[-1] == 1:
        full[-1] = slice(None)
    return mask[tuple(full)]
