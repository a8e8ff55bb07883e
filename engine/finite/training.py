"""Finite ensembles trained with real gradient descent: what the closed form predicts.

    run = train_ensemble(spec, x_train, y_train, x_test, y_test, width=512,
                         ensemble_size=64, learning_rate=1.0, steps=log_step_grid(1000))
    run.test_outputs.mean(axis=0)      # (T, n_test, k): compare with the closed-form mean

M networks of hidden width ``width`` are built from ``spec`` (``with_width``; the readout
keeps its size); member i is initialised from seed ``seed + i``, so the first members of a
larger ensemble are the same networks. All are trained on the same data by full-batch
gradient descent on L = 0.5 * mean over all outputs of (f - y)^2 (design.md §2), and their
outputs and losses are kept at the step counts ``steps``. Training runs in chunks
(engine.finite.gradient_descent: the first short, later ones about a second of work each):
``on_chunk(run_so_far)`` gets an ``EnsembleRun`` of the steps recorded so far after each
chunk that recorded any (a prefix of the final run, for showing it while training goes on),
``on_progress(fraction)`` is called after each chunk and ``should_stop()`` asked before the
next; a stopped run returns the steps it reached with ``stopped=True``.

Precision: float64 when JAX's x64 mode is on, unless ``float32=True`` (about twice as fast;
the ensemble statistics are far coarser than float32 rounding).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from engine import checks
from engine.finite import gradient_descent
from engine.checks import Limits
from engine.progress import Progress
from engine.spec import build
from engine.spec_limits import MAX_SEED
from engine.widths import with_width


@dataclass(frozen=True)
class EnsembleRun:
    """Outputs and losses of M trained networks at T recorded step counts.

    ``test_loss`` is None when no test targets were given. A stopped run holds the steps it
    reached (T may be smaller than requested, even 0).
    """

    steps: np.ndarray            # (T,) step counts
    test_outputs: np.ndarray     # (M, T, n_test, k)
    train_outputs: np.ndarray    # (M, T, n_train, k)
    train_loss: np.ndarray       # (M, T)
    test_loss: np.ndarray | None  # (M, T)
    width: int
    seed: int
    learning_rate: float
    stopped: bool = False

    @property
    def ensemble_size(self) -> int:
        return self.train_outputs.shape[0]


def log_step_grid(max_steps: int, num: int = 20) -> np.ndarray:
    """About ``num`` log-spaced whole step counts from 0 to ``max_steps``, 0 and 1 included."""
    if isinstance(max_steps, bool) or not isinstance(max_steps, (int, np.integer)) \
            or max_steps < 0:
        raise checks.fail("log_step_grid", "max_steps", repr(max_steps), "a whole number >= 0")
    if max_steps == 0:
        return np.zeros(1, np.int64)
    grid = np.round(np.geomspace(1, max_steps, max(int(num) - 1, 1))).astype(np.int64)
    return np.concatenate([[0], np.unique(grid)])


def train_ensemble(spec, x_train, y_train, x_test, y_test=None, *, width: int,
                   ensemble_size: int, learning_rate: float, steps, seed: int = 0,
                   float32: bool = False, on_progress: Callable[[float], None] | None = None,
                   should_stop: Callable[[], bool] | None = None,
                   on_chunk: Callable[[EnsembleRun], None] | None = None,
                   limits: Limits = Limits()) -> EnsembleRun:
    """Train ``ensemble_size`` networks of hidden width ``width`` and record them at ``steps``.

    ``x_train`` (n, features...), ``y_train`` (n, k) with k the network's output size,
    ``x_test`` (m, features...), ``y_test`` (m, k) or None. ``steps``: increasing whole step
    counts >= 0 (``log_step_grid`` makes a log-spaced one). Raises ValueError naming the
    argument for anything outside the accepted ranges (see ``Limits``).
    """
    fn = "train_ensemble"
    problem = _validated(fn, spec, x_train, y_train, x_test, y_test, width, ensemble_size,
                         learning_rate, steps, seed, float32, limits)
    network, x_train, y_train, x_test, y_test, steps = problem
    progress = Progress.validated(fn, on_progress, should_stop)
    checks.callback(fn, "on_chunk", on_chunk)
    dtype = jnp.float32 if float32 or not jax.config.jax_enable_x64 else jnp.float64
    data = [jnp.asarray(np.asarray(a, dtype)) for a in (x_train, y_train, x_test)]  # host cast
    parts = gradient_descent.init_groups(network.layer, np.arange(seed, seed + ensemble_size),
                                         *data)

    def run(f_train, f_test, stopped=False):
        reached = steps[:f_train.shape[1]]
        test_loss = None if y_test is None else _loss(f_test, y_test)
        return EnsembleRun(reached, f_test, f_train, _loss(f_train, y_train), test_loss,
                           width, seed, float(learning_rate), stopped)

    _, f_train, f_test, stopped = gradient_descent.descend(
        network.layer, parts, *data, float(learning_rate), steps, progress,
        None if on_chunk is None else lambda f_train, f_test: on_chunk(run(f_train, f_test)))
    return run(f_train, f_test, stopped)


def _loss(outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """0.5 * mean over all outputs of (f - y)^2, per member and step: (M, T)."""
    return 0.5 * np.mean((outputs - targets) ** 2, axis=(2, 3))


def _validated(fn, spec, x_train, y_train, x_test, y_test, width, ensemble_size, learning_rate,
               steps, seed, float32, limits):
    checks.limits(fn, limits)
    width = checks.count(fn, "width", width, limits.max_width)
    checks.count(fn, "ensemble_size", ensemble_size, limits.max_members)
    checks.positive(fn, "learning_rate", learning_rate)
    steps = checks.steps(fn, steps, limits.max_steps)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) \
            or not 0 <= seed <= MAX_SEED:
        raise checks.fail(fn, "seed", checks.quote(seed), f"a whole number from 0 to {MAX_SEED}")
    checks.flag(fn, "float32", float32)
    network = build(with_width(spec, width))
    x_train = checks.inputs(fn, "x_train", x_train, limits.max_points)
    x_test = checks.inputs(fn, "x_test", x_test, limits.max_points, features=x_train.shape[1:])
    out = network.output_shape(x_train.shape[1:])
    if out.spatial:
        raise checks.fail(fn, "spec", "<a network with spatial outputs>",
                        "a network whose outputs are flat (end with Flatten or pooling and Dense)")
    y_train = checks.targets(fn, "y_train", y_train, len(x_train), out.channels)
    if y_test is not None:
        y_test = checks.targets(fn, "y_test", y_test, len(x_test), out.channels)
    return network, x_train, y_train, x_test, y_test, steps
