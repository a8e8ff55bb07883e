"""Progress reports and cooperative stopping for long engine runs.

Long runs (ensemble training, width sweeps) work in pieces: after each piece they call
``on_progress(fraction_done)`` and, before the next one, ask ``should_stop()``. When it
answers True they return what they have, flagged ``stopped=True``. A ``threading.Event``
fits as ``should_stop=event.is_set``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from engine.checks import callback


@dataclass(frozen=True)
class Progress:
    on_progress: Callable[[float], None] | None = None
    should_stop: Callable[[], bool] | None = None

    @classmethod
    def validated(cls, fn: str, on_progress, should_stop) -> "Progress":
        callback(fn, "on_progress", on_progress)
        callback(fn, "should_stop", should_stop)
        return cls(on_progress, should_stop)

    def report(self, fraction: float) -> None:
        if self.on_progress is not None:
            self.on_progress(min(max(float(fraction), 0.0), 1.0))

    def stop_requested(self) -> bool:
        return self.should_stop is not None and bool(self.should_stop())
