"""Validation of the arguments of finite-network runs (ensembles, sweeps), done before any jit.

Every failure is a ``ValueError`` naming the function, the argument, what was expected and
what was given, e.g. "train_ensemble(width=0): width must be a positive integer <= 8192".
The upper limits protect a server from requests that would run for hours; they are
configurable per call through ``Limits``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.predict_args import fail, positive


@dataclass(frozen=True)
class Limits:
    """Largest accepted width, number of networks (members or seeds), step count, inputs."""

    max_width: int = 8192
    max_members: int = 4096
    max_steps: int = 100_000
    max_points: int = 4096

    def __post_init__(self):
        for name in ("max_width", "max_members", "max_steps", "max_points"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise fail("Limits", name, repr(value), "a positive integer")


def count(fn: str, arg: str, value, maximum: int) -> int:
    """A positive integer no larger than ``maximum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or not 0 < value <= maximum:
        raise fail(fn, arg, repr(value), f"a positive integer <= {maximum}")
    return int(value)


def counts(fn: str, arg: str, values, maximum: int) -> tuple[int, ...]:
    """A non-empty list of distinct positive integers, each at most ``maximum``, sorted."""
    if isinstance(values, (int, np.integer)) or not hasattr(values, "__len__") or not len(values):
        raise fail(fn, arg, repr(values), f"a non-empty list of positive integers <= {maximum}")
    checked = [count(fn, arg, v, maximum) for v in values]
    if len(set(checked)) < len(checked):
        raise fail(fn, arg, repr(list(values)), "a list of distinct values")
    return tuple(sorted(checked))


def steps(fn: str, value, max_steps: int) -> np.ndarray:
    """Step counts to record at: 1-D, whole, >= 0, strictly increasing, <= ``max_steps``."""
    array = np.asarray(value)
    given = f"<array of shape {array.shape}>" if array.ndim else repr(value)
    if array.ndim != 1 or array.size == 0 or array.dtype.kind not in "iuf":
        raise fail(fn, "steps", given, "a non-empty 1-D array of step counts")
    if not np.all(np.isfinite(array)) or np.any(array != np.round(array)) or np.any(array < 0):
        raise fail(fn, "steps", given, "whole step counts >= 0")
    if np.any(np.diff(array) <= 0):
        raise fail(fn, "steps", given, "strictly increasing")
    if array[-1] > max_steps:
        raise fail(fn, "steps", given, f"at most {max_steps} (the largest is {int(array[-1])})")
    return array.astype(np.int64)


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
    _finite(fn, arg, array, given)
    return array.astype(np.float64)


def targets(fn: str, arg: str, value, rows: int, outputs: int) -> np.ndarray:
    """Finite targets of shape (rows, outputs): one row per input, one column per output."""
    array = np.asarray(value)
    given = f"<array of shape {array.shape}>"
    if array.dtype.kind not in "iuf" or array.shape != (rows, outputs):
        raise fail(fn, arg, given, f"a numeric array of shape ({rows}, {outputs}) (one row per "
                   "input, one column per network output)")
    _finite(fn, arg, array, given)
    return array.astype(np.float64)


def _finite(fn: str, arg: str, array: np.ndarray, given: str) -> None:
    bad = int(np.sum(~np.isfinite(array)))
    if bad:
        raise fail(fn, arg, given, f"finite (it has {bad} NaN or inf entries)")


def learning_rate(fn: str, value) -> float:
    """A positive finite learning rate."""
    return positive(fn, "learning_rate", value)


def callback(fn: str, arg: str, value) -> None:
    """None or a callable."""
    if value is not None and not callable(value):
        raise fail(fn, arg, repr(value), "None or a callable")
