"""The keyspace: numbered databases of Python values, with expiry, WATCH and blocking hooks.

Values are plain Python objects whose type is the Redis type: ``bytes`` (string), ``deque``
(list, its elements stored RESP-encoded: see commands/lists.py), ``dict`` (hash), ``set``
(set), ``ZSet`` (sorted set). Commands read through ``get``, which applies lazy expiry; every
write passes through ``modified``, the one hook where WATCH is broken and the dirty counter
grows (persistence will hang its propagation off the same hook).

Expiry is lazy on access plus an active cycle. The cycle keeps a heap of (deadline, key) per
database instead of Redis's random sampling: Python dicts cannot be sampled in O(1), and a heap
reclaims every expired key in deadline order with a bounded amount of work per cycle. Heap
entries are never updated in place; an entry whose deadline no longer matches ``expires`` is
stale and skipped, and the heap is rebuilt when stale entries outnumber live ones.
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gee.kv.zset import ZSet

if TYPE_CHECKING:
    from gee.kv.connection import Client

# Redis's TYPE names for gee's value classes.
TYPE_NAMES: dict[type, bytes] = {
    bytes: b"string",
    deque: b"list",
    dict: b"hash",
    set: b"set",
    ZSet: b"zset",
}


def now_ms() -> int:
    """Wall-clock milliseconds, the unit of every deadline in ``expires``."""
    return int(time.time() * 1000)


class Database:
    """One numbered database: keys, their deadlines, and who watches or waits on them."""

    __slots__ = (
        "blocked",
        "data",
        "expires",
        "heap",
        "index",
        "keyspace",
        "meta",
        "sample_all",
        "sample_changes",
        "sample_ttl",
        "sample_ttl_changes",
        "used",
        "watched",
    )

    def __init__(self, index: int, keyspace: Keyspace) -> None:
        self.index = index
        self.keyspace = keyspace
        self.data: dict[bytes, Any] = {}
        # key -> absolute deadline in ms; only keys with a TTL are here.
        self.expires: dict[bytes, int] = {}
        # (deadline, key) entries, possibly stale; see the module docstring.
        self.heap: list[tuple[int, bytes]] = []
        # key -> clients that WATCH it in this database.
        self.watched: dict[bytes, list[Client]] = {}
        # key -> clients blocked on it, first come first served.
        self.blocked: dict[bytes, deque[Client]] = {}
        # While memory tracking is on (see memory.py): key -> size estimate << 40 | access
        # clock, the sum of the sizes, and the key lists eviction samples from (None: not
        # built yet) with how many changes each has missed since.
        self.meta: dict[bytes, int] = {}
        self.used = 0
        self.sample_all: list[bytes] | None = None
        self.sample_ttl: list[bytes] | None = None
        self.sample_changes = 0
        self.sample_ttl_changes = 0

    def get(self, key: bytes) -> Any:
        """Return the value at ``key``, or None when it is missing or has expired."""
        value = self.data.get(key)
        if value is not None and self.expires:
            when = self.expires.get(key)
            if when is not None and when <= now_ms() and not self.keyspace.loading:
                self.expire_now(key)
                return None
        return value

    def __contains__(self, key: bytes) -> bool:
        return self.get(key) is not None

    def expire_now(self, key: bytes) -> None:
        """Delete ``key`` because its deadline passed (a write: watchers see it)."""
        del self.data[key]
        del self.expires[key]
        keyspace = self.keyspace
        keyspace.expired_keys += 1
        self.modified(key)
        if keyspace.on_expired is not None:
            keyspace.on_expired(self.index, key)

    def set(self, key: bytes, value: Any) -> None:
        """Store ``value`` at ``key`` and drop any TTL (as a plain SET does)."""
        self.data[key] = value
        if self.expires and key in self.expires:
            del self.expires[key]

    def delete(self, key: bytes) -> bool:
        """Remove ``key``; return whether it existed. The caller signals ``modified``."""
        if self.get(key) is None:
            return False
        del self.data[key]
        if self.expires:
            self.expires.pop(key, None)
        return True

    def set_expire(self, key: bytes, when: int) -> None:
        """Give ``key`` the absolute deadline ``when`` (ms)."""
        self.expires[key] = when
        heap = self.heap
        heapq.heappush(heap, (when, key))
        if len(heap) > 2 * len(self.expires) + 1024:
            self.heap = [(w, k) for k, w in self.expires.items()]
            heapq.heapify(self.heap)

    def ttl_ms(self, key: bytes) -> int | None:
        """Milliseconds left for ``key``, or None when it has no TTL (caller checked presence)."""
        when = self.expires.get(key)
        return None if when is None else when - now_ms()

    def modified(self, key: bytes) -> None:
        """Note a write to ``key``: count it, break every WATCH on it, and queue it for the
        memory accounting when that is on.

        The hottest commands (SET, INCR, LPUSH, ...) spell it out, as a call costs more than
        its body: ``keyspace.dirty += 1``, then ``notify`` only when
        ``keyspace.touched is not None or db.watched``.
        """
        keyspace = self.keyspace
        keyspace.dirty += 1
        if keyspace.touched is not None or self.watched:
            self.notify(key)

    def notify(self, key: bytes) -> None:
        """The part of ``modified`` after the count: the memory queue and WATCH."""
        keyspace = self.keyspace
        if keyspace.touched is not None:
            keyspace.touched.append((self, key))
        if self.watched:
            clients = self.watched.get(key)
            if clients:
                for client in clients:
                    client.dirty_cas = True

    def ready(self, key: bytes) -> None:
        """Note that ``key`` may now serve clients blocked on it (a push, an add, a rename)."""
        if self.blocked and key in self.blocked:
            self.keyspace.ready_keys[(self.index, key)] = None

    def touch_all_watched(self, replaced_with: Database | None = None) -> None:
        """Break the WATCHes that FLUSHDB, FLUSHALL or SWAPDB invalidate, as Redis decides:
        a watched key that exists here, or (SWAPDB) exists in the database swapped in."""
        for key, clients in self.watched.items():
            if key in self.data or (replaced_with is not None and key in replaced_with.data):
                for client in clients:
                    client.dirty_cas = True

    def clear(self) -> int:
        """Empty the database; return how many keys it held."""
        removed = len(self.data)
        self.data = {}
        self.expires = {}
        self.heap = []
        keyspace = self.keyspace
        if keyspace.touched is not None:
            keyspace.forget(self)
        return removed

    def active_expire(self, deadline: float) -> bool:
        """Reclaim expired keys until none is due or ``deadline`` (perf_counter) passes.

        Returns True when it stopped for time, so the caller runs again soon.
        """
        heap = self.heap
        expires = self.expires
        now = now_ms()
        done = 0
        while heap and heap[0][0] <= now:
            when, key = heapq.heappop(heap)
            if expires.get(key) == when:
                self.expire_now(key)
            done += 1
            if done & 31 == 0 and time.perf_counter() > deadline:
                return True
        return False


class Keyspace:
    """All databases, plus the counters and queues that span them."""

    def __init__(self, databases: int) -> None:
        self.dbs = [Database(i, self) for i in range(databases)]
        # Writes since start (persistence will reset it when it saves).
        self.dirty = 0
        self.expired_keys = 0
        # (db index, key) pairs that got data while clients were blocked on them; insertion
        # ordered, served after the command that made them ready (after EXEC inside MULTI).
        self.ready_keys: dict[tuple[int, bytes], None] = {}
        # DEBUG SET-ACTIVE-EXPIRE 0 turns the active cycle off (tests of lazy expiry use it).
        self.active_expire_enabled = True
        # True while an AOF replays: nothing expires, the file decides (as in Redis).
        self.loading = False
        # Called with (db index, key) when a key expires; the AOF appends a DEL. None: nobody.
        self.on_expired: Callable[[int, bytes], None] | None = None
        # Keys written since the memory accounting last looked, as (database, key); a None
        # key means the database's tables changed (FLUSH, SWAPDB). None while the accounting
        # is off (maxmemory 0 and no LFU policy), so writes then pay one attribute test.
        self.touched: list[tuple[Database, bytes | None]] | None = None
        # Bytes of key estimates forgotten by FLUSH (memory.py takes them off its total).
        self.flushed_bytes = 0

    def forget(self, db: Database) -> None:
        """Drop the memory tracking of an emptied database."""
        self.flushed_bytes += db.used
        db.meta = {}
        db.used = 0
        db.sample_all = db.sample_ttl = None
        if self.touched is not None:
            self.touched.append((db, None))

    def swap(self, a: int, b: int) -> None:
        """SWAPDB: exchange the contents of two databases; watchers of both are told."""
        da, db = self.dbs[a], self.dbs[b]
        da.touch_all_watched(db)
        db.touch_all_watched(da)
        da.data, db.data = db.data, da.data
        da.expires, db.expires = db.expires, da.expires
        da.heap, db.heap = db.heap, da.heap
        da.meta, db.meta = db.meta, da.meta
        da.used, db.used = db.used, da.used
        da.sample_all = da.sample_ttl = db.sample_all = db.sample_ttl = None
        if self.touched is not None:
            self.touched += [(da, None), (db, None)]
        for d in (da, db):
            for key in d.blocked:
                if key in d.data:
                    self.ready_keys[(d.index, key)] = None

    def active_expire(self, budget: float) -> bool:
        """Run the active expiry cycle over every database for at most ``budget`` seconds."""
        if not self.active_expire_enabled or self.loading:
            return False
        deadline = time.perf_counter() + budget
        return any(db.heap and db.active_expire(deadline) for db in self.dbs)
