"""The argument checks of the filter layers (Conv, ConvTranspose, ConvLocal) and of pooling.

A filter layer z = (W_std / sqrt(C_in |filter|)) W * h + b_std b (NTK parameterization; Conv,
ConvTranspose and ConvLocal differ only in how the filter meets the positions) takes the same
seven arguments; ``check_filter_layer`` validates them once, at construction, with messages
naming the layer and the argument, e.g.

    ConvLocal(filter_shape=(0, 3)): filter_shape must be a tuple of 1 or 2 positive integers,
    one per spatial axis

The window checks (filter_shape / window_shape, strides, padding, and the static check that
a window fits the inputs) are pooling's too (pool.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..checks import hyperparameter
from .choices import choice_name
from .dense import check_affine

PADDINGS = ("VALID", "SAME", "CIRCULAR")


def check_window(name, arg, value) -> tuple:
    """filter_shape / window_shape: 1 or 2 positive integers, one per spatial axis."""
    value = tuple(value) if isinstance(value, (tuple, list)) else value
    if not isinstance(value, tuple) or not 1 <= len(value) <= 2 or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
        raise ValueError(f"{name}({arg}={value!r}): {arg} must be a tuple of 1 or 2 positive "
                         "integers, one per spatial axis")
    return value


def check_strides(name, strides, window, window_arg) -> tuple:
    """Positive integers, one per axis of the window; None means 1 everywhere."""
    if strides is None:
        return (1,) * len(window)
    strides = check_window(name, "strides", strides)
    if len(strides) != len(window):
        raise ValueError(f"{name}(strides={strides!r}): strides must have one entry per axis "
                         f"of {window_arg}={window}")
    return strides


def check_padding(name, padding) -> str:
    """'VALID', 'SAME' or 'CIRCULAR' (any case, or a ``Padding`` member), returned upper-case."""
    padding = choice_name(padding)
    if not isinstance(padding, str) or padding.upper() not in PADDINGS:
        raise ValueError(f"{name}(padding={padding!r}): expected one of {list(PADDINGS)}")
    return padding.upper()


def check_window_fits(name, arg, window, s, padding):
    """Static check: one window entry per spatial axis, and it fits the input when VALID."""
    spatial = s.dims[:-1]
    if len(window) != len(spatial):
        raise ValueError(f"{name}: {arg} {window} has one entry per spatial axis, but inputs "
                         f"of shape {('N',) + s.dims} have {len(spatial)}")
    if padding == "VALID" and any(w > n for w, n in zip(window, spatial)):
        raise ValueError(f"{name}: {arg} {window} is larger than the input's spatial size "
                         f"{spatial} with padding='VALID'; use padding='SAME' or a smaller "
                         f"{arg}")


@dataclass(frozen=True)
class FilterArgs:
    """The validated arguments of a filter layer (strides filled in, padding upper-case)."""

    out_chan: int
    filter_shape: tuple
    strides: tuple
    padding: str
    W_std: float
    b_std: float | None
    parameterization: str

    @property
    def ntk_param(self) -> bool:
        return self.parameterization == "ntk"

    @property
    def fan_in(self) -> int:
        """|filter|: the filter's positions (times C_in, the fan-in of one output)."""
        return math.prod(self.filter_shape)


def check_filter_layer(name, out_chan, filter_shape, strides, padding, W_std, b_std,
                       parameterization) -> FilterArgs:
    """Validate a filter layer's arguments, in this order: out_chan, filter_shape, strides,
    padding, W_std, b_std, parameterization (the first bad one is named).

    Args:
      name: the layer's name for messages ('Conv', 'ConvTranspose', 'ConvLocal').
      out_chan: output channels, a positive integer.
      filter_shape: 1 or 2 positive integers, one per spatial axis.
      strides: as many positive integers, or None (1 everywhere).
      padding: 'VALID', 'SAME' or 'CIRCULAR', or a stax.Padding member.
      W_std, b_std: non-negative numbers (b_std None: no bias).
      parameterization: 'ntk' or 'standard'.
    """
    hyperparameter(name, "out_chan", out_chan, positive=True, integer=True)
    filter_shape = check_window(name, "filter_shape", filter_shape)
    strides = check_strides(name, strides, filter_shape, "filter_shape")
    padding = check_padding(name, padding)
    check_affine(name, W_std, b_std, parameterization)
    return FilterArgs(out_chan, filter_shape, strides, padding, W_std, b_std, parameterization)
