"""A trained finite ensemble (engine.EnsembleRun) as the views read it: a snapshot at t.

The ensemble is recorded at the slider's times up to the step limit; at a later t the
views show the last recorded step and say so. Mean and spread over the members are taken
as engine/finite.py documents (``run.test_outputs.mean(axis=0)``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Snapshot:
    step: int                # the recorded step shown (<= the t asked for)
    members: np.ndarray      # (M, n_test, k)
    mean: np.ndarray         # (n_test, k)
    std: np.ndarray          # (n_test, k)


@dataclass(frozen=True, eq=False)
class FiniteRun:
    run: object              # engine.EnsembleRun
    seconds: float           # how long it trained

    @property
    def last_step(self) -> int:
        return int(self.run.steps[-1]) if len(self.run.steps) else 0

    def index(self, t: float) -> int:
        """Position of the last recorded step <= t."""
        return max(int(np.searchsorted(self.run.steps, t, side="right")) - 1, 0)

    def at(self, t: float) -> Snapshot | None:
        if not len(self.run.steps):
            return None
        i = self.index(t)
        outputs = self.run.test_outputs[:, i]
        return Snapshot(int(self.run.steps[i]), outputs, outputs.mean(axis=0), outputs.std(axis=0))

    def losses(self) -> dict:
        """{"train"/"test": (steps, per-member losses (M, T), member mean (T,))} for t > 0."""
        keep = self.run.steps > 0
        curves = {"train": self.run.train_loss, "test": self.run.test_loss}
        return {name: (self.run.steps[keep], loss[:, keep], loss[:, keep].mean(axis=0))
                for name, loss in curves.items() if loss is not None}

    def describe(self) -> str:
        run = self.run
        return (f"{run.ensemble_size} networks of width {run.width} trained to "
                f"{self.last_step:,} steps in {self.seconds:.1f} s")
