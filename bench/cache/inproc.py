"""(1) The in-process hit path: gets per second over a warm cache, every subject in one run.

Each subject holds the same 10,000 keys (about 100-byte values, nothing evicted) and answers the
same pre-drawn sequence of uniformly random keys, so every get is a hit and the loop around the
get is identical for all. gee's ``LRUCache.get`` and ``await group.get`` (a Group's whole hit
path, a coroutine per get) are measured beside cachetools' ``LRUCache`` (``c[k]`` and ``.get``),
``functools.lru_cache``, an ``OrderedDict`` LRU behind a ``threading.Lock``, and a plain dict
lookup (no recency at all: the ceiling for any Python cache).
"""

from __future__ import annotations

import asyncio
import functools
import gc
import importlib.metadata
import random
import statistics
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.common import Result, Table

__all__ = ["FULL", "QUICK", "SUBJECTS", "Load", "run", "target_notes"]

KEYS = 10_000
VALUE_BYTES = 100
CASE = "hit, 10k keys"

GEE_LRU = "gee LRUCache.get"
GEE_GROUP = "gee await group.get"
CT_ITEM = "cachetools c[k]"
CT_GET = "cachetools .get"
LRU_CACHE = "functools.lru_cache"
LOCKED = "OrderedDict + Lock"
DICT = "dict[k] (no LRU)"
SUBJECTS = (GEE_LRU, GEE_GROUP, CT_ITEM, CT_GET, LRU_CACHE, LOCKED, DICT)


@dataclass(frozen=True)
class Load:
    """``gets`` per round, ``rounds`` rounds per subject (the median round is kept)."""

    gets: int
    rounds: int


QUICK = Load(gets=100_000, rounds=1)
FULL = Load(gets=1_000_000, rounds=5)

# A sync measurement: time gets of every key in the sequence, return seconds.
Timer = Callable[[Sequence[str]], float]


def _data() -> dict[str, bytes]:
    return {f"key-{i}": f"value-of-key-{i}".encode().ljust(VALUE_BYTES, b".") for i in range(KEYS)}


def _loop(get: Callable[[str], object]) -> Timer:
    def timed(sequence: Sequence[str]) -> float:
        started = time.perf_counter()
        for key in sequence:
            get(key)
        return time.perf_counter() - started

    return timed


def _gee_lru(data: dict[str, bytes]) -> Timer:
    from gee.cache import LRUCache

    cache = LRUCache(64 << 20)
    for key, value in data.items():
        cache.add(key, value)
    return _loop(cache.get)


def _gee_group(data: dict[str, bytes]) -> Timer:
    from gee.cache import Group

    group = Group("bench-inproc", 64 << 20, data.__getitem__, register=False)

    async def fill() -> None:
        for key in data:
            await group.get(key)

    async def gets(sequence: Sequence[str]) -> float:
        get = group.get
        started = time.perf_counter()
        for key in sequence:
            await get(key)
        return time.perf_counter() - started

    asyncio.run(fill())
    if group.stats.local_loads != len(data):
        raise RuntimeError(f"the group loaded {group.stats.local_loads} keys, not {len(data)}")

    def timed(sequence: Sequence[str]) -> float:
        before = group.stats.local_loads
        seconds = asyncio.run(gets(sequence))
        if group.stats.local_loads != before:
            raise RuntimeError("a get missed the cache: not the hit path")
        return seconds

    return timed


def _cachetools(data: dict[str, bytes], item: bool) -> Timer:
    import cachetools

    cache: cachetools.LRUCache[str, bytes] = cachetools.LRUCache(maxsize=len(data))
    for key, value in data.items():
        cache[key] = value
    return _loop(cache.__getitem__ if item else cache.get)


def _lru_cache(data: dict[str, bytes]) -> Timer:
    @functools.lru_cache(maxsize=len(data))
    def load(key: str) -> bytes:
        return data[key]

    for key in data:
        load(key)
    timer = _loop(load)

    def timed(sequence: Sequence[str]) -> float:
        misses = load.cache_info().misses
        seconds = timer(sequence)
        if load.cache_info().misses != misses:
            raise RuntimeError("lru_cache missed: not the hit path")
        return seconds

    return timed


class LockedLRU:
    """The textbook thread-safe LRU: an OrderedDict, a lock, move_to_end on every hit."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self.data: OrderedDict[str, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self.lock:
            value = self.data.get(key)
            if value is not None:
                self.data.move_to_end(key)
            return value

    def put(self, key: str, value: bytes) -> None:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.maxsize:
                self.data.popitem(last=False)


def _locked(data: dict[str, bytes]) -> Timer:
    cache = LockedLRU(len(data))
    for key, value in data.items():
        cache.put(key, value)
    return _loop(cache.get)


def _dict(data: dict[str, bytes]) -> Timer:
    return _loop(dict(data).__getitem__)


def _setup(subject: str, data: dict[str, bytes]) -> Timer:
    if subject == GEE_LRU:
        return _gee_lru(data)
    if subject == GEE_GROUP:
        return _gee_group(data)
    if subject in (CT_ITEM, CT_GET):
        return _cachetools(data, item=subject == CT_ITEM)
    if subject == LRU_CACHE:
        return _lru_cache(data)
    if subject == LOCKED:
        return _locked(data)
    return _dict(data)


def measure(subject: str, load: Load, sequence: Sequence[str], data: dict[str, bytes]) -> Result:
    """The median of ``load.rounds`` rounds of gets, in millions of gets per second."""
    try:
        timer = _setup(subject, data)
    except ImportError as exc:
        return Result(subject, CASE, status="unavailable", detail=f"{exc}; pip install cachetools")
    try:
        timer(sequence[: min(len(sequence), 50_000)])  # warm up
        rates = []
        for _ in range(load.rounds):
            gc.collect()
            rates.append(len(sequence) / timer(sequence) / 1e6)
    except Exception as exc:
        return Result(subject, CASE, status="failed", detail=f"{type(exc).__name__}: {exc}")
    return Result(subject, CASE, statistics.median(rates), {"best M/s": max(rates)})


def run(quick: bool) -> Table:
    """Measure every subject on one shared sequence of keys."""
    load = QUICK if quick else FULL
    data = _data()
    sequence = random.Random(5).choices(list(data), k=load.gets)
    results = []
    for subject in SUBJECTS:
        result = measure(subject, load, sequence, data)
        shown = f"{result.value:.2f} M gets/s" if result.value is not None else result.status
        print(f"  {subject:<22} {shown}", flush=True)
        results.append(result)
    table = Table(
        title=f"In-process hit path: {load.gets:,} gets over {KEYS:,} keys, one thread",
        unit="M gets/s",
        higher_is_better=True,
        results=results,
        case_label="gets",
        extra_columns=["best M/s"],
        baseline=CT_GET,
        ours=GEE_LRU,
        peers=[CT_ITEM, CT_GET, LRU_CACHE, LOCKED, DICT],
    )
    table.notes += [
        f"Every subject holds the same {KEYS:,} keys ({VALUE_BYTES}-byte values, nothing"
        f" evicted) and answers the same {load.gets:,} uniformly random keys (all hits), in a"
        f" plain `for` loop; the median of {load.rounds} round(s) after a warm-up ('best' is"
        " the fastest round). `await group.get` is a Group's whole hit path, a coroutine"
        " awaited per get inside one `asyncio.run`; lru_cache is a decorated function whose"
        " every call hits; `OrderedDict + Lock` is the textbook thread-safe LRU"
        " (move_to_end under a `threading.Lock`); `dict[k]` keeps no recency at all (the"
        f" ceiling for any Python cache). cachetools {_version('cachetools')}.",
        *target_notes(table),
    ]
    return table


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "(not installed)"


def target_notes(table: Table) -> list[str]:
    """Issue 5's targets for the hit path and whether this run met them (pure: reads the table)."""
    lru, group = table.value(GEE_LRU, CASE), table.value(GEE_GROUP, CASE)
    cachetools_get = table.value(CT_GET, CASE)
    checks = []
    if lru is None or cachetools_get is None:
        checks.append("LRUCache.get vs cachetools .get: not measured")
    else:
        verdict = "met" if lru >= cachetools_get else "missed"
        checks.append(f"LRUCache.get {lru / cachetools_get:.2f}× cachetools .get ({verdict})")
    if group is None:
        checks.append("await group.get: not measured")
    else:
        verdict = "met" if group >= 1.0 else "missed"
        checks.append(f"await group.get {group:.2f} M/s ({verdict})")
    return [
        "Targets (issue 5): `LRUCache.get` ≥ cachetools' `.get`; `await group.get` on a hit"
        " ≥ 1M/s. Issue 5 measured here before gee.cache existed: lru_cache ≈12.5M/s,"
        " cachetools `c[k]` ≈5.7M/s, `.get` ≈3.9M/s, OrderedDict + Lock ≈3.2M/s.",
        "This run: " + "; ".join(checks) + ".",
    ]
