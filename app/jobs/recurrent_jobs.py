"""The recurrent view's computation (engine.compare_sequence_models), cached.

Its settings live on the session (``Session.sequences``: app/state/analysis_settings.py
``SequenceSettings``, in the URL: app/state/url.py); the key holds only them (hashable).
"""
from __future__ import annotations

import engine

from .cache import Cache

SEQUENCE_COMPARISONS = Cache(16)


#: test sequences, the regularisation and the bias scale of the comparison
N_TEST, DIAG_REG, B_STD = 100, 1e-4, 0.1


def dataset(key):
    n_train, length, noise, _ = key
    return engine.sine_sequences(n_train=n_train, n_test=N_TEST, length=length, noise=noise)


def compute_sequences(key, report, should_stop):
    """key: app.state.analysis_settings.SequenceSettings.key."""
    data = dataset(key)
    report(0.1)
    return engine.compare_sequence_models(data.x_train, data.y_train, data.x_test, data.y_test,
                                          w_std=key[3], b_std=B_STD, diag_reg=DIAG_REG)
