"""The images experiment: test accuracy of infinite FC, CNN and residual CNN nets on the digits.

The analogue of the Neural Tangents announcement's comparison (FC below CNN below residual
CNN). Each network is a part of the job (``pieces``: the Dask workers compute them side by
side), its kernels computed once, tiled (``engine.batch(kernel_fn, progress=...)``), for
the largest training set; every smaller set and every time t is then a cheap query
(``engine.accuracy_curves``). Each network trains
with half its own stable maximum learning rate, as the dashboard does, so "time" means
the same thing for all three. Results are cached server-wide on the settings.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

import engine

from ..state.analysis_settings import ImageExperiment
from ..state.settings import T_GRID
from ..state.stack import canonical
from .cache import Cache
from .results import SAFE_FRACTION
from .service import Pieces


def _conv(padding: str) -> list:
    return ["Conv", {"out_chan": 64, "filter_shape": [3, 3], "padding": padding, "W_std": 1.41,
                     "b_std": 0.05}]


def _dense(units: int) -> list:
    return ["Dense", {"out_dim": units, "W_std": 1.41, "b_std": 0.05}]


_RELU = ["Relu", {}]
_RESIDUAL = [["FanOut", {"num": 2}],
             ["parallel", {"branches": [[_RELU, _conv("SAME")], [["Identity", {}]]]}],
             ["FanInSum", {}]]

#: the three networks compared, by name (infinite width: the hidden widths do not matter).
#: VALID convolutions shrink the 8x8 images (6x6, 4x4, 2x2), which keeps the full
#: spatial covariance, and so the kernels, cheap enough to compute while a user waits.
ARCHITECTURES: dict[str, list] = {
    "FC": [["Flatten", {}], _dense(512), _RELU, _dense(10)],
    "CNN": [_conv("VALID"), _RELU, _conv("VALID"), _RELU, _conv("VALID"), _RELU,
            ["GlobalAvgPool", {}], _dense(10)],
    "Residual CNN": [_conv("VALID"), *_RESIDUAL, _RELU, _conv("VALID"), _RELU, _conv("VALID"),
                     _RELU, ["GlobalAvgPool", {}], _dense(10)],
}
#: training times: the slider's, then t = infinity
TIMES = np.array([float(t) for t in T_GRID] + [np.inf])

KERNELS = Cache(12)
RESULTS = Cache(16)


@dataclass(frozen=True, eq=False)
class Comparison:
    """accuracy[name]: (len(train_sizes), len(t)) test accuracy; t ends with inf."""

    t: np.ndarray
    train_sizes: np.ndarray
    accuracy: dict
    learning_rate: dict


def digits(max_train: int, n_test: int, seed: int):
    """The stratified split: every leading block of the train set is class-balanced."""
    return engine.make_dataset("digits", n_train=max_train, n_test=n_test, seed=seed)


def _precomputed(k_train_train, k_test_train):
    """A kernel_fn for engine.accuracy_curves that answers with kernels computed earlier."""
    def kernel_fn(x1, x2=None, get=None):
        return k_train_train if x2 is None else k_test_train
    return kernel_fn


def kernels(name: str, max_train: int, n_test: int, seed: int, report) -> tuple:
    """(train-train, test-train) nngp and ntk of network ``name``, cached; tiled with progress."""
    def compute():
        data = digits(max_train, n_test, seed)
        net = engine.build(ARCHITECTURES[name])
        both = ("nngp", "ntk")
        share = max_train / (max_train + 2 * n_test)  # the train block is symmetric: half
        train = engine.batch(net.kernel_fn, None, store_on_device=False,
                             progress=lambda f: report(share * f))(data.x_train, None, both)
        test = engine.batch(net.kernel_fn, None, store_on_device=False,
                            progress=lambda f: report(share + (1 - share) * f))(
            data.x_test, data.x_train, both)
        return train, test
    spec_key = canonical(ARCHITECTURES[name])
    return KERNELS.get((spec_key, max_train, n_test, seed), compute)


def network_accuracy(part: tuple, report=lambda f: None, should_stop=lambda: False) -> tuple:
    """(accuracy, learning rate) of one network; ``part``: (name, *ImageExperiment.key)."""
    name, max_train, n_test, diag_reg, seed = part
    experiment = ImageExperiment(max_train=max_train, n_test=n_test, diag_reg=diag_reg, seed=seed)
    data = digits(max_train, n_test, seed)
    train, test = kernels(name, max_train, n_test, seed, report)
    eta = SAFE_FRACTION * engine.max_learning_rate(train.ntk, data.y_train.size)
    curves = engine.accuracy_curves(
        _precomputed(train, test), data.x_train, data.y_train, data.x_test,
        data.labels_test, experiment.train_sizes, TIMES, get="ntk",
        learning_rate=eta, diag_reg=diag_reg)
    return curves.accuracy, eta


def join(key: tuple, parts: list) -> Comparison:
    """The comparison of ImageExperiment.key from each network's (accuracy, learning rate)."""
    max_train, n_test, diag_reg, seed = key
    experiment = ImageExperiment(max_train=max_train, n_test=n_test, diag_reg=diag_reg, seed=seed)
    return Comparison(TIMES, np.array(experiment.train_sizes),
                      {name: part[0] for name, part in zip(ARCHITECTURES, parts)},
                      {name: part[1] for name, part in zip(ARCHITECTURES, parts)})


def pieces(key: tuple) -> Pieces:
    """The comparison of ImageExperiment.key as one part per network: the Dask workers
    compute the CNNs' kernels side by side."""
    return Pieces(tuple(((name, *key), functools.partial(network_accuracy, (name, *key)))
                        for name in ARCHITECTURES), functools.partial(join, key))
