"""1-D regression: a target function on an interval, a few noisy samples, a dense grid.

The classic teaching example (neural-tangents cookbook): ``sin`` on [-pi, pi] with
5-20 training points and Gaussian noise of std 0.1-0.5.
"""
from __future__ import annotations

import numpy as np

from .. import checks
from .dataset import Dataset, settings
from .grids import angle_grid, circle_points, line_grid


def _step(x):
    """-1 for x < 0, +1 for x >= 0."""
    return np.where(x < 0, -1.0, 1.0)


def _sum_of_sines(x):
    """sin(x) + 0.5 sin(4x) + 0.25 sin(8x): three frequencies, for spectral bias."""
    return np.sin(x) + 0.5 * np.sin(4 * x) + 0.25 * np.sin(8 * x)


TARGETS = {"sin": np.sin, "step": _step, "abs": np.abs, "sum_of_sines": _sum_of_sines}


def regression_1d(target: str = "sin", n_train: int = 10, noise: float = 0.1,
                  x_range: tuple[float, float] = (-np.pi, np.pi), n_test: int = 200,
                  seed: int = 0) -> Dataset:
    """Noisy samples of ``TARGETS[target]`` at sorted uniform points of ``x_range``.

    ``noise`` is the std of the Gaussian noise added to the training targets; the test
    set is ``n_test`` grid points over ``x_range`` with the noiseless target.
    """
    fn = "regression_1d"
    f = TARGETS[checks.choice(fn, "target", target, TARGETS)]
    n_train, n_test = checks.count(fn, "n_train", n_train), checks.count(fn, "n_test", n_test)
    noise = checks.non_negative(fn, "noise", noise)
    lo, hi = checks.interval(fn, "x_range", x_range)
    seed = checks.seed(fn, seed)
    rng = np.random.default_rng(seed)
    x_train = np.sort(rng.uniform(lo, hi, n_train))[:, None]
    y_train = f(x_train) + noise * rng.standard_normal((n_train, 1))
    x_test = line_grid(lo, hi, n_test)
    return Dataset(name=target, x_train=x_train, y_train=y_train, x_test=x_test,
                   y_test=f(x_test), grid_shape=(n_test,), grid_extent=(lo, hi),
                   params=settings(n_train=n_train, noise=noise, x_range=(lo, hi),
                                   n_test=n_test, seed=seed))


def unit_circle(n_train: int = 4, noise: float = 0.0, n_test: int = 200,
                seed: int = 0) -> Dataset:
    """Target f*(x) = x1 x2 on the unit circle, x = (cos gamma, sin gamma).

    After Jacot, Gabriel & Hongler (2018), "Neural Tangent Kernel", Sec. 6 (a few
    points on the circle, plotted against gamma): training angles uniform on
    [-pi, pi), test points on ``angle_grid(n_test)``; ``grid_extent`` is over gamma.
    """
    fn = "unit_circle"
    n_train, n_test = checks.count(fn, "n_train", n_train), checks.count(fn, "n_test", n_test)
    noise = checks.non_negative(fn, "noise", noise)
    seed = checks.seed(fn, seed)
    rng = np.random.default_rng(seed)
    x_train = circle_points(np.sort(rng.uniform(-np.pi, np.pi, n_train)))
    y_train = _x1x2(x_train) + noise * rng.standard_normal((n_train, 1))
    x_test = circle_points(angle_grid(n_test))
    return Dataset(name="unit_circle", x_train=x_train, y_train=y_train, x_test=x_test,
                   y_test=_x1x2(x_test), grid_shape=(n_test,), grid_extent=(-np.pi, np.pi),
                   params=settings(n_train=n_train, noise=noise, n_test=n_test, seed=seed))


def _x1x2(x: np.ndarray) -> np.ndarray:
    return (x[:, 0] * x[:, 1])[:, None]
