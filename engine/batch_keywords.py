"""Keyword arguments of a tiled kernel function, cut into blocks with the inputs.

neural-tangents passes per-input keywords of ``kernel_fn(x1, x2, get, **kwargs)`` as pairs,
``pattern=(pattern1, pattern2)``: the first entry has one row per input of x1, the second one
per input of x2 (x1's when x2 is None). ``engine.batch`` computes the block of rows
``x1[i:i + b]`` and columns ``x2[j:j + b]`` with ``pattern=(pattern1[i:i + b],
pattern2[j:j + b])`` (padded like the inputs), as neural-tangents' ``batch`` does. Every
other keyword (not a pair of arrays, or ``rng``) goes to every block as it is.
"""
from __future__ import annotations

import jax
import numpy as np

#: keywords never cut: a PRNG key (or a pair of them) belongs to every block whole
WHOLE = ("rng",)


def _leaves(value) -> list:
    return jax.tree_util.tree_leaves(value)


def is_pair(name: str, value) -> bool:
    """A pair (for x1, for x2) of per-input arrays (None entries allowed)."""
    if name in WHOLE or not isinstance(value, (tuple, list)) or len(value) != 2:
        return False
    leaves = _leaves(value)
    return bool(leaves) and all(hasattr(leaf, "shape") for leaf in leaves)


def split(kwargs: dict, n1: int, n2: int) -> tuple[dict, dict]:
    """(pairs, whole): the keywords cut with the inputs, checked, and the others.

    Raises ValueError when an entry of a pair has no leading axis of its inputs' length.
    """
    pairs = {name: tuple(v) for name, v in kwargs.items() if is_pair(name, v)}
    for name, value in pairs.items():
        for i, (part, n) in enumerate(zip(value, (n1, n2)), start=1):
            for leaf in _leaves(part):
                if np.ndim(leaf) == 0 or np.shape(leaf)[0] != n:
                    raise ValueError(
                        f"batch(kernel_fn)({name}=...): {name}{i} needs a leading axis of "
                        f"length {n} (one entry per input of x{i}); got shape "
                        f"{np.shape(leaf)}")
    return pairs, {name: v for name, v in kwargs.items() if name not in pairs}


def identical(pairs: dict) -> bool:
    """Whether every pair's two entries hold equal values (then a block below the diagonal
    of x1 with itself is the mirror image of one above it)."""
    for first, second in pairs.values():
        a, b = _leaves(first), _leaves(second)
        if jax.tree_util.tree_structure(first) != jax.tree_util.tree_structure(second):
            return False
        for u, v in zip(a, b):
            if u is v:
                continue
            try:
                if not np.array_equal(np.asarray(u), np.asarray(v)):
                    return False
            except (jax.errors.TracerArrayConversionError,
                    jax.errors.ConcretizationTypeError):
                return False
    return True


def block(pairs: dict, i: int, j: int, size: int, pad) -> dict:
    """The keywords of the block of rows i:i+size and columns j:j+size, each entry padded
    to ``size`` rows by ``pad(array, size)``."""
    def cut(part, start):
        return jax.tree_util.tree_map(lambda a: pad(a[start:start + size], size), part)
    return {name: (cut(first, i), cut(second, j)) for name, (first, second) in pairs.items()}
