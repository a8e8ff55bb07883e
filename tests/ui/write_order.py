"""A Bokeh server plugin for the browser tests' server: logs every PATCH-DOC message written
to a page after a message made later than it (app/ordered_writes.py: a message names the
models an earlier one defined, so out of order the page fails with "reference … isn't
known", and only if the browser happens to read it then). The ``server`` fixture fails the
run on any such line in the server's log (``OUT_OF_ORDER``).

It numbers messages as Bokeh's protocol makes them and checks the numbers where every
message's first frame is written (tornado's ``WebSocketHandler.write_message``: Bokeh's own
path and Panel's both end there).
"""
from __future__ import annotations

import itertools
import logging
import sys
import threading
import weakref

from bokeh.protocol import Protocol
from tornado.websocket import WebSocketHandler

OUT_OF_ORDER = "PATCH-DOC written out of order"
LOG = logging.getLogger(__name__)
ROUTES: list = []

_NUMBERS = itertools.count()
_MADE: dict = {}  # a message's header frame -> (number, where it was made)
_LAST: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # socket -> (number, where)
_LOCK = threading.Lock()


def _where(depth: int = 6) -> str:
    frame, names = sys._getframe(2), []
    while frame is not None and len(names) < depth:
        names.append(f"{frame.f_code.co_filename.rsplit('/', 2)[-1]}:{frame.f_code.co_name}")
        frame = frame.f_back
    return " <- ".join(names)


_create = Protocol.create


def create(self, msgtype, *args, **kwargs):
    message = _create(self, msgtype, *args, **kwargs)
    if msgtype == "PATCH-DOC":
        with _LOCK:
            _MADE[message.header_json] = (next(_NUMBERS), _where())
    return message


_write = WebSocketHandler.write_message


def write_message(self, message, binary=False):
    if isinstance(message, str):
        with _LOCK:
            made = _MADE.pop(message, None)
            if made is not None:
                last = _LAST.get(self)
                if last is not None and made[0] < last[0]:
                    LOG.error("%s: message %d (made at %s) after message %d (made at %s)",
                              OUT_OF_ORDER, made[0], made[1], last[0], last[1])
                else:
                    _LAST[self] = made
    return _write(self, message, binary)


Protocol.create = create
WebSocketHandler.write_message = write_message
