"""Limits on what one spec may ask for, checked before anything is built, traced or compiled.

A spec is a size as much as a shape: 300 Dense+Relu layers compile for minutes,
``FanOut(num=100000)`` traces for longer than anyone waits, ``Conv(filter_shape=[10000])``
asks XLA for gigabytes, and a spec nested 1000 combinators deep overflows Python's stack.
``check_spec`` walks the JSON spec without recursion and refuses such a spec with a
ValueError naming the position, the limit and its value, e.g.

    layer 1 (FanOut): FanOut(num=100000): num is beyond the limit max_fan_out = 16

``engine.build(spec, limits=SpecLimits(...))`` calls it first; a server makes its own limits
(app/limits.py). Every number in a spec is bounded too (``max_magnitude``): an integer such
as 10**30 would overflow inside a compiled function instead of giving a message.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

#: the arguments that set the units of a weight layer
WIDTH_ARGUMENTS = {"Dense": "out_dim", "Conv": "out_chan"}
#: the arguments that are window sizes or strides (one entry per spatial axis)
WINDOW_ARGUMENTS = ("filter_shape", "window_shape", "strides")
#: the largest seed accepted anywhere: seed + members stays a 32-bit integer (a larger
#: Python integer overflows when JAX converts it)
MAX_SEED = 2 ** 30
#: characters of a user's value quoted in a message (a whole spec could be megabytes)
QUOTE = 80


@dataclass(frozen=True)
class SpecLimits:
    """Largest spec accepted: layers in all, combinator nesting, branches, windows, widths."""

    max_layers: int = 64          # entries in the whole spec, nested ones included
    max_depth: int = 8            # serial/parallel combinators around a layer
    max_fan_out: int = 16         # FanOut num, and branches of one parallel
    max_window: int = 32          # each entry of filter_shape, window_shape, strides
    max_width: int = 8192         # Dense out_dim, Conv out_chan
    max_magnitude: float = 1e6    # |number| of every numeric argument

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"SpecLimits({f.name}={value!r}): {f.name} must be a "
                                 "positive number")


def quote(value) -> str:
    """``repr(value)``, cut to QUOTE characters (messages stay short for any input)."""
    try:
        text = repr(value)
    except ValueError:  # an integer of more digits than Python converts to text
        return "<a number with more than 4300 digits>"
    return text if len(text) <= QUOTE else text[:QUOTE - 3] + "..."


def check_spec(spec, limits: SpecLimits = SpecLimits()) -> None:
    """Refuse a spec beyond ``limits`` (ValueError), walking it without recursion.

    Only the size is checked here; names, arguments and shapes are checked by
    ``engine.build``, which calls this first. Malformed entries are left to it.
    """
    if not isinstance(limits, SpecLimits):
        raise ValueError(f"check_spec(limits={quote(limits)}): expected an engine.SpecLimits")
    count = 0
    pending = [(spec, "", 0)]  # (layer list, position prefix, nesting depth)
    while pending:
        items, where, depth = pending.pop()
        if not isinstance(items, (list, tuple)):
            continue
        for i, item in enumerate(items):
            count += 1
            position = f"{where}layer {i}"
            if count > limits.max_layers:
                raise ValueError(f"{position}: the spec has more than {limits.max_layers} layers "
                                 f"(combinators and nested layers included); the limit is "
                                 f"max_layers = {limits.max_layers}")
            if not (isinstance(item, (list, tuple)) and len(item) == 2
                    and isinstance(item[0], str) and isinstance(item[1], dict)):
                continue
            name, kwargs = item
            _check_arguments(position, name, kwargs, limits)
            inner = _inner_lists(position, name, kwargs, limits)
            if inner and depth + 1 > limits.max_depth:
                raise ValueError(f"{position} ({_name(name)}): combinators nest more than "
                                 f"{limits.max_depth} deep here; the limit is max_depth = "
                                 f"{limits.max_depth}")
            pending.extend((layers, prefix, depth + 1) for layers, prefix in reversed(inner))


def _name(name) -> str:
    """A layer or argument name for a message (any length, any type)."""
    return name if isinstance(name, str) and len(name) <= QUOTE else quote(name)


def _inner_lists(position, name, kwargs, limits) -> list:
    """(layer list, position prefix) of each list a combinator holds."""
    if name == "serial":
        return [(kwargs.get("layers"), f"{position} > ")]
    if name != "parallel" or not isinstance(kwargs.get("branches"), (list, tuple)):
        return []
    branches = kwargs["branches"]
    if len(branches) > limits.max_fan_out:
        raise ValueError(f"{position} (parallel): {len(branches)} branches is beyond the limit "
                         f"max_fan_out = {limits.max_fan_out}")
    return [(b, f"{position} > branch {j} > ") for j, b in enumerate(branches)]


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
    if name == "FanOut" and arg == "num":
        return "max_fan_out"
    return "max_width" if WIDTH_ARGUMENTS.get(name) == arg else None


def _beyond(position, name, arg, value, limit, maximum) -> ValueError:
    name, arg = _name(name), _name(arg)
    return ValueError(f"{position} ({name}): {name}({arg}={quote(value)}): {arg} is beyond "
                      f"the limit {limit} = {maximum}")


def _numbers(value) -> list:
    """The numbers of an argument: itself, or the entries of a (flat) list of them."""
    values = value if isinstance(value, (list, tuple)) else [value]
    return [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
