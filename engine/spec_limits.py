"""Limits on what one spec may ask for, checked before anything is built, traced or compiled.

A spec is a size as much as a shape: 300 Dense+Relu layers compile for minutes,
``FanOut(num=100000)`` traces for longer than anyone waits, ``Conv(filter_shape=[10000])``
asks XLA for gigabytes, ``ConvTranspose(strides=[32, 32])`` makes an 8x8 image 256x256 (a
kernel of 256^4 numbers per pair of inputs), and a spec nested 1000 combinators deep
overflows Python's stack.
``check_spec`` walks the JSON spec without recursion and refuses such a spec with a
ValueError naming the position, the limit and its value, e.g.

    layer 1 (FanOut): FanOut(num=100000): num is beyond the limit max_fan_out = 16

``engine.build(spec, limits=SpecLimits(...))`` calls it first; a server makes its own limits
(app/state/limits.py). Every number in a spec is bounded too (``max_magnitude``): an
integer such as 10**30 would overflow inside a compiled function instead of giving a message.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from .checks import QUOTE, fail, quote

#: the arguments that set the units (channels) of a layer with weights
WIDTH_ARGUMENTS = {
    "Dense": ("out_dim",), "Conv": ("out_chan",), "ConvTranspose": ("out_chan",),
    "ConvLocal": ("out_chan",), "Rnn": ("out_dim",),
    "GlobalSelfAttention": ("n_chan_out", "n_chan_key", "n_chan_val", "n_chan_pos_emb"),
}
#: the arguments that are window sizes or strides (one entry per spatial axis)
WINDOW_ARGUMENTS = ("filter_shape", "window_shape", "strides")
#: (layer, argument) pairs whose value is a layer entry [name, {arguments}]
NESTED_ENTRIES = {("Rnn", "activation")}
#: other bounded arguments: (layer, argument) -> the SpecLimits field
OTHER_LIMITS = {("FanOut", "num"): "max_fan_out", ("GlobalSelfAttention", "n_heads"): "max_heads",
                ("ImageResize", "shape"): "max_resize"}
#: the largest seed accepted anywhere: seed + members stays a 32-bit integer (a larger
#: Python integer overflows when JAX converts it)
MAX_SEED = 2 ** 30


@dataclass(frozen=True)
class SpecLimits:
    """Largest spec accepted: layers in all, combinator nesting, branches, windows, widths."""

    max_layers: int = 64          # entries in the whole spec, nested ones included
    max_depth: int = 8            # serial/parallel combinators around a layer
    max_fan_out: int = 16         # FanOut num, and branches of one parallel
    max_window: int = 32          # each entry of filter_shape, window_shape, strides
    max_width: int = 8192         # Dense out_dim, Conv out_chan, ... (WIDTH_ARGUMENTS)
    max_magnitude: float = 1e6    # |number| of every numeric argument
    max_heads: int = 16           # GlobalSelfAttention n_heads
    max_resize: int = 32          # each entry of ImageResize shape (positions per axis)
    max_upsampling: int = 16      # product of all ConvTranspose strides in the spec

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise fail("SpecLimits", f.name, repr(value), "a positive number")


def check_spec(spec, limits: SpecLimits = SpecLimits()) -> None:
    """Refuse a spec beyond ``limits`` (ValueError), walking it without recursion.

    Only the size is checked here; names, arguments and shapes are checked by
    ``engine.build``, which calls this first. Malformed entries are left to it.
    """
    if not isinstance(limits, SpecLimits):
        raise ValueError(f"check_spec(limits={quote(limits)}): expected an engine.SpecLimits")
    count, upsampling = 0, 1
    # (layer list, position prefix, nesting depth, the argument holding a nested entry)
    pending = [(spec, "", 0, None)]
    while pending:
        items, where, depth, holder = pending.pop()
        if not isinstance(items, (list, tuple)):
            continue
        for i, item in enumerate(items):
            count += 1
            position = f"{where}{holder}" if holder else f"{where}layer {i}"
            if count > limits.max_layers:
                raise ValueError(f"{position}: the spec has more than {limits.max_layers} layers "
                                 f"(combinators and nested layers included); the limit is "
                                 f"max_layers = {limits.max_layers}")
            if not (isinstance(item, (list, tuple)) and len(item) == 2
                    and isinstance(item[0], str) and isinstance(item[1], dict)):
                continue
            name, kwargs = item
            _check_arguments(position, name, kwargs, limits)
            upsampling = _check_upsampling(position, name, kwargs, upsampling, limits)
            inner = _inner_lists(position, name, kwargs, limits)
            nests = any(arg is None for _, _, arg in inner)  # a combinator (not an argument)
            if nests and depth + 1 > limits.max_depth:
                raise ValueError(f"{position} ({_name(name)}): combinators nest more than "
                                 f"{limits.max_depth} deep here; the limit is max_depth = "
                                 f"{limits.max_depth}")
            pending.extend((layers, prefix, depth + int(nests), arg)
                           for layers, prefix, arg in reversed(inner))


def _name(name) -> str:
    """A layer or argument name for a message (any length, any type)."""
    return name if isinstance(name, str) and len(name) <= QUOTE else quote(name)


def _inner_lists(position, name, kwargs, limits) -> list:
    """(layer list, position prefix, holding argument or None) of each list a combinator
    holds, and of a layer entry given as an argument (Rnn's activation)."""
    if name == "serial":
        return [(kwargs.get("layers"), f"{position} > ", None)]
    entries = [([kwargs[arg]], f"{position} > ", arg) for layer, arg in sorted(NESTED_ENTRIES)
               if layer == name and kwargs.get(arg) is not None]
    if entries:
        return entries
    if name != "parallel" or not isinstance(kwargs.get("branches"), (list, tuple)):
        return []
    branches = kwargs["branches"]
    if len(branches) > limits.max_fan_out:
        raise ValueError(f"{position} (parallel): {len(branches)} branches is beyond the limit "
                         f"max_fan_out = {limits.max_fan_out}")
    return [(b, f"{position} > branch {j} > ", None) for j, b in enumerate(branches)]


def _check_upsampling(position, name, kwargs, upsampling, limits) -> int:
    """The product of the ConvTranspose strides so far, refused beyond max_upsampling
    (each multiplies the positions by the product of its strides)."""
    if name != "ConvTranspose":
        return upsampling
    strides = kwargs.get("strides")
    for s in strides if isinstance(strides, (list, tuple)) else ():
        if isinstance(s, int) and not isinstance(s, bool) and s > 1:
            upsampling *= s
    if upsampling > limits.max_upsampling:
        raise ValueError(f"{position} (ConvTranspose): ConvTranspose(strides="
                         f"{quote(strides)}): the ConvTranspose layers of the spec up to here "
                         f"multiply the number of positions by {upsampling} (the product of "
                         f"their strides), beyond the limit max_upsampling = "
                         f"{limits.max_upsampling}")
    return upsampling


def _check_arguments(position, name, kwargs, limits) -> None:
    """Numbers within max_magnitude; widths, windows and FanOut num within their limits."""
    for arg, value in kwargs.items():
        limit = _limit_of(name, arg)
        if limit and any(n > getattr(limits, limit) for n in _numbers(value)):
            raise _beyond(position, name, arg, value, limit, getattr(limits, limit))
        if any(abs(n) > limits.max_magnitude for n in _numbers(value)):
            raise _beyond(position, name, arg, value, "max_magnitude",
                          f"{limits.max_magnitude:g} (on |value|)")


def _limit_of(name: str, arg: str) -> str | None:
    """The SpecLimits field bounding ``arg`` of layer ``name``, if any."""
    if arg in WINDOW_ARGUMENTS:
        return "max_window"
    if arg in WIDTH_ARGUMENTS.get(name, ()):
        return "max_width"
    return OTHER_LIMITS.get((name, arg))


def _beyond(position, name, arg, value, limit, maximum) -> ValueError:
    name, arg = _name(name), _name(arg)
    return ValueError(f"{position} ({name}): {name}({arg}={quote(value)}): {arg} is beyond "
                      f"the limit {limit} = {maximum}")


def _numbers(value) -> list:
    """The numbers of an argument: itself, or the entries of a (flat) list of them."""
    values = value if isinstance(value, (list, tuple)) else [value]
    return [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
