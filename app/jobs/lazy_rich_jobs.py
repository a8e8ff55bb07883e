"""The lazy vs rich view's settings and computation (engine.lazy_rich), cached server-wide.

The settings live on the session (``Session.lazy``, in the URL: app/state/url.py). The key holds
only hashable settings (design.md §1): the spec with its hidden widths left out, the data key, the server's data
limits, the alphas, the alpha sweep's width, the widths, seeds, learning rate and steps.
"""
from __future__ import annotations

import json

import param

import engine

from . import results
from .background import Cancelled
from .cache import Cache

LAZY_RICH = Cache(16)
#: output scales the alpha sweep may include
ALPHAS = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0]
#: widths the alpha sweep may train at
ALPHA_WIDTHS = [4, 8, 16, 32, 64, 128]
#: training inputs (the first ones of the data) and test inputs (evenly spaced) used
MAX_TRAIN, MAX_TEST = 64, 100


class LazyRichSettings(param.Parameterized):
    """The alpha sweep (the width sweep uses the shared sweep settings)."""

    alphas = param.ListSelector(default=[0.25, 1.0, 4.0, 16.0], objects=ALPHAS, doc="""
        Output scales alpha: f_alpha = alpha (f - f_0), learning rate / alpha^2.""")
    width = param.Selector(default=16, objects=ALPHA_WIDTHS, doc="""
        Hidden width of the networks of the alpha sweep (narrow: width alone is not lazy).""")

    @property
    def sorted_alphas(self) -> tuple:
        return tuple(sorted(float(a) for a in self.alphas))


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
