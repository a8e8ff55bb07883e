"""Finite ensembles for the current settings, trained in the background and cached.

Whenever the closed form changes (network, data, learning rate), the width moves or a
finite setting does, ``FiniteEnsembles`` asks for the ensemble of those settings. The spec
and the data always come from one snapshot, the closed form shown (its request), with the
width slider's hidden widths: a new stack with the old data is impossible. A cached one
arrives at once (returning to a width is instant), otherwise ``engine.train_ensemble``
runs in the job service (app/jobs/background.py) with a progress bar and a stop button, and
the other sessions stay responsive. Training goes in chunks and each finished chunk is
shown at once (a partial FiniteRun: the red lines reach the step trained so far), so the
first lines appear about a second after a change and fill in along t; a stopped training
leaves its part shown, marked as stopped. Complete results are cached server-wide per
(spec, data, width, ensemble size, seed, learning rate, steps); parts never are.
"""
from __future__ import annotations

import functools
import threading
import time

import numpy as np
import param

import engine

from ..state import stack
from ..state.settings import T_GRID
from .background import Cancelled, Job, in_document
from .cache import Cache
from .finite_run import FiniteRun

RUNS = Cache(64)
#: seconds the settings must stay put before a training starts (a slider passes through)
SETTLE = 0.4


class FiniteEnsembles(param.Parameterized):
    """Keeps ``session.finite_run`` the ensemble of the session's current settings."""

    job = param.ClassSelector(class_=Job)
    note = param.String(default="", doc="Why no ensemble is shown, or what is shown.")

    def __init__(self, session, **params):
        params.setdefault("job", Job())
        super().__init__(**params)
        self.session = session
        self._key = None
        self._timer: threading.Timer | None = None
        self._lock = threading.RLock()
        session.param.watch(self.update, "closed_form")
        session.architecture.param.watch(self.update, "width")
        session.training.param.watch(self.update, "mode")
        session.finite.param.watch(self.update, ["ensemble_size", "network_seed", "show"])
        self.job.param.watch(self._on_job, "running")

    def _on_job(self, event) -> None:
        """A training that ended without a result (stopped, failed): its status says why;
        the part it trained stays shown, marked as stopped."""
        run = self.session.finite_run
        if event.new:
            return
        if run is not None and run.partial and not run.halted:
            run = run.halt()
            self.note, self.session.finite_run = run.describe(), run
        elif run is None and self.note.startswith("Training"):
            self.note = ""

    def steps(self) -> np.ndarray:
        """The slider's times up to the server's step limit."""
        return np.array([t for t in T_GRID if t <= self.session.limits.max_steps])

    def _refusal(self) -> str:
        s = self.session
        if not s.finite.show:
            return "Finite ensembles are off."
        if s.closed_form is None:
            return "Finite ensembles wait for a valid network."
        if s.training.mode != "ntk":
            return ("Finite ensembles are trained by gradient descent on all layers; they are "
                    "shown in the NTK gradient descent mode.")
        return ""

    def update(self, *events) -> None:
        """Show the ensemble of the current settings: from the cache, or train it."""
        with self._lock:  # widget threads and the document both call this
            self._update()

    def _update(self) -> None:
        refusal = self._refusal()
        if refusal:
            self._stop(refusal)
            return
        key, settings, start = self._request()
        if key == self._key and (self.job.running or self._timer is not None):
            return  # already training exactly this
        self._key = key
        self._cancel_timer()
        if RUNS.peek(key) is not None:
            start()  # delivers at once
            return
        note = (f"Training {settings['ensemble_size']} networks of width "
                f"{settings['width']} for {int(settings['steps'][-1]):,} steps…")
        self._show(None, note)  # the shown ensemble belongs to other settings
        self.job.cancel(status="")
        self._timer = threading.Timer(SETTLE, self._start_settled, args=(key, start))
        self._timer.start()

    def _start_settled(self, key, start) -> None:
        """Start a training once its settings stayed SETTLE seconds (sliders move on)."""
        with self._lock:
            if key != self._key:
                return
            self._timer = None
            start()

    def _cancel_timer(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def stop(self) -> None:
        """Stop any pending or running training (nothing part-trained is kept)."""
        self._stop("")

    def close(self) -> None:
        """The browser tab is gone: stop the work and leave its (discarded) plots alone."""
        self._cancel_timer()
        self.job.cancel(status="")

    def _stop(self, reason: str) -> None:
        self._cancel_timer()
        self.job.cancel(status="")
        self._key = None
        self._show(None, reason)

    def _show(self, run, note: str) -> None:
        """Set the shown ensemble and its note on the session's document."""
        def change():
            self.note = note
            self.session.finite_run = run
        in_document(self.job._doc, change)

    def _request(self):
        """(cache key, training settings, a function starting the job) of the settings."""
        s, result = self.session, self.session.closed_form
        spec = engine.with_width(result.request.spec, s.architecture.width)
        key = (stack.canonical(spec), s.data.key, s.architecture.width, s.finite.ensemble_size,
               s.finite.network_seed, result.learning_rate, s.limits.max_steps)
        settings = dict(width=s.architecture.width, ensemble_size=s.finite.ensemble_size,
                        learning_rate=result.learning_rate, steps=self.steps(),
                        seed=s.finite.network_seed)
        compute = functools.partial(_train, spec, result.data, settings)
        return key, settings, lambda: self.job.start(RUNS, key, compute, self._deliver,
                                                     label="Training",
                                                     deliver_partial=self._deliver)

    def _deliver(self, run: FiniteRun) -> None:
        """Show ``run``, final or as far as it has trained (on the document; only the latest
        start delivers)."""
        if run.partial:
            self.note, self.session.finite_run = run.describe(), run
            return
        limits = self.session.limits
        self.note = run.describe() + (f" (the step limit; {limits.describe('max_steps')})"
                                      if run.last_step < T_GRID[-1] else "")
        self.session.finite_run = run

    def wait(self, timeout: float | None = None) -> None:
        """Block until a pending or running training ends (tests, scripts)."""
        timer = self._timer
        if timer is not None:
            timer.join(timeout)
        self.job.wait(timeout)


def _train(spec, data, settings: dict, report, should_stop) -> FiniteRun:
    """Train the ensemble of ``settings``; each chunk's run so far goes to ``report`` as a
    partial FiniteRun (a dataclass of arrays: it pickles, wherever this runs)."""
    start, planned = time.perf_counter(), int(settings["steps"][-1])

    def on_chunk(part) -> None:
        if part.steps[-1] < planned:  # the complete run comes as the result
            report(part.steps[-1] / planned,
                   partial=FiniteRun(part, time.perf_counter() - start, planned))

    run = engine.train_ensemble(spec, data.x_train, data.y_train, data.x_test, data.y_test,
                                float32=True, on_progress=report, should_stop=should_stop,
                                on_chunk=on_chunk, **settings)
    if run.stopped:  # a part-trained ensemble is never cached
        raise Cancelled()
    return FiniteRun(run, time.perf_counter() - start)

