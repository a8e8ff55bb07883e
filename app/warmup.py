"""Warm-up at server start: every lesson step and preset computed once, in the background.

``start(limits)`` (called by the first page of a server, when ``IWE_WARMUP=1``; ``make
serve`` sets it) runs one thread that walks the lessons' steps and the presets in a
session of its own, with the views of each step's tab, exactly as a visitor's page would:
the same ``Job``s submit the same cache keys to the server's job service
(app/jobs/service.py SERVICE), so the results land in the server-wide caches every session
reads. One step at a time: a visitor's request waits behind at most one warm-up task per
lane. The thread only waits; the event loop never computes or blocks on it. At the end it
freezes what the warm-up left alive (``run_then_freeze``).
"""
from __future__ import annotations

import logging
import os
import threading
import time

from . import heap
from .lessons import LESSONS, apply_step
from .state.analysis_settings import TAB_SLUGS
from .state.presets import PRESETS
from .state.session import Session
from .views.registry import TABS, tab_views
from .views.tabs import computed_parts

LOG = logging.getLogger(__name__)
#: seconds a warm-up step may take before the warm-up moves on
STEP_TIMEOUT = 900
_STARTED = threading.Event()


def enabled() -> bool:
    return os.environ.get("IWE_WARMUP", "0") == "1"


def start(limits) -> threading.Thread | None:
    """Start the warm-up once per server process (if enabled); returns its thread."""
    if not enabled() or _STARTED.is_set():
        return None
    _STARTED.set()
    thread = threading.Thread(target=run_then_freeze, args=(limits,), name="iwe-warmup",
                              daemon=True)
    thread.start()
    return thread


def steps() -> list:
    """The lessons' steps, then the presets (at the default tab), in teaching order."""
    return [step for lesson in LESSONS.values() for step in lesson.steps] + list(PRESETS)


#: how far this process's warm-up is (``/readiness`` reports it): items done of total, and
#: the seconds it took once finished
PROGRESS = {"done": 0, "total": 0, "seconds": None}


def run(limits=None, todo=None, timeout: float = STEP_TIMEOUT) -> int:
    """Compute ``todo`` (default: ``steps()``; a step or a preset name); returns how many
    finished within ``timeout`` each."""
    start = time.monotonic()
    session = Session(limits)
    # every view of every tab, those below a tab's row too (the residual modes)
    views = {slug: [view(session=session) for view in tab_views(title)]
             for title, slug in TAB_SLUGS.items() if title in TABS}
    items = steps() if todo is None else list(todo)
    PROGRESS.update(done=0, total=len(items), seconds=None)
    done = 0
    for item in items:
        try:
            done += _warm(session, views, item, timeout)
        except Exception:  # a warm-up never takes the server down
            LOG.exception("warm-up of %r failed", item)
        PROGRESS["done"] += 1
    session.close()
    PROGRESS["seconds"] = round(time.monotonic() - start, 1)
    return done


def run_then_freeze(limits=None) -> None:
    """The server's warm-up, then what it left alive out of the cycle collector's walks
    (app/heap.py): JAX's traces of every lesson's and preset's networks, ~560,000 objects
    after the lessons alone, made each full collection (Panel runs one 5 s after a page
    closes) take ~0.4 s in-process and ~1 s of a served app's event loop (py-spy, a lesson
    step). They are freed by reference counting when JAX lets them go (0 cyclic garbage
    after ``jax.clear_caches()``), so freezing them leaks nothing; the pages open at that
    moment are frozen too, and their cycles stay when they close (a few MB, once)."""
    run(limits)
    heap.freeze()


def _warm(session, views, item, timeout: float) -> bool:
    if isinstance(item, str):
        with session.one_update():
            session.load_preset(item)
            session.selection.view = "dynamics"
    else:
        apply_step(session, item)
    finished = session.closed_form_job.wait(timeout)
    finished &= session.finite_ensembles.wait(timeout) is not False
    for view in views.get(session.selection.view, []):
        for part in computed_parts(view):
            finished &= part.job.wait(timeout)
    LOG.info("warm-up: %s", getattr(item, "title", item))
    return bool(finished)
