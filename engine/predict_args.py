"""Validation of the arguments of the prediction functions, done once before any jit.

Every failure is a ``ValueError`` naming the function, the argument, what was expected
and what was given, e.g.
"gradient_descent_mse_ensemble(learning_rate=-1.0): learning_rate must be positive".
"""
from __future__ import annotations

import math

import numpy as np

KERNEL_NAMES = ("nngp", "ntk")


def fail(fn: str, arg: str, given: str, expected: str) -> ValueError:
    """The ValueError for ``fn(arg=given)`` that violated ``expected``."""
    return ValueError(f"{fn}({arg}={given}): {arg} must be {expected}")


def _describe(array: np.ndarray) -> str:
    return f"<array of shape {array.shape}>"


def positive(fn: str, arg: str, value) -> float:
    """A finite number > 0."""
    if not _is_real(value) or not math.isfinite(value) or value <= 0:
        raise fail(fn, arg, repr(value), "a positive finite number")
    return float(value)


def non_negative(fn: str, arg: str, value) -> float:
    """A finite number >= 0."""
    if not _is_real(value) or not math.isfinite(value) or value < 0:
        raise fail(fn, arg, repr(value), "a non-negative finite number")
    return float(value)


def _is_real(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def matrix(fn: str, arg: str, value, shape: tuple) -> np.ndarray:
    """A finite float array of ``shape`` (``None`` entries match any size).

    float32 stays float32 so that its precision can be reported; anything else is float64.
    """
    array = np.asarray(value)
    if array.dtype not in (np.float32, np.float64):
        array = array.astype(np.float64)
    expected = "(" + ", ".join("n" if s is None else str(s) for s in shape) + ")"
    if array.ndim != len(shape) or any(s not in (None, a) for s, a in zip(shape, array.shape)):
        raise fail(fn, arg, _describe(array), f"an array of shape {expected}")
    if not np.all(np.isfinite(array)):
        bad = int(np.sum(~np.isfinite(array)))
        raise fail(fn, arg, _describe(array), f"finite (it has {bad} NaN or inf entries)")
    return array


def targets(fn: str, value, n: int | None = None, arg: str = "y_train") -> np.ndarray:
    """Training targets: finite, shape (n_train, n_outputs)."""
    return matrix(fn, arg, value, (n, None))


def get_names(fn: str, get) -> tuple[tuple[str, ...], bool]:
    """Normalise ``get`` to a tuple of kernel names; the flag says a single name was given."""
    if get is None:
        return KERNEL_NAMES, False
    single = isinstance(get, str)
    names = (get,) if single else tuple(get) if isinstance(get, (tuple, list)) else None
    if not names or any(n not in KERNEL_NAMES for n in names) or len(set(names)) < len(names):
        raise fail(fn, "get", repr(get), "'nngp', 'ntk' or a tuple of distinct ones")
    return names, single


def times(fn: str, t, discrete: bool) -> tuple[np.ndarray, bool]:
    """Training times as a float64 vector; the flag says a scalar was given.

    ``None`` means the end of training (t = inf). Times must be >= 0; with ``discrete``
    they are step counts, so integers (or inf).
    """
    array = np.asarray(np.inf if t is None else t, dtype=np.float64)
    given = repr(t) if array.ndim == 0 else _describe(array)
    if array.ndim > 1:
        raise fail(fn, "t", given, "a scalar or a 1-D array of times")
    if np.any(np.isnan(array)) or np.any(array < 0):
        raise fail(fn, "t", given, "non-negative (>= 0, or inf for the end of training)")
    finite = array[np.isfinite(array)]
    if discrete and np.any(finite != np.round(finite)):
        raise fail(fn, "t", given, "whole step counts when discrete=True")
    return np.atleast_1d(array), array.ndim == 0


def kernel_field(fn: str, arg: str, kernels, name: str):
    """``kernels.<name>``, or a ValueError saying that field is needed."""
    value = getattr(kernels, name, None)
    if value is None:
        raise fail(fn, arg, type(kernels).__name__, f"an object with a .{name} array")
    return value
