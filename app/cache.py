"""A small thread-safe LRU cache shared by all sessions of the server process.

Keys are hashable settings (canonical spec JSON, dataset parameters, numbers), never
array identities (design.md §1). A value being computed for one session is computed
once: a second session asking for the same key waits for it instead of repeating it.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Hashable


class Cache:
    def __init__(self, size: int):
        self.size = size
        self._values: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._pending: dict[Hashable, threading.Lock] = {}
        self.hits = self.misses = 0

    def get(self, key: Hashable, compute: Callable[[], object]):
        """The cached value of ``key``, computing it with ``compute()`` on a miss.

        An exception from ``compute`` propagates and nothing is stored.
        """
        with self._lock:
            if key in self._values:
                self.hits += 1
                self._values.move_to_end(key)
                return self._values[key]
            pending = self._pending.setdefault(key, threading.Lock())
        with pending:
            with self._lock:
                if key in self._values:
                    self.hits += 1
                    return self._values[key]
                self.misses += 1
            try:
                value = compute()
                self.put(key, value)
            finally:
                with self._lock:
                    self._pending.pop(key, None)
            return value

    def peek(self, key: Hashable, default=None):
        """The cached value or ``default``, without computing."""
        with self._lock:
            return self._values.get(key, default)

    def put(self, key: Hashable, value) -> None:
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)

    def __contains__(self, key) -> bool:
        with self._lock:
            return key in self._values

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
