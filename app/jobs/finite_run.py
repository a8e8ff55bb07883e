"""A finite ensemble (engine.EnsembleRun) as the views read it: a snapshot at t.

The ensemble is recorded at the slider's times up to the step limit; at a later t the
views show the last recorded step and say so. While it trains, the run delivered so far is
a partial one (``partial``): its steps stop where training has got to, and ``planned_step``
is where it is heading. Mean and spread over the members are taken as engine/finite/training.py
documents (``run.test_outputs.mean(axis=0)``). A plain dataclass of NumPy arrays (picklable:
it may come from another process).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

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
    seconds: float           # how long it trained (so far)
    planned_step: int | None = None  # the last step of the training (None: this one's last)
    halted: bool = False     # partial, and its training was stopped (it goes no further)

    @property
    def last_step(self) -> int:
        return int(self.run.steps[-1]) if len(self.run.steps) else 0

    @property
    def partial(self) -> bool:
        """Training had not reached its last step when this was delivered."""
        return self.planned_step is not None and self.last_step < self.planned_step

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

    def halt(self) -> "FiniteRun":
        """This partial run with its training stopped."""
        return replace(self, halted=True)

    def describe(self) -> str:
        run = self.run
        if self.partial and self.halted:
            return (f"Training stopped at step {self.last_step:,} of {self.planned_step:,}: "
                    f"the red lines end there. Change a setting to train again.")
        if self.partial:
            return (f"Training {run.ensemble_size} networks of width {run.width}: trained to "
                    f"step {self.last_step:,} of {self.planned_step:,} so far "
                    f"({self.seconds:.1f} s); the red lines reach that step.")
        return (f"{run.ensemble_size} networks of width {run.width} trained to "
                f"{self.last_step:,} steps in {self.seconds:.1f} s")

    def shown_at(self, t: float, shown: str = "Red") -> str:
        """What the view's ``shown`` part (its finite ensemble) shows at t, when that is not
        step t: "" when it is."""
        if not len(self.run.steps) or t <= self.last_step:
            return ""
        at = f"{shown}: the finite networks at step {self.last_step:,}"
        if self.partial and self.halted:
            return f"{at}, where their training was stopped (of {self.planned_step:,})."
        if self.partial:
            return (f"{at}, as far as training has got (of {self.planned_step:,}); later steps "
                    "follow as it goes on.")
        return f"{at}, the last trained."
