"""NTK and NNGP along the unit circle (Jacot et al. 2018, Fig. 1).

With x0 = (1, 0) and x(gamma) = (cos gamma, sin gamma), the curves gamma -> Theta(x0, x(gamma))
and K(x0, x(gamma)): analytic (``kernel_fn``) and empirical for networks of given widths and
seeds, at initialisation and after ``steps`` steps of gradient descent on (x_train, y_train).
At large width the empirical curves lie on the analytic one and barely move in training.

The empirical NNGP of one network is its readout's kernel given the hidden layers,
W_std^2 / n h(x) . h(x') + b_std^2 (``engine.empirical.readout_nngp_fn``); it exists for
serial chains of Dense and activation layers ending in Dense and is NaN otherwise.
The analytic curves use the spec as given (in the standard parameterization the NTK depends
on the widths: compare with the run of the same width).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from engine import checks
from engine.batch import host_kernel_fn
from engine.empirical import empirical_ntk_fn, readout_nngp_fn
from engine.checks import Limits
from engine.finite.gradient_descent import member, train_seeds
from engine.progress import Progress
from engine.spec import build
from engine.sweeps.spectrum import seed_list
from engine.widths import with_width


@dataclass(frozen=True)
class AngleKernels:
    angles: np.ndarray        # (A,) gamma in radians
    nngp: np.ndarray          # (A,) analytic K(x0, x(gamma))
    ntk: np.ndarray           # (A,) analytic Theta(x0, x(gamma))
    widths: np.ndarray        # (W,)
    seeds: np.ndarray         # (S,)
    ntk_init: np.ndarray      # (W, S, A)
    ntk_trained: np.ndarray   # (W, S, A) after ``steps`` steps (equal to init when steps = 0)
    nngp_init: np.ndarray     # (W, S, A)
    nngp_trained: np.ndarray  # (W, S, A)
    steps: int
    learning_rate: float
    stopped: bool = False


def circle(angles) -> np.ndarray:
    """Points (cos gamma, sin gamma), shape (A, 2)."""
    angles = np.asarray(angles, np.float64)
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def angle_kernels(spec, angles, *, widths=(), seeds=(0,), x_train=None, y_train=None,
                  learning_rate: float = 1.0, steps: int = 0,
                  on_progress: Callable[[float], None] | None = None,
                  should_stop: Callable[[], bool] | None = None,
                  limits: Limits = Limits()) -> AngleKernels:
    """Analytic and empirical kernel curves against x0 = (1, 0) along the unit circle.

    ``widths`` may be empty (analytic curves only). Training (``steps`` > 0) needs
    ``x_train`` (n, 2) and ``y_train`` (n, k).
    """
    fn = "angle_kernels"
    angles = _angles(fn, angles, limits)
    empty = hasattr(widths, "__len__") and len(widths) == 0
    widths = () if empty else checks.counts(fn, "widths", widths, limits.max_width)
    seeds = seed_list(fn, seeds, limits.max_members)
    checks.positive(fn, "learning_rate", learning_rate)
    steps = int(checks.steps(fn, [steps], limits.max_steps)[0])
    progress = Progress.validated(fn, on_progress, should_stop)
    x0, xs = circle([0.0]), circle(angles)
    analytic = host_kernel_fn(build(spec))(x0, xs, get=("nngp", "ntk"))
    train = _training_data(fn, spec, x_train, y_train, steps, limits)
    curves = []
    for i, width in enumerate(widths):
        if progress.stop_requested():
            break
        curves.append(_empirical(build(with_width(spec, width)), x0, xs, seeds, train,
                                 float(learning_rate), steps))
        progress.report((i + 1) / len(widths))
    shape = (len(curves), len(seeds), len(angles))
    stacked = [np.array([c[j] for c in curves]).reshape(shape) for j in range(4)]
    return AngleKernels(angles, analytic.nngp[0], analytic.ntk[0], np.array(widths[:len(curves)],
                        dtype=np.int64), np.array(seeds), *stacked, steps, float(learning_rate),
                        len(curves) < len(widths))


def _angles(fn, angles, limits) -> np.ndarray:
    array = np.asarray(angles)
    if array.ndim != 1 or array.size == 0 or array.dtype.kind not in "iuf" \
            or not np.all(np.isfinite(array)) or array.size > limits.max_points:
        raise checks.fail(fn, "angles", f"<array of shape {array.shape}>",
                        f"a 1-D array of 1 to {limits.max_points} finite angles (radians)")
    return array.astype(np.float64)


def _training_data(fn, spec, x_train, y_train, steps, limits):
    if steps == 0:
        return None
    if x_train is None or y_train is None:
        raise checks.fail(fn, "x_train", "None", "given (with y_train) when steps > 0")
    x_train = checks.inputs(fn, "x_train", x_train, limits.max_points, features=(2,))
    outputs = build(spec).output_shape((2,)).channels
    return x_train, checks.targets(fn, "y_train", y_train, len(x_train), outputs)


def _empirical(network, x0, xs, seeds, train, learning_rate, steps):
    """(ntk_init, ntk_trained, nngp_init, nngp_trained), each (S, A)."""
    x, y = train if train is not None else (xs, np.zeros((len(xs), 1)))
    initial, trained = train_seeds(network.layer, seeds, x, y, learning_rate, steps)
    ntk_fn = empirical_ntk_fn(network.apply_fn)
    try:
        nngp_fn = readout_nngp_fn(network.apply_fn)
    except ValueError:
        nngp_fn = None

    def curve(kernel_fn, params):
        if kernel_fn is None:
            return np.full(len(xs), np.nan)
        return kernel_fn(x0, xs, params)[0]

    return tuple([curve(k, member(p, i)) for i in range(len(seeds))]
                 for k, p in ((ntk_fn, initial), (ntk_fn, trained),
                              (nngp_fn, initial), (nngp_fn, trained)))
