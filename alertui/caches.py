"""In-process caches bounded by the memory their entries take, not by how many there are.

A count bound says nothing about memory when an entry may be a 500-alert page or one short
line, and query strings are attacker-controlled: each cache here holds at most its share of
ALERTS_CACHE_MB, evicting the least recently used entries first. Thread-safe (gunicorn threads
share them).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Hashable
from threading import Lock

from cachetools import LRUCache
from django.conf import settings

MB = 1024 * 1024


def approx_size(value) -> int:
    """Bytes a value takes, counting what strings, numbers and tuples hold (the cache keys and
    the HTML values); other objects count their shallow size, so callers with lists of shared
    objects pass their own measure."""
    if isinstance(value, tuple | list | frozenset):
        return sys.getsizeof(value) + sum(approx_size(item) for item in value)
    return sys.getsizeof(value)


class BoundedCache:
    """An LRU cache holding at most `share` of settings.ALERTS_CACHE_MB, keys included.

    The budget is read at each store, so a changed setting takes effect (by emptying the
    cache) without a restart. A value larger than the whole budget is not kept.
    """

    def __init__(self, name: str, share: float, sizeof: Callable[[object], int] = approx_size):
        self.name = name
        self.share = share
        self.sizeof = sizeof
        self._lock = Lock()
        self._entries = LRUCache(maxsize=1, getsizeof=_stored_size)
        self.hits = self.misses = 0

    @property
    def budget(self) -> int:
        return int(settings.ALERTS_CACHE_MB * MB * self.share)

    def get(self, key: Hashable):
        with self._lock:
            stored = self._entries.get(key)
            if stored is None:
                self.misses += 1
                return None
            self.hits += 1
            return stored[1]

    def put(self, key: Hashable, value) -> None:
        size = self.sizeof(value) + approx_size(key)
        with self._lock:
            budget = self.budget
            if self._entries.maxsize != budget:
                self._entries = LRUCache(maxsize=budget, getsizeof=_stored_size)
            if size <= budget:
                self._entries[key] = (size, value)

    def get_or_make(self, key: Hashable, make: Callable[[], object]):
        found = self.get(key)
        if found is None:
            found = make()
            self.put(key, found)
        return found

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    @property
    def size(self) -> int:
        """Bytes accounted to the entries held now (never more than the budget)."""
        with self._lock:
            return int(self._entries.currsize)


def _stored_size(stored: tuple[int, object]) -> int:
    return stored[0]
