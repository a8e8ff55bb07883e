"""The closed-form result of one (spec, data, training) setting, queried at any time t."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
        test = self.predictor.test
        return Curves(float("inf") if time is None else time, np.asarray(test.mean(time)),
                      np.sqrt(np.asarray(test.variance(time))))
