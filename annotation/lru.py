"""A thread-safe least-recently-used cache bounded by the bytes of its values (numpy arrays
and images), so decoded scans and rendered views are computed once per process."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class ByteLRU(Generic[V]):
    """``get_or_make(key, make)``: the cached value, or ``make()`` stored under ``key``.

    ``size_of(value)`` gives a value's cost in bytes; the least recently used values are
    dropped while the total exceeds ``max_bytes`` (a value larger than the budget is returned
    but not kept). Two threads asking for the same missing key may both compute it; the last
    result is kept, which is harmless for pure renderings.
    """

    def __init__(self, max_bytes: int, size_of: Callable[[V], int]) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be > 0")
        self.max_bytes = max_bytes
        self._size_of = size_of
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return entry[0]

    def put(self, key: Hashable, value: V) -> None:
        size = max(1, int(self._size_of(value)))
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._total -= old[1]
            if size > self.max_bytes:
                return
            self._items[key] = (value, size)
            self._total += size
            while self._total > self.max_bytes and self._items:
                _, (_, dropped) = self._items.popitem(last=False)
                self._total -= dropped

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        found = self.get(key)
        if found is not None:
            return found
        with self._lock:
            self.misses += 1
        value = make()
        self.put(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._total = 0

    @property
    def total_bytes(self) -> int:
        return self._total
