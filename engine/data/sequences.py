"""Sequences for recurrent networks: continue a noisy sine wave.

Each input is a window of ``length`` samples of sin(omega t + phase) at t = 0, ..., T - 1
with Gaussian noise, shape (T, 1); its target is the next, noiseless value
sin(omega T + phase). Frequencies are uniform in ``omega_range``, phases in [0, 2 pi).
A model has to read the whole window (frequency and phase) to continue it, which a
recurrent network does step by step and a fully connected one all at once.
"""
from __future__ import annotations

import numpy as np

from .. import checks
from .dataset import Dataset, settings


def _windows(rng, n: int, length: int, omega_range, noise: float):
    omega = rng.uniform(*omega_range, size=(n, 1))
    phase = rng.uniform(0.0, 2 * np.pi, size=(n, 1))
    t = np.arange(length + 1)[None, :]
    wave = np.sin(omega * t + phase)
    x = wave[:, :length] + noise * rng.standard_normal((n, length))
    return x[:, :, None], wave[:, length:]


def sine_sequences(n_train: int = 20, n_test: int = 100, length: int = 8, noise: float = 0.1,
                   omega_range: tuple[float, float] = (0.3, 1.2), seed: int = 0) -> Dataset:
    """``n_train`` and ``n_test`` windows (N, length, 1) of noisy sines; targets (N, 1)."""
    fn = "sine_sequences"
    n_train, n_test = checks.count(fn, "n_train", n_train), checks.count(fn, "n_test", n_test)
    length = checks.count(fn, "length", length, 256)
    noise = checks.non_negative(fn, "noise", noise)
    lo, hi = checks.interval(fn, "omega_range", omega_range)
    seed = checks.seed(fn, seed)
    rng = np.random.default_rng(seed)
    x_train, y_train = _windows(rng, n_train, length, (lo, hi), noise)
    x_test, y_test = _windows(rng, n_test, length, (lo, hi), noise)
    return Dataset(name="sine_sequences", x_train=x_train, y_train=y_train, x_test=x_test,
                   y_test=y_test, params=settings(n_train=n_train, n_test=n_test, length=length,
                                                  noise=noise, omega_range=(lo, hi), seed=seed))
