"""A view's long computation as the user sees it: progress, queue place, a stop button.

A ``Job`` belongs to one view of one session. ``start`` delivers a cached result at once,
or submits ``compute(report, should_stop)`` (a pure function of the settings ``key``
stands for) to the server's job service (app/jobs/service.py), so identical requests of
other sessions share the work; the result, wherever it was computed (a thread of the
server, a Dask worker process), is stored in the server's ``cache`` under ``key`` when it
arrives. Starting again supersedes the previous request; ``cancel()`` (the stop button, a
closed tab) unsubscribes.

Everything a job changes (its progress, status and the delivered result) is applied on the
session's Bokeh document through ``add_next_tick_callback``, i.e. on the event loop under the
document lock, and only if that start is still the latest: a superseded result can never
land, and no model is touched from a worker thread.
"""
from __future__ import annotations

import functools
import logging
import threading
import time
import weakref
from typing import Callable, Hashable

import panel as pn
import param
from panel.io.document import hold
from panel.io.state import set_curdoc

from .cache import Cache
from .service import HEAVY, SERVICE, Cancelled, Pieces, Subscriber

__all__ = ["Cancelled", "Job", "FROM_CACHE"]

LOG = logging.getLogger(__name__)

#: the status shown when a result comes from the server-wide cache
FROM_CACHE = "From the server's cache (computed earlier with these settings)."
#: seconds between two progress updates sent to the browser. Each update is a message to
#: the page, and each message costs the event loop a pass over the page's ~500 models
#: (Bokeh's serializer): at 0.1 s, job-bar updates were 10 % of a 30-page classroom's busy
#: event-loop samples before the messages they cause
PROGRESS_INTERVAL = 0.5
#: seconds between two parts of a result shown (the first at once): a part redraws figures
#: on the server's event loop, and 30 sessions streaming ten parts a second saturated it
#: (benchmarks/classroom.py: 86 % of the loop's samples were finite-ensemble redraws)
PARTIAL_INTERVAL = 1.0


def session_document():
    """The current session's Bokeh document, or None outside a served session."""
    doc = pn.state.curdoc
    return doc if doc is not None and doc.session_context is not None else None


class _PageGate:
    """Holds a session's changes until its page has loaded, then lets them through.

    Model changes made after the HTML was sent but before the page's websocket is open are
    lost in the browser (the page shows a half-updated state for good), so changes wait for
    Panel's onload and are applied there, in order; later ones go straight to the event loop.
    """

    def __init__(self, doc):
        self.loaded, self.pending, self.lock = False, [], threading.Lock()
        self.builder = threading.get_ident()  # the thread making the page (may change it)
        with set_curdoc(doc):
            pn.state.onload(self.flush)

    def flush(self) -> None:
        with self.lock:
            pending, self.pending, self.loaded = self.pending, [], True
        for change in pending:
            change()

    def hold(self, change: Callable[[], None]) -> bool:
        """Keep ``change`` for the page load; False once the page is there, or in the thread
        still making the page (its changes are part of the page sent)."""
        with self.lock:
            if not self.loaded and threading.get_ident() == self.builder:
                return False
            if not self.loaded:
                self.pending.append(change)
            return not self.loaded


_GATES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_GATES_LOCK = threading.Lock()


def page_gate(doc) -> _PageGate:
    """The gate of ``doc`` (made, and registered with Panel's onload, on first use)."""
    with _GATES_LOCK:
        gate = _GATES.get(doc)
        if gate is None:
            gate = _GATES[doc] = _PageGate(doc)
            if doc.session_context is not None:
                doc.on_session_destroyed(functools.partial(_forget, weakref.ref(doc)))
        return gate


def _forget(doc_ref, session_context) -> None:
    """Drop a closed page's held and queued changes: they capture its document, so as values
    of the weak dictionaries keyed by it they kept it (and every view and figure of the page)
    alive after the session was destroyed (benchmarks/classroom.py, 20 pages: 17 of their
    documents still alive 60 s after every page closed; none with this)."""
    doc = doc_ref()
    if doc is None:
        return
    with _GATES_LOCK:
        gate = _GATES.pop(doc, None)
    if gate is not None:  # Panel's onload keeps the gate until its own cleanup
        with gate.lock:
            gate.pending, gate.loaded = [], True
    with _QUEUED_LOCK:
        _QUEUED.pop(doc, None)


def in_document(doc, change: Callable[[], None]) -> None:
    """Run ``change`` on ``doc``'s event loop under its lock (directly without a server),
    with ``doc`` as Panel's current document, so the models it changes are patched in that
    session's page; before the page has loaded, at its load."""
    if doc is None:
        change()
        return

    def run():
        with set_curdoc(doc):
            change()
    gate = page_gate(doc)
    if gate.hold(run):
        return
    if not gate.loaded:  # the page is being made in this thread: part of what is sent
        change()
        return
    with _QUEUED_LOCK:
        queued = _QUEUED.get(doc)
        if queued is not None:  # a write of this document is already scheduled: join it
            queued.append(run)
            return
        _QUEUED[doc] = [run]
    try:
        doc.add_next_tick_callback(functools.partial(_write_queued, doc))
    except Exception:  # the session is gone: nothing to show it on
        with _QUEUED_LOCK:
            _QUEUED.pop(doc, None)


#: changes waiting for their document's next event-loop turn, in order
_QUEUED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_QUEUED_LOCK = threading.Lock()


def _write_queued(doc) -> None:
    """Apply every change queued for ``doc`` in one turn of the event loop, held, so the page
    gets them as one Bokeh message: a time-slider move patches a dozen data sources and
    panes, and a message each (several websocket frames apiece) kept the event loop of a
    30-page classroom busy writing frames."""
    with _QUEUED_LOCK:
        changes = _QUEUED.pop(doc, [])
    with hold(doc):
        for change in changes:
            try:
                change()
            except Exception:  # one view's failure leaves the others' changes standing
                LOG.exception("a change of the page failed")


def task_name(compute: Callable) -> str:
    """``module.qualname`` of the function ``compute`` calls (through functools.partial;
    for a computation in ``Pieces``, the one its parts call: the same whole)."""
    if isinstance(compute, Pieces):
        compute = compute.parts[0][1]
    while isinstance(compute, functools.partial):
        compute = compute.func
    return f"{getattr(compute, '__module__', '')}.{getattr(compute, '__qualname__', type(compute).__name__)}"


class Job(param.Parameterized):
    progress = param.Number(default=0.0, bounds=(0.0, 1.0), doc="Fraction done.")
    running = param.Boolean(default=False, doc="A computation is queued or under way.")
    status = param.String(default="", doc="What the job is doing, or why it stopped.")

    def __init__(self, lane: str = HEAVY, **params):
        super().__init__(**params)
        self.lane = lane
        self._lock = threading.Lock()
        self._generation = 0
        self._ticket = None
        self._idle = threading.Event()
        self._idle.set()
        self._doc = session_document()
        if self._doc is not None:  # a closed browser tab stops its work
            page_gate(self._doc)  # registered while the page is being made
            self._doc.on_session_destroyed(lambda context: self.cancel(status=""))

    def start(self, cache: Cache, key: Hashable, compute: Callable, deliver: Callable,
              label: str = "Computing", deliver_partial: Callable | None = None) -> None:
        """Deliver ``cache[key]``: at once from the cache, else when the service computed it.

        ``deliver_partial(part)`` shows a part of the result while the work goes on (what
        ``compute`` passes as ``report(fraction, partial=part)``); only the latest part not yet
        shown is applied, so a slow page skips parts rather than queueing them.
        """
        cached = cache.peek(key)
        if cached is not None:  # the result first: a status change finds it delivered
            self.cancel(status="")
            self._apply(self._generation,
                        lambda: (deliver(cached), setattr(self, "status", FROM_CACHE)))
            return
        with self._lock:
            old, self._ticket = self._ticket, None
            self._generation += 1
            generation = self._generation
            self._idle.clear()
        self._apply(generation, lambda: self.param.update(running=True, progress=0.0,
                                                          status=f"Queued: {label}…"))
        last, notice = [0.0], [""]

        def on_progress(fraction: float) -> None:
            now = time.monotonic()
            if fraction == 0.0 or now - last[0] >= PROGRESS_INTERVAL:
                last[0] = now
                value = min(max(float(fraction), 0.0), 1.0)
                text = f"{label}… {notice[0]}".strip()
                self._apply(generation, lambda: self.param.update(progress=value, status=text))

        def on_queue(ahead: int) -> None:
            text = (f"Queued: {ahead} job{'s' if ahead != 1 else ''} ahead ({label.lower()})"
                    if ahead else f"Queued: next to start ({label.lower()})")
            self._apply(generation, lambda: setattr(self, "status", text))

        waiting, shown_at = [None], [0.0]  # the latest part not yet applied; when one was

        def on_partial(part) -> None:
            with self._lock:
                scheduled, waiting[0] = waiting[0] is not None, part
            if scheduled:
                return

            def show():
                with self._lock:
                    latest, waiting[0] = waiting[0], None
                shown_at[0] = time.monotonic()
                if latest is not None:
                    deliver_partial(latest)
            # the first part at once, then at most one per PARTIAL_INTERVAL: each redraws
            # the session's figures on the event loop, which every session shares
            delay = PARTIAL_INTERVAL - (time.monotonic() - shown_at[0])
            if delay <= 0:
                self._apply(generation, show)
                return
            timer = threading.Timer(delay, lambda: self._apply(generation, show))
            timer.daemon = True
            timer.start()

        def on_done(value, error) -> None:
            if isinstance(error, Cancelled):  # stopped from inside (nothing to show)
                self._apply(generation, lambda: self._finish("Stopped."), last=True)
                return
            if error is not None:
                self._apply(generation, lambda: self._finish(f"Failed: {error}"), last=True)
                return

            cache.store(key, value)  # for every later request (also if this one moved on)

            def finish():
                with self._lock:  # a part still waiting for its turn is older than this
                    waiting[0] = None
                deliver(value)
                self._finish("")
            self._apply(generation, finish, last=True)

        def on_notice(text: str) -> None:  # stays beside the label while the task goes on
            notice[0] = f"{text}."
            shown = f"{label}… {notice[0]}"
            self._apply(generation, lambda: setattr(self, "status", shown))

        # the service's key names the computation too: two views' equal settings are two tasks
        ticket = SERVICE.submit((task_name(compute), key), compute,
                                Subscriber(on_progress, on_queue, on_done,
                                           on_partial if deliver_partial else None, on_notice),
                                lane=self.lane)
        if old is not None:  # after the new submit: the same key keeps its running task
            old.cancel()
        with self._lock:
            if generation == self._generation:
                self._ticket = ticket
                return
        ticket.cancel()  # superseded while submitting

    def _apply(self, generation: int, change: Callable[[], None], last: bool = False) -> None:
        """Apply ``change`` on the document if ``generation`` is still the latest start."""
        def guarded():
            try:
                if generation == self._generation:
                    change()
            finally:
                if last and generation == self._generation:
                    self._idle.set()
        in_document(self._doc, guarded)

    def _finish(self, status: str) -> None:
        with self._lock:
            self._ticket = None
        self.param.update(running=False, progress=1.0 if not status else self.progress,
                          status=status)

    def cancel(self, event=None, status: str = "Stopped; change a setting to compute again.") -> None:
        """Stop waiting for the current computation (the service stops it if nobody else waits)."""
        with self._lock:
            ticket, self._ticket = self._ticket, None
            self._generation += 1
        if ticket is not None:
            ticket.cancel()
        self._idle.set()
        # also when idle: a restart's status="" clears a stale "From the server's cache"
        in_document(self._doc, lambda: self.param.update(running=False, status=status))

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the latest start delivered, failed or was cancelled (tests, scripts)."""
        return self._idle.wait(timeout)
