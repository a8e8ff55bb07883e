"""The Dataset record every generator and loader returns."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np


def _frozen(array, dtype=np.float64) -> np.ndarray:
    out = np.array(array, dtype=dtype)  # a private copy
    out.flags.writeable = False
    return out


def _invalid(field: str, value, expected: str) -> ValueError:
    shown = f"<array of shape {value.shape}>" if isinstance(value, np.ndarray) else repr(value)
    return ValueError(f"Dataset({field}={shown}): {field} must be {expected}")


@dataclass(frozen=True, eq=False)
class Dataset:
    """Train and test arrays of one dataset, float64 and read-only.

    - ``x_train`` ``(n_train, *in_shape)``, ``y_train`` ``(n_train, n_outputs)``;
    - ``x_test`` ``(n_test, *in_shape)``; ``y_test`` ``(n_test, n_outputs)``, or ``None``
      when ``x_test`` is a plotting grid without a ground truth;
    - ``labels_train``/``labels_test``: integer class of each point (classification
      only, else ``None``); for +-1 targets class 1 is +1;
    - ``grid_shape``/``grid_extent``: when ``x_test`` is a grid, its shape (``(n,)`` or
      ``(ny, nx)``, see ``engine.data.grids``) and extent (``(lo, hi)`` or
      ``(x_lo, x_hi, y_lo, y_hi)``; for the unit circle the grid is over the angle);
    - ``params``: the settings that made it, as sorted ``(name, value)`` pairs.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray | None = None
    labels_train: np.ndarray | None = None
    labels_test: np.ndarray | None = None
    grid_shape: tuple[int, ...] | None = None
    grid_extent: tuple[float, ...] | None = None
    params: tuple[tuple[str, object], ...] = ()

    def __post_init__(self):
        for field in ("x_train", "y_train", "x_test", "y_test"):
            if getattr(self, field) is not None:
                object.__setattr__(self, field, _frozen(getattr(self, field)))
        for field in ("labels_train", "labels_test"):
            if getattr(self, field) is not None:
                object.__setattr__(self, field, _frozen(getattr(self, field), np.int64))
        self._check_arrays()
        self._check_labels()
        self._check_grid()

    def _check_arrays(self):
        if self.x_train.ndim < 2 or len(self.x_train) == 0:
            raise _invalid("x_train", self.x_train, "a non-empty array (n_train, *in_shape)")
        n, k = len(self.x_train), self.y_train.shape[-1] if self.y_train.ndim else 0
        if self.y_train.shape != (n, k):
            raise _invalid("y_train", self.y_train, f"an array of shape ({n}, n_outputs)")
        if self.x_test.shape[1:] != self.in_shape:
            raise _invalid("x_test", self.x_test, f"an array of shape (n_test, *{self.in_shape})")
        if self.y_test is not None and self.y_test.shape != (self.n_test, k):
            raise _invalid("y_test", self.y_test, f"None or an array of shape ({self.n_test}, {k})")
        for field in ("x_train", "y_train", "x_test", "y_test"):
            value = getattr(self, field)
            if value is not None and not np.all(np.isfinite(value)):
                raise _invalid(field, value, "finite (no NaN or inf)")

    def _check_labels(self):
        for field, n in (("labels_train", self.n_train), ("labels_test", self.n_test)):
            value = getattr(self, field)
            if value is not None and value.shape != (n,):
                raise _invalid(field, value, f"None or an integer array of shape ({n},)")

    def _check_grid(self):
        if self.grid_shape is None:
            return
        if int(np.prod(self.grid_shape)) != self.n_test:
            raise _invalid("grid_shape", self.grid_shape, f"a shape with {self.n_test} points")
        if self.grid_extent is None or len(self.grid_extent) != 2 * len(self.grid_shape):
            raise _invalid("grid_extent", self.grid_extent, "(lo, hi) per grid axis")

    @property
    def n_train(self) -> int:
        return len(self.x_train)

    @property
    def n_test(self) -> int:
        return len(self.x_test)

    @property
    def in_shape(self) -> tuple[int, ...]:
        """The shape of one input, e.g. ``(1,)``, ``(2,)`` or ``(8, 8, 1)``."""
        return self.x_train.shape[1:]

    @property
    def n_outputs(self) -> int:
        return self.y_train.shape[1]

    @property
    def is_classification(self) -> bool:
        return self.labels_train is not None

    def replace(self, **changes) -> "Dataset":
        return dataclasses.replace(self, **changes)


def settings(**params) -> tuple[tuple[str, object], ...]:
    """Generator settings as the hashable, sorted ``params`` of a Dataset."""
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))
