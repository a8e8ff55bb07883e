"""Panel's busy counter, made safe for the threads that run widget callbacks.

Panel 1.9 counts the callbacks in flight on the one global ``pn.state``: every threaded
widget callback adds an event before it runs and removes it after, and each change sets the
read-only ``busy`` inside ``edit_readonly``, which turns ``readonly`` off, assigns and turns
it back on. Two callback threads interleaving there restore each other's saved flags: one of
them then assigns ``busy`` while it is read-only again and the callback dies with
``TypeError: Read-only parameter 'busy' cannot be modified`` (a slider move that never
answers), or ``busy`` stays writable for good. In a room of students moving sliders it
happened once or twice in a 10-page run.

``serialize_busy_counter()`` runs Panel's three counter methods under one lock (re-entrant:
a change of the counter sets ``busy`` from a watcher on the same thread). The methods only
edit a list and two flags, so the lock is held for microseconds.
tests/app/test_busy_counter.py shows the race and its end.
"""
from __future__ import annotations

import functools
import threading

from panel.io.state import _state

_LOCK = threading.RLock()
_METHODS = ("_add_busy_event", "_remove_busy_event", "_cleanup_busy_counter")


def _serialized(method):
    @functools.wraps(method)
    def locked(*args, **kwargs):
        with _LOCK:
            return method(*args, **kwargs)
    locked.__iwe_serialized__ = True
    return locked


def serialize_busy_counter() -> None:
    """Install the lock (idempotent)."""
    for name in _METHODS:
        method = getattr(_state, name)
        if not getattr(method, "__iwe_serialized__", False):
            setattr(_state, name, _serialized(method))
