"""Every argument check of the engine, and the one form of its messages.

A public function checks its arguments once, before any jit or computation, with the
functions below; each failure is a ``ValueError`` naming the function, the argument, what
was given and what was expected:

    regression_1d(n_train=0): n_train must be a positive integer <= 100000
    gradient_descent_mse_ensemble(learning_rate=-1.0): learning_rate must be a positive finite number
    train_ensemble(x_train=<array of shape (3, 2)>): x_train must be finite (it has 1 NaN or inf entries)

Limits that protect a server from requests running for hours are configurable: ``Limits`` for
finite-network runs (here), ``SpecLimits`` for the size of a spec (engine/spec_limits.py, which
walks the spec), ``MAX_POINTS`` for any dataset.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

#: the largest number of points of any one dataset array, whoever asks
MAX_POINTS = 100_000
#: characters of a user's value quoted in a message (a whole spec could be megabytes)
QUOTE = 80
#: the kernels a prediction can be asked for
KERNEL_NAMES = ("nngp", "ntk")


# --- the message ---------------------------------------------------------------------------

def fail(fn: str, arg: str, given: str, expected: str) -> ValueError:
    """The ValueError for ``fn(arg=given)`` that violated ``expected`` (``given`` is text:
    ``quote(value)``, or a description such as a type's name)."""
    return ValueError(f"{fn}({arg}={given}): {arg} must be {expected}")


def quote(value) -> str:
    """A value as a message shows it: arrays by their shape, NumPy scalars as Python's, any
    text cut to QUOTE characters (a message stays short whatever a visitor typed)."""
    if isinstance(value, (np.ndarray, jax.Array)) and value.ndim:
        return f"<array of shape {value.shape}>"
    if isinstance(value, (np.generic, np.ndarray)):
        value = value.item()  # 3, not np.int64(3)
    try:
        text = repr(value)
    except ValueError:  # an integer of more digits than Python converts to text
        return "<a number with more than 4300 digits>"
    return text if len(text) <= QUOTE else text[:QUOTE - 3] + "..."


# --- numbers -------------------------------------------------------------------------------

def is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def is_real(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def positive(fn: str, arg: str, value) -> float:
    """A finite number > 0."""
    if not is_real(value) or not math.isfinite(value) or value <= 0:
        raise fail(fn, arg, quote(value), "a positive finite number")
    return float(value)


def non_negative(fn: str, arg: str, value) -> float:
    """A finite number >= 0."""
    if not is_real(value) or not math.isfinite(value) or value < 0:
        raise fail(fn, arg, quote(value), "a non-negative finite number")
    return float(value)


def fraction(fn: str, arg: str, value) -> float:
    """A number in [0, 1)."""
    if not is_real(value) or not 0 <= value < 1:
        raise fail(fn, arg, quote(value), "a number in [0, 1)")
    return float(value)


def count(fn: str, arg: str, value, maximum: int | None = MAX_POINTS) -> int:
    """An integer in [1, maximum] (no upper bound when ``maximum`` is None)."""
    if not is_int(value) or value < 1 or (maximum is not None and value > maximum):
        bound = "" if maximum is None else f" <= {maximum}"
        raise fail(fn, arg, quote(value), f"a positive integer{bound}")
    return int(value)


def counts(fn: str, arg: str, values, maximum: int) -> tuple[int, ...]:
    """A non-empty list of distinct positive integers, each at most ``maximum``, sorted."""
    if isinstance(values, (int, np.integer)) or not hasattr(values, "__len__") or not len(values):
        raise fail(fn, arg, quote(values), f"a non-empty list of positive integers <= {maximum}")
    checked = [count(fn, arg, v, maximum) for v in values]
    if len(set(checked)) < len(checked):
        raise fail(fn, arg, repr(list(values)), "a list of distinct values")
    return tuple(sorted(checked))


def seed(fn: str, value) -> int:
    """A non-negative integer seed for ``np.random.default_rng``."""
    if not is_int(value) or value < 0:
        raise fail(fn, "seed", quote(value), "a non-negative integer")
    return int(value)


def interval(fn: str, arg: str, value) -> tuple[float, float]:
    """A pair (lo, hi) of finite numbers with lo < hi."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else ()
    if len(pair) != 2 or not all(is_real(v) and math.isfinite(v) for v in pair) \
            or not pair[0] < pair[1]:
        raise fail(fn, arg, quote(value), "a pair (lo, hi) of finite numbers with lo < hi")
    return float(pair[0]), float(pair[1])


def choice(fn: str, arg: str, value, options) -> str:
    """One of ``options``."""
    if not isinstance(value, str) or value not in options:
        raise fail(fn, arg, quote(value), f"one of {sorted(options)}")
    return value


def flag(fn: str, arg: str, value) -> bool:
    """True or False."""
    if not isinstance(value, (bool, np.bool_)):
        raise fail(fn, arg, quote(value), "True or False")
    return bool(value)


def callback(fn: str, arg: str, value) -> None:
    """None or a callable."""
    if value is not None and not callable(value):
        raise fail(fn, arg, quote(value), "None or a callable")


def mask_constant(fn: str, value):
    """neural-tangents' ``mask_constant``: None (nothing masked) or one real number (NaN
    allowed: NaN entries are masked), possibly traced."""
    if value is None:
        return None
    try:
        kind = np.dtype(jnp.result_type(value)).kind
    except TypeError:
        kind = None
    if isinstance(value, (bool, np.bool_)) or kind not in ("f", "i", "u") or np.ndim(value):
        raise fail(fn, "mask_constant", quote(value), "None or one real number (NaN allowed)")
    return value


def hyperparameter(name: str, arg: str, value, *, positive=False, nonnegative=False,
                   integer=False, allow_none=False):
    """A layer's hyperparameter, checked when the layer is built.

    A JAX scalar (e.g. ``W_std`` traced by ``jax.grad``) is checked when its value is known
    and passed on unchanged.
    """
    if value is None and allow_none:
        return None
    if not integer and isinstance(value, jax.Array) and value.ndim == 0 \
            and jnp.issubdtype(value.dtype, jnp.floating):
        try:
            hyperparameter(name, arg, float(value), positive=positive, nonnegative=nonnegative)
        except jax.errors.ConcretizationTypeError:
            pass
        return value
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type:
        raise fail(name, arg, repr(value), "an integer" if integer else "a number")
    if value != value or value in (float("inf"), float("-inf")):
        raise fail(name, arg, repr(value), "finite")
    if positive and value <= 0:
        raise fail(name, arg, repr(value), "a positive integer" if integer else "positive")
    if nonnegative and value < 0:
        raise fail(name, arg, repr(value), "non-negative")
    return value


# --- arrays --------------------------------------------------------------------------------

def _finite(fn: str, arg: str, array: np.ndarray) -> None:
    bad = int(np.sum(~np.isfinite(array)))
    if bad:
        raise fail(fn, arg, quote(array), f"finite (it has {bad} NaN or inf entries)")


def matrix(fn: str, arg: str, value, shape: tuple) -> np.ndarray:
    """A finite float array of ``shape`` (``None`` entries match any size).

    float32 stays float32 so that its precision can be reported; anything else is float64.
    A traced array (inside jax.jit, grad or vmap) is checked for its shape only.
    """
    array = value if traced(value) else np.asarray(value)
    if array.dtype not in (np.float32, np.float64):
        array = array.astype(np.float64)
    expected = "(" + ", ".join("n" if s is None else str(s) for s in shape) + ")"
    if array.ndim != len(shape) or any(s not in (None, a) for s, a in zip(shape, array.shape)):
        raise fail(fn, arg, f"<{'traced ' * traced(array)}array of shape {array.shape}>",
                   f"an array of shape {expected}")
    if traced(array):
        return array
    _finite(fn, arg, array)
    return array


def inputs(fn: str, arg: str, value, max_points: int, features=None) -> np.ndarray:
    """Finite numeric inputs of shape (N, features...) with 1 <= N <= ``max_points``."""
    array = np.asarray(value)
    given = f"<array of shape {array.shape}>"
    if array.dtype.kind not in "iuf" or array.ndim < 2 or 0 in array.shape:
        raise fail(fn, arg, given, "a numeric array of shape (N, features...) with N >= 1")
    if features is not None and array.shape[1:] != tuple(features):
        raise fail(fn, arg, given, f"an array of shape (N, {', '.join(map(str, features))})")
    if len(array) > max_points:
        raise fail(fn, arg, given, f"at most {max_points} inputs")
    _finite(fn, arg, array)
    return array.astype(np.float64)


def targets(fn: str, arg: str, value, rows: int, outputs: int) -> np.ndarray:
    """Finite targets of shape (rows, outputs): one row per input, one column per output."""
    array = np.asarray(value)
    if array.dtype.kind not in "iuf" or array.shape != (rows, outputs):
        raise fail(fn, arg, f"<array of shape {array.shape}>", f"a numeric array of shape "
                   f"({rows}, {outputs}) (one row per input, one column per network output)")
    _finite(fn, arg, array)
    return array.astype(np.float64)


def steps(fn: str, value, max_steps: int) -> np.ndarray:
    """Step counts to record at: 1-D, whole, >= 0, strictly increasing, <= ``max_steps``."""
    array = np.asarray(value)
    given = quote(array) if array.ndim else repr(value)
    if array.ndim != 1 or array.size == 0 or array.dtype.kind not in "iuf":
        raise fail(fn, "steps", given, "a non-empty 1-D array of step counts")
    if not np.all(np.isfinite(array)) or np.any(array != np.round(array)) or np.any(array < 0):
        raise fail(fn, "steps", given, "whole step counts >= 0")
    if np.any(np.diff(array) <= 0):
        raise fail(fn, "steps", given, "strictly increasing")
    if array[-1] > max_steps:
        raise fail(fn, "steps", given, f"at most {max_steps} (the largest is {int(array[-1])})")
    return array.astype(np.int64)


def traced(value) -> bool:
    """Whether ``value`` is being traced (inside jax.jit, grad or vmap): its numbers are not
    known yet, so only its shape can be checked."""
    return isinstance(value, jax.core.Tracer)


def times(fn: str, t, discrete: bool) -> tuple[np.ndarray, bool]:
    """Training times as a float64 vector; the flag says a scalar was given.

    ``None`` means the end of training (t = inf). Times must be >= 0; with ``discrete``
    they are step counts, so integers (or inf). Traced times (jax.grad or jax.vmap over t)
    are checked for their shape only and come back as a traced vector.
    """
    if traced(t):
        if t.ndim > 1:
            raise fail(fn, "t", f"<traced array of shape {t.shape}>",
                       "a scalar or a 1-D array of times")
        return jnp.atleast_1d(t).astype(jnp.result_type(float)), t.ndim == 0
    array = np.asarray(np.inf if t is None else t, dtype=np.float64)
    given = repr(t) if array.ndim == 0 else quote(array)
    if array.ndim > 1:
        raise fail(fn, "t", given, "a scalar or a 1-D array of times")
    if np.any(np.isnan(array)) or np.any(array < 0):
        raise fail(fn, "t", given, "non-negative (>= 0, or inf for the end of training)")
    finite = array[np.isfinite(array)]
    if discrete and np.any(finite != np.round(finite)):
        raise fail(fn, "t", given, "whole step counts when discrete=True")
    return np.atleast_1d(array), array.ndim == 0


# --- kernels -------------------------------------------------------------------------------

def get_names(fn: str, get) -> tuple[tuple[str, ...], bool]:
    """Normalise ``get`` to a tuple of kernel names; the flag says a single name was given."""
    if get is None:
        return KERNEL_NAMES, False
    single = isinstance(get, str)
    names = (get,) if single else tuple(get) if isinstance(get, (tuple, list)) else None
    if not names or any(n not in KERNEL_NAMES for n in names) or len(set(names)) < len(names):
        raise fail(fn, "get", repr(get), "'nngp', 'ntk' or a tuple of distinct ones")
    return names, single


def kernel_field(fn: str, arg: str, kernels, name: str):
    """``kernels.<name>``, or a ValueError saying that field is needed."""
    value = getattr(kernels, name, None)
    if value is None:
        raise fail(fn, arg, type(kernels).__name__, f"an object with a .{name} array")
    return value


# --- limits of finite-network runs ---------------------------------------------------------

@dataclass(frozen=True)
class Limits:
    """Largest accepted width, number of networks (members or seeds), step count, inputs of a
    finite-network run (ensembles, sweeps), e.g.
    "train_ensemble(width=0): width must be a positive integer <= 8192"."""

    max_width: int = 8192
    max_members: int = 4096
    max_steps: int = 100_000
    max_points: int = 4096

    def __post_init__(self):
        for name in ("max_width", "max_members", "max_steps", "max_points"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise fail("Limits", name, repr(value), "a positive integer")


def limits(fn: str, value) -> Limits:
    """An ``engine.Limits``."""
    if not isinstance(value, Limits):
        raise fail(fn, "limits", repr(value), "an engine.Limits")
    return value
