"""2-D binary classification with labels +-1, after TensorFlow Playground's datasets.

Points lie in the square [-1, 1]^2 (Playground's [-6, 6] scaled by 1/5, so its shapes
keep their proportions); ``noise`` is the std of a Gaussian jitter added to every
input. Half the points (one more when ``n_train`` is odd) are +1, in shuffled order.
The test inputs are a ``grid_size x grid_size`` grid over ``[-EXTENT, EXTENT]^2`` for
heatmaps; they have no targets (``y_test`` is ``None``).
"""
from __future__ import annotations

import numpy as np

from .. import checks
from .dataset import Dataset, settings
from .grids import square_grid

EXTENT = 1.2


def _polar(r: np.ndarray, angle: np.ndarray) -> np.ndarray:
    return np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1)


def _circle(rng, y):
    """+1 in a disc of radius 0.5, -1 in the ring 0.7 < r < 1."""
    r = np.where(y > 0, rng.uniform(0.0, 0.5, len(y)), rng.uniform(0.7, 1.0, len(y)))
    return _polar(r, rng.uniform(0, 2 * np.pi, len(y)))


def _xor(rng, y):
    """Uniform in the square, away from the axes; the label is sign(x1 * x2)."""
    size = rng.uniform(0.06, 1.0, (len(y), 2))
    sign1 = rng.choice([-1.0, 1.0], len(y))
    return size * np.stack([sign1, sign1 * y], axis=1)


def _gaussians(rng, y):
    """Two isotropic Gaussians of std 0.15 centred at +-(0.4, 0.4)."""
    return 0.4 * y[:, None] + 0.15 * rng.standard_normal((len(y), 2))


def _spiral(rng, y):
    """Two interleaved arms r -> angle 3.5 pi r (+ pi for the -1 arm), r uniform in [0, 1]."""
    r = rng.uniform(0.0, 1.0, len(y))
    return _polar(r, 3.5 * np.pi * r + np.where(y > 0, 0.0, np.pi))


PATTERNS = {"circle": _circle, "xor": _xor, "gaussians": _gaussians, "spiral": _spiral}


def classification_2d(pattern: str = "circle", n_train: int = 200, noise: float = 0.05,
                      grid_size: int = 50, seed: int = 0) -> Dataset:
    """``n_train`` points of ``PATTERNS[pattern]`` with labels +-1 and a test grid."""
    fn = "classification_2d"
    make = PATTERNS[checks.choice(fn, "pattern", pattern, PATTERNS)]
    n_train, noise = checks.count(fn, "n_train", n_train), checks.non_negative(fn, "noise", noise)
    grid_size = checks.count(fn, "grid_size", grid_size, maximum=1000)
    seed = checks.seed(fn, seed)
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.where(np.arange(n_train) < n_train - n_train // 2, 1.0, -1.0))
    x = make(rng, y) + noise * rng.standard_normal((n_train, 2))
    extent = (-EXTENT, EXTENT, -EXTENT, EXTENT)
    return Dataset(name=pattern, x_train=x, y_train=y[:, None],
                   x_test=square_grid(extent, grid_size), labels_train=(y > 0).astype(np.int64),
                   grid_shape=(grid_size, grid_size), grid_extent=extent,
                   params=settings(n_train=n_train, noise=noise, grid_size=grid_size, seed=seed))
