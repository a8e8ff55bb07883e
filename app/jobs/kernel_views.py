"""The kernels the kernels view draws, from the server-wide caches (app/jobs/results.py).

Heatmaps: NNGP and NTK of the current training inputs, the same arrays the closed form
uses (a cache hit, never a recomputation), ordered for reading: 1-D inputs by x, labelled
data by class. Nothing here computes math; ordering is a permutation for display.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..state import stack
from . import results


@dataclass(frozen=True, eq=False)
class Heatmaps:
    """NNGP and NTK of the training inputs, rows and columns in ``order``."""

    nngp: np.ndarray
    ntk: np.ndarray
    order: np.ndarray   # display position -> training point
    order_code: str     # the NumPy expression of ``order`` (for "Copy as Python")
    axis_label: str


#: (condition, NumPy expression of the order on ``data``, axis label), first match wins
ORDERS = [
    (lambda d: d.labels_train is not None, 'np.argsort(data.labels_train, kind="stable")',
     "training point (sorted by class)"),
    (lambda d: d.in_shape == (1,), 'np.argsort(data.x_train[:, 0], kind="stable")',
     "training point (sorted by x)"),
    (lambda d: d.name == "unit_circle",
     'np.argsort(np.arctan2(data.x_train[:, 1], data.x_train[:, 0]), kind="stable")',
     "training point (sorted by angle γ)"),
    (lambda d: True, "np.arange(data.n_train)", "training point"),
]


def display_order(data) -> tuple[np.ndarray, str, str]:
    """Training points sorted for a readable heatmap, the code that sorts them, the label."""
    code, label = next((c, l) for test, c, l in ORDERS if test(data))
    return eval(code, {"np": np, "data": data}), code, label  # our own constant expressions


def heatmaps(session) -> Heatmaps | None:
    """The train-train kernels of the session's last valid result, or None."""
    result = session.closed_form
    if result is None:
        return None
    request = result.request  # the validated settings of the shown result, not the live ones
    spec = request.spec
    net = results.network(request.spec_json, spec, request.spec_limits)
    k = results.kernels(stack.kernel_key(spec), net, request.data_key, result.data)
    order, code, label = display_order(result.data)
    pick = np.ix_(order, order)
    return Heatmaps(np.asarray(k.train_train.nngp)[pick], np.asarray(k.train_train.ntk)[pick],
                    order, code, label)
