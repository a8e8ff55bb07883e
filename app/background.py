"""Long computations off the event loop: one job per view, with progress and a stop button.

A ``Job`` runs ``compute(report, should_stop)`` in a thread and hands the result to
``deliver``; ``report(fraction)`` moves the progress bar and raises ``Cancelled`` once
``cancel()`` was pressed, which stops engine work that calls it between pieces (kernel
tiles, training chunks, widths). Results are cached server-wide by the caller's key
(app/cache.py), so a second session asking for the same settings gets them at once.
Starting a new job cancels the previous one of the same Job; only the latest delivers.
"""
from __future__ import annotations

import atexit
import threading
import traceback
import weakref
from typing import Callable, Hashable

import panel as pn
import param

from .cache import Cache


#: the status shown when a result comes from the server-wide cache
FROM_CACHE = "From the server's cache (computed earlier with these settings)."
#: seconds to wait at interpreter exit for running jobs to reach their next progress report
EXIT_GRACE = 120
_JOBS: "weakref.WeakSet[Job]" = weakref.WeakSet()


class Cancelled(Exception):
    """Raised from a progress report after the user pressed stop."""


class Job(param.Parameterized):
    progress = param.Number(default=0.0, bounds=(0.0, 1.0), doc="Fraction done.")
    running = param.Boolean(default=False, doc="A computation is under way.")
    status = param.String(default="", doc="What the job is doing, or why it stopped.")

    def __init__(self, **params):
        super().__init__(**params)
        self._stop = threading.Event()
        self._generation = 0
        self._lock = threading.Lock()
        self.thread: threading.Thread | None = None
        _JOBS.add(self)
        doc = pn.state.curdoc
        if doc is not None and doc.session_context is not None:
            # a closed browser tab stops its work (Bokeh destroys it soon after it disconnects)
            doc.on_session_destroyed(self._on_session_destroyed)

    def _on_session_destroyed(self, session_context) -> None:
        self.cancel(status="")

    def start(self, cache: Cache, key: Hashable, compute: Callable, deliver: Callable,
              label: str = "Computing") -> None:
        """Deliver ``cache[key]``, computing it in a thread on a miss."""
        cached = cache.peek(key)
        if cached is not None:
            self.cancel(status="")
            self.status = FROM_CACHE
            deliver(cached)
            return
        with self._lock:
            self._stop.set()
            self._stop = stop = threading.Event()
            self._generation += 1
            generation = self._generation
        self.param.update(running=True, progress=0.0, status=f"{label}…")

        def report(fraction: float) -> None:
            if stop.is_set():
                raise Cancelled()
            if generation == self._generation:
                self.progress = min(max(float(fraction), 0.0), 1.0)

        def work():
            try:
                value = cache.get(key, lambda: compute(report, stop.is_set))
            except Cancelled:
                return
            except Exception as err:  # shown to the user, never swallowed silently
                traceback.print_exc()
                self._finish(generation, f"Failed: {err}")
                return
            if generation == self._generation and not stop.is_set():
                deliver(value)
                self._finish(generation, "")

        self.thread = threading.Thread(target=work, daemon=True, name=f"job-{label}")
        self.thread.start()

    def _finish(self, generation: int, status: str) -> None:
        if generation == self._generation:
            self.param.update(running=False, progress=1.0 if not status else self.progress,
                              status=status)

    def cancel(self, event=None, status: str = "Stopped; change a setting to compute again.") -> None:
        """Stop the running computation (nothing is cached from it)."""
        with self._lock:
            self._stop.set()
            self._generation += 1
        # also when idle: a restart's status="" clears a stale "From the server's cache"
        self.param.update(running=False, status=status)

    def wait(self, timeout: float | None = None) -> None:
        """Block until the current thread ends (tests, scripts)."""
        if self.thread is not None:
            self.thread.join(timeout)


@atexit.register
def _stop_all() -> None:
    """Stop running jobs before the interpreter exits: a thread killed inside a compiled
    computation aborts the process (tests, server shutdown)."""
    jobs = list(_JOBS)
    for job in jobs:
        job._stop.set()
    for job in jobs:
        job.wait(EXIT_GRACE)
