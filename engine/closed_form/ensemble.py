"""The cacheable predictor of an infinite ensemble: built once, queried at any training time.

    predictor = ensemble_predictor(k_train_train, y_train, k_test_train, k_test_test, y_test,
                                   get="ntk", learning_rate=1.0, diag_reg=1e-4)
    predictor.test.mean(t), predictor.test.variance(t)   # matrix products only
    predictor.loss(ts)                                  # train and test loss curves

``k_*`` are objects with ``.nngp`` / ``.ntk`` arrays, as ``kernel_fn(x1, x2, get=("nngp",
"ntk"))`` returns. The train and the test dynamics share one eigendecomposition.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from engine import checks
from engine.closed_form.dynamics import (MeanDynamics, NngpDynamics, NtkDynamics,
                                         mean_dynamics, nngp_dynamics, ntk_dynamics)
from engine.closed_form.flow import Eigensystem, TrainFlow, eigensystem
from engine.closed_form.losses import LossCurve, expected_loss

Dynamics = NtkDynamics | NngpDynamics | MeanDynamics


@dataclass(frozen=True)
class GradientDescent:
    """Full-batch gradient descent on L = 0.5 * mean over all outputs of (f - y)^2.

    ``diag_reg`` adds lambda I to the train kernel, lambda = diag_reg, or diag_reg * trace/n
    unless ``diag_reg_absolute_scale``; ``discrete`` uses the exact step map (I - eta A/|Y|)^t.
    """

    learning_rate: float = 1.0
    diag_reg: float = 0.0
    diag_reg_absolute_scale: bool = False
    discrete: bool = False

    def __post_init__(self):
        _checked("GradientDescent", self.learning_rate, self.diag_reg,
                 self.diag_reg_absolute_scale, self.discrete)

    @classmethod
    def validated(cls, fn: str, learning_rate=1.0, diag_reg=0.0, diag_reg_absolute_scale=False,
                  discrete=False) -> "GradientDescent":
        """The settings, or a ValueError naming ``fn`` and the bad argument."""
        return cls(*_checked(fn, learning_rate, diag_reg, diag_reg_absolute_scale, discrete))

    def flow(self, eigen: Eigensystem, y_size: int) -> TrainFlow:
        """This training's flow on a train kernel's eigensystem (|Y| = ``y_size`` outputs)."""
        return eigen.flow(y_size, self.learning_rate, self.diag_reg,
                          self.diag_reg_absolute_scale, self.discrete)


def _checked(fn: str, learning_rate, diag_reg, diag_reg_absolute_scale, discrete) -> tuple:
    learning_rate = checks.positive(fn, "learning_rate", learning_rate)
    diag_reg = checks.non_negative(fn, "diag_reg", diag_reg)
    return (learning_rate, diag_reg,
            checks.flag(fn, "diag_reg_absolute_scale", diag_reg_absolute_scale),
            checks.flag(fn, "discrete", discrete))


def needed_kernels(mode: str) -> tuple[str, ...]:
    """The NTK mode needs both kernels (its covariance uses the NNGP), the NNGP mode one."""
    return ("nngp", "ntk") if mode == "ntk" else ("nngp",)


def kernel_arrays(fn: str, arg: str, kernels, shape: tuple, names) -> dict:
    """{name: validated float64 array of ``shape``} for each requested field of ``kernels``."""
    return {name: checks.matrix(fn, f"{arg}.{name}",
                                      checks.kernel_field(fn, arg, kernels, name), shape)
            for name in names}


def mode_dynamics(mode: str, flow: TrainFlow, y_train, k_test_train: dict,
                  nngp_train_train, nngp_test_test=None, mean_only: bool = False) -> Dynamics:
    """The dynamics of ``mode`` ('ntk': all layers trained, 'nngp': readout only).

    ``mean_only``: the mean alone (no projection of the kernels on the eigenbasis, which
    only the covariances need).
    """
    if mean_only:
        return mean_dynamics(flow, y_train, k_test_train[mode])
    if mode == "ntk":
        return ntk_dynamics(flow, y_train, k_test_train["ntk"], k_test_train["nngp"],
                            nngp_train_train, nngp_test_test)
    return nngp_dynamics(flow, y_train, k_test_train["nngp"], nngp_test_test)


@dataclass(frozen=True)
class Losses:
    """Loss curves at the training inputs and (when test targets were given) the test inputs."""

    train: LossCurve
    test: LossCurve | None


@dataclass(frozen=True, eq=False)
class EnsemblePredictor:
    """One training mode at the training inputs (``train``) and the test inputs (``test``).

    ``retrained(learning_rate=..., diag_reg=..., ...)`` gives the predictor of other training
    settings from the same ``eigensystem``: no new eigendecomposition, no new projection.
    """

    train: Dynamics
    test: Dynamics | None
    y_train: np.ndarray
    y_test: np.ndarray | None
    eigensystem: Eigensystem
    training: GradientDescent

    @property
    def flow(self) -> TrainFlow:
        return self.train.flow

    def retrained(self, **settings) -> "EnsemblePredictor":
        """The same kernels and data under changed GradientDescent ``settings``."""
        training = GradientDescent.validated("EnsemblePredictor.retrained",
                                             **{**dataclasses.asdict(self.training), **settings})
        flow = training.flow(self.eigensystem, self.y_train.size)
        test = None if self.test is None else dataclasses.replace(self.test, flow=flow)
        return dataclasses.replace(self, train=dataclasses.replace(self.train, flow=flow),
                                   test=test, training=training)

    @property
    def clipped_eigenvalues(self) -> int:
        """How many eigenvalues of the regularised train kernel were clipped to 0."""
        return int(self.flow.clipped_eigenvalues)

    @property
    def min_eigenvalue(self) -> float:
        """The smallest eigenvalue of the regularised train kernel before clipping."""
        return float(self.flow.min_eigenvalue)

    @property
    def diag_reg(self) -> float:
        """The absolute lambda added to the train kernel's diagonal."""
        return float(self.flow.diag_reg)

    def loss(self, t=None) -> Losses:
        """Expected loss and its spread across the ensemble at each time
        (engine.closed_form.losses)."""
        test = None if self.y_test is None else expected_loss(self.test, self.y_test, t)
        return Losses(expected_loss(self.train, self.y_train, t), test)


def ensemble_predictor(k_train_train, y_train, k_test_train=None, k_test_test=None, y_test=None,
                       get="ntk", learning_rate=1.0, diag_reg=0.0,
                       diag_reg_absolute_scale=False, discrete=False) -> EnsemblePredictor:
    """Build the predictor of mode ``get`` ('ntk' or 'nngp') from precomputed kernels.

    ``k_test_test`` (its ``.nngp``, (n_test, n_test)) is needed for the test covariance and
    loss; ``y_test`` (n_test, k) for the test loss. One eigendecomposition in all.
    """
    fn = "ensemble_predictor"
    names, single = checks.get_names(fn, get)
    if not single:
        raise checks.fail(fn, "get", repr(get), "'nngp' or 'ntk' (one mode)")
    training = GradientDescent.validated(fn, learning_rate, diag_reg, diag_reg_absolute_scale,
                                         discrete)
    y_train = checks.matrix(fn, "y_train", y_train, (None, None))
    n = y_train.shape[0]
    train = kernel_arrays(fn, "k_train_train", k_train_train, (n, n), needed_kernels(get))
    eigen = eigensystem(train[get])
    flow = training.flow(eigen, y_train.size)
    train_dynamics = mode_dynamics(get, flow, y_train, train, train["nngp"], train["nngp"])
    test_dynamics, y_test = _test_side(fn, get, flow, y_train, train["nngp"], k_test_train,
                                       k_test_test, y_test)
    return EnsemblePredictor(train_dynamics, test_dynamics, y_train, y_test, eigen, training)


def _test_side(fn, mode, flow, y_train, nngp_train_train, k_test_train, k_test_test, y_test):
    """(test dynamics, validated y_test), or (None, None) without test kernels."""
    if k_test_train is None:
        return None, None
    n = y_train.shape[0]
    test = kernel_arrays(fn, "k_test_train", k_test_train, (None, n), needed_kernels(mode))
    m = test["nngp"].shape[0]
    test_test = None if k_test_test is None else kernel_arrays(
        fn, "k_test_test", k_test_test, (m, m), ("nngp",))["nngp"]
    if y_test is not None:
        if test_test is None:
            raise checks.fail(fn, "k_test_test", "None", "given when y_test is (the test "
                                    "loss needs the test covariance)")
        y_test = checks.matrix(fn, "y_test", y_test, (m, None))
    return mode_dynamics(mode, flow, y_train, test, nngp_train_train, test_test), y_test
