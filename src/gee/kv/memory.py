"""Used-memory accounting and access tracking for maxmemory (eviction itself is evict.py).

**What "used memory" is.** A Python heap cannot say how many bytes one key holds the way
jemalloc tells Redis, and RSS never goes down when keys are deleted, so gee.kv keeps an
estimate: for each key, ``sys.getsizeof`` of the key, of the value and, for containers, of
their elements (all of them up to 32, else the mean of the first 16 times the length), plus
the deadline object of a key with a TTL; per database, the dict tables (``data``,
``expires``, the tracking dict) and the expiry heap; and the clients' output buffers, counted
by ``count_clients`` from the cron and INFO (summing them per command would cost O(clients)).
``value_size`` is a pure function of the value, so the running total can be kept by
difference: ``Database.modified`` (the one hook every write passes through) queues the
written key, and ``settle`` re-estimates it after the command, adding the change. A test
checks the total against tracemalloc.

**Tracking** (the per-key sizes and access clocks) is on only while ``maxmemory`` is set or an
LFU policy is chosen (OBJECT FREQ needs the counters). Then every command takes the slow path
(``Server.slow_path``); with tracking off nothing here runs per command and INFO computes the
estimate by walking the keyspace.

Per key, ``Database.meta`` holds one int: the size estimate above bit ``SHIFT``, the access
field (evict.py) below it.
"""

from __future__ import annotations

import random
import time
from collections import deque
from itertools import compress, islice, repeat
from operator import add, is_not, lshift, or_
from sys import getsizeof
from typing import TYPE_CHECKING, Any

from gee.kv.evict import (
    ACCESS,
    EVICT_OK,
    LFU_INIT_VAL,
    SHIFT,
    Evictor,
    lfu_decr_and_return,
    lfu_log_incr,
    lfu_minutes,
)
from gee.kv.zset import ZSet

if TYPE_CHECKING:
    from gee.kv.commands import Command
    from gee.kv.keyspace import Database
    from gee.kv.persist.rdb import KeyAccess
    from gee.kv.server import Server

# Commands that look keys up without counting as an access (Redis's LOOKUP_NOTOUCH).
NO_TOUCH = frozenset(
    (b"exists", b"type", b"ttl", b"pttl", b"expiretime", b"pexpiretime", b"object", b"memory")
)

_KEEP_SIZE = ~ACCESS
_INT = getsizeof(1 << 45)  # an int object as big as a deadline or a meta entry
_TUPLE2 = getsizeof((0, b""))
_FLOAT = getsizeof(0.5)
_BYTES = getsizeof(b"")  # a bytes object is this plus its length
_EXACT = 32  # containers up to this size are summed element by element
_SAMPLE = 16  # bigger ones: the mean of this many elements, times the length


# -- size estimates ---------------------------------------------------------------------


def _elements(values: Any, n: int) -> int:
    """The summed size of ``n`` elements, exact for small containers, else sampled."""
    if n <= _EXACT:
        return sum(map(getsizeof, values))
    return sum(map(getsizeof, islice(values, _SAMPLE))) * n // _SAMPLE


def value_size(value: Any) -> int:
    """Estimated bytes held by a value (a pure function of it: see the module docstring)."""
    cls = value.__class__
    if cls is bytes:
        return getsizeof(value)
    if cls is deque or cls is set:
        return getsizeof(value) + _elements(value, len(value))
    if cls is dict:
        n = len(value)
        return getsizeof(value) + _elements(value, n) + _elements(value.values(), n)
    if cls is ZSet:
        members = value.dict
        n = len(members)
        sl = value.list
        # Per member: its bytes, the float score, the (score, member) tuple and its list slot
        # in the SortedList; plus the SortedList's sublists.
        return (
            getsizeof(value)
            + getsizeof(members)
            + getsizeof(sl)
            + _elements(members, n)
            + n * (_FLOAT + _TUPLE2 + 8)
            + len(sl._lists) * getsizeof([])
        )
    return getsizeof(value)


def key_size(key: bytes, value: Any, has_ttl: bool) -> int:
    """Estimated bytes of one key: its name, its value and (with a TTL) its deadline."""
    return getsizeof(key) + value_size(value) + (_INT if has_ttl else 0)


def walk(db: Database, access: int | None = None) -> tuple[int, dict[bytes, int]]:
    """The summed ``key_size`` of every key of ``db`` and, given an ``access`` field, a fresh
    ``meta`` dict for it (else an empty one). Equal to summing ``key_size`` key by key, but
    the common case (string values) runs in C-level maps, using getsizeof(b) == 33 + len(b):
    a few tenths of a second per million keys."""
    data = db.data
    values = data.values()
    # Key and value sizes less two bytes headers; containers are corrected below.
    sizes = list(map(add, map(len, data), map(len, values)))
    containers = compress(data.items(), map(is_not, map(type, values), repeat(bytes)))
    extra = [(k, value_size(v) - len(v) - _BYTES) for k, v in containers]
    total = sum(sizes) + 2 * _BYTES * len(sizes) + len(db.expires) * _INT
    total += sum(size for _, size in extra)
    if access is None:
        return total, {}
    fields = map(
        or_, map(lshift, map(add, sizes, repeat(2 * _BYTES)), repeat(SHIFT)), repeat(access)
    )
    meta = dict(zip(data, fields, strict=True))
    for key, size in extra:
        meta[key] += size << SHIFT
    for key in db.expires:
        meta[key] += _INT << SHIFT
    return total, meta


def db_overhead(db: Database) -> int:
    """The bytes of one database's tables: dicts, the expiry heap, tracking and samples."""
    heap = db.heap
    return (
        getsizeof(db.data)
        + getsizeof(db.expires)
        + getsizeof(heap)
        + len(heap) * _TUPLE2
        + getsizeof(db.meta)
        + len(db.meta) * _INT
        + (getsizeof(db.sample_all) if db.sample_all is not None else 0)
        + (getsizeof(db.sample_ttl) if db.sample_ttl is not None else 0)
    )


class Memory:
    """Accounting, access tracking and eviction for one server (see the module docstring)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.keyspace = server.keyspace
        self.maxmemory = 0
        self.policy = "noeviction"
        self.samples = 5
        self.tenacity = 10
        self.log_factor = 10
        self.decay_time = 1
        self.lfu = False
        # Whether per-key sizes and access clocks are kept (keyspace.touched is a list).
        self.tracking = False
        # Sum of the key estimates over every database (tracking only).
        self.keys_bytes = 0
        # db_overhead per database (tracking only), and their sum plus ``clients``.
        self.overheads = [0] * len(self.keyspace.dbs)
        self.overhead = 0
        # Bytes in the clients' output buffers at the last count (``count_clients``).
        self.clients = 0
        # used_memory of the empty server (its tables), as INFO's used_memory_startup.
        self.startup = sum(db_overhead(db) for db in self.keyspace.dbs)
        self.peak = 0
        self.evicted_keys = 0
        self.evictor = Evictor(self)
        # Access fields RESTORE ... IDLETIME/FREQ asked for, applied by the next settle.
        self.restored: dict[tuple[Database, bytes], int] = {}
        # (db, key, idle, freq) an RDB file gave keys as they loaded, applied by ``configure``.
        self.loaded: list[tuple[Database, bytes, int, int]] = []

    # -- configuration -------------------------------------------------------------------

    def configure(self) -> None:
        """Read the eviction options from the config; start or stop tracking as needed."""
        values = self.server.config.values
        self.maxmemory = int(values["maxmemory"])
        policy = values["maxmemory-policy"]
        lfu = "lfu" in policy
        self.samples = int(values["maxmemory-samples"])
        self.tenacity = int(values["maxmemory-eviction-tenacity"])
        self.log_factor = int(values["lfu-log-factor"])
        self.decay_time = int(values["lfu-decay-time"])
        want = self.maxmemory > 0 or lfu
        if want and not self.tracking:
            self.lfu = lfu
            self._start_tracking()
        elif not want and self.tracking:
            self._stop_tracking()
        elif self.tracking and lfu != self.lfu:
            # Redis reinterprets the 24 bits and lets them "adjust"; gee starts afresh.
            self.lfu = lfu
            self._reset_access()
        self.lfu = lfu
        if policy != self.policy:
            self.evictor.pool = []
        self.policy = policy
        if self.loaded:
            self._apply_loaded()

    def _start_tracking(self) -> None:
        keyspace = self.keyspace
        keyspace.touched = []
        keyspace.flushed_bytes = 0
        access = self.new_access()
        total = 0
        for db in keyspace.dbs:
            db.used, db.meta = walk(db, access)
            total += db.used
        self.keys_bytes = total
        self.tracking = True
        self._refresh_all()

    def _stop_tracking(self) -> None:
        keyspace = self.keyspace
        keyspace.touched = None
        keyspace.flushed_bytes = 0
        for db in keyspace.dbs:
            db.meta = {}
            db.used = 0
            db.sample_all = db.sample_ttl = None
        self.tracking = False
        self.keys_bytes = 0
        self.evictor.pool = []

    def _reset_access(self) -> None:
        access = self.new_access()
        for db in self.keyspace.dbs:
            meta = db.meta
            for key, m in meta.items():
                meta[key] = (m & ~ACCESS) | access

    def new_access(self) -> int:
        """The access field of a key created now."""
        now = time.time()
        if self.lfu:
            return lfu_minutes(now) << 8 | LFU_INIT_VAL
        return int(now * 1000) & ACCESS

    # -- accounting ----------------------------------------------------------------------

    def settle(self) -> None:
        """Re-estimate the keys written since the last call (queued by Database.modified)."""
        keyspace = self.keyspace
        touched = keyspace.touched
        if not touched:
            return
        keyspace.touched = []
        access = -1
        # Databases whose tables may have changed size: a key came or went, a TTL was set
        # (the heap grew), a FLUSH or SWAPDB. An overwrite leaves them as they were.
        changed: list[Database] = []
        delta = -keyspace.flushed_bytes
        keyspace.flushed_bytes = 0
        for db, key in touched:
            if key is None:
                if db not in changed:
                    changed.append(db)
                continue
            meta = db.meta
            old = meta.get(key)
            value = db.data.get(key)
            if value is None:
                if old is not None:
                    del meta[key]
                    size = old >> SHIFT
                    db.used -= size
                    delta -= size
                    db.sample_changes += 1
                    if db not in changed:
                        changed.append(db)
                continue
            expires = db.expires
            ttl = bool(expires) and key in expires
            if value.__class__ is bytes:  # key_size, inlined for the common case
                size = len(key) + len(value) + 2 * _BYTES + (_INT if ttl else 0)
            else:
                size = key_size(key, value, ttl)
            if old is None:
                if access < 0:
                    access = self.new_access()
                meta[key] = size << SHIFT | access
                db.sample_changes += 1
                db.used += size
                delta += size
                if db not in changed:
                    changed.append(db)
            else:
                before = old >> SHIFT
                if before != size:
                    meta[key] = size << SHIFT | (old & ACCESS)
                    db.used += size - before
                    delta += size - before
                if ttl and db not in changed:
                    changed.append(db)
            if db.sample_ttl is not None:
                db.sample_ttl_changes += 1
        self.keys_bytes += delta
        for db in changed:
            self._refresh(db)
        if self.restored:
            for (db, key), field in self.restored.items():
                m = db.meta.get(key)
                if m is not None:
                    db.meta[key] = (m & ~ACCESS) | field
            self.restored = {}

    def cron(self) -> None:
        """From the background cycle: account for expired keys, keep the peak, shrink tables
        left mostly empty (Redis's tryResizeHashTables)."""
        self.settle()
        self.compact()
        self.count_clients()
        used = self.keys_bytes + self.overhead
        if used > self.peak:
            self.peak = used

    def _refresh(self, db: Database) -> None:
        size = db_overhead(db)
        self.overhead += size - self.overheads[db.index]
        self.overheads[db.index] = size

    def _refresh_all(self) -> None:
        self.overheads = [db_overhead(db) for db in self.keyspace.dbs]
        self.overhead = sum(self.overheads) + self.clients

    def count_clients(self) -> int:
        """Count the bytes in the clients' output buffers (Redis's mem_clients_normal): the
        replies not yet handed to the transport (``out``) and those the transport holds
        because the socket would block. O(clients), so it runs from the background cycle,
        for INFO and when the count decides an eviction, never per command."""
        total = 0
        for client in self.server.clients.values():
            total += len(client.out)
            transport = client.transport
            if transport is not None:
                total += transport.get_write_buffer_size()
        self.overhead += total - self.clients
        self.clients = total
        return total

    def used(self) -> int:
        """used_memory: the estimate for every key plus the tables and the clients' output
        buffers (see the docstring)."""
        clients = self.count_clients()
        if self.tracking:
            self.settle()
            used = self.keys_bytes + self.overhead
        else:
            used = sum(walk(db)[0] + db_overhead(db) for db in self.keyspace.dbs) + clients
        if used > self.peak:
            self.peak = used
        return used

    def tables(self) -> int:
        """The part of ``used`` that is tables and client buffers rather than keys
        (used_memory_overhead), as of the last ``used``."""
        if self.tracking:
            return self.overhead
        return sum(db_overhead(db) for db in self.keyspace.dbs) + self.clients

    # -- access --------------------------------------------------------------------------

    def after(
        self,
        db: Database,
        cmd: Command,
        name: bytes,
        args: list[bytes],
        queued: list[tuple[Command, list[bytes]]] | None,
    ) -> None:
        """After a command: note the access to its keys (an EXEC: its queued commands' keys),
        then account for what it wrote."""
        if cmd.first_key > 0 and name not in NO_TOUCH:
            if self.lfu:
                self.touch(db, cmd.keys(args))
            else:  # the LRU clock, inlined: this runs after every command
                meta = db.meta
                clock = int(time.time() * 1000) & ACCESS
                for key in cmd.keys(args):
                    m = meta.get(key)
                    if m is not None:
                        meta[key] = (m & _KEEP_SIZE) | clock
        if queued:
            for queued_cmd, queued_args in queued:
                if queued_cmd.name_bytes not in NO_TOUCH:
                    keys = queued_cmd.keys(queued_args)
                    if keys:
                        self.touch(db, keys)
        if self.keyspace.touched:
            self.settle()

    def touch(self, db: Database, keys: list[bytes]) -> None:
        """Note an access to ``keys`` (Redis's lookupKey): LRU clock or LFU counter."""
        meta = db.meta
        if self.lfu:
            now = lfu_minutes(time.time())
            for key in keys:
                m = meta.get(key)
                if m is not None:
                    counter = lfu_decr_and_return(m & ACCESS, self.decay_time, now)
                    counter = lfu_log_incr(counter, self.log_factor, random.random())
                    meta[key] = (m & ~ACCESS) | now << 8 | counter
        else:
            clock = int(time.time() * 1000) & ACCESS
            for key in keys:
                m = meta.get(key)
                if m is not None:
                    meta[key] = (m & ~ACCESS) | clock

    def given_access(self, idle: int, freq: int) -> int | None:
        """The access field for an idle time (seconds) or LFU counter given for a key (-1:
        not given), as Redis's objectSetLRUOrLFU: the counter counts under an LFU policy, the
        idle time under the others; None when the one that counts was not given."""
        now = time.time()
        if self.lfu:
            return lfu_minutes(now) << 8 | freq if freq >= 0 else None
        return (int(now * 1000) - idle * 1000) & ACCESS if idle >= 0 else None

    def restore_access(self, db: Database, key: bytes, idle: int, freq: int) -> None:
        """RESTORE's IDLETIME (seconds) or FREQ for ``key`` (-1: not given)."""
        if not self.tracking:
            return
        field = self.given_access(idle, freq)
        if field is not None:
            self.restored[(db, key)] = field

    def loaded_access(self, db: Database, key: bytes, idle: int | None, freq: int | None) -> None:
        """An RDB file's IDLE (seconds) or FREQ for a key just loaded, which Redis applies
        as RESTORE's IDLETIME/FREQ. The file loads before ``configure`` starts tracking, so
        they wait for it; they are dropped when tracking does not start."""
        self.loaded.append((db, key, -1 if idle is None else idle, -1 if freq is None else freq))

    def _apply_loaded(self) -> None:
        loaded, self.loaded = self.loaded, []
        if not self.tracking:
            return
        for db, key, idle, freq in loaded:
            m = db.meta.get(key)
            field = self.given_access(idle, freq)
            if m is not None and field is not None:
                db.meta[key] = (m & ~ACCESS) | field

    def saved_access(self) -> tuple[KeyAccess | None, KeyAccess | None]:
        """What an RDB save writes before each key, as ``rdb.dump``'s ``idle`` and ``freq``:
        Redis's rdbSaveKeyValuePair writes the idle seconds under an LRU policy and the
        decayed LFU counter under an LFU one. Neither under other policies, nor while
        tracking is off: gee.kv has no access data then, and Redis takes a key without them
        as just accessed."""
        if not self.tracking or not (self.lfu or self.policy.endswith("-lru")):
            return None, None
        self.settle()
        dbs = self.keyspace.dbs
        now = time.time()
        if self.lfu:
            minutes = lfu_minutes(now)
            decay = self.decay_time

            def freq(index: int, key: bytes) -> int | None:
                m = dbs[index].meta.get(key)
                return None if m is None else lfu_decr_and_return(m & ACCESS, decay, minutes)

            return None, freq
        clock = int(now * 1000) & ACCESS

        def idle(index: int, key: bytes) -> int | None:
            m = dbs[index].meta.get(key)
            if m is None:
                return None
            last = m & ACCESS
            return (clock - last if clock >= last else clock + ACCESS - last) // 1000

        return idle, None

    def idle_ms(self, db: Database, key: bytes) -> int:
        """Milliseconds since ``key`` was last accessed (0 when not tracked)."""
        m = db.meta.get(key)
        if m is None or self.lfu:
            return 0
        now = int(time.time() * 1000) & ACCESS
        last = m & ACCESS
        return now - last if now >= last else now + ACCESS - last

    def freq(self, db: Database, key: bytes) -> int:
        """The LFU counter of ``key`` after decay, as OBJECT FREQ reports it."""
        m = db.meta.get(key)
        if m is None or not self.lfu:
            return 0
        return lfu_decr_and_return(m & ACCESS, self.decay_time, lfu_minutes(time.time()))

    def perform_evictions(self) -> int:
        """Evict until used memory is within maxmemory: EVICT_OK, EVICT_RUNNING (the loop goes
        on evicting) or EVICT_FAIL (over the limit, nothing may go). See evict.py."""
        if not self.maxmemory:
            return EVICT_OK
        return self.evictor.perform()

    def compact(self) -> bool:
        """Rebuild the tables that deletions left mostly empty (a Python dict never shrinks
        on delete, only when an insert makes it resize); return whether any was."""
        done = False
        for db in self.keyspace.dbs:
            if _oversized(db.data):
                db.data = dict(db.data)
                done = True
            if _oversized(db.expires):
                db.expires = dict(db.expires)
                done = True
            if _oversized(db.meta):
                db.meta = dict(db.meta)
                done = True
            if done:
                self._refresh(db)
        return done


def _oversized(table: dict[bytes, Any]) -> bool:
    """Whether a dict's table is far bigger than its entries need (a rebuild would shrink it)."""
    return getsizeof(table) > 8 * 48 * len(table) + 8192
