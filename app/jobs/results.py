"""Engine calls behind caches: datasets, kernels, predictors, loss curves.

Every function takes hashable settings and returns an engine result; the caches are
shared by all sessions of the server (app/jobs/cache.py). Moving the time slider only queries
a cached predictor (matrix products), never recomputes kernels or eigendecompositions.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import engine

from ..state import stack
from ..state.settings import T_GRID
from .cache import Cache
from .closed_form import ClosedForm, ClosedFormRequest

#: the default learning rate as a fraction of the stable maximum
SAFE_FRACTION = 0.5

DATASETS = Cache(32)
NETWORKS = Cache(64)
KERNELS = Cache(16)
PREDICTORS = Cache(64)
LOSSES = Cache(64)
#: whole outcomes (result or refusal) by request: a width move or a revisit is instant
OUTCOMES = Cache(64)

#: engine training mode of each app mode (the posterior is the NNGP one at t = inf)
ENGINE_MODE = {"ntk": "ntk", "nngp": "nngp", "posterior": "nngp"}


def dataset(key: tuple, max_train: int, max_test: int):
    """``engine.make_dataset`` of a Data.key, within the server's limits."""
    name, params = key
    return DATASETS.get((key, max_train, max_test), lambda: engine.make_dataset(
        name, max_train=max_train, max_test=max_test, **dict(params)))


def network(spec_json: str, spec: list, limits=None):
    """``engine.build(spec)`` within the server's spec ``limits`` (engine.SpecLimits; None:
    the engine's defaults); a ValueError names the offending layer."""
    limits = engine.SpecLimits() if limits is None else limits
    return NETWORKS.get((spec_json, limits), lambda: engine.build(spec, limits=limits))


def check_shapes(net, spec: list, data) -> None:
    """The static shape pass on the dataset's inputs (a ValueError names the layer).

    The network must end with one value per target: the finite networks are trained on them.
    """
    out = net.output_shape(data.in_shape).dims
    if out != (data.n_outputs,):
        last = len(spec) - 1
        raise ValueError(
            f"layer {last} ({spec[last][0]}): the network outputs shape {('N',) + out} but the "
            f"data has {data.n_outputs} target(s) per input; end with a Dense(out_dim="
            f"{data.n_outputs}) readout" + (" after GlobalAvgPool or Flatten" if len(out) > 1
                                             else ""))


@dataclass(frozen=True, eq=False)
class TrainTestKernels:
    """The kernels a predictor needs: train-train, test-train (nngp, ntk), test-test nngp."""

    train_train: engine.Kernels
    test_train: engine.Kernels
    test_test: object


def kernels(kernel_key: str, net, data_key: tuple, data) -> TrainTestKernels:
    def compute():
        both = ("nngp", "ntk")
        kernel_fn = engine.batch(net.kernel_fn, None, store_on_device=False)  # bounded memory
        return TrainTestKernels(kernel_fn(data.x_train, None, get=both),
                                kernel_fn(data.x_test, data.x_train, get=both),
                                kernel_fn(data.x_test, None, get=("nngp",)))
    return KERNELS.get((kernel_key, data_key), compute)


def predictor(key: tuple, k: TrainTestKernels, data, mode: str, learning_rate: float,
              diag_reg: float, discrete: bool = False):
    """The cached predictor; other learning rates and diag_reg reuse its eigensystem.

    ``discrete``: the exact step map (I - eta Theta/|Y|)^t, which shows divergence above the
    stable maximum (the continuous-time flow never diverges).
    """
    def base():
        return engine.ensemble_predictor(k.train_train, data.y_train, k.test_train, k.test_test,
                                         data.y_test, get=ENGINE_MODE[mode],
                                         learning_rate=learning_rate, diag_reg=diag_reg)
    first = PREDICTORS.get(key + (mode,), base)
    return PREDICTORS.get(key + (mode, learning_rate, diag_reg, discrete),
                          lambda: first.retrained(learning_rate=learning_rate, diag_reg=diag_reg,
                                                  discrete=discrete))


def max_learning_rate(k: TrainTestKernels, data, mode: str) -> float:
    """The stable maximum of gradient descent on the kernel that ``mode`` trains with."""
    return engine.max_learning_rate(getattr(k.train_train, ENGINE_MODE[mode]), data.y_train.size)


def loss_curves(key: tuple, predictor_):
    """Expected train and test loss (mean, std across the ensemble) at every slider time."""
    return LOSSES.get(key, lambda: predictor_.loss(np.asarray(T_GRID, dtype=np.float64)))


def safe_learning_rate(maximum: float) -> float:
    """SAFE_FRACTION of the stable maximum, to 2 significant digits (a readable number)."""
    return float(f"{SAFE_FRACTION * maximum:.2g}")


@dataclass(frozen=True, eq=False)
class Outcome:
    """What one request gives: a result, or the engine's refusal of the data or the stack."""

    result: ClosedForm | None = None
    data_error: str = ""
    stack_error: str = ""


def closed_form(request: ClosedFormRequest, report=lambda f: None) -> Outcome:
    """The closed form of ``request``: a pure function of the snapshot (a task of the job service)."""
    try:
        data = dataset(request.data_key, request.max_train, request.max_test)
    except ValueError as err:
        return Outcome(data_error=str(err))
    spec = request.spec
    try:
        if not stack.is_spec_shaped(spec):
            raise ValueError(f"spec: expected a non-empty list of [name, {{arguments}}] "
                             f"layers; got {spec!r}")
        net = network(request.spec_json, spec, request.spec_limits)
        check_shapes(net, spec, data)
    except ValueError as err:
        return Outcome(stack_error=str(err))
    report(0.05)
    kernel_key = stack.kernel_key(spec)
    k = kernels(kernel_key, net, request.data_key, data)
    report(0.8)
    mode = request.mode
    maximum = max_learning_rate(k, data, mode)
    rate = request.learning_rate if request.learning_rate is not None else safe_learning_rate(maximum)
    key = (kernel_key, request.data_key)
    diverges = mode != "posterior" and rate >= maximum
    found = predictor(key, k, data, mode, rate, request.diag_reg, discrete=diverges)
    losses = loss_curves(key + (mode, rate, request.diag_reg, diverges), found)
    return Outcome(ClosedForm(data, mode, found, losses, rate, maximum, found.diag_reg, request))
