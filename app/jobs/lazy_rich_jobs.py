"""The lazy vs rich view's computation (engine.lazy_rich), cached server-wide.

Its settings live on the session (``Session.lazy``: app/state/analysis_settings.py
``LazyRichSettings``, in the URL: app/state/url.py). The key holds
only hashable settings (design.md §1): the spec with its hidden widths left out, the data key, the server's data
limits, the alphas, the alpha sweep's width, the widths, seeds, learning rate and steps.
"""
from __future__ import annotations

import json

import engine

from . import results
from .background import Cancelled
from .cache import Cache

LAZY_RICH = Cache(16)
#: training inputs (the first ones of the data) and test inputs (evenly spaced) used
MAX_TRAIN, MAX_TEST = 64, 100


def inputs(data_key, limits):
    """(x_train, y_train, x_test, y_test) of the current data, or None without test targets."""
    data = results.dataset(data_key, *limits)
    if data.y_test is None:
        return None
    step = max(1, len(data.x_test) // MAX_TEST)
    return (data.x_train[:MAX_TRAIN], data.y_train[:MAX_TRAIN],
            data.x_test[::step][:MAX_TEST], data.y_test[::step][:MAX_TEST])


def compute_lazy_rich(key, report, should_stop):
    """key: (spec_key, data_key, limits, alphas, width, widths, seeds, learning_rate, steps)."""
    spec_json, data_key, limits, alphas, width, widths, seeds, learning_rate, steps = key
    result = engine.lazy_rich(
        json.loads(spec_json), *inputs(data_key, limits), alphas=list(alphas),
        widths=list(widths), width=width, alpha=1.0, seeds=range(seeds),
        learning_rate=learning_rate, steps=steps, on_progress=report, should_stop=should_stop)
    if result.stopped:
        raise Cancelled()
    return result
