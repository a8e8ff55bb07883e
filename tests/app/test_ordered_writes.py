"""Panel's messages to a page join Bokeh's queue under the document lock
(app/ordered_writes.py); the browser tests' server checks the order on the wire
(tests/ui/write_order.py)."""
import panel.io.document as panel_document
from bokeh.document.events import TitleChangedEvent
from bokeh.protocol import Protocol

from app.ordered_writes import _in_order, write_in_order


class Socket:
    def __init__(self):
        self.sent = []

    async def send_message(self, message):
        self.sent.append(message)


class Connection:
    def __init__(self):
        self._socket, self.protocol = Socket(), Protocol()


class Page:
    """A document as a served session has it: ``_pending_writes`` is a list while a callback
    holds the document lock, None otherwise."""

    def __init__(self, pending):
        from bokeh.document import Document
        self.document = Document()
        self.session_context = type("Context", (), {})()
        self.session_context._session = type("Session", (), {"_pending_writes": pending})()

    def event(self, title):
        return TitleChangedEvent(self.document, title)


def _run(coroutine) -> None:
    """Run a coroutine that never suspends (this test's Socket.send_message) without an event
    loop: the browser tests of the same worker may have one running in this thread."""
    try:
        coroutine.send(None)
    except StopIteration:
        return
    raise AssertionError("the write suspended")


def _titles(messages):
    return [m.content["events"][0]["title"] for m in messages]


def test_under_the_lock_panel_writes_join_bokehs_queue_after_what_it_still_held():
    write_in_order()
    pending, connection = [], Connection()
    page = Page(pending)
    held = connection.protocol.create("PATCH-DOC", [page.event("held for a busy socket")])
    panel_document._WRITE_BLOCK[page] = True
    panel_document._WRITE_MSGS[page] = {connection: [held]}
    panel_document.write_events(page, [connection], [page.event("written at once")])
    panel_document.schedule_write_events(page, [connection], [page.event("scheduled")])
    assert connection._socket.sent == []  # nothing bypasses the queue
    assert page not in panel_document._WRITE_MSGS and page not in panel_document._WRITE_BLOCK

    for write in pending:  # as Bokeh does when the callback returns: each in turn
        _run(write)
    assert _titles(connection._socket.sent) == ["held for a busy socket", "written at once",
                                                "scheduled"]


def test_outside_the_lock_panels_own_path_stays():
    calls = []
    write = _in_order(lambda doc, connections, events: calls.append(events))
    connection = Connection()
    outside, under = Page(None), Page([])
    write(outside, [connection], ["an event"])
    assert calls == [["an event"]]
    write(under, [connection], [under.event("queued")])
    assert calls == [["an event"]] and len(under.session_context._session._pending_writes) == 1
    under.session_context._session._pending_writes[0].close()  # never awaited here


def test_installed_once():
    write_in_order()
    write_in_order()
    for name in ("write_events", "schedule_write_events"):
        write = getattr(panel_document, name)
        assert write.__iwe_in_order__ and not getattr(write.__wrapped__, "__iwe_in_order__", False)
