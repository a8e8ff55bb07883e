"""The recurrent view's settings and computation (engine.compare_sequence_models), cached.

The settings live on the session (``Session.sequences``, in the URL: app/state/url.py); the key
holds only them (hashable).
"""
from __future__ import annotations

import param

import engine

from .cache import Cache

SEQUENCE_COMPARISONS = Cache(16)


class SequenceSettings(param.Parameterized):
    """The noisy-sine continuation task and the networks' weight scale."""

    n_train = param.Integer(default=20, bounds=(4, 200), doc="Training sequences.")
    length = param.Integer(default=8, bounds=(2, 32), doc="Time steps T per sequence.")
    noise = param.Number(default=0.1, bounds=(0.0, 1.0), step=0.05, doc="""
        Std of the Gaussian noise on the inputs (targets are noiseless).""")
    w_std = param.Number(default=1.5, bounds=(0.1, 3.0), step=0.1, doc="""
        W_std of every weight layer (the RNN's recurrent weights too).""")

    @property
    def key(self) -> tuple:
        return (int(self.n_train), int(self.length), float(self.noise), float(self.w_std))


#: test sequences, the regularisation and the bias scale of the comparison
N_TEST, DIAG_REG, B_STD = 100, 1e-4, 0.1


def dataset(key):
    n_train, length, noise, _ = key
    return engine.sine_sequences(n_train=n_train, n_test=N_TEST, length=length, noise=noise)


def compute_sequences(key, report, should_stop):
    """key: SequenceSettings.key."""
    data = dataset(key)
    report(0.1)
    return engine.compare_sequence_models(data.x_train, data.y_train, data.x_test, data.y_test,
                                          w_std=key[3], b_std=B_STD, diag_reg=DIAG_REG)
