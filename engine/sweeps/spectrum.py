"""Width sweeps of the empirical NTK: its spectrum, its distance to the limit, its motion.

    s = ntk_spectrum(spec, x, widths=[64, 256, 1024], seeds=range(5))
    s.eigenvalues[w, s]            # descending, negatives clipped (counted in s.clipped)
    s.distance, s.slope            # ||Theta_emp - Theta||_F / ||Theta||_F and its log-log slope

    c = ntk_change(spec, x_train, y_train, widths, seeds, learning_rate=1.0, steps=100)
    c.relative_change, c.slope     # ||Theta_t - Theta_0||_F / ||Theta_0||_F after t GD steps

At initialisation the empirical NTK fluctuates around the analytic one by O(1/sqrt(width))
(slope about -1/2); in the lazy regime it also moves during training by O(1/sqrt(width))
(Jacot et al. 2018; Lee et al. 2019). Each network of width n and seed s is
``engine.build(with_width(spec, n))`` initialised from ``PRNGKey(s)``. Results are frozen
dataclasses of NumPy arrays; sweeps report progress after each width and stop between
widths when asked (``stopped=True``, arrays cut to the widths done).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import jax
import numpy as np

from engine import checks
from engine.finite import gradient_descent
from engine.batch import host_kernel_fn
from engine.empirical import empirical_ntk_fn
from engine.checks import Limits
from engine.finite.gradient_descent import member
from engine.progress import Progress
from engine.spec import build
from engine.widths import with_width


@dataclass(frozen=True)
class NtkSpectrum:
    widths: np.ndarray                # (W,)
    seeds: np.ndarray                 # (S,)
    eigenvalues: np.ndarray           # (W, S, N) empirical, descending, >= 0
    clipped: np.ndarray               # (W, S) negative eigenvalues set to 0
    analytic_eigenvalues: np.ndarray  # (W, N) of kernel_fn's NTK (width-free in NTK param.)
    analytic_clipped: np.ndarray      # (W,)
    distance: np.ndarray              # (W, S) relative Frobenius distance to the analytic NTK
    slope: float                      # log-log slope of the mean distance vs width
    stopped: bool = False


@dataclass(frozen=True)
class NtkChange:
    widths: np.ndarray                # (W,)
    seeds: np.ndarray                 # (S,)
    relative_change: np.ndarray       # (W, S) ||Theta_t - Theta_0||_F / ||Theta_0||_F
    slope: float                      # log-log slope of the mean change vs width
    steps: int
    learning_rate: float
    stopped: bool = False


def eigenvalues(matrix) -> tuple[np.ndarray, int]:
    """Descending eigenvalues of the symmetrised matrix, negatives clipped to 0, and their count."""
    matrix = np.asarray(matrix, np.float64)
    values = np.linalg.eigvalsh(0.5 * (matrix + matrix.T))[::-1]
    return np.maximum(values, 0.0), int(np.sum(values < 0))


def loglog_slope(widths, values) -> float:
    """Least-squares slope of log(mean over the last axis of values) against log(width).

    NaN with fewer than two widths or a non-positive mean.
    """
    means = np.mean(np.asarray(values, np.float64).reshape(len(widths), -1), axis=1)
    if len(widths) < 2 or np.any(means <= 0):
        return float("nan")
    return float(np.polyfit(np.log(np.asarray(widths, np.float64)), np.log(means), 1)[0])


def relative_distance(a, b) -> float:
    """||a - b||_F / ||b||_F."""
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)) / np.linalg.norm(b))


def ntk_spectrum(spec, x, widths, seeds, *, on_progress: Callable[[float], None] | None = None,
                 should_stop: Callable[[], bool] | None = None,
                 limits: Limits = Limits()) -> NtkSpectrum:
    """Empirical NTK eigenvalues and distance to the analytic NTK on ``x``, per width and seed."""
    fn = "ntk_spectrum"
    widths, seeds, x = _sweep_args(fn, widths, seeds, x, limits)
    progress = Progress.validated(fn, on_progress, should_stop)
    rows = []
    for i, width in enumerate(widths):
        if progress.stop_requested():
            break
        network = build(with_width(spec, width))
        analytic = host_kernel_fn(network)(x, None, get="ntk")
        ntk_fn = empirical_ntk_fn(network.apply_fn)
        empirical = [ntk_fn(x, None, network.init_fn(jax.random.PRNGKey(s), x.shape)[1])
                     for s in seeds]
        rows.append((eigenvalues(analytic), [eigenvalues(e) for e in empirical],
                     [relative_distance(e, analytic) for e in empirical]))
        progress.report((i + 1) / len(widths))
    done = widths[:len(rows)]
    distance = np.array([r[2] for r in rows]).reshape(len(rows), len(seeds))
    return NtkSpectrum(
        np.array(done), np.array(seeds),
        np.array([[v for v, _ in r[1]] for r in rows]).reshape(len(rows), len(seeds), len(x)),
        np.array([[c for _, c in r[1]] for r in rows], dtype=np.int64).reshape(len(rows), -1),
        np.array([r[0][0] for r in rows]).reshape(len(rows), len(x)),
        np.array([r[0][1] for r in rows], dtype=np.int64),
        distance, loglog_slope(done, distance), len(rows) < len(widths))


def ntk_change(spec, x_train, y_train, widths, seeds, *, learning_rate: float, steps: int,
               on_progress: Callable[[float], None] | None = None,
               should_stop: Callable[[], bool] | None = None,
               limits: Limits = Limits()) -> NtkChange:
    """Relative change of the empirical NTK on ``x_train`` after ``steps`` steps of GD.

    Each network is trained on (x_train, y_train) with L = 0.5 * mean (f - y)^2 at
    ``learning_rate``; its NTK before and after is compared in the Frobenius norm.
    """
    fn = "ntk_change"
    widths, seeds, x_train = _sweep_args(fn, widths, seeds, x_train, limits)
    checks.positive(fn, "learning_rate", learning_rate)
    step_grid = checks.steps(fn, [steps], limits.max_steps)
    progress = Progress.validated(fn, on_progress, should_stop)
    changes = []
    for i, width in enumerate(widths):
        if progress.stop_requested():
            break
        network = build(with_width(spec, width))
        y = checks.targets(fn, "y_train", y_train, len(x_train),
                         network.output_shape(x_train.shape[1:]).channels)
        changes.append(_ntk_changes(network, x_train, y, seeds, float(learning_rate),
                                    int(step_grid[-1])))
        progress.report((i + 1) / len(widths))
    done = widths[:len(changes)]
    change = np.array(changes).reshape(len(changes), len(seeds))
    return NtkChange(np.array(done), np.array(seeds), change, loglog_slope(done, change),
                     int(step_grid[-1]), float(learning_rate), len(changes) < len(widths))


def _ntk_changes(network, x, y, seeds, learning_rate, steps: int) -> list[float]:
    initial, trained = gradient_descent.train_seeds(network.layer, seeds, x, y, learning_rate,
                                                    steps)
    ntk_fn = empirical_ntk_fn(network.apply_fn)
    return [relative_distance(ntk_fn(x, None, member(trained, i)),
                              ntk_fn(x, None, member(initial, i))) for i in range(len(seeds))]


def _sweep_args(fn, widths, seeds, x, limits):
    checks.limits(fn, limits)
    widths = checks.counts(fn, "widths", widths, limits.max_width)
    seeds = seed_list(fn, seeds, limits.max_members)
    x = checks.inputs(fn, "x" if fn == "ntk_spectrum" else "x_train", x, limits.max_points)
    return widths, seeds, x


def seed_list(fn: str, seeds, max_members: int) -> tuple[int, ...]:
    """A non-empty list of distinct whole numbers >= 0 (at most ``max_members`` of them)."""
    seeds = list(seeds) if hasattr(seeds, "__iter__") else seeds
    if not isinstance(seeds, list) or not seeds or len(seeds) > max_members or any(
            isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in seeds):
        raise checks.fail(fn, "seeds", repr(seeds),
                        f"a non-empty list of at most {max_members} whole numbers >= 0")
    if len(set(seeds)) < len(seeds):
        raise checks.fail(fn, "seeds", repr(seeds), "a list of distinct seeds")
    return tuple(int(s) for s in seeds)
