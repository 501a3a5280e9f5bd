"""Used-memory accounting, access tracking and maxmemory eviction (Redis's evict.c, in Python).

**What "used memory" is.** A Python heap cannot say how many bytes one key holds the way
jemalloc tells Redis, and RSS never goes down when keys are deleted, so gee.kv keeps an
estimate: for each key, ``sys.getsizeof`` of the key, of the value and, for containers, of
their elements (all of them up to 32, else the mean of the first 16 times the length), plus
the deadline object of a key with a TTL; and per database, the dict tables (``data``,
``expires``, the tracking dict) and the expiry heap. ``value_size`` is a pure function of the
value, so the running total can be kept by difference: ``Database.modified`` (the one hook
every write passes through) queues the written key, and ``settle`` re-estimates it after the
command, adding the change. A test checks the total against tracemalloc.

**Tracking** (the per-key sizes and access clocks) is on only while ``maxmemory`` is set or an
LFU policy is chosen (OBJECT FREQ needs the counters). Then every command takes the slow path
(``Server.slow_path``); with tracking off nothing here runs per command and INFO computes the
estimate by walking the keyspace.

Per key, ``Database.meta`` holds one int: the size estimate above bit 40, the access field
below: the last access in milliseconds for LRU (Redis keeps seconds), or Redis's 24-bit LFU
field (16 bits of minutes, the "last decrement time", then an 8-bit logarithmic counter).

**Sampling.** Redis samples a dict's buckets in O(1); a Python dict cannot be indexed, so each
database keeps a list of its keys (and one of its keys with a TTL), rebuilt when more than an
eighth of it has changed, and samples that; a sampled key no longer present is skipped.
"""

from __future__ import annotations

import asyncio
import random
import time
from bisect import bisect_left
from collections import deque
from itertools import compress, islice, repeat
from operator import add, is_not, lshift, or_
from sys import getsizeof
from typing import TYPE_CHECKING, Any

from gee.kv.zset import ZSet

if TYPE_CHECKING:
    from gee.kv.commands import Command
    from gee.kv.keyspace import Database
    from gee.kv.server import Server

POLICIES = (
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
)

# Commands that look keys up without counting as an access (Redis's LOOKUP_NOTOUCH).
NO_TOUCH = frozenset(
    (b"exists", b"type", b"ttl", b"pttl", b"expiretime", b"pexpiretime", b"object", b"memory")
)
LFU_INIT_VAL = 5
EVPOOL_SIZE = 16
# performEvictions' results.
EVICT_OK, EVICT_RUNNING, EVICT_FAIL = 0, 1, 2
OOM = b"OOM command not allowed when used memory > 'maxmemory'."

SHIFT = 40  # meta = size << SHIFT | access
ACCESS = (1 << SHIFT) - 1
_INT = getsizeof(1 << 45)  # an int object as big as a deadline or a meta entry
_TUPLE2 = getsizeof((0, b""))
_FLOAT = getsizeof(0.5)
_BYTES = getsizeof(b"")  # a bytes object is this plus its length
_EXACT = 32  # containers up to this size are summed element by element
_SAMPLE = 16  # bigger ones: the mean of this many elements, times the length


# -- LFU: Redis's LFUGetTimeInMinutes, LFUTimeElapsed, LFULogIncr, LFUDecrAndReturn --------


def lfu_minutes(now: float) -> int:
    """The current time in minutes, its low 16 bits (the LFU "last decrement time")."""
    return (int(now) // 60) & 65535


def lfu_time_elapsed(ldt: int, now_minutes: int) -> int:
    """Minutes since ``ldt``, taking the 16-bit clock as wrapped at most once."""
    if now_minutes >= ldt:
        return now_minutes - ldt
    return 65535 - ldt + now_minutes


def lfu_log_incr(counter: int, log_factor: int, r: float) -> int:
    """Increment the 8-bit counter with probability 1/((counter-5)*log_factor+1); ``r`` is a
    uniform draw in [0, 1]. Counters at or below LFU_INIT_VAL always grow; 255 saturates."""
    if counter == 255:
        return 255
    baseval = max(counter - LFU_INIT_VAL, 0)
    p = 1.0 / (baseval * log_factor + 1)
    return counter + 1 if r < p else counter


def lfu_decr_and_return(field: int, decay_time: int, now_minutes: int) -> int:
    """The counter of the 24-bit LFU ``field`` after one decrement per ``decay_time`` minutes
    elapsed since its last decrement time (0 ``decay_time``: never decays)."""
    counter = field & 255
    periods = lfu_time_elapsed(field >> 8, now_minutes) // decay_time if decay_time else 0
    if periods:
        counter = 0 if periods > counter else counter - periods
    return counter


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


def parse_policy(name: str) -> str | None:
    """The policy called ``name`` (any case), or None when it is not one."""
    name = name.lower()
    return name if name in POLICIES else None


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
        # db_overhead per database (tracking only), and their sum.
        self.overheads = [0] * len(self.keyspace.dbs)
        self.overhead = 0
        self.startup = 0
        self.peak = 0
        self.evicted_keys = 0
        # The eviction pool: (score, key, db index), ascending score; higher is evicted first.
        self.pool: list[tuple[int, bytes, int]] = []
        self.next_db = 0
        self.eviction_proc: asyncio.Handle | None = None
        # Access fields RESTORE ... IDLETIME/FREQ asked for, applied by the next settle.
        self.restored: dict[tuple[Database, bytes], int] = {}

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
            self.pool = []
        self.policy = policy

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
        if not self.startup:
            self.startup = self.used()

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
        self.pool = []

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
        dbs: set[Database] = set()
        delta = -keyspace.flushed_bytes
        keyspace.flushed_bytes = 0
        for db, key in touched:
            dbs.add(db)
            if key is None:  # a FLUSH or SWAPDB: only the tables changed
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
                continue
            size = key_size(key, value, key in db.expires)
            if old is None:
                if access < 0:
                    access = self.new_access()
                meta[key] = size << SHIFT | access
                db.sample_changes += 1
                db.used += size
                delta += size
            else:
                before = old >> SHIFT
                if before != size:
                    meta[key] = size << SHIFT | (old & ACCESS)
                    db.used += size - before
                    delta += size - before
            if db.sample_ttl is not None:
                db.sample_ttl_changes += 1
        self.keys_bytes += delta
        for db in dbs:
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
        used = self.keys_bytes + self.overhead
        if used > self.peak:
            self.peak = used

    def _refresh(self, db: Database) -> None:
        size = db_overhead(db)
        self.overhead += size - self.overheads[db.index]
        self.overheads[db.index] = size

    def _refresh_all(self) -> None:
        self.overheads = [db_overhead(db) for db in self.keyspace.dbs]
        self.overhead = sum(self.overheads)

    def used(self) -> int:
        """used_memory: the estimate for every key plus the tables (see the docstring)."""
        if self.tracking:
            self.settle()
            used = self.keys_bytes + self.overhead
        else:
            used = sum(walk(db)[0] + db_overhead(db) for db in self.keyspace.dbs)
        if used > self.peak:
            self.peak = used
        if not self.startup:
            self.startup = used
        return used

    def tables(self) -> int:
        """The part of ``used`` that is tables rather than keys (used_memory_overhead)."""
        if self.tracking:
            return self.overhead
        return sum(db_overhead(db) for db in self.keyspace.dbs)

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
        if name not in NO_TOUCH:
            keys = cmd.keys(args)
            if keys:
                self.touch(db, keys)
        if queued:
            for queued_cmd, queued_args in queued:
                if queued_cmd.name.encode() not in NO_TOUCH:
                    keys = queued_cmd.keys(queued_args)
                    if keys:
                        self.touch(db, keys)
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

    def restore_access(self, db: Database, key: bytes, idle: int, freq: int) -> None:
        """RESTORE's IDLETIME (seconds) or FREQ for ``key`` (-1: not given), as Redis's
        objectSetLRUOrLFU: FREQ counts under an LFU policy, IDLETIME under the others."""
        if not self.tracking:
            return
        now = time.time()
        if self.lfu and freq >= 0:
            self.restored[(db, key)] = lfu_minutes(now) << 8 | freq
        elif not self.lfu and idle >= 0:
            self.restored[(db, key)] = (int(now * 1000) - idle * 1000) & ACCESS

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

    # -- eviction ------------------------------------------------------------------------

    def perform_evictions(self) -> int:
        """Evict keys until used memory is within maxmemory (Redis's performEvictions).

        Returns EVICT_OK, EVICT_RUNNING (the time budget ran out; a loop callback goes on)
        or EVICT_FAIL (over the limit and nothing may be evicted).
        """
        self.settle()
        used = self.keys_bytes + self.overhead
        if used <= self.maxmemory:
            return EVICT_OK
        if used > self.peak:
            self.peak = used
        if self.policy == "noeviction":
            return EVICT_FAIL
        to_free = used - self.maxmemory
        limit = self._time_limit()
        started = time.perf_counter()
        freed = 0
        evicted = 0
        while freed < to_free:
            picked = self._pick()
            if picked is None:
                # Only the tables are left: compact them, as Redis shrinks its dicts.
                if self.compact():
                    self.settle()
                    if self.keys_bytes + self.overhead <= self.maxmemory:
                        return EVICT_OK
                return EVICT_FAIL
            db, key = picked
            freed += self.evict(db, key)
            evicted += 1
            if evicted % 16 == 0 and time.perf_counter() - started > limit:
                self._start_eviction_proc()
                break
        self.settle()
        return EVICT_RUNNING if self.eviction_proc is not None else EVICT_OK

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

    def _time_limit(self) -> float:
        """evictionTimeLimitUs, in seconds."""
        tenacity = self.tenacity
        if tenacity <= 10:
            return 50e-6 * tenacity
        if tenacity < 100:
            return 500e-6 * 1.15 ** (tenacity - 10)
        return float("inf")

    def _start_eviction_proc(self) -> None:
        if self.eviction_proc is None:
            self.eviction_proc = asyncio.get_running_loop().call_soon(self._eviction_proc)

    def _eviction_proc(self) -> None:
        self.eviction_proc = None
        if self.maxmemory and self.perform_evictions() == EVICT_RUNNING:
            return  # perform_evictions scheduled the next round

    def evict(self, db: Database, key: bytes) -> int:
        """Delete ``key`` to free memory; return the bytes its estimate held."""
        m = db.meta.pop(key, 0)
        size = m >> SHIFT
        del db.data[key]
        if db.expires:
            db.expires.pop(key, None)
        db.used -= size
        self.keys_bytes -= size
        db.sample_changes += 1
        self.evicted_keys += 1
        keyspace = self.keyspace
        if db.watched:  # signalModifiedKey; not ``modified``: an eviction is not a write
            for client in db.watched.get(key, ()):  # of the command that caused it
                client.dirty_cas = True
        if keyspace.on_expired is not None:  # the AOF appends a DEL, as propagateDeletion
            keyspace.on_expired(db.index, key)
        return size

    def _pick(self) -> tuple[Database, bytes] | None:
        """The next key to evict under the policy, or None when there is none."""
        policy = self.policy
        dbs = self.keyspace.dbs
        allkeys = policy.startswith("allkeys")
        if policy.endswith("random"):
            n = len(dbs)
            for _ in range(n):
                self.next_db = (self.next_db + 1) % n
                db = dbs[self.next_db]
                if db.data if allkeys else db.expires:
                    sample = _sample(db, allkeys, 1)
                    if sample:
                        return db, sample[0]
            return None
        pool = self.pool
        while True:
            total = 0
            for db in dbs:
                size = len(db.data) if allkeys else len(db.expires)
                if size:
                    self._populate(db, allkeys)
                    total += size
            if not total:
                return None
            while pool:
                _, key, index = pool.pop()
                db = dbs[index]
                if key in (db.data if allkeys else db.expires):
                    return db, key

    def _populate(self, db: Database, allkeys: bool) -> None:
        """evictionPoolPopulate: sample keys of ``db`` into the pool by their score."""
        pool = self.pool
        policy = self.policy
        meta = db.meta
        lfu = self.lfu
        ttl = policy == "volatile-ttl"
        now_ms = int(time.time() * 1000) & ACCESS
        minutes = lfu_minutes(time.time())
        for key in _sample(db, allkeys, self.samples):
            if ttl:
                score = -db.expires[key]
            else:
                access = meta.get(key, 0) & ACCESS
                if lfu:
                    score = 255 - lfu_decr_and_return(access, self.decay_time, minutes)
                else:
                    score = now_ms - access if now_ms >= access else now_ms + ACCESS - access
            k = bisect_left(pool, score, key=_score)
            if k == 0 and len(pool) >= EVPOOL_SIZE:
                continue  # worse than everything in a full pool
            if len(pool) >= EVPOOL_SIZE:
                del pool[0]
                k -= 1
            pool.insert(k, (score, key, db.index))


def _oversized(table: dict[bytes, Any]) -> bool:
    """Whether a dict's table is far bigger than its entries need (a rebuild would shrink it)."""
    return getsizeof(table) > 8 * 48 * len(table) + 8192


def _score(entry: tuple[int, bytes, int]) -> int:
    return entry[0]


def _sample(db: Database, allkeys: bool, count: int) -> list[bytes]:
    """Up to ``count`` random keys of ``db`` (all keys, or those with a TTL), present now."""
    table = db.data if allkeys else db.expires
    for attempt in range(2):
        snapshot = db.sample_all if allkeys else db.sample_ttl
        changes = db.sample_changes if allkeys else db.sample_ttl_changes
        if snapshot is None or attempt or changes > len(snapshot) // 8 + 32:
            snapshot = list(table)
            if allkeys:
                db.sample_all = snapshot
                db.sample_changes = 0
            else:
                db.sample_ttl = snapshot
                db.sample_ttl_changes = 0
        n = len(snapshot)
        if not n:
            return []
        picked = [snapshot[random.randrange(n)] for _ in range(count)]
        found = [key for key in picked if key in table]
        if found:
            return found
    return []  # pragma: no cover  (a fresh snapshot of a non-empty table always hits)
