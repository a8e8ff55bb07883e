"""Lazy vs rich training: two routes to the kernel regime (Chizat, Oyallon & Bach 2019).

A finite network f(theta, x) is trained through the scaled, centred model

    f_alpha(theta, x) = alpha * (f(theta, x) - f(theta_0, x)),   learning rate eta / alpha^2,

with L = 0.5 * mean (f_alpha - y)^2 (design.md §2). The NTK of f_alpha is alpha^2 Theta, so
the function moves at the same speed for every alpha while the parameters move O(1/alpha):
a large alpha is "lazy" (the NTK stays put, training is kernel regression with Theta_0), a
small alpha "rich" (the NTK, i.e. the features, change). Width does the same in the NTK
parameterization: Theta moves O(1/sqrt(width)) (Jacot et al. 2018).

    r = lazy_rich(spec, x_train, y_train, x_test, y_test, alphas=[0.1, 1, 10],
                  widths=[16, 64, 256], width=16, alpha=1.0, seeds=[0, 1],
                  learning_rate=1.0, steps=200)
    r.change_by_alpha[a, s]     # ||Theta_T - Theta_0||_F / ||Theta_0||_F on x_train
    r.test_loss_by_width[w, s]  # 0.5 mean (f_alpha(x_test) - y_test)^2 after T steps
    r.kernel_test_loss          # the infinite-width NTK prediction at T (centred: f_0 = 0)

The alpha sweep trains networks of ``width``, the width sweep networks at ``alpha``.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from engine import checks
from engine.batch import host_kernel_fn
from engine.empirical import empirical_ntk_fn
from engine.checks import Limits
from engine.predict import gradient_descent_mse
from engine.checks import positive
from engine.progress import Progress
from engine.spec import build
from engine.sweeps.spectrum import seed_list
from engine.widths import with_width


@dataclass(frozen=True)
class LazyRich:
    alphas: np.ndarray               # (A,)
    widths: np.ndarray               # (W,)
    seeds: np.ndarray                # (S,)
    width: int                       # the alpha sweep's width
    alpha: float                     # the width sweep's alpha
    change_by_alpha: np.ndarray      # (A, S) relative NTK change
    test_loss_by_alpha: np.ndarray   # (A, S)
    change_by_width: np.ndarray      # (W, S)
    test_loss_by_width: np.ndarray   # (W, S)
    kernel_test_loss: float          # analytic NTK regression at t = steps
    steps: int
    learning_rate: float
    stopped: bool = False
    #: (sweep, alpha, width, seed) of every run whose training overflowed (its entries are
    #: NaN: a small alpha multiplies the parameters' step by 1/alpha and can diverge)
    diverged: tuple = ()


@functools.partial(jax.jit, static_argnums=(0, 5))
def _train(apply_fn, params0, x_train, y_train, step_size, steps, alpha):
    """Parameters after ``steps`` GD steps on the centred, alpha-scaled model."""
    f0 = apply_fn(params0, x_train)

    def loss(params):
        return 0.5 * jnp.mean((alpha * (apply_fn(params, x_train) - f0) - y_train) ** 2)

    def step(params, _):
        grads = jax.grad(loss)(params)
        return jax.tree_util.tree_map(lambda p, g: p - step_size * g, params, grads), None
    return jax.lax.scan(step, params0, None, length=steps)[0]


def scaled_training(network, x_train, y_train, x_test, y_test, *, alpha: float,
                    learning_rate: float, steps: int, seed: int) -> tuple[float, float]:
    """(relative NTK change on x_train, test loss) of one network trained as f_alpha."""
    apply_fn = network.apply_fn
    params0 = network.init_fn(jax.random.PRNGKey(seed), x_train.shape)[1]
    params = _train(apply_fn, params0, x_train, y_train, learning_rate / alpha ** 2, steps,
                    alpha)
    ntk_fn = empirical_ntk_fn(apply_fn)
    before, after = np.asarray(ntk_fn(x_train, None, params0)), \
        np.asarray(ntk_fn(x_train, None, params))
    f_test = alpha * (apply_fn(params, x_test) - apply_fn(params0, x_test))
    change = np.linalg.norm(after - before) / np.linalg.norm(before)
    loss = float(0.5 * np.mean((np.asarray(f_test) - y_test) ** 2))
    if not (np.isfinite(change) and np.isfinite(loss)):  # diverged: NaN, never inf or junk
        return float("nan"), float("nan")
    return float(change), loss


def kernel_test_loss(network, x_train, y_train, x_test, y_test, learning_rate, steps) -> float:
    """Test loss of the linearised infinite-width network at t = steps, started from f = 0."""
    kernel_fn = host_kernel_fn(network)
    predict = gradient_descent_mse(kernel_fn(x_train, None, "ntk"), y_train, learning_rate)
    f_test = predict(float(steps), 0.0, np.zeros_like(y_test),
                     kernel_fn(x_test, x_train, "ntk"))[1]
    return float(0.5 * np.mean((np.asarray(f_test) - y_test) ** 2))


def positive_list(fn: str, arg: str, values) -> tuple[float, ...]:
    """A non-empty list of distinct positive finite numbers, sorted."""
    ok = hasattr(values, "__len__") and not isinstance(values, str) and len(values) > 0 and all(
        isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
        and math.isfinite(v) and v > 0 for v in values)
    if not ok or len(set(float(v) for v in values)) < len(values):
        raise checks.fail(fn, arg, repr(values), "a non-empty list of distinct positive numbers")
    return tuple(sorted(float(v) for v in values))


def lazy_rich(spec, x_train, y_train, x_test, y_test, *, alphas, widths, width: int,
              alpha: float = 1.0, seeds=(0,), learning_rate: float = 1.0, steps: int = 100,
              on_progress: Callable[[float], None] | None = None,
              should_stop: Callable[[], bool] | None = None,
              limits: Limits = Limits()) -> LazyRich:
    """The relative NTK change and the test loss against alpha (at ``width``) and against
    width (at ``alpha``), every network trained ``steps`` steps as f_alpha."""
    fn = "lazy_rich"
    alphas = positive_list(fn, "alphas", alphas)
    widths = checks.counts(fn, "widths", widths, limits.max_width)
    width = checks.count(fn, "width", width, limits.max_width)
    alpha = positive(fn, "alpha", alpha)
    seeds = seed_list(fn, seeds, limits.max_members)
    x_train = checks.inputs(fn, "x_train", x_train, limits.max_points)
    x_test = checks.inputs(fn, "x_test", x_test, limits.max_points, x_train.shape[1:])
    learning_rate = checks.positive(fn, "learning_rate", learning_rate)
    steps = checks.count(fn, "steps", steps, limits.max_steps)
    progress = Progress.validated(fn, on_progress, should_stop)
    outputs = build(with_width(spec, width)).output_shape(x_train.shape[1:]).channels
    y_train = checks.targets(fn, "y_train", y_train, len(x_train), outputs)
    y_test = checks.targets(fn, "y_test", y_test, len(x_test), outputs)
    runs = [(width, a) for a in alphas] + [(w, alpha) for w in widths]
    results = []
    for i, (w, a) in enumerate(runs):
        if progress.stop_requested():
            break
        network = build(with_width(spec, w))
        results.append([scaled_training(network, x_train, y_train, x_test, y_test, alpha=a,
                                        learning_rate=learning_rate, steps=steps, seed=s)
                        for s in seeds])
        progress.report((i + 1) / (len(runs) + 1))
    stopped = len(results) < len(runs)
    diverged = tuple(("alpha" if i < len(alphas) else "width", a, w, int(s))
                     for i, ((w, a), row) in enumerate(zip(runs, results))
                     for s, (change, _) in zip(seeds, row) if math.isnan(change))
    reference = float("nan") if stopped else kernel_test_loss(
        build(with_width(spec, width)), x_train, y_train, x_test, y_test, learning_rate, steps)
    progress.report(1.0)
    return _result(alphas, widths, seeds, width, alpha, results, reference, steps,
                   learning_rate, stopped, diverged)


def _result(alphas, widths, seeds, width, alpha, results, reference, steps, learning_rate,
            stopped, diverged) -> LazyRich:
    """Arrays from the runs done (NaN rows for runs a stop left out)."""
    table = np.full((len(alphas) + len(widths), len(seeds), 2), np.nan)
    if results:
        table[:len(results)] = np.array(results)
    by_alpha, by_width = table[:len(alphas)], table[len(alphas):]
    return LazyRich(np.array(alphas), np.array(widths), np.array(seeds), width, alpha,
                    by_alpha[..., 0], by_alpha[..., 1], by_width[..., 0], by_width[..., 1],
                    reference, steps, learning_rate, stopped, diverged)
