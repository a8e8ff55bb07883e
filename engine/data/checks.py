"""Validation of dataset arguments, done once before any data is made.

Every failure is a ``ValueError`` naming the function, the argument, what was expected
and what was given, e.g. "regression_1d(n_train=0): n_train must be a positive integer".
"""
from __future__ import annotations

import math

import numpy as np

MAX_POINTS = 100_000  # hard cap of any one array's length, whoever calls


def fail(fn: str, arg: str, value, expected: str) -> ValueError:
    """The ValueError for ``fn(arg=value)`` that violated ``expected``."""
    if isinstance(value, np.generic):
        value = value.item()  # 3, not np.int64(3)
    return ValueError(f"{fn}({arg}={value!r}): {arg} must be {expected}")


def is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def count(fn: str, arg: str, value, maximum: int = MAX_POINTS) -> int:
    """An integer in [1, maximum]."""
    if not is_int(value) or not 1 <= value <= maximum:
        raise fail(fn, arg, value, f"a positive integer <= {maximum}")
    return int(value)


def non_negative(fn: str, arg: str, value) -> float:
    """A finite number >= 0."""
    if not _is_real(value) or not math.isfinite(value) or value < 0:
        raise fail(fn, arg, value, "a non-negative finite number")
    return float(value)


def fraction(fn: str, arg: str, value) -> float:
    """A number in [0, 1)."""
    if not _is_real(value) or not 0 <= value < 1:
        raise fail(fn, arg, value, "a number in [0, 1)")
    return float(value)


def seed(fn: str, value) -> int:
    """A non-negative integer seed for ``np.random.default_rng``."""
    if not is_int(value) or value < 0:
        raise fail(fn, "seed", value, "a non-negative integer")
    return int(value)


def interval(fn: str, arg: str, value) -> tuple[float, float]:
    """A pair (lo, hi) of finite numbers with lo < hi."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else ()
    if len(pair) != 2 or not all(_is_real(v) and math.isfinite(v) for v in pair) \
            or not pair[0] < pair[1]:
        raise fail(fn, arg, value, "a pair (lo, hi) of finite numbers with lo < hi")
    return float(pair[0]), float(pair[1])


def choice(fn: str, arg: str, value, options) -> str:
    """One of ``options``."""
    if not isinstance(value, str) or value not in options:
        raise fail(fn, arg, value, f"one of {sorted(options)}")
    return value
