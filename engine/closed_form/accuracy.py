"""Test accuracy of infinite ensembles on a classification task, vs training time and size.

The analogue of the Neural Tangents announcement's comparison (FC below CNN below
residual CNN on images): the kernels are computed once for the largest training set (in
tiles, with progress), then every smaller training set is a leading block of them, and
the ensemble mean at each time t classifies by its largest output.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.batch import batch
from engine.closed_form.ensemble import ensemble_predictor


@dataclass(frozen=True)
class AccuracyCurves:
    """``accuracy[s, i]``: test accuracy with the first ``train_sizes[s]`` points at ``t[i]``."""

    t: np.ndarray
    train_sizes: np.ndarray
    accuracy: np.ndarray
    mode: str


def _check(train_sizes, n_train, t):
    sizes = np.asarray(train_sizes)
    if sizes.ndim != 1 or sizes.size == 0 or sizes.dtype.kind not in "iu" or \
            sizes.min() < 1 or sizes.max() > n_train:
        raise ValueError(f"accuracy_curves(train_sizes={np.ravel(train_sizes).tolist()}): expected "
                         f"integers from 1 to the number of training points ({n_train})")
    t = np.asarray(t, float)
    if t.ndim != 1 or t.size == 0 or np.any(np.isnan(t)) or np.any(t < 0):
        raise ValueError(f"accuracy_curves(t={t.tolist()}): expected a 1-D list of "
                         "non-negative step counts (inf allowed)")
    return np.sort(sizes), t


def accuracy_curves(kernel_fn, x_train, y_train, x_test, labels_test, train_sizes, t,
                    get="ntk", learning_rate=1.0, diag_reg=1e-4, tile_size=None,
                    progress=None) -> AccuracyCurves:
    """Accuracy of argmax of the ensemble mean on ``x_test`` for each size and time.

    The kernels are computed by ``engine.batch(kernel_fn, tile_size)`` (None: automatic
    blocks); ``progress(fraction)`` follows the blocks (train-train, then test-train);
    raising from it stops the computation.
    """
    sizes, t = _check(train_sizes, len(x_train), t)
    report = progress or (lambda f: None)
    n = int(sizes.max())
    both = ("nngp", "ntk")
    k_train = batch(kernel_fn, tile_size, store_on_device=False,
                    progress=lambda f: report(0.5 * f))(x_train[:n], None, both)
    k_test = batch(kernel_fn, tile_size, store_on_device=False,
                   progress=lambda f: report(0.5 + 0.5 * f))(x_test, x_train[:n], both)
    labels_test = np.asarray(labels_test)
    rows = []
    for s in sizes:
        predictor = ensemble_predictor(
            _block(k_train, s, s), y_train[:s], _block(k_test, None, s), get=get,
            learning_rate=learning_rate, diag_reg=diag_reg)
        mean = np.asarray(predictor.test.mean(t))  # (T, n_test, classes)
        rows.append((mean.argmax(-1) == labels_test[None]).mean(-1))
    return AccuracyCurves(t=t, train_sizes=sizes, accuracy=np.array(rows), mode=get)


def _block(kernels, rows, cols):
    """The leading rows x cols block of both kernels (rows=None: all rows)."""
    return type(kernels)(*(k[:rows, :cols] for k in kernels))
