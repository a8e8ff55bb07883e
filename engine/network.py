"""Network: a Layer seen from outside as neural-tangents' (init_fn, apply_fn, kernel_fn).

    init_fn, apply_fn, kernel_fn = stax.serial(stax.Dense(512), stax.Relu(), stax.Dense(1))
    out_shape, params = init_fn(key, (-1, 3))
    y = apply_fn(params, x)
    k = kernel_fn(x1, x2, get=("nngp", "ntk"))

The triple is a tuple (``net[2]`` is kernel_fn) that also keeps its ``layer``. Each of the
three functions is a small frozen record of the layer, so two networks built from the same
spec compare equal and share compiled code. ``kernel_fn`` is pure JAX (engine.kernel_fn);
tiles and progress are ``engine.batch``.
"""
from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp

from . import checks
from .kernel_fn import Kernels, KernelFn
from .layers import masking
from .layers.layer import Layer, Shape
from .layers.layout import declares_axes, from_canonical, input_order, order_in, to_canonical
from .layers.randomness import call_apply

__all__ = ["Network", "Kernels", "as_network"]


@dataclass(frozen=True)
class InitFn:
    """``init_fn(key, input_shape) -> (output_shape, params)``; -1 marks an unknown size."""

    layer: Layer

    def __repr__(self):
        return f"init_fn({self.layer.name})"

    def __call__(self, key, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) not in (2, 3, 4):
            raise ValueError(f"init_fn(input_shape={input_shape}): expected (N, features), "
                             "(N, W, C) or (N, H, W, C) (in the layout of the network's "
                             "batch_axis and channel_axis)")
        kernel_fn = KernelFn(self.layer)
        full = to_canonical(input_shape, input_order(self.layer, len(input_shape)))
        out = kernel_fn.output_shape(full[1:])
        params = self.layer.init(key, kernel_fn.input_shape(full[1:]))
        return from_canonical(full[:1] + out.dims, order_in(out)), params


@dataclass(frozen=True)
class ApplyFn:
    """``apply_fn(params, x, rng=None, **kwargs) -> outputs``: the finite network.

    ``rng`` is the PRNG key of layers that draw random numbers (Dropout in train mode),
    split among them as neural-tangents does. Other keywords go to the layers that read them
    (Aggregate's ``pattern=``, engine.layers.keywords); keywords no layer reads are ignored.
    ``mask_constant=c`` masks the input entries equal to c (NaN: the NaN entries) and returns
    a ``MaskedArray(outputs, mask)`` (engine.layers.masking; ``unmask_fn`` zeroes the masked
    outputs), for networks laid out as (batch, spatial..., channels).
    """

    layer: Layer

    def __repr__(self):
        return f"apply_fn({self.layer.name})"

    def __call__(self, params, x, rng=None, **kwargs):
        mask_constant = checks.mask_constant("apply_fn", kwargs.pop("mask_constant", None))
        if mask_constant is not None:
            if declares_axes(self.layer):
                raise ValueError("apply_fn(mask_constant=...): masking needs inputs laid out as "
                                 "(batch, spatial..., channels); this network's layers take "
                                 "other batch_axis/channel_axis (kernel_fn masks either way)")
            masking.check_supported(self.layer)
            x = masking.masked_input(jnp.asarray(x), mask_constant)
        return call_apply(self.layer, params, x, rng, **kwargs)


class Network(tuple):
    """``(init_fn, apply_fn, kernel_fn)`` of one architecture, with its ``layer``."""

    def __new__(cls, layer: Layer):
        return super().__new__(cls, (InitFn(layer), ApplyFn(layer), KernelFn(layer)))

    def __getnewargs__(self):
        return (self.layer,)

    def __repr__(self):
        return f"Network({self.layer.name})"

    @property
    def layer(self) -> Layer:
        return self[0].layer

    @property
    def init_fn(self) -> InitFn:
        return self[0]

    @property
    def apply_fn(self) -> ApplyFn:
        return self[1]

    @property
    def kernel_fn(self) -> KernelFn:
        return self[2]

    def output_shape(self, input_shape) -> Shape:
        """Static pass: what the network outputs for inputs of these canonical dims
        (batch excluded; spatial..., channels)."""
        return self.kernel_fn.output_shape(input_shape)


def as_network(obj) -> Layer:
    """Unwrap a Network (or accept a Layer) for combinators."""
    return obj.layer if isinstance(obj, Network) else obj
