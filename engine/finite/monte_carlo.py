"""Monte Carlo estimates of the NNGP and NTK: empirical kernels averaged over random inits.

    kernel_fn = monte_carlo_kernel_fn(init_fn, apply_fn, key, n_samples=128)
    k = kernel_fn(x1, x2, get=("nngp", "ntk"))

neural-tangents' signature. Each sample draws parameters with ``init_fn`` (and a second key
passed to ``apply_fn`` as ``rng=``, for stochastic layers), computes the empirical kernels
(engine.empirical) and the average over samples is returned. As the width grows the estimate
tends to the closed form for any number of samples (the NTK and NNGP self-average); at finite
width it tends to the expected finite-width kernel as n_samples grows. ``n_samples`` given
as several counts returns a generator of the averages at each count, computed in one pass.
Keywords of ``kernel_fn`` go to ``apply_fn`` as in ``engine.empirical``: a pair such as
``pattern=(pattern1, pattern2)`` gives pattern1 to x1's side and pattern2 to x2's (cut into
blocks with the inputs when ``batch_size`` tiles them, as in ``engine.batch``).
"""
from __future__ import annotations

import jax
import numpy as np

from .. import checks
from ..batch import batch
from ..empirical import NtkImplementation, empirical_kernel_fn


def _counts(n_samples):
    if isinstance(n_samples, (int, np.integer)) and not isinstance(n_samples, bool):
        counts, single = (int(n_samples),), True
    else:
        counts, single = tuple(int(n) for n in n_samples), False
    if not counts or min(counts) < 1:
        raise checks.fail("monte_carlo_kernel_fn", "n_samples", repr(n_samples),
                          "a positive integer or a list of them")
    return counts, single


def monte_carlo_kernel_fn(init_fn, apply_fn, key, n_samples, batch_size=0, device_count=-1,
                          store_on_device=True, trace_axes=(-1,), diagonal_axes=(),
                          vmap_axes=None, implementation=NtkImplementation.AUTO):
    """``kernel_fn(x1, x2=None, get=None, **apply_fn_kwargs)``: averaged empirical kernels.

    Args:
      init_fn, apply_fn: a finite network, e.g. ``stax.serial(...)[:2]``.
      key: a ``jax.random`` key.
      n_samples: how many networks to average over; a list gives a generator over counts.
      batch_size, device_count, store_on_device: as in ``engine.batch``, per sample.
      trace_axes, diagonal_axes, vmap_axes, implementation: as in ``empirical_ntk_fn``.
    """
    counts, single = _counts(n_samples)
    empirical = empirical_kernel_fn(apply_fn, trace_axes, diagonal_axes, vmap_axes,
                                    implementation)

    def one_sample(sample_key, x1, x2, get, **apply_fn_kwargs):
        init_key, rng = jax.random.split(sample_key)
        _, params = init_fn(init_key, np.shape(x1))

        def sample(a, b=None, g=None, **kwargs):
            return empirical(a, b, g, params, rng=rng, **kwargs)
        return batch(sample, batch_size, device_count, store_on_device)(x1, x2, get,
                                                                         **apply_fn_kwargs)

    def running_means(x1, x2, get, apply_fn_kwargs):
        total, k = None, key
        for n in range(1, max(counts) + 1):
            k, sample_key = jax.random.split(k)
            value = one_sample(sample_key, x1, x2, get, **apply_fn_kwargs)
            total = value if total is None else jax.tree_util.tree_map(
                lambda a, b: a + b, total, value)
            if n in counts:
                yield jax.tree_util.tree_map(lambda a: a / n, total)

    def kernel_fn(x1, x2=None, get=None, **apply_fn_kwargs):
        means = running_means(x1, x2, get, apply_fn_kwargs)
        return next(means) if single else means

    return kernel_fn
