"""Thread-safe LRU caches shared by all sessions of the server, under one byte budget.

Keys are hashable settings (canonical spec JSON, dataset parameters, numbers), never
array identities (design.md §1). A value being computed for one session is computed
once: a second session asking for the same key waits for it instead of repeating it.

Every cache counts against one server-wide budget in bytes (``IWE_CACHE_MB``, default
2048): when the arrays held by all caches together exceed it, the least recently used
entries go first, whichever cache holds them. Each cache also keeps at most ``size``
entries.
"""
from __future__ import annotations

import itertools
import os
import threading
import types
import weakref
from collections import OrderedDict
from typing import Callable, Hashable

import numpy as np

#: what the caches may hold in all, in MiB (a small VM's share for results)
DEFAULT_BUDGET_MB = 2048


def nbytes(value, _seen=None) -> int:
    """The bytes of the arrays reachable from ``value`` (each counted once)."""
    seen = set() if _seen is None else _seen
    if id(value) in seen or value is None or isinstance(value, (str, bytes, int, float, bool)):
        return 0
    seen.add(id(value))
    if isinstance(value, np.ndarray) or hasattr(value, "nbytes") and hasattr(value, "shape"):
        return int(value.nbytes)
    if isinstance(value, (types.FunctionType, types.ModuleType, type, types.MethodType)):
        return 0
    if isinstance(value, dict):
        return sum(nbytes(v, seen) for v in value.values())
    if isinstance(value, (list, tuple, set, frozenset)):
        return sum(nbytes(v, seen) for v in value)
    fields = getattr(value, "__dict__", None)
    return sum(nbytes(v, seen) for v in fields.values()) if fields else 0


class Budget:
    """The bytes every registered cache holds together; evicts least recently used first."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._caches: "weakref.WeakSet[Cache]" = weakref.WeakSet()
        self._clock = itertools.count()
        self._lock = threading.RLock()

    def tick(self) -> int:
        return next(self._clock)

    def register(self, cache: "Cache") -> None:
        with self._lock:
            self._caches.add(cache)

    @property
    def used(self) -> int:
        with self._lock:
            return sum(c.bytes for c in list(self._caches))

    def enforce(self) -> None:
        """Drop the least recently used entries of any cache until the total fits."""
        with self._lock:
            while self.used > self.max_bytes:
                oldest = min((c for c in list(self._caches) if len(c)),
                             key=lambda c: c.oldest_tick(), default=None)
                if oldest is None or not oldest.drop_oldest():
                    return


def _budget_from_environment() -> Budget:
    return Budget(int(float(os.environ.get("IWE_CACHE_MB", DEFAULT_BUDGET_MB)) * 2 ** 20))


BUDGET = _budget_from_environment()


class Cache:
    def __init__(self, size: int, budget: Budget | None = None):
        self.size = size
        self.budget = BUDGET if budget is None else budget
        self._values: OrderedDict = OrderedDict()  # key -> (value, bytes, last use)
        self._lock = threading.Lock()
        self._pending: dict[Hashable, threading.Lock] = {}
        self.hits = self.misses = 0
        self.bytes = 0
        self.budget.register(self)

    def __len__(self) -> int:
        return len(self._values)

    def get(self, key: Hashable, compute: Callable[[], object]):
        """The cached value of ``key``, computing it with ``compute()`` on a miss.

        An exception from ``compute`` propagates and nothing is stored.
        """
        found = self._lookup(key)
        if found is not None:
            return found
        with self._lock:
            pending = self._pending.setdefault(key, threading.Lock())
        with pending:
            found = self._lookup(key, count_miss=True)
            if found is not None:
                return found
            try:
                value = compute()
                self.put(key, value)
            finally:
                with self._lock:
                    self._pending.pop(key, None)
            return value

    def _lookup(self, key: Hashable, count_miss: bool = False):
        with self._lock:
            if key in self._values:
                self.hits += 1
                value, size, _ = self._values[key]
                self._values[key] = (value, size, self.budget.tick())
                self._values.move_to_end(key)
                return value
            if count_miss:
                self.misses += 1
            return None

    def peek(self, key: Hashable, default=None):
        """The cached value or ``default``, without computing."""
        with self._lock:
            entry = self._values.get(key)
            return default if entry is None else entry[0]

    def store(self, key: Hashable, value) -> None:
        """Keep ``value``, computed elsewhere for ``key`` (a job's result, wherever it ran);
        counted as a miss, like a computation ``get`` made, unless the key is there already."""
        with self._lock:
            if key not in self._values:
                self.misses += 1
        self.put(key, value)

    def put(self, key: Hashable, value) -> None:
        size = nbytes(value)
        with self._lock:
            if key in self._values:
                self.bytes -= self._values[key][1]
            self._values[key] = (value, size, self.budget.tick())
            self._values.move_to_end(key)
            self.bytes += size
            while len(self._values) > self.size:
                self._pop_oldest()
        self.budget.enforce()

    def oldest_tick(self) -> int:
        with self._lock:
            return next(iter(self._values.values()))[2] if self._values else 1 << 62

    def drop_oldest(self) -> bool:
        with self._lock:
            if not self._values:
                return False
            self._pop_oldest()
            return True

    def _pop_oldest(self) -> None:
        _, (_, size, _) = self._values.popitem(last=False)
        self.bytes -= size

    def __contains__(self, key) -> bool:
        with self._lock:
            return key in self._values

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self.bytes = 0
