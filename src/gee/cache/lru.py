"""A byte-bounded least-recently-used cache: groupcache's ``lru`` package, counted in bytes.

The cache is a leaf: it imports nothing of gee and knows nothing of groups, peers or asyncio.
It is not safe for concurrent use from several threads; :class:`gee.cache.Group` uses it from
one event loop only, where no lock is needed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator

__all__ = ["LRUCache", "entry_size"]

EvictedCallback = Callable[[str, bytes], None]


def entry_size(key: str, value: bytes) -> int:
    """Return what one entry costs against ``max_bytes``: the key's UTF-8 length + the value's."""
    return (len(key) if key.isascii() else len(key.encode("utf-8", "surrogateescape"))) + len(value)


class LRUCache:
    """An LRU cache of ``str`` keys and ``bytes`` values, bounded by their total size in bytes.

    ``max_bytes`` is the most the keys and values may add up to (see :func:`entry_size`);
    zero means no limit, and the caller evicts with :meth:`remove_oldest` (as ``Group`` does to
    share one budget between two caches). ``on_evicted``, if not None, is called with the key and
    value of every entry that leaves the cache by eviction or :meth:`remove` (not by
    :meth:`add` replacing a value, nor by :meth:`clear`).

    Every operation is O(1): an ``OrderedDict`` keeps entries oldest first, and a hit moves its
    entry to the end. An entry larger than ``max_bytes`` on its own is not stored, and an older
    value of its key is removed.
    """

    __slots__ = ("_data", "_get", "_move_to_end", "max_bytes", "nbytes", "on_evicted")

    def __init__(self, max_bytes: int = 0, on_evicted: EvictedCallback | None = None) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0 (0 means no limit); got {max_bytes}")
        self.max_bytes = max_bytes
        self.on_evicted = on_evicted
        # The entries, oldest first. The bound methods are looked up once: get() is the hot path.
        self._data: OrderedDict[str, bytes] = OrderedDict()
        self._get = self._data.get
        self._move_to_end = self._data.move_to_end
        # The sum of entry_size() over all entries.
        self.nbytes = 0

    def get(self, key: str) -> bytes | None:
        """Return the value of ``key`` and mark it most recently used; None if it is absent."""
        value = self._get(key)
        if value is not None:
            self._move_to_end(key)
        return value

    def peek(self, key: str) -> bytes | None:
        """Return the value of ``key`` without touching its recency; None if it is absent."""
        return self._get(key)

    def add(self, key: str, value: bytes) -> None:
        """Add or replace ``key``, mark it most recently used, then evict down to ``max_bytes``."""
        data = self._data
        if self.max_bytes and entry_size(key, value) > self.max_bytes:
            # It could never fit: keep the others rather than evict them all for nothing.
            self.remove(key)
            return
        old = data.get(key)
        if old is not None:
            self.nbytes += len(value) - len(old)
            data[key] = value
            data.move_to_end(key)
        else:
            data[key] = value
            self.nbytes += entry_size(key, value)
        if self.max_bytes:
            while self.nbytes > self.max_bytes and data:
                self.remove_oldest()

    def remove(self, key: str) -> bytes | None:
        """Remove ``key`` and return its value; None if it was absent."""
        value = self._data.pop(key, None)
        if value is not None:
            self.nbytes -= entry_size(key, value)
            if self.on_evicted is not None:
                self.on_evicted(key, value)
        return value

    def remove_oldest(self) -> tuple[str, bytes] | None:
        """Remove the least recently used entry and return it; None if the cache is empty."""
        if not self._data:
            return None
        key, value = self._data.popitem(last=False)
        self.nbytes -= entry_size(key, value)
        if self.on_evicted is not None:
            self.on_evicted(key, value)
        return key, value

    def clear(self) -> None:
        """Drop every entry without calling ``on_evicted``."""
        self._data.clear()
        self.nbytes = 0

    def keys(self) -> Iterator[str]:
        """Iterate over the keys, least recently used first (does not touch recency)."""
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` is cached; does not touch its recency."""
        return key in self._data

    def __repr__(self) -> str:
        return f"LRUCache(max_bytes={self.max_bytes}, nbytes={self.nbytes}, len={len(self)})"
