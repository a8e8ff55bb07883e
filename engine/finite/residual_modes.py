"""The training residual in the eigenbasis of the analytic NTK (Jacot et al. 2018, §5).

Linearised gradient descent on L = 0.5 * mean over all outputs of (f - y)^2 maps the train
residual r = f(X) - y by r_t = (I - eta Theta / |Y|)^t r_0. In the eigenbasis Theta = sum_i
lambda_i v_i v_i^T each component decays on its own:

    v_i^T r_t = (1 - eta lambda_i / |Y|)^t v_i^T r_0  ~  exp(-eta t lambda_i / |Y|) v_i^T r_0

so directions with large eigenvalues are learnt first. ``residual_modes`` trains finite
networks (``engine.finite.training.train_ensemble``) and projects their residuals on the analytic
eigenvectors, beside the predicted factors.

    r = residual_modes(spec, x_train, y_train, width=512, ensemble_size=8,
                       learning_rate=1.0, steps=log_step_grid(1000))
    r.magnitude[:, i]           # mean |v_i^T r_t| / mean |v_i^T r_0| of the finite networks
    r.predicted_discrete[:, i]  # (1 - eta lambda_i / |Y|)^t, the linearised networks'
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from engine.batch import host_kernel_fn
from engine.finite.training import train_ensemble
from engine.checks import Limits
from engine.spec import build
from engine.widths import with_width


@dataclass(frozen=True)
class ResidualModes:
    steps: np.ndarray              # (T,)
    eigenvalues: np.ndarray        # (N,) analytic NTK on x_train, descending, clipped at 0
    clipped: int                   # how many negative eigenvalues were set to 0
    eigenvectors: np.ndarray       # (N, N) columns, in the same order
    predicted: np.ndarray          # (T, N) exp(-eta t lambda_i / |Y|)
    predicted_discrete: np.ndarray  # (T, N) (1 - eta lambda_i / |Y|)^t, exact for linear GD
    projections: np.ndarray        # (M, T, N, k) v_i^T (f_t(X) - y) of each finite network
    decay: np.ndarray              # (T, N) finite networks: sum p_t p_0 / sum p_0^2
    magnitude: np.ndarray          # (T, N) finite networks: mean |p_t| / mean |p_0|
    width: int
    learning_rate: float
    stopped: bool = False


def residual_modes(spec, x_train, y_train, *, width: int, ensemble_size: int,
                   learning_rate: float, steps, seed: int = 0, float32: bool = False,
                   on_progress: Callable[[float], None] | None = None,
                   should_stop: Callable[[], bool] | None = None,
                   limits: Limits = Limits()) -> ResidualModes:
    """Decay of each NTK eigen-direction of the residual: closed form and finite networks.

    Jacot, Gabriel & Hongler 2018 (§5, Fig. 2): with Theta = sum_i lambda_i v_i v_i^T the
    analytic NTK on ``x_train`` and r_t = f_t(X) - Y, linearised GD gives
    v_i^T r_t = (1 - eta lambda_i / |Y|)^t v_i^T r_0. Networks of hidden width ``width``
    (members from seeds ``seed``, ``seed + 1``, ...) are trained by real GD and their
    p_t = v_i^T r_t recorded; ``magnitude`` is mean |p_t| / mean |p_0| over members and
    outputs (it equals |1 - eta lambda_i / |Y||^t for linearised networks).

    Args:
        spec: the network as a JSON spec list (its hidden widths are set to ``width``).
        x_train: (n, features...) training inputs; y_train: (n, k) targets.
        width: hidden width of the finite networks.
        ensemble_size: how many networks are trained.
        learning_rate: eta of full-batch GD on L = 0.5 mean (f - y)^2.
        steps: increasing whole step counts >= 0 at which the residuals are recorded.
        seed, float32, on_progress, should_stop, limits: as ``engine.train_ensemble``.

    Raises ValueError naming the argument (train_ensemble's checks) for invalid input.
    """
    run = train_ensemble(spec, x_train, y_train, x_train, y_train, width=width,
                         ensemble_size=ensemble_size, learning_rate=learning_rate, steps=steps,
                         seed=seed, float32=float32, on_progress=on_progress,
                         should_stop=should_stop, limits=limits)
    x_train = np.asarray(x_train, np.float64)
    y_train = np.asarray(y_train, np.float64)
    theta = host_kernel_fn(build(with_width(spec, width)))(x_train, None, get="ntk")
    values, vectors, clipped = _eigh(theta)
    rate = learning_rate * values / y_train.size
    t = run.steps[:, None].astype(np.float64)
    projections = np.einsum("ni,mtnk->mtik", vectors, run.train_outputs - y_train)
    return ResidualModes(run.steps, values, clipped, vectors, np.exp(-rate * t),
                         np.power(1 - rate, t),
                         projections, _decay(projections), _magnitude(projections), width,
                         float(learning_rate), run.stopped)


def _eigh(matrix):
    """Descending eigenpairs of the symmetrised matrix, eigenvalues clipped at 0 (counted)."""
    matrix = np.asarray(matrix, np.float64)
    values, vectors = np.linalg.eigh(0.5 * (matrix + matrix.T))
    return np.maximum(values[::-1], 0.0), vectors[:, ::-1], int(np.sum(values < 0))


def _decay(projections: np.ndarray) -> np.ndarray:
    """Per step and mode, the least-squares factor p_t ~ c p_0 over networks and outputs."""
    if projections.shape[1] == 0:
        return np.zeros((0, projections.shape[2]))
    start = projections[:, :1]
    return np.sum(projections * start, axis=(0, 3)) / np.sum(start ** 2, axis=(0, 3))



def _magnitude(projections: np.ndarray) -> np.ndarray:
    """Per step and mode, mean |p_t| / mean |p_0| over networks and outputs (0/0 -> NaN)."""
    if projections.shape[1] == 0:
        return np.zeros((0, projections.shape[2]))
    size = np.mean(np.abs(projections), axis=(0, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        return size / size[:1]
