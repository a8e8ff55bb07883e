"""The distribution of a network's outputs at initialisation, against its Gaussian limit.

At initialisation f(x) over random parameters tends, as the hidden width grows, to a
centred Gaussian with variance K(x, x), the NNGP kernel (Neal 1996; Lee et al. 2018).
``output_distribution`` draws f(x) (first output unit) from ``samples`` networks per width,
initialised from seeds ``seed, seed + 1, ...``, and measures the Kolmogorov-Smirnov distance
sup_u |F_empirical(u) - Phi(u / sqrt(K(x, x)))| at each input; it falls with width (to the
sampling floor of about 0.9 / sqrt(samples)).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from engine import checks
from engine.batch import host_kernel_fn
from engine.checks import Limits
from engine.layers.layer import Shape
from engine.progress import Progress
from engine.spec import build
from engine.widths import with_width

@dataclass(frozen=True)
class OutputDistribution:
    widths: np.ndarray          # (W,)
    x: np.ndarray               # (n, features...)
    samples: np.ndarray         # (W, S, n) f(x) of output unit 0 for S networks
    nngp_variance: np.ndarray   # (W, n) K(x, x) (width-free in the NTK parameterization)
    ks_statistic: np.ndarray    # (W, n) Kolmogorov-Smirnov distance to N(0, K(x, x))
    ks_pvalue: np.ndarray       # (W, n)
    seed: int
    stopped: bool = False


@functools.partial(jax.jit, static_argnums=0)
def _outputs(layer, seeds, x):
    def one(seed):
        params = layer.init(jax.random.PRNGKey(seed), Shape(tuple(x.shape[1:])))
        return layer.apply(params, x)[:, 0]
    return jax.lax.map(one, seeds)  # one network at a time: compiles faster than a vmap


def output_distribution(spec, x, widths, *, samples: int = 1000, seed: int = 0,
                        on_progress: Callable[[float], None] | None = None,
                        should_stop: Callable[[], bool] | None = None,
                        limits: Limits = Limits()) -> OutputDistribution:
    """Samples of f(x) at initialisation for each width and their distance to the NNGP Gaussian."""
    fn = "output_distribution"
    widths = checks.counts(fn, "widths", widths, limits.max_width)
    samples = checks.count(fn, "samples", samples, limits.max_members)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise checks.fail(fn, "seed", repr(seed), "a whole number >= 0")
    x = checks.inputs(fn, "x", x, limits.max_points)
    progress = Progress.validated(fn, on_progress, should_stop)
    seeds = jnp.arange(seed, seed + samples)
    rows = []
    for i, width in enumerate(widths):
        if progress.stop_requested():
            break
        network = build(with_width(spec, width))
        variance = np.diagonal(host_kernel_fn(network)(x, None, get="nngp")).copy()
        draws = np.asarray(_outputs(network.layer, seeds, jnp.asarray(x)))
        tests = [stats.kstest(draws[:, j], "norm", args=(0.0, np.sqrt(max(v, 1e-300))))
                 for j, v in enumerate(variance)]
        rows.append((draws, variance, [t.statistic for t in tests], [t.pvalue for t in tests]))
        progress.report((i + 1) / len(widths))
    shape = (len(rows), len(x))
    return OutputDistribution(
        np.array(widths[:len(rows)]), x, np.array([r[0] for r in rows]).reshape(
            (len(rows), samples, len(x))),
        *(np.array([r[j] for r in rows]).reshape(shape) for j in (1, 2, 3)), int(seed),
        len(rows) < len(widths))
