"""The closed-form result of one (spec, data, training) setting, queried at any time t.

A ``ClosedFormRequest`` is one immutable snapshot of every setting the closed form depends
on, taken at one moment; the computation, its cache keys and the check that its result is
still wanted all derive from that snapshot and nothing else (app/state/session.py).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class ClosedFormRequest:
    """The settings of one closed-form computation (hashable: a cache and task key)."""

    spec_json: str        # canonical JSON of the spec as set (hidden widths included)
    data_key: tuple       # app.state.settings.Data.key
    max_train: int
    max_test: int
    mode: str             # ntk | nngp | posterior
    learning_rate: float | None  # None: the policy, a safe fraction of the stable maximum
    diag_reg: float
    spec_limits: object = None  # engine.SpecLimits of the server (None: the engine's)

    @cached_property
    def spec(self):
        return json.loads(self.spec_json)


@dataclass(frozen=True, eq=False)
class Curves:
    """Mean and standard deviation of the infinite ensemble at the test inputs at time t."""

    t: float
    mean: np.ndarray  # (n_test, n_outputs)
    std: np.ndarray  # (n_test,)


@dataclass(frozen=True, eq=False)
class ClosedForm:
    """Everything the views need from the engine for one setting; ``at(t)`` is cheap."""

    data: object  # engine.Dataset
    mode: str
    predictor: object  # engine EnsemblePredictor
    losses: object  # engine Losses on settings.T_GRID
    learning_rate: float
    max_learning_rate: float
    diag_reg: float  # the absolute lambda added to the train kernel
    request: ClosedFormRequest | None = None  # the snapshot it was computed from

    @property
    def diverges(self) -> bool:
        """The learning rate is at or above the stable maximum: gradient descent diverges."""
        return self.mode != "posterior" and self.learning_rate >= self.max_learning_rate

    def same_as(self, other: "ClosedForm | None") -> bool:
        """Built from the same cached engine results with the same numbers (nothing to redraw)."""
        return (other is not None and self.data is other.data and self.predictor is other.predictor
                and self.losses is other.losses and self.mode == other.mode
                and (self.learning_rate, self.max_learning_rate, self.diag_reg)
                == (other.learning_rate, other.max_learning_rate, other.diag_reg))

    def at(self, t: float) -> Curves:
        """The ensemble at time t (the posterior mode ignores t: it is t = inf)."""
        return self._query(None if self.mode == "posterior" else float(t))

    @property
    def prior(self) -> Curves:
        """The ensemble before training (t = 0): the prior, in every mode."""
        return self._query(0.0)

    def _query(self, time) -> Curves:
        """Values that overflowed (a diverging learning rate at late t) are NaN: not drawn."""
        test = self.predictor.test
        with np.errstate(all="ignore"):
            mean, variance = np.asarray(test.mean(time)), np.asarray(test.variance(time))
            mean = np.where(np.isfinite(mean), mean, np.nan)
            std = np.sqrt(np.where(np.isfinite(variance), np.maximum(variance, 0.0), np.nan))
        return Curves(float("inf") if time is None else time, mean, std)
