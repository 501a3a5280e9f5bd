"""maxmemory eviction, as Redis 7.0's evict.c: the LFU counter, the sampled eviction pool and
performEvictions with its time budget.

Redis samples a dict's buckets in O(1); a Python dict cannot be indexed, so each database keeps
a list of its keys (and one of its keys with a TTL), rebuilt when more than an eighth of it has
changed, and samples that; a sampled key no longer present is skipped.

The per-key access field lives in ``Database.meta`` (see memory.py) below bit ``SHIFT``: the
last access in milliseconds under an LRU policy (Redis keeps seconds), or Redis's 24-bit LFU
field (16 bits of minutes, the "last decrement time", then an 8-bit logarithmic counter).
"""

from __future__ import annotations

import asyncio
import random
import time
from bisect import bisect_left
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gee.kv.keyspace import Database
    from gee.kv.memory import Memory

LFU_INIT_VAL = 5
EVPOOL_SIZE = 16
# performEvictions' results.
EVICT_OK, EVICT_RUNNING, EVICT_FAIL = 0, 1, 2
OOM = b"OOM command not allowed when used memory > 'maxmemory'."

SHIFT = 40  # meta = size << SHIFT | access
ACCESS = (1 << SHIFT) - 1


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


class Evictor:
    """performEvictions for one server: the pool, the round-robin database, the time budget."""

    def __init__(self, memory: Memory) -> None:
        self.memory = memory
        self.keyspace = memory.keyspace
        # The eviction pool: (score, key, db index), ascending score; higher is evicted first.
        self.pool: list[tuple[int, bytes, int]] = []
        self.next_db = 0
        # The loop callback that goes on evicting once a command's budget ran out, or None.
        self.proc: asyncio.Handle | None = None

    def perform(self) -> int:
        """Evict keys until used memory is within maxmemory (Redis's performEvictions).

        Returns EVICT_OK, EVICT_RUNNING (the time budget ran out; a loop callback goes on)
        or EVICT_FAIL (over the limit and nothing may be evicted).
        """
        memory = self.memory
        memory.settle()
        used = memory.keys_bytes + memory.overhead
        if used > memory.maxmemory >= used - memory.clients:
            # The clients' buffers, counted by the last cron, tip it over: count them now
            # (they drain quickly, and only this case needs the O(clients) count).
            memory.count_clients()
            used = memory.keys_bytes + memory.overhead
        if used <= memory.maxmemory:
            return EVICT_OK
        if used > memory.peak:
            memory.peak = used
        if memory.policy == "noeviction":
            return EVICT_FAIL
        to_free = used - memory.maxmemory
        limit = self._time_limit()
        started = time.perf_counter()
        freed = 0
        evicted = 0
        while freed < to_free:
            picked = self._pick()
            if picked is None:
                # Only the tables are left: compact them, as Redis shrinks its dicts.
                if memory.compact():
                    memory.settle()
                    if memory.keys_bytes + memory.overhead <= memory.maxmemory:
                        return EVICT_OK
                return EVICT_FAIL
            db, key = picked
            freed += self.evict(db, key)
            evicted += 1
            if evicted % 16 == 0 and time.perf_counter() - started > limit:
                self._start_proc()
                break
        memory.settle()
        return EVICT_RUNNING if self.proc is not None else EVICT_OK

    def _time_limit(self) -> float:
        """evictionTimeLimitUs, in seconds."""
        tenacity = self.memory.tenacity
        if tenacity <= 10:
            return 50e-6 * tenacity
        if tenacity < 100:
            return 500e-6 * 1.15 ** (tenacity - 10)
        return float("inf")

    def _start_proc(self) -> None:
        if self.proc is None:
            self.proc = asyncio.get_running_loop().call_soon(self._proc)

    def _proc(self) -> None:
        """Redis's evictionTimeProc: evict on from the loop (``perform`` reschedules it)."""
        self.proc = None
        if self.memory.maxmemory:
            self.perform()

    def evict(self, db: Database, key: bytes) -> int:
        """Delete ``key`` to free memory; return the bytes its estimate held."""
        m = db.meta.pop(key, 0)
        size = m >> SHIFT
        del db.data[key]
        if db.expires:
            db.expires.pop(key, None)
        db.used -= size
        memory = self.memory
        memory.keys_bytes -= size
        db.sample_changes += 1
        memory.evicted_keys += 1
        keyspace = self.keyspace
        if db.watched:  # signalModifiedKey; not ``modified``: an eviction is not a write
            for client in db.watched.get(key, ()):  # of the command that caused it
                client.dirty_cas = True
        if keyspace.on_expired is not None:  # the AOF appends a DEL, as propagateDeletion
            keyspace.on_expired(db.index, key)
        return size

    def _pick(self) -> tuple[Database, bytes] | None:
        """The next key to evict under the policy, or None when there is none."""
        policy = self.memory.policy
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
        memory = self.memory
        policy = memory.policy
        meta = db.meta
        lfu = memory.lfu
        ttl = policy == "volatile-ttl"
        now_ms = int(time.time() * 1000) & ACCESS
        minutes = lfu_minutes(time.time())
        for key in _sample(db, allkeys, memory.samples):
            if ttl:
                score = -db.expires[key]
            else:
                access = meta.get(key, 0) & ACCESS
                if lfu:
                    score = 255 - lfu_decr_and_return(access, memory.decay_time, minutes)
                else:
                    score = now_ms - access if now_ms >= access else now_ms + ACCESS - access
            k = bisect_left(pool, score, key=_score)
            if k == 0 and len(pool) >= EVPOOL_SIZE:
                continue  # worse than everything in a full pool
            if len(pool) >= EVPOOL_SIZE:
                del pool[0]
                k -= 1
            pool.insert(k, (score, key, db.index))


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
