"""kernel_fn: the infinite-width NNGP/NTK of a network, as a pure JAX function.

    k = kernel_fn(x1, x2=None, get=None)     # get=None: the Kernel record (nngp, ntk, cov1, ...)
    ntk = kernel_fn(x1, x2, "ntk")            # one name: one array; a tuple: a namedtuple
    k = kernel_fn(kernel)                     # compose: this network applied to a Kernel

It works under ``jax.jit`` (``static_argnames="get"``), ``jax.grad`` (inputs, and
hyperparameters such as W_std traced through the constructors) and ``jax.vmap``, and returns
``jax.Array``s. What can be checked from shapes (ranks, dtypes, what every layer accepts) is
checked before tracing; finiteness only when the inputs are concrete. Large inputs are cut
into tiles by ``engine.batch``.

The layer chain runs on chunks of x1's rows (``lax.map``) so intermediates stay in the CPU
cache, which makes an elementwise chain several times faster than whole-matrix passes. Every
request with the ntk computes both kernels in one compiled function (nngp and ntk share the
work), so ``kernel_fn(x, x, "ntk")`` is bitwise equal to the ``.ntk`` of a tuple request; a
request without it ('nngp', 'cov1', ...) skips the NTK recursion. Its nngp is the same
computation, but XLA compiles it differently once the ntk's consumers are gone, so the last
bit of some entries may differ (seen with ReLU, Erf and Sin; 1e-14 relative at most in the
tests).
"""
from __future__ import annotations

import collections
import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from . import checks
from .kernel import Kernel, input_kernel
from .layers import masking
from .layers.keywords import call_kernel, keywords_of
from .layers.layer import Layer, Shape
from .layers.layout import canonical, flow, input_order, to_canonical
from .layers.randomness import needs_same_inputs
from .overflow import concrete, guarded

GETS = ("nngp", "ntk")
#: what a closed-form kernel_fn can return: also each input's covariance with itself
KERNEL_GETS = GETS + ("cov1", "cov2")
Kernels = collections.namedtuple("Kernels", GETS)
#: elements of one row chunk's intermediates (a size that stays in the CPU cache)
CHUNK_ELEMENTS = 2 ** 16


def check_get(get, allowed=GETS) -> tuple[str, ...]:
    """``get`` as a tuple of names (None: nngp and ntk), each one of ``allowed``."""
    names = GETS if get is None else ((get,) if isinstance(get, str) else tuple(get))
    if not names or any(not isinstance(g, str) or g not in allowed for g in names):
        listed = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"kernel_fn(get={get!r}): expected {listed} or a tuple of them")
    return names


def check_input(name: str, x, mask_constant=None) -> jax.Array:
    """A numeric (N, features), (N, W, C) or (N, H, W, C) array with N >= 1, as floats;
    finite except where it holds ``mask_constant`` (NaN entries for a NaN constant)."""
    dtype = np.dtype(x.dtype) if hasattr(x, "dtype") else np.asarray(x).dtype
    if dtype.kind not in "fiu":
        raise ValueError(f"kernel_fn({name}): expected a numeric array; got dtype {dtype}")
    shape = np.shape(x)
    if len(shape) not in (2, 3, 4) or 0 in shape:
        raise ValueError(f"kernel_fn({name}): expected shape (N, features), (N, W, C) or "
                         f"(N, H, W, C) with N >= 1; got {shape}")
    values = concrete(x)
    if values is not None:
        bad = ~np.isfinite(values)
        if mask_constant is not None and bad.any():
            c = concrete(mask_constant)
            masked = True if c is None else np.isnan(values) if np.isnan(c) else values == c
            bad &= ~masked
        if bad.any():
            raise ValueError(f"kernel_fn({name}): inputs contain NaN or infinite values"
                             + ("" if mask_constant is None else " (other than mask_constant)"))
    return jnp.asarray(x, dtype=jnp.result_type(float) if dtype.kind in "iu" else None)


def _pack(k: Kernel, get):
    if get is None:
        return k
    names = check_get(get, KERNEL_GETS)
    if isinstance(get, str):
        return getattr(k, get)
    return collections.namedtuple("Kernels", names)(*(getattr(k, n) for n in names))


@dataclasses.dataclass(frozen=True)
class KernelFn:
    """The kernel function of ``layer``; hashable by the layer (compiled once per spec)."""

    layer: Layer

    def __repr__(self):
        return f"kernel_fn({self.layer.name})"

    def input_shape(self, dims) -> Shape:
        """The Shape of inputs with canonical ``dims`` (batch excluded), in the layout of the
        network's first layer that declares one (engine.layers.layout)."""
        dims = tuple(int(d) for d in dims)
        order = input_order(self.layer, len(dims) + 1)
        return Shape(dims, order=None if order == canonical(len(order)) else order)

    def batch_axis(self, ndim: int) -> int:
        """Where inputs with ``ndim`` axes hold the batch (engine.layers.layout)."""
        return input_order(self.layer, ndim).index(0)

    def canonical_dims(self, input_shape) -> tuple[int, ...]:
        """The canonical dims (spatial..., channels) of inputs of this full shape, given in
        the network's layout (batch included)."""
        return to_canonical(tuple(input_shape), input_order(self.layer, len(input_shape)))[1:]

    def output_shape(self, input_shape) -> Shape:
        """Static pass: the output for inputs of these canonical dims (batch axis excluded)."""
        out = flow(self.layer, self.input_shape(input_shape))
        if isinstance(out, tuple):
            raise ValueError(f"the network ends with {len(out)} open branches; "
                             "join them with FanInSum")
        return out

    def __call__(self, x1_or_kernel, x2=None, get=None, **kwargs):
        """NNGP/NTK of x1 with x2 (x2=None: x1 with itself), or this network on a Kernel.

        Args:
          x1_or_kernel: inputs (N1, ...) or a ``Kernel`` from another kernel_fn.
          x2: inputs (N2, ...) with x1's shape after the batch axis, or None.
          get: None (the Kernel record), 'nngp', 'ntk', 'cov1', 'cov2' or a tuple of them
            (a namedtuple). cov1 is each input of x1 with itself: (N1,) for flat outputs,
            (N1, H, W) per position or (N1, H, H, W, W) per pair of positions, as nngp's
            layout is diagonal or full; cov2 the same for x2 (x1's when x2 is None).
          **kwargs: keywords read by layers of the network (Aggregate's ``pattern``), each a
            pair (for x1, for x2) of None or arrays whose leading axis runs over the inputs.
        """
        check_get(get, KERNEL_GETS)
        mask_constant = checks.mask_constant("kernel_fn", kwargs.pop("mask_constant", None))
        if isinstance(x1_or_kernel, Kernel):
            if mask_constant is not None:
                raise ValueError("kernel_fn(kernel, mask_constant=...): a Kernel carries its "
                                 "masks (mask1, mask2); mask_constant applies to inputs only")
            keywords = _check_kwargs(self.layer, kwargs, *x1_or_kernel.nngp.shape[:2])
            if x2 is not None:
                raise ValueError("kernel_fn(kernel, x2): x2 must be None when composing "
                                 "with a Kernel")
            return _pack(self._compose(x1_or_kernel, keywords), get)
        if mask_constant is not None:
            masking.check_supported(self.layer)
        x1 = check_input("x1", x1_or_kernel, mask_constant)
        order = input_order(self.layer, x1.ndim)
        if x2 is not None:
            x2 = check_input("x2", x2, mask_constant)
            b = order.index(0)
            if x2.ndim != x1.ndim or np.delete(x2.shape, b).tolist() != np.delete(
                    x1.shape, b).tolist():
                raise ValueError(f"kernel_fn(x2): x2 has shape {x2.shape} but x1 has "
                                 f"{x1.shape}; they must agree except along the batch axis"
                                 f"{'' if b == 0 else f' ({b})'}")
            x2 = to_canonical(x2, order)
        x1 = to_canonical(x1, order)
        keywords = _check_kwargs(self.layer, kwargs, len(x1), len(x1 if x2 is None else x2))
        out = self.output_shape(x1.shape[1:])
        diagonal = x1.ndim > 2 and out.spatial == 0 and not self.layer.needs_full_covariance
        rows = _chunk_rows(x1.shape[1:-1], diagonal, len(x1 if x2 is None else x2), len(x1))
        with_ntk = get is None or "ntk" in check_get(get, KERNEL_GETS)
        k = guarded(self.layer, lambda: _call(_kernel_of_inputs, self.layer, x1, x2, diagonal,
                                              rows, keywords, with_ntk, mask_constant),
                    x1, x2, diagonal, keywords)
        return _pack(k, get)

    def _compose(self, k: Kernel, keywords: dict) -> Kernel:
        if k.diagonal and self.layer.needs_full_covariance:
            raise ValueError("kernel_fn(kernel): this network mixes positions (pooling) and "
                             "needs covariances between positions, but the kernel holds only "
                             "equal positions; compute it with a network that pools too")
        positions = k.nngp.shape[2:] if k.diagonal else k.nngp.shape[2::2]
        flow(self.layer, dataclasses.replace(self.input_shape(tuple(positions) + (k.channels,)),
                                             is_gaussian=k.is_gaussian))
        return _call(_apply_layer, self.layer, k, keywords)


def _check_kwargs(layer: Layer, kwargs: dict, n1: int, n2: int) -> dict:
    """The keywords layers read, each a pair of per-input values for x1 (n1) and x2 (n2)."""
    names = keywords_of(layer)
    for name, value in kwargs.items():
        if name not in names:
            raise ValueError(f"kernel_fn({name}=...): unknown argument; tiles and progress "
                             "are engine.batch(kernel_fn, batch_size, progress=...)")
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            raise ValueError(f"kernel_fn({name}=...): expected a pair ({name}1, {name}2) for "
                             f"x1 and x2; got {type(value).__name__}")
        for i, (part, n) in enumerate(zip(value, (n1, n2)), start=1):
            for leaf in jax.tree_util.tree_leaves(part):
                if np.ndim(leaf) == 0 or np.shape(leaf)[0] != n:
                    raise ValueError(f"kernel_fn({name}=...): {name}{i} needs a leading axis "
                                     f"of length {n} (one entry per input of x{i}); got shape "
                                     f"{np.shape(leaf)}")
    return {name: tuple(value) for name, value in kwargs.items()}


def _call(fn, layer, *args):
    """The compiled ``fn`` when the layer is hashable; traced hyperparameters run it inline."""
    try:
        hash(layer)
    except TypeError:
        return fn.__wrapped__(layer, *args)
    return fn(layer, *args)


@functools.partial(jax.jit, static_argnums=0)
def _apply_layer(layer: Layer, k: Kernel, keywords: dict) -> Kernel:
    return call_kernel(layer, k, keywords)


def _chunk_rows(in_spatial, diagonal: bool, n2: int, n1: int) -> int:
    """Rows per chunk so a chunk's kernel holds about CHUNK_ELEMENTS numbers."""
    pairs = math.prod(in_spatial) ** (1 if diagonal else 2)
    return min(max(1, CHUNK_ELEMENTS // (n2 * pairs)), n1)


def _x1_is_x2(x1, x2):
    """x2 omitted, or equal to x1 (as neural-tangents decides it: by value)."""
    if x2 is None:
        return jnp.asarray(True)
    if x1.shape != x2.shape:
        return jnp.asarray(False)
    return jnp.all(x1 == x2)


@functools.partial(jax.jit, static_argnums=(0, 3, 4, 6))
def _kernel_of_inputs(layer: Layer, x1, x2, diagonal: bool, rows: int,
                      keywords: dict, with_ntk: bool = True, mask_constant=None) -> Kernel:
    """The network's Kernel for x1 against x2, computed ``rows`` rows of x1 at a time.

    Without ``with_ntk`` the result's ntk is None: no chunk returns it, so the compiled
    function does not compute it (the nngp is the same computation).

    A layer that needs to know which inputs are the same (Dropout) gets the Kernel's
    ``same`` mask for its chunk; the result carries none. Keywords (pairs for x1 and x2) are
    cut like x1: each chunk gets its rows of the first entry and all of the second.

    ``mask_constant`` (None: nothing masked): input entries equal to it are set to zero and
    masked (engine.layers.masking); the masks are cut like x1 and the result carries the
    output's masks.
    """
    masks = None
    if mask_constant is not None:
        masks = [None if x is None else masking.input_mask(x, mask_constant) for x in (x1, x2)]
        x1, x2 = (None if x is None else masking.zeroed(x, m) for x, m in zip((x1, x2), masks))
        masks[1] = masks[0] if x2 is None else masks[1]
    n1 = x1.shape[0]
    others = x1 if x2 is None else x2
    padded = -(-n1 // rows) * rows
    x1_is_x2 = _x1_is_x2(x1, x2)
    identical = x1_is_x2 if needs_same_inputs(layer) else None

    def chunked(v):  # padded with copies of the first row: valid inputs, results dropped
        if padded > n1:
            v = jnp.concatenate([v, jnp.broadcast_to(v[:1], (padded - n1,) + v.shape[1:])])
        return v.reshape((-1, rows) + v.shape[1:])

    chunks = chunked(x1)
    firsts = jax.tree_util.tree_map(chunked, {name: pair[0] for name, pair in keywords.items()})
    starts = jnp.arange(0, padded, rows)
    mask_chunks = None if masks is None else chunked(masks[0])

    def one(args):
        xc, start, first, mask = args
        same = None
        if identical is not None:
            same = identical & ((start + jnp.arange(rows))[:, None]
                                == jnp.arange(len(others))[None, :])
        chunk_keywords = {name: (first[name], pair[1]) for name, pair in keywords.items()}
        k = input_kernel(xc, others, diagonal, same).replace(x1_is_x2=x1_is_x2)
        if masks is not None:
            k = k.replace(mask1=mask, mask2=masks[1])
        k = call_kernel(layer, k, chunk_keywords)
        return k.replace(same=None) if with_ntk else k.replace(same=None, ntk=None)

    k = jax.lax.map(one, (chunks, starts, firsts, mask_chunks))  # with a leading chunk axis
    flat = {name: getattr(k, name).reshape((-1,) + getattr(k, name).shape[2:])[:n1]
            for name in ("nngp", "ntk", "cov1", "mask1") if getattr(k, name) is not None}
    mask2 = None if k.mask2 is None else flat["mask1"] if x2 is None else k.mask2[0]
    return k.replace(cov2=flat["cov1"] if x2 is None else k.cov2[0], x1_is_x2=x1_is_x2,
                     mask2=mask2, **flat)
