"""The built-in datasets by name, and ``make_dataset`` that validates a request first.

``DATASETS[name].defaults`` lists a dataset's parameters with their default values
(what the app shows as widgets); the generator's docstring documents them.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

from .. import checks
from .classification import classification_2d
from .dataset import Dataset
from .digits import DIGITS_PATH, digits
from .regression import regression_1d, unit_circle

MAX_TRAIN, MAX_TEST = 5000, 40_000  # default limits of make_dataset (the app's)


@dataclass(frozen=True)
class DatasetEntry:
    """A generator with some arguments fixed, e.g. ``regression_1d`` with target='sin'."""

    name: str
    make: Callable[..., Dataset]
    summary: str
    fixed: tuple[tuple[str, object], ...] = ()

    @property
    def defaults(self) -> dict[str, object]:
        fixed = dict(self.fixed)
        return {p.name: p.default for p in inspect.signature(self.make).parameters.values()
                if p.name not in fixed}

    def __call__(self, **params) -> Dataset:
        return self.make(**dict(self.fixed), **params)


def _entries():
    yield from (DatasetEntry(t, regression_1d, f"1-D regression of {s}", (("target", t),))
                for t, s in [("sin", "sin(x)"), ("step", "a step at x = 0"), ("abs", "|x|"),
                             ("sum_of_sines", "sin(x) + 0.5 sin(4x) + 0.25 sin(8x)")])
    yield from (DatasetEntry(p, classification_2d, f"2-D classification: {s}", (("pattern", p),))
                for p, s in [("circle", "a disc inside a ring"), ("xor", "XOR of the quadrants"),
                             ("gaussians", "two Gaussian blobs"), ("spiral", "two spiral arms")])
    yield DatasetEntry("unit_circle", unit_circle, "x1 x2 on the unit circle (Jacot et al.)")
    yield DatasetEntry("digits", digits, "8x8 handwritten digits, 10 classes",
                       (("path", DIGITS_PATH),))


DATASETS: dict[str, DatasetEntry] = {e.name: e for e in _entries()}


def _check_limits(params: dict, max_train: int, max_test: int) -> None:
    sizes = [("n_train", 1, max_train, "max_train"), ("n_test", 1, max_test, "max_test"),
             ("grid_size", 2, max_test, "max_test")]
    for arg, power, limit, limit_name in sizes:
        value = params.get(arg)
        if checks.is_int(value) and value > 0 and value ** power > limit:
            shown = arg if power == 1 else f"{arg}**{power}"
            raise checks.fail("make_dataset", arg, checks.quote(value),
                              f"such that {shown} <= {limit_name}={limit}")


def make_dataset(name: str, *, max_train: int = MAX_TRAIN, max_test: int = MAX_TEST,
                 **params) -> Dataset:
    """``DATASETS[name]`` made with ``params``, after checking names and size limits.

    ``max_train`` bounds ``n_train``; ``max_test`` bounds ``n_test`` and ``grid_size**2``.
    """
    entry = DATASETS.get(name) if isinstance(name, str) else None
    if entry is None:
        raise checks.fail("make_dataset", "name", checks.quote(name), f"one of {sorted(DATASETS)}")
    unknown = sorted(set(params) - set(entry.defaults))
    if unknown:
        raise ValueError(f"make_dataset(name={name!r}, {unknown[0]}=...): {unknown[0]} is not a "
                         f"parameter of {name!r}; expected some of {sorted(entry.defaults)}")
    _check_limits(params, checks.count("make_dataset", "max_train", max_train),
                  checks.count("make_dataset", "max_test", max_test))
    return entry(**params)
