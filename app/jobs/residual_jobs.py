"""The residual-modes view's computation (engine.residual_modes), cached server-wide.

Finite networks of the sidebar's width and ensemble size (members from the network seed)
are trained by gradient descent on the first training points (the ones whose NTK spectrum
the Convergence tab shows), and their train residuals projected on the analytic NTK's
eigenvectors (Jacot et al. 2018, §5 and Fig. 2). The key holds only hashable settings
(design.md §1): the spec with its hidden widths left out, the data key, the server's data
limits, the width, ensemble size, network seed, learning rate and the training steps.
"""
from __future__ import annotations

import json

import engine

from . import results
from .background import Cancelled
from .cache import Cache
from .convergence import MAX_POINTS

RESIDUALS = Cache(16)
#: about this many log-spaced step counts are recorded, 0 and 1 included
STEP_POINTS = 24


def inputs(data_key, limits):
    """(x_train, y_train): the first MAX_POINTS training points of the current data."""
    data = results.dataset(data_key, *limits)
    return data.x_train[:MAX_POINTS], data.y_train[:MAX_POINTS]


def steps(max_steps: int):
    """The recorded step counts: about STEP_POINTS log-spaced ones from 0 to ``max_steps``."""
    return engine.log_step_grid(int(max_steps), STEP_POINTS)


def compute_residual_modes(key, report, should_stop):
    """key: (spec_key, data_key, limits, width, ensemble_size, seed, learning_rate, steps)."""
    spec_json, data_key, limits, width, ensemble_size, seed, learning_rate, max_steps = key
    result = engine.residual_modes(
        json.loads(spec_json), *inputs(data_key, limits), width=width,
        ensemble_size=ensemble_size, learning_rate=learning_rate, steps=steps(max_steps),
        seed=seed, float32=True, on_progress=report, should_stop=should_stop)
    if result.stopped:  # a part-trained result is never cached
        raise Cancelled()
    return result
