"""A bounded least-recently-used map per app: rendered page parts, signed CSRF tokens, opened sessions."""

import threading
from collections import OrderedDict

from flask import current_app

_MAX_PAGES = 1024  # a lesson page ~20 KB with its key, a library part 3–15 KB: ~20 MB a cache at most


class BoundedCache:
    """A least-recently-used map, bounded; one per app (a worker's threads share it)."""

    def __init__(self, size: int = _MAX_PAGES):
        self.size, self._parts, self._lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self._lock:
            part = self._parts.get(key)
            if part is not None:
                self._parts.move_to_end(key)
            return part

    def put(self, key, part) -> None:
        with self._lock:
            self._parts[key] = part
            if len(self._parts) > self.size:
                self._parts.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._parts.clear()

    def __len__(self) -> int:
        return len(self._parts)


def app_cache(name: str, size: int = _MAX_PAGES, app=None) -> BoundedCache:
    """The cache called `name` of `app`, or of the current app (made on first use, holding `size` entries at most)."""
    extensions = (app or current_app).extensions
    cache = extensions.get(name)
    if cache is None:
        cache = extensions.setdefault(name, BoundedCache(size))
    return cache
