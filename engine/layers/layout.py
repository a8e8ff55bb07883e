"""Layouts: where a layer's inputs hold the batch and the channels (``batch_axis``,
``channel_axis``, ``Conv(dimension_numbers=...)``, as in neural-tangents).

Every layer is written for the canonical layout (batch, spatial..., channels) and every Kernel
is kept in it. A layout is an ``order``: for each axis of the user's array, the canonical axis
it holds, so that ``user = transpose(canonical, order)``; (N, C, H, W) is order (0, 3, 1, 2).
Spatial axes keep their relative order.

- Arrays flow through the finite network in the user's layout. A layer given other axes
  (``with_axes``) moves its input to the canonical layout, runs, and moves its output (and
  its bias, which has the input's number of axes) back.
- ``Shape.order`` carries the layout through the static pass. A layer that declares axes
  checks that they are the ones its input has; a layer that does not care (activations,
  FanOut, FanInSum, ...; ``Layer.axes == "any"``) passes the layout on; every other layer
  needs the canonical layout and says so (``flow``).
- ``kernel_fn(x1, x2)`` and ``init_fn(key, input_shape)`` read the inputs in the layout of
  the first layer that declares one (``input_order``) and compute in the canonical one.
"""
from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from .layer import Layer

#: a layer that passes any layout on (elementwise maps, branches, sums)
ANY = "any"


def normalized(name: str, arg: str, axis, ndim: int) -> int:
    """``axis`` as an index into ``ndim`` axes (negative counts from the end)."""
    axis = check_axis(name, arg, axis)
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}({arg}={axis}): out of range for inputs with {ndim} axes")
    return axis % ndim


def check_axis(name: str, arg: str, axis) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ValueError(f"{name}({arg}={axis!r}): expected an integer axis")
    return int(axis)


def check_axes(name: str, batch_axis, channel_axis) -> tuple[int, int]:
    """The two axes as integers that can be told apart whatever the inputs' rank."""
    batch_axis = check_axis(name, "batch_axis", batch_axis)
    channel_axis = check_axis(name, "channel_axis", channel_axis)
    if batch_axis == channel_axis:
        raise ValueError(f"{name}(batch_axis={batch_axis}, channel_axis={channel_axis}): the "
                         "batch and channel axes must differ")
    return int(batch_axis), int(channel_axis)


def order_of(name: str, batch_axis: int, channel_axis: int, ndim: int) -> tuple[int, ...]:
    """The order of inputs with ``ndim`` axes, the batch and the channels where given."""
    b = normalized(name, "batch_axis", batch_axis, ndim)
    c = normalized(name, "channel_axis", channel_axis, ndim)
    if b == c:
        raise ValueError(f"{name}(batch_axis={batch_axis}, channel_axis={channel_axis}): for "
                         f"inputs with {ndim} axes both name axis {b}")
    spatial = iter(range(1, ndim - 1))
    return tuple(0 if a == b else ndim - 1 if a == c else next(spatial) for a in range(ndim))


def canonical(ndim: int) -> tuple[int, ...]:
    return tuple(range(ndim))


def order_in(s) -> tuple[int, ...]:
    """The layout of a Shape (None: canonical)."""
    return s.order if s.order is not None else canonical(len(s.dims) + 1)


def describe(order: tuple[int, ...]) -> str:
    """'(batch, channels, spatial, spatial)' for the user's axes."""
    last = len(order) - 1
    return "(" + ", ".join("batch" if o == 0 else "channels" if o == last else "spatial"
                           for o in order) + ")"


def to_canonical(x, order):
    """A user-layout array (or shape tuple) in the canonical layout."""
    inverse = tuple(int(i) for i in np.argsort(order))
    if isinstance(x, tuple):
        return tuple(x[i] for i in inverse)
    return x if inverse == canonical(len(order)) else jnp.transpose(x, inverse)


def from_canonical(x, order):
    """A canonical array (or shape tuple) in the user's layout."""
    if isinstance(x, tuple):
        return tuple(x[i] for i in order)
    return x if tuple(order) == canonical(len(order)) else jnp.transpose(x, order)


def output_order(order: tuple[int, ...], ndim: int) -> tuple[int, ...]:
    """The layout of an output with ``ndim`` axes: the input's, or for (batch, channels)
    outputs of pooling, the input's batch and channel axes in the input's relative order."""
    if ndim == len(order):
        return order
    batch_first = order.index(0) < order.index(len(order) - 1)
    return (0, 1) if batch_first else (1, 0)


def without_axes(order: tuple[int, ...], dropped) -> tuple[int, ...] | None:
    """The layout ``order`` after the canonical axes ``dropped`` are removed (an integer
    index, a contraction), as a Shape holds it (None: canonical)."""
    new = tuple(a - sum(d < a for d in dropped) for a in order if a not in dropped)
    return None if new == canonical(len(new)) else new


def flow(layer: Layer, s):
    """``layer.shape(s)`` with the layout checked and passed on (see the module docstring)."""
    orders = {order_in(si) for si in (s if isinstance(s, tuple) else (s,))}
    if layer.axes is None:
        for order in orders:
            if order != canonical(len(order)):
                raise ValueError(f"{layer.name}: its inputs are laid out as {describe(order)}, "
                                 "but as built it takes (batch, spatial..., channels) inputs; "
                                 "give it the inputs' batch_axis and channel_axis where it "
                                 "takes them (Dense, pooling, LayerNorm; Conv: "
                                 "dimension_numbers)")
    out = layer.shape(s)
    if layer.axes != ANY or layer.children:  # combinators: their layers carry the layout
        return out
    if len(orders) > 1:
        raise ValueError(f"{layer.name}: its branches are laid out differently: "
                         + ", ".join(sorted(describe(o) for o in orders)))
    (order,) = orders
    return _with_order(out, order)


def _with_order(out, order):
    if isinstance(out, tuple):
        return tuple(_with_order(o, order) for o in out)
    if out.order is not None or len(out.dims) + 1 != len(order):
        return out
    return dataclasses.replace(out, order=None if order == canonical(len(order)) else order)


def input_order(layer: Layer, ndim: int) -> tuple[int, ...]:
    """The layout of the network's inputs: that of its first layer declaring axes."""
    declared = _first_declared(layer)
    if declared is None:
        return canonical(ndim)
    name, batch_axis, channel_axis = declared
    if channel_axis is None:  # Flatten: the batch alone; channels last unless batch is
        b = normalized(name, "batch_axis", batch_axis, ndim)
        channel_axis = 0 if b == ndim - 1 else -1
    return order_of(name, batch_axis, channel_axis, ndim)


def declares_axes(layer: Layer) -> bool:
    """The layer, or one inside it, takes inputs in a layout other than the canonical."""
    own = isinstance(layer.axes, tuple) and tuple(layer.axes) not in ((0, -1), (0, None))
    return own or any(declares_axes(c) for c in layer.children)


def _first_declared(layer: Layer):
    if layer.axes == ANY:
        for child in layer.children:
            found = _first_declared(child)
            if found is not None:
                return found
        return None
    if layer.axes is None:
        return (layer.name, 0, -1)
    return (layer.name,) + tuple(layer.axes)


def check_input(name: str, s, batch_axis: int, channel_axis: int) -> tuple[int, ...]:
    """The layout a layer declaring these axes receives; a ValueError when it differs."""
    order = order_of(name, batch_axis, channel_axis, len(s.dims) + 1)
    got = order_in(s)
    if got != order:
        raise ValueError(f"{name}(batch_axis={batch_axis}, channel_axis={channel_axis}): its "
                         f"inputs are laid out as {describe(got)} (set by the layers before "
                         f"it); give every layer the same batch_axis and channel_axis")
    return order


def conv_axes(name: str, dimension_numbers, spatial: int):
    """``(batch_axis, channel_axis, weight_order)`` of a convolution's
    ``dimension_numbers=(lhs_spec, rhs_spec, out_spec)``, such as ('NCHW', 'OIHW', 'NCHW');
    ``weight_order`` places the canonical weights (spatial..., in, out) in rhs_spec's order
    (None: rhs_spec is canonical). None (neural-tangents' default): channel-last everywhere.
    """
    if dimension_numbers is None:
        return 0, -1, None
    arg = f"{name}(dimension_numbers={dimension_numbers!r})"
    if (not isinstance(dimension_numbers, (tuple, list)) or len(dimension_numbers) != 3
            or not all(isinstance(d, str) for d in dimension_numbers)):
        raise ValueError(f"{arg}: expected three strings (lhs_spec, rhs_spec, out_spec) such "
                         "as ('NCHW', 'OIHW', 'NCHW')")
    lhs, rhs, out = dimension_numbers
    space = [ch for ch in lhs if ch not in "NC"]
    if (sorted(lhs) != sorted(set(lhs)) or "N" not in lhs or "C" not in lhs
            or len(space) != spatial):
        raise ValueError(f"{arg}: lhs_spec {lhs!r} must name N, C and {spatial} spatial "
                         f"ax{'is' if spatial == 1 else 'es'} (one per filter dimension), "
                         "each once")
    if sorted(rhs) != sorted(space + ["I", "O"]) or [ch for ch in rhs if ch not in "IO"] != space:
        raise ValueError(f"{arg}: rhs_spec {rhs!r} must name O, I and the spatial axes of "
                         f"lhs_spec in the same order ({''.join(space)})")
    if out != lhs:
        raise ValueError(f"{arg}: out_spec {out!r} must equal lhs_spec {lhs!r} (the output "
                         "keeps the input's layout)")
    weights = "".join(space) + "IO"
    weight_order = tuple(weights.index(ch) for ch in rhs)
    return (lhs.index("N"), lhs.index("C") - len(lhs),
            None if weight_order == canonical(len(rhs)) else weight_order)


def drawn(key, shape: tuple, order) -> jax.Array:
    """Standard normals of the canonical ``shape``, drawn in the layout ``order`` (None: as
    they are) as neural-tangents draws a parameter of that layout from ``key``."""
    if order is None:
        return jax.random.normal(key, shape)
    return jnp.transpose(jax.random.normal(key, tuple(shape[i] for i in order)),
                         tuple(int(i) for i in np.argsort(order)))


def with_axes(layer: Layer, name: str, batch_axis, channel_axis,
              params_in=None, params_out=None) -> Layer:
    """``layer`` (written for canonical inputs) on inputs with these batch and channel axes.

    ``params_in(params, order)`` turns the user's parameters into the layer's, and
    ``params_out(params, order)`` back (default: a bias, the second entry of (W, b), moves
    like the inputs). The layer is returned unchanged for the canonical axes (0, -1).
    """
    batch_axis, channel_axis = check_axes(name, batch_axis, channel_axis)
    if (batch_axis, channel_axis) == (0, -1) and params_in is None:
        return layer
    params_in = params_in or _bias_in
    params_out = params_out or _bias_out

    def order(ndim):
        return order_of(name, batch_axis, channel_axis, ndim)

    def shape(s):
        o = check_input(name, s, batch_axis, channel_axis)
        out = layer.shape(dataclasses.replace(s, order=None))
        new = output_order(o, len(out.dims) + 1)
        return dataclasses.replace(out, order=None if new == canonical(len(new)) else new)

    def init(key, s):
        """The layer's params for canonical inputs, in the user's layout. ``s`` keeps its
        order, for a layer that draws a parameter in the user's layout (ConvLocal's bias)."""
        o = check_input(name, s, batch_axis, channel_axis)
        return params_out(layer.init(key, s), o)

    def apply(params, x, **keywords):  # keywords: for a layer that reads some (Aggregate)
        o = order(x.ndim)
        y = layer.apply(params_in(params, o), to_canonical(x, o), **keywords)
        return from_canonical(y, output_order(o, y.ndim))

    return dataclasses.replace(layer, key=layer.key + (("axes", batch_axis, channel_axis),),
                               shape=shape, init=init, apply=apply,
                               axes=(batch_axis, channel_axis))


def filter_layer(name: str, build, dimension_numbers) -> Layer:
    """A convolution laid out by ``dimension_numbers``: ``build(weight_order)`` makes the
    canonical layer (key[2] its filter_shape; W drawn in ``weight_order``, see ``drawn``)."""
    spatial = len(build(None).key[2])  # the arguments are checked before the layout
    weight_order = conv_axes(name, dimension_numbers, spatial)[2]
    return with_conv_axes(build(weight_order), name, dimension_numbers, spatial)


def with_conv_axes(layer: Layer, name: str, dimension_numbers, spatial: int) -> Layer:
    """A convolution (params (W, b), W canonical (spatial..., in, out)) on inputs and weights
    laid out by ``dimension_numbers`` (``conv_axes``); unchanged for the canonical ones."""
    batch_axis, channel_axis, weight_order = conv_axes(name, dimension_numbers, spatial)
    if weight_order is None:
        return with_axes(layer, name, batch_axis, channel_axis)
    back = tuple(int(i) for i in np.argsort(weight_order))

    def params_in(params, order):
        W, b = _bias_in(params, order)
        return jnp.transpose(W, back), b

    def params_out(params, order):
        W, b = _bias_out(params, order)
        return jnp.transpose(W, weight_order), b

    wrapped = with_axes(layer, name, batch_axis, channel_axis, params_in, params_out)
    return dataclasses.replace(wrapped, key=wrapped.key + (("weights", weight_order),))


def _bias_in(params, order):
    if not params or params[1] is None:
        return params
    W, b = params
    return W, to_canonical(b, order)


def _bias_out(params, order):
    if not params or params[1] is None:
        return params
    W, b = params
    return W, from_canonical(b, order)
