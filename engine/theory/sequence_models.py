"""Three infinite-width readers of a sequence (N, T, d): recurrent, fully connected, convolutional.

    c = compare_sequence_models(x_train, y_train, x_test, y_test, w_std=1.5, b_std=0.1)
    c.ntk_train[m]       # (N, N) NTK of model c.models[m] on the training sequences
    c.predictions[m]     # (n_test,) the trained infinite ensemble's mean (t = infinity)
    c.test_loss[m]       # 0.5 mean (prediction - y_test)^2

- RNN: Rnn(W_std=w_std, U_std=1, b_std) with erf, its last hidden state read by Dense(1):
  the same weights at every step (engine.layers.recurrent);
- FC: the window flattened, Dense -> erf -> Dense(1): every time step its own weights;
- CNN: Conv(filter 3, SAME) -> erf -> Flatten -> Dense(1): a weight per lag, shared over time.

All three at infinite width and in the NTK parameterization (the widths below only size
a finite copy); predictions are the NTK ensemble mean after training to convergence with
``diag_reg`` (relative to the mean diagonal).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import stax
from ..batch import host_kernel_fn
from ..checks import fail, inputs, positive, targets
from ..predict import gradient_descent_mse_ensemble

MODELS = ("RNN", "FC", "CNN")
#: hidden width of the finite copies (the kernels do not depend on it)
WIDTH = 256


def sequence_network(model: str, w_std: float, b_std: float):
    """The stax network of ``model`` (one of MODELS)."""
    if model == "RNN":
        return stax.serial(stax.Rnn(WIDTH, w_std, 1.0, b_std, stax.Erf()),
                           stax.Dense(1, w_std, b_std))
    if model == "FC":
        return stax.serial(stax.Flatten(), stax.Dense(WIDTH, w_std, b_std), stax.Erf(),
                           stax.Dense(1, w_std, b_std))
    if model == "CNN":
        return stax.serial(stax.Conv(WIDTH, (3,), padding="SAME", W_std=w_std, b_std=b_std),
                           stax.Erf(), stax.Flatten(), stax.Dense(1, w_std, b_std))
    raise fail("sequence_network", "model", repr(model), f"one of {list(MODELS)}")


@dataclass(frozen=True)
class SequenceComparison:
    models: tuple[str, ...]
    ntk_train: np.ndarray     # (M, N, N)
    predictions: np.ndarray   # (M, n_test)
    test_loss: np.ndarray     # (M,)
    y_test: np.ndarray        # (n_test,)


def compare_sequence_models(x_train, y_train, x_test, y_test, *, w_std: float = 1.5,
                            b_std: float = 0.1, diag_reg: float = 1e-4) -> SequenceComparison:
    """NTK train kernels, predictions and test losses of the RNN, FC and CNN on sequences."""
    fn = "compare_sequence_models"
    x_train = inputs(fn, "x_train", x_train, 4096)
    if x_train.ndim != 3:
        raise ValueError(f"{fn}(x_train=<array of shape {x_train.shape}>): x_train must be "
                         "sequences of shape (N, T, d)")
    x_test = inputs(fn, "x_test", x_test, 4096, x_train.shape[1:])
    y_train = targets(fn, "y_train", y_train, len(x_train), 1)
    y_test = targets(fn, "y_test", y_test, len(x_test), 1)
    w_std, b_std = positive(fn, "w_std", w_std), positive(fn, "b_std", b_std)
    diag_reg = positive(fn, "diag_reg", diag_reg)
    ntks, predictions = [], []
    for model in MODELS:
        kernel_fn = host_kernel_fn(sequence_network(model, w_std, b_std))
        ntks.append(np.asarray(kernel_fn(x_train, None, "ntk")))
        predict = gradient_descent_mse_ensemble(kernel_fn, x_train, y_train, diag_reg=diag_reg)
        predictions.append(np.asarray(predict(None, x_test, "ntk")).reshape(-1))
    predictions = np.array(predictions)
    loss = 0.5 * np.mean((predictions - y_test.reshape(1, -1)) ** 2, axis=1)
    return SequenceComparison(MODELS, np.array(ntks), predictions, loss, y_test.reshape(-1))
