"""Layers written by users as neural-tangents' stax does: ``@stax.layer`` and its helpers.

    @stax.layer
    def Scale(c):
        def init_fn(key, input_shape):
            return input_shape, ()
        def apply_fn(params, x, **kwargs):
            return c * x
        @stax.requires(diagonal_spatial=stax.Diagonal())
        def kernel_fn(k, **kwargs):
            return k.replace(nngp=c ** 2 * k.nngp, ntk=c ** 2 * k.ntk,
                             cov1=c ** 2 * k.cov1, cov2=c ** 2 * k.cov2)
        return init_fn, apply_fn, kernel_fn

``Scale(2.0)`` is then a network like any stax layer: ``(init_fn, apply_fn, kernel_fn)``
taking inputs, composing with serial/parallel, under jit/grad/vmap. The three functions are
the user's, with neural-tangents' conventions:

- ``init_fn(key, input_shape) -> (output_shape, params)``, input_shape with its batch entry
  (-1 when unknown);
- ``apply_fn(params, x, rng=key)``: it receives ``rng`` (None or a key, split per layer as
  serial does), and ``mask=`` (the input's mask, or None) when decorated with
  ``supports_masking``: then masked inputs (``mask_constant=``) reach it with their masked
  entries zeroed, its ``mask_fn`` (or the identity) gives its output's mask, and its
  ``kernel_fn`` reads ``k.mask1``/``k.mask2`` (engine.layers.masking); a layer without the
  decorator refuses masked inputs;
- ``kernel_fn(k) -> k``: ``k`` is this engine's Kernel (nngp, ntk, cov1, cov2 in the layout
  neural-tangents uses with ``diagonal_batch=True``) seen with neural-tangents' names too:
  ``diagonal_spatial``, ``diagonal_batch`` (True), ``shape1``, ``shape2``, ``batch_axis``
  (0), ``channel_axis``, ``is_reversed`` (False), ``mask1``/``mask2`` (None unless masked), ``x1_is_x2``
  (a boolean array: x2 omitted or equal to x1) and ``is_input`` (False). It returns
  ``k.replace(...)``; ``is_gaussian`` is the user's to set, as in neural-tangents.

The output shape comes from ``apply_fn`` (traced abstractly, no computation; from
``init_fn`` when apply_fn raises NotImplementedError, a kernel-only layer); ``is_gaussian``
from ``kernel_fn`` traced the same way, both once per input shape. ``k * c``, ``k / c``,
``k + c`` and ``-k`` work as on neural-tangents' Kernel. A kernel function
decorated with ``requires`` that needs covariances between positions makes kernel_fn track
them through the network (requirements.py).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, fields

import jax
import jax.numpy as jnp

from ..kernel import Kernel, positions
from .layer import Layer, Shape, expect_single
from . import masking
from .masked import MaskedArray
from .randomness import RandomLayer
from .requirements import mixes_positions

#: the attribute supports_masking sets on the layer function it wraps
MASKING = "supports_masking"


#: neural-tangents' Kernel fields this engine derives itself: ``replace`` accepts and drops
#: them (the channel axis, the shapes and the layout follow from apply_fn's outputs)
DERIVED = frozenset({"channel_axis", "shape1", "shape2", "diagonal_spatial", "diagonal_batch",
                     "is_reversed", "is_input", "x1_is_x2", "mask1", "mask2"})


@dataclass(frozen=True)
class LayerKernel(Kernel):
    """The Kernel handed to a user's kernel_fn, with neural-tangents' attribute names."""

    def replace(self, **changes) -> "LayerKernel":
        """``Kernel.replace``; neural-tangents' derived fields (DERIVED) are dropped, and
        ``batch_axis`` must stay 0."""
        if changes.pop("batch_axis", 0) not in (0, -len(self.shape1)):
            raise ValueError("kernel_fn: k.replace(batch_axis=...): this engine keeps the batch "
                             "axis first (batch_axis=0)")
        return super().replace(**{n: v for n, v in changes.items() if n not in DERIVED})

    def __mul__(self, c) -> "LayerKernel":
        """The kernel of c x: covariances and NTK times c^2 (neural-tangents' ``k * c``)."""
        return self.replace(nngp=c ** 2 * self.nngp, ntk=c ** 2 * self.ntk,
                            cov1=c ** 2 * self.cov1, cov2=c ** 2 * self.cov2)

    __rmul__ = __mul__

    def __truediv__(self, c) -> "LayerKernel":
        return self * (1.0 / c)

    def __add__(self, c) -> "LayerKernel":
        """The kernel of x + c b with b ~ N(0, 1) shared by all inputs and untrained:
        covariances plus c^2 (neural-tangents' ``k + c``; ``k - c`` is the same)."""
        return self.replace(nngp=self.nngp + c ** 2, cov1=self.cov1 + c ** 2,
                            cov2=self.cov2 + c ** 2)

    __sub__ = __add__

    def __neg__(self) -> "LayerKernel":
        return self  # -x has the kernel of x

    __pos__ = __neg__

    @property
    def diagonal_spatial(self) -> bool:
        return self.diagonal

    @property
    def diagonal_batch(self) -> bool:
        return True

    @property
    def batch_axis(self) -> int:
        return 0

    @property
    def channel_axis(self) -> int:
        return self.spatial + 1

    @property
    def is_reversed(self) -> bool:
        return False

    @property
    def shape1(self) -> tuple:
        return (self.nngp.shape[0],) + positions(self) + (self.channels,)

    @property
    def shape2(self) -> tuple:
        return (self.nngp.shape[1],) + positions(self) + (self.channels,)


def _fields(k: Kernel) -> dict:
    return {f.name: getattr(k, f.name) for f in fields(Kernel)}


def _abstract_kernel(s: Shape) -> Kernel:
    """A Kernel of shapes only, for inputs ``s`` (two and three inputs, pairs of positions)."""
    pairs = tuple(d for p in s.dims[:-1] for d in (p, p))
    dtype = jnp.result_type(float)
    array = lambda *shape: jax.ShapeDtypeStruct(shape, dtype)  # noqa: E731
    return Kernel(nngp=array(2, 3, *pairs), ntk=array(2, 3, *pairs), cov1=array(2, *pairs),
                  cov2=array(3, *pairs), channels=s.channels, spatial=s.spatial,
                  diagonal=False, is_gaussian=s.is_gaussian,
                  x1_is_x2=jax.ShapeDtypeStruct((), jnp.bool_))


def _init_output(init_fn, input_shape) -> jax.ShapeDtypeStruct:
    """The output shape init_fn states (for layers whose apply_fn is not implemented)."""
    stated = []

    def run(key):
        out_shape, params = init_fn(key, input_shape)
        stated.append(tuple(out_shape))
        return params
    jax.eval_shape(run, jax.random.PRNGKey(0))
    return jax.ShapeDtypeStruct(stated[0], jnp.result_type(float))


def _check_functions(name, fns):
    if not isinstance(fns, (tuple, list)) or len(fns) != 3 or not all(map(callable, fns)):
        got = (f"{len(fns)} items" if isinstance(fns, (tuple, list)) else type(fns).__name__)
        raise ValueError(f"layer({name}): {name}(...) must return (init_fn, apply_fn, "
                         f"kernel_fn), three functions; got {got}")
    return fns


class MaskingFns(tuple):
    """(init_fn, apply_fn, kernel_fn) of a layer decorated with ``supports_masking``, with
    its ``mask_fn`` (None: masks pass unchanged) and ``remask_kernel``."""

    mask_fn = None
    remask_kernel = False


def custom_layer(name: str, fns) -> Layer:
    """The Layer record of a user's (init_fn, apply_fn, kernel_fn)."""
    init_fn, apply_fn, kernel_fn = _check_functions(name, fns)
    masks = None
    if isinstance(fns, MaskingFns):
        mask_fn = fns.mask_fn
        masks = masking.same if mask_fn is None else (
            lambda mask, dims: mask_fn(mask, (mask.shape[0],) + tuple(dims)))

    def user_kernel(k: Kernel) -> Kernel:
        out = kernel_fn(LayerKernel(**_fields(k)))
        if not isinstance(out, Kernel):
            raise ValueError(f"{name}: kernel_fn must return the Kernel it was given, changed "
                             f"with k.replace(...); got {type(out).__name__}")
        return Kernel(**_fields(out))

    @functools.lru_cache(maxsize=None)
    def shape(s):
        s = expect_single(name, s)
        x = jax.ShapeDtypeStruct((1,) + s.dims, jnp.result_type(float))

        def forward(key, x):
            _, params = init_fn(key, x.shape)
            return apply_fn(params, x, rng=key)

        try:
            out = jax.eval_shape(forward, jax.random.PRNGKey(0), x)
        except NotImplementedError:  # a kernel-only layer: init_fn's output shape
            out = _init_output(init_fn, x.shape)
        out = out.masked_value if isinstance(out, MaskedArray) else out
        if not hasattr(out, "shape") or len(out.shape) < 2:
            got = type(out).__name__ if not hasattr(out, "shape") else f"shape {out.shape}"
            raise ValueError(f"{name}: apply_fn must return one array (N, ..., channels); got "
                             f"{got}")
        k = jax.eval_shape(user_kernel, _abstract_kernel(s))
        dims = tuple(out.shape[1:])
        pairs = tuple(d for p in dims[:-1] for d in (p, p))
        if k.nngp.shape != (2, 3) + pairs:
            raise ValueError(f"{name}: kernel_fn returned nngp of shape {k.nngp.shape} for "
                             f"inputs of shape {('N',) + s.dims}; apply_fn's outputs "
                             f"{('N',) + dims} need (N1, N2) + {pairs}")
        return Shape(dims, is_gaussian=k.is_gaussian)

    def init(key, s):
        return init_fn(key, (-1,) + s.dims)[1]

    def apply(params, x, rng=None):
        return apply_fn(params, x, rng=rng)

    def kernel(k):
        out = shape(Shape(positions(k) + (k.channels,), is_gaussian=k.is_gaussian))
        result = user_kernel(k)
        return result.replace(channels=out.channels, spatial=out.spatial)

    def apply_masked(params, x, rng=None, mask=None):
        return apply_fn(params, x, rng=rng, mask=mask)

    key = (name, init_fn, apply_fn, kernel_fn)
    return RandomLayer(key=key, shape=shape, kernel=kernel, pools=mixes_positions(kernel_fn),
                       apply=apply if masks is None else apply_masked, init=init, masks=masks,
                       remask=masks is not None and fns.remask_kernel,
                       apply_mask=masks is not None)


def layer(layer_fn):
    """Decorator: a function returning (init_fn, apply_fn, kernel_fn) becomes a stax layer.

    Args:
      layer_fn: the layer's constructor; its three functions follow neural-tangents'
        conventions (see the module docstring). One that returns a network already built
        by stax (e.g. a ``serial``) is returned as it is.
    """
    name = getattr(layer_fn, "__name__", "layer")

    @functools.wraps(layer_fn)
    def make(*args, **kwargs):
        fns = layer_fn(*args, **kwargs)
        inner = getattr(fns, "layer", None)
        if isinstance(inner, Layer):
            return inner
        return custom_layer(name, fns)
    return make


def supports_masking(remask_kernel: bool):
    """Decorator for a layer function whose apply_fn takes ``mask=``, as neural-tangents'.

    Args:
      remask_kernel: True to set the covariances of masked entries to zero after kernel_fn
        (neural-tangents' choice for layers whose kernel there may be non-zero).

    The layer function may return a fourth function, ``mask_fn(mask, input_shape) ->
    mask``, the output's mask from the input's (``input_shape`` with its batch entry; masks
    keep the values' axes, a channel axis of 1 where whole positions are masked); without
    it the mask passes unchanged. apply_fn is called with ``mask=`` (None when nothing is
    masked) and kernel_fn sees ``k.mask1``/``k.mask2`` (engine.layers.masking).
    """
    if not isinstance(remask_kernel, bool):
        raise ValueError(f"supports_masking(remask_kernel={remask_kernel!r}): remask_kernel "
                         "must be True or False")

    def decorate(layer_fn):
        name = getattr(layer_fn, "__name__", "layer")

        @functools.wraps(layer_fn)
        def make(*args, **kwargs):
            fns = layer_fn(*args, **kwargs)
            mask_fn = None
            if isinstance(fns, (tuple, list)) and len(fns) == 4:
                if not callable(fns[3]):
                    raise ValueError(f"supports_masking: {name}(...)'s fourth item must be "
                                     f"mask_fn(mask, input_shape); got {fns[3]!r}")
                fns, mask_fn = fns[:3], fns[3]
            init_fn, apply_fn, kernel_fn = _check_functions(name, fns)

            @functools.wraps(apply_fn)
            def apply_with_mask(params, x, mask=None, **kw):
                return apply_fn(params, x, mask=mask, **kw)
            out = MaskingFns((init_fn, apply_with_mask, kernel_fn))
            out.mask_fn, out.remask_kernel = mask_fn, remask_kernel
            return out

        setattr(make, MASKING, remask_kernel)
        return make
    return decorate
