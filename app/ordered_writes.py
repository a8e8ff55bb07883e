"""Panel's messages to a page written in the order they were made.

A page's changes reach the browser as Bokeh PATCH-DOC messages. Making a message marks the
new models it defines as known to the page, so a later message only names them: messages
must be written in the order they were made. Bokeh keeps that order: a change made under
the document lock becomes a message queued on the session (``_pending_writes``) and written,
in order, before the lock is released. Panel 1.9's ``unlocked()`` (every Panel model update
on the event loop, and ``hold``) bypasses that queue: it writes at once (``write_events``),
or, when the socket is busy, makes the message at once and has a task write it when the
socket is free (``schedule_write_events``). A Bokeh message made later in the same locked
callback then waits for the socket in line ahead of that task and is written first, or a
Bokeh message made earlier is still queued when Panel's is written. A lesson step that
opened a tab (Panel defines the tab's figures: scheduled) and filled the figures' data
(a Bokeh change naming them) had the page fail with "reference p7326 isn't known" (CI of
stop 29; tests/ui/write_order.py logged Panel's message made before Bokeh's and written
after it).

``write_in_order()`` makes both of Panel's writes, under the document lock, join Bokeh's
queue (after any message Panel still holds for that page): one queue, written in order.
Outside the lock (no queue) Panel's own path stays.
"""
from __future__ import annotations

import functools

import panel.io.document as panel_document

_MARK = "__iwe_in_order__"


def _queue(doc):
    """The session's list of writes pending under its document lock, or None."""
    context = doc.session_context
    session = getattr(context, "_session", None)
    return getattr(session, "_pending_writes", None)


def _in_order(write):
    @functools.wraps(write)
    def queued(doc, connections, events):
        pending = _queue(doc)
        if pending is None:  # not under the document lock: nothing of Bokeh's to keep pace with
            return write(doc, connections, events)
        # messages Panel made earlier and still holds for a busy socket go first
        panel_document._WRITE_BLOCK.pop(doc, None)
        for conn, messages in panel_document._WRITE_MSGS.pop(doc, {}).items():
            pending.extend(conn._socket.send_message(message) for message in messages)
        for conn in connections:
            pending.append(conn._socket.send_message(conn.protocol.create("PATCH-DOC", events)))
    setattr(queued, _MARK, True)
    return queued


def write_in_order() -> None:
    """Install the ordering (idempotent)."""
    for name in ("write_events", "schedule_write_events"):
        write = getattr(panel_document, name)
        if not getattr(write, _MARK, False):
            setattr(panel_document, name, _in_order(write))
