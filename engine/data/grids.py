"""Evaluation grids for plotting: a line, a square, and angles on the unit circle.

A grid's points are listed row-major, the first coordinate varying fastest, so
``values.reshape(grid_shape)[i, j]`` is the value at ``(xs[j], ys[i])`` with ``ys``
ascending (for ``hv.Image`` pass ``(xs, ys, image)`` or flip the rows).
"""
from __future__ import annotations

import numpy as np


def line_grid(lo: float, hi: float, n: int) -> np.ndarray:
    """``n`` evenly spaced points from ``lo`` to ``hi`` inclusive, shape ``(n, 1)``."""
    return np.linspace(lo, hi, n)[:, None]


def square_grid(extent: tuple[float, float, float, float], n: int) -> np.ndarray:
    """An ``n x n`` grid over ``extent = (x_lo, x_hi, y_lo, y_hi)``, shape ``(n * n, 2)``."""
    xs = np.linspace(extent[0], extent[1], n)
    ys = np.linspace(extent[2], extent[3], n)
    gx, gy = np.meshgrid(xs, ys)  # gx[i, j] = xs[j], gy[i, j] = ys[i]
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def angle_grid(n: int = 200, lo: float = -np.pi, hi: float = np.pi) -> np.ndarray:
    """``n`` evenly spaced angles gamma from ``lo`` to ``hi`` inclusive, shape ``(n,)``."""
    return np.linspace(lo, hi, n)


def circle_points(gamma) -> np.ndarray:
    """Points ``x = (cos gamma, sin gamma)`` on the unit circle, shape ``(n, 2)``.

    The inputs of Jacot, Gabriel & Hongler (2018), "Neural Tangent Kernel", Figs. 1-2.
    """
    gamma = np.asarray(gamma, dtype=np.float64).reshape(-1)
    return np.stack([np.cos(gamma), np.sin(gamma)], axis=1)
