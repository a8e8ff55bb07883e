"""Width sweeps behind the convergence views, cached server-wide and run in the background.

Each result is keyed on hashable settings only (design.md §1): the spec with its hidden
widths left out (a sweep sets them), the dataset key, the sweep settings and the learning
rate. ``compute_*(key, report, should_stop)`` calls the engine; a stopped sweep raises
``Cancelled`` so that a partial result is never cached.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass

import numpy as np

import engine

from ..state import stack
from . import results
from .background import Cancelled
from .cache import Cache
from .results import SAFE_FRACTION
from .service import Pieces

#: training inputs used for the empirical NTKs (the first ones of the current data)
MAX_POINTS = 64
#: angles of the Jacot et al. curves, gamma in [-pi, pi]
ANGLES = np.linspace(-np.pi, np.pi, 121)
#: the input at which the output distribution is drawn: the first training point
DISTRIBUTION_POINTS = 1

SPECTRA = Cache(16)
ANGLE_RATES = Cache(32)
ANGLE_CURVES = Cache(16)
DISTRIBUTIONS = Cache(16)
#: one width of a sweep (a part of its ``Pieces``): two sweeps that share a width share it
SPECTRUM_WIDTHS = Cache(64)
DISTRIBUTION_WIDTHS = Cache(64)
ANGLE_WIDTHS = Cache(32)


@dataclass(frozen=True, eq=False)
class Convergence:
    """The spectrum sweep at initialisation and the NTK's motion during training."""

    spectrum: object  # engine NtkSpectrum
    change: object    # engine NtkChange


def spec_key(spec) -> str:
    """The spec as a cache key and sweep input: in the NTK parameterization its hidden widths
    are left out (each sweep sets its own; the limit does not depend on them), in the
    standard one they stay (the limit's NTK grows with them)."""
    return stack.kernel_key(spec)


def network(spec):
    """The built network of ``spec`` (server-wide cache of app/jobs/results.py)."""
    return results.network(stack.canonical(spec), spec)


def _spec(key_json: str) -> list:
    return json.loads(key_json)


def _finished(result):
    if result.stopped:
        raise Cancelled()
    return result


def _inputs(data_key, limits):
    data = results.dataset(data_key, *limits)
    return data.x_train[:MAX_POINTS], data.y_train[:MAX_POINTS]


def compute_convergence(key, report, should_stop) -> Convergence:
    """key: (spec_key, data_key, limits, widths, seeds, learning_rate, steps)."""
    spec_json, data_key, limits, widths, seeds, learning_rate, steps = key
    x, y = _inputs(data_key, limits)
    spec = _spec(spec_json)
    spectrum = _finished(engine.ntk_spectrum(
        spec, x, list(widths), range(seeds), on_progress=lambda f: report(0.4 * f),
        should_stop=should_stop))
    change = _finished(engine.ntk_change(
        spec, x, y, list(widths), range(seeds), learning_rate=learning_rate, steps=steps,
        on_progress=lambda f: report(0.4 + 0.6 * f), should_stop=should_stop))
    return Convergence(spectrum, change)


def join_convergence(parts) -> Convergence:
    return Convergence(engine.join_widths([p.spectrum for p in parts]),
                       engine.join_widths([p.change for p in parts]))


def by_width(compute, key, combine, cache) -> Pieces:
    """``compute`` for ``key`` (widths at index 3) as one part per width, each its own task
    (side by side on the Dask workers), joined by ``combine``."""
    parts = tuple(((compute.__name__, *key[:3], (width,), *key[4:]),
                   functools.partial(compute, (*key[:3], (width,), *key[4:])))
                  for width in key[3])
    return Pieces(parts, combine, cache)


def convergence_pieces(key) -> Pieces:
    """``compute_convergence`` of ``key``, one width per part."""
    return by_width(compute_convergence, key, join_convergence, SPECTRUM_WIDTHS)


def angle_pieces(key) -> Pieces:
    """``compute_angles`` of ``key``, one width (narrow, wide) per part."""
    return by_width(compute_angles, key, engine.join_widths, ANGLE_WIDTHS)


def distribution_pieces(key) -> Pieces:
    """``compute_distribution`` of ``key``, one width per part."""
    return by_width(compute_distribution, key, engine.join_widths, DISTRIBUTION_WIDTHS)


def angle_training_set(data_key, limits):
    """The current data when its inputs are 2-D, else Jacot et al.'s four circle points."""
    data = results.dataset(data_key, *limits)
    if data.in_shape == (2,) and data.n_outputs == 1:
        return data
    return engine.make_dataset("unit_circle")


def compute_angles(key, report, should_stop):
    """key: (spec_key, data_key, limits, (narrow, wide), seeds, steps); the networks train
    at ``angle_learning_rate`` (a kernel computed here, in the job, not in the view)."""
    spec_json, data_key, limits, widths, seeds, steps = key
    train = angle_training_set(data_key, limits)
    return _finished(engine.angle_kernels(
        _spec(spec_json), ANGLES, widths=list(widths), seeds=range(seeds),
        x_train=train.x_train[:MAX_POINTS], y_train=train.y_train[:MAX_POINTS],
        learning_rate=angle_learning_rate(spec_json, train), steps=steps, on_progress=report,
        should_stop=should_stop))


def compute_distribution(key, report, should_stop):
    """key: (spec_key, data_key, limits, widths, samples)."""
    spec_json, data_key, limits, widths, samples = key
    x, _ = _inputs(data_key, limits)
    return _finished(engine.output_distribution(
        _spec(spec_json), x[:DISTRIBUTION_POINTS], list(widths), samples=samples,
        on_progress=report, should_stop=should_stop))


def learning_rate(session) -> float:
    """The rate the finite networks train with: the session's in NTK mode (all layers are
    trained), else half the stable maximum of the NTK, as the dashboard's default."""
    result = session.closed_form
    if session.training.mode == "ntk":
        return float(result.learning_rate)
    request = result.request  # the validated settings of the shown result
    spec = request.spec
    net = results.network(request.spec_json, spec, request.spec_limits)
    k = results.kernels(stack.kernel_key(spec), net, request.data_key, result.data)
    return SAFE_FRACTION * engine.max_learning_rate(k.train_train.ntk, result.data.y_train.size)


def angle_learning_rate(spec_json: str, train) -> float:
    """Half the stable maximum of the analytic NTK on the angle view's training points."""
    def compute():
        ntk = engine.batch(engine.build(_spec(spec_json)).kernel_fn, None,
                           store_on_device=False)(train.x_train, None, get="ntk")
        return SAFE_FRACTION * engine.max_learning_rate(ntk, train.y_train.size)
    return ANGLE_RATES.get((spec_json, train.name, train.params), compute)
