"""Group: a named cache namespace whose values are loaded once across a set of peers.

``await group.get(key)`` follows groupcache's load path::

    main cache ─hit─▶ value
        │miss
    hot cache ─hit─▶ value
        │miss
    singleflight(key) ─┬─ look in both caches again ─hit─▶ value
                       ├─ owner is a peer? ─▶ ask it ─ok─▶ value (1 in 10 into the hot cache)
                       │                        └─error─▶ peer_errors += 1, fall through
                       └─ getter(key) ─▶ value into the main cache

Both caches share one ``cache_bytes`` budget. Everything here runs on one event loop; the
caches, the stats and the singleflight table are only touched from that loop's thread, so no
lock guards them. A sync getter runs in a worker thread and touches none of them.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Literal, TypeAlias

from gee.cache.errors import GetterError, GroupExistsError
from gee.cache.lru import LRUCache
from gee.cache.peers import NoPeers, PeerPicker
from gee.cache.singleflight import SingleFlight

__all__ = ["CacheStats", "Getter", "Group", "Stats", "get_group", "unregister_group"]

logger = logging.getLogger("gee.cache")

# What a getter may return: the value (str is encoded as UTF-8), or the value and the time it
# expires at (seconds since the epoch, as time.time(), or an aware or local datetime).
Loaded: TypeAlias = bytes | str | tuple[bytes | str, float | datetime]
Getter: TypeAlias = Callable[[str], Loaded] | Callable[[str], Awaitable[Loaded]]

# name -> Group, for get_group() and the peer endpoint. Groups are created at set-up time, from
# any thread; the GIL makes each dict operation atomic, and the duplicate check below is one
# operation (setdefault), so no lock is needed.
_groups: dict[str, Group] = {}


def get_group(name: str) -> Group | None:
    """Return the registered Group called ``name``; None if there is none."""
    return _groups.get(name)


def unregister_group(name: str) -> None:
    """Forget the Group called ``name`` so the name can be used again (tests, reloads)."""
    _groups.pop(name, None)


@dataclass(slots=True)
class CacheStats:
    """A snapshot of one of a group's two caches."""

    bytes: int
    items: int
    gets: int
    hits: int
    evictions: int


class _Cache:
    """An LRUCache with groupcache's counters and optional expiry times.

    Not locked: only the event loop's thread touches it.
    """

    __slots__ = ("evictions", "expires", "gets", "hits", "lru")

    def __init__(self) -> None:
        # No limit of its own: Group.populate evicts from both caches against one budget.
        self.lru = LRUCache(0, self._evicted)
        # key -> expiry time (time.time() seconds), only for entries that have one.
        self.expires: dict[str, float] = {}
        self.gets = 0
        self.hits = 0
        self.evictions = 0

    def _evicted(self, key: str, value: bytes) -> None:
        self.evictions += 1
        if self.expires:
            self.expires.pop(key, None)

    def get(self, key: str) -> bytes | None:
        self.gets += 1
        value = self.lru.get(key)
        if value is None or (self.expires and not self.fresh(key)):
            return None
        self.hits += 1
        return value

    def fresh(self, key: str) -> bool:
        """Whether the cached ``key`` has not expired; an expired entry is removed."""
        expires_at = self.expires.get(key)
        if expires_at is not None and expires_at <= time.time():
            self.lru.remove(key)
            return False
        return True

    def add(self, key: str, value: bytes, expires_at: float | None) -> None:
        self.lru.add(key, value)
        if expires_at is not None:
            self.expires[key] = expires_at
        elif self.expires:
            self.expires.pop(key, None)

    def stats(self) -> CacheStats:
        return CacheStats(self.lru.nbytes, len(self.lru), self.gets, self.hits, self.evictions)


@dataclass(slots=True)
class Stats:
    """groupcache's per-group counters, and each cache's. Only the event loop's thread updates them.

    ``main_cache`` and ``hot_cache`` are snapshots taken when read.
    """

    gets: int = 0  # every get, including those from peers
    cache_hits: int = 0  # either cache had it
    peer_loads: int = 0  # a peer answered (its cache or its getter)
    peer_errors: int = 0  # a peer failed; the key was then loaded locally
    loads: int = 0  # gets - cache_hits
    loads_deduped: int = 0  # loads that were not joined to one already in flight
    local_loads: int = 0  # the getter succeeded
    local_load_errs: int = 0  # the getter failed
    server_requests: int = 0  # gets that came over the network from peers
    _caches: tuple[_Cache, _Cache] | None = field(default=None, repr=False, compare=False)

    @property
    def main_cache(self) -> CacheStats:
        """The main cache (the keys this process owns): bytes, items, gets, hits, evictions."""
        return self._caches[0].stats() if self._caches else CacheStats(0, 0, 0, 0, 0)

    @property
    def hot_cache(self) -> CacheStats:
        """The hot cache (popular keys owned by peers): bytes, items, gets, hits, evictions."""
        return self._caches[1].stats() if self._caches else CacheStats(0, 0, 0, 0, 0)

    def as_dict(self) -> dict[str, object]:
        """Every counter, then each cache's snapshot as a nested dict: ready for JSON."""
        out: dict[str, object] = {
            f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")
        }
        out["main_cache"] = asdict(self.main_cache)
        out["hot_cache"] = asdict(self.hot_cache)
        return out


class Group:
    """A cache namespace: values loaded by ``getter``, cached, and spread over peers.

    ``name`` is registered process-wide (see :func:`get_group`) unless ``register`` is False;
    a second Group with a registered name raises :class:`GroupExistsError`. ``cache_bytes``
    bounds the keys and values of the main and hot caches together; zero (or less) means
    nothing is cached and every get loads, as in groupcache. ``getter(key)`` loads a value; it
    may be a coroutine function, or a plain function that is run in a worker thread so that it
    may block. It returns bytes, str (encoded as UTF-8), or ``(value, expires_at)``; an
    expired value is not served again. Whatever it raises reaches the caller as
    :class:`GetterError`.

    ``peers`` picks the owner of each key; None means no peers (every key loads here) until
    ``group.peers`` is set, e.g. to an ``HTTPPool``. ``hot_cache_chance`` is the chance that a
    value fetched from a peer is kept in the hot cache (groupcache: 1 in 10). ``hot_ttl``, if
    not None, is how many seconds a hot-cache copy is served; None means until evicted, as in
    groupcache (a peer's answer carries no expiry on the wire).
    """

    def __init__(
        self,
        name: str,
        cache_bytes: int,
        getter: Getter,
        *,
        peers: PeerPicker | None = None,
        hot_cache_chance: float = 0.1,
        hot_ttl: float | None = None,
        register: bool = True,
    ) -> None:
        if not callable(getter):
            raise TypeError(f"getter must be callable; got {getter!r}")
        self.name = name
        self.cache_bytes = cache_bytes
        self.getter = getter
        self.peers: PeerPicker = peers if peers is not None else NoPeers()
        self.hot_cache_chance = hot_cache_chance
        self.hot_ttl = hot_ttl
        # mainCache holds the keys this process owns; hotCache holds popular keys owned by
        # peers, mirrored here so one hot key does not make its owner's network the bottleneck.
        self._main = _Cache()
        self._hot = _Cache()
        self.stats = Stats(_caches=(self._main, self._hot))
        self._flight: SingleFlight[bytes] = SingleFlight()
        self._async_getter = inspect.iscoroutinefunction(getter) or inspect.iscoroutinefunction(
            getattr(getter, "__call__", None)  # noqa: B004  (an object with an async __call__)
        )
        self._random = random.Random()
        if register and _groups.setdefault(name, self) is not self:
            raise GroupExistsError(
                f"a Group named {name!r} is already registered; pick another name, "
                f"or pass register=False for a private group"
            )

    def __repr__(self) -> str:
        return f"Group({self.name!r}, cache_bytes={self.cache_bytes})"

    async def get(self, key: str) -> bytes:
        """Return the value of ``key``, from a cache, the key's owner, or the getter.

        An empty key is a key like any other, as in groupcache.
        """
        # The hit path is _lookup() inlined: it is the one path measured in millions per second.
        stats = self.stats
        stats.gets += 1
        if self.cache_bytes > 0:
            main = self._main
            main.gets += 1
            value = main.lru.get(key)
            if value is not None and (not main.expires or main.fresh(key)):
                main.hits += 1
                stats.cache_hits += 1
                return value
            value = self._hot.get(key)
            if value is not None:
                stats.cache_hits += 1
                return value
        stats.loads += 1
        return await self._flight.do(key, lambda: self._load(key))

    def _lookup(self, key: str) -> bytes | None:
        if self.cache_bytes <= 0:
            return None
        value = self._main.get(key)
        if value is None:
            value = self._hot.get(key)
        return value

    async def _load(self, key: str) -> bytes:
        # Look again, as groupcache does: singleflight only merges calls that overlap, and two
        # gets that both missed the cache could reach it one after the other, the first load
        # finished in between; without this look the key would load twice. On one event loop
        # a get is not pre-empted between its lookup and joining the flight, so today that
        # needs an await in between, which there is not; the look costs two probes on a miss
        # and keeps the guarantee if one is ever added.
        value = self._lookup(key)
        if value is not None:
            self.stats.cache_hits += 1
            return value
        self.stats.loads_deduped += 1
        peer = self.peers.pick_peer(key)
        if peer is not None:
            try:
                value = await peer.get(self.name, key)
            except Exception as exc:
                # Normal while peers come and go; the local getter covers for the owner.
                self.stats.peer_errors += 1
                logger.debug("group %s: peer failed for %r: %s", self.name, key, exc)
            else:
                self.stats.peer_loads += 1
                chosen = self._random.random() < self.hot_cache_chance
                if chosen and self._flight.is_current(key):
                    expires = None if self.hot_ttl is None else time.time() + self.hot_ttl
                    self._populate(key, value, self._hot, expires)
                return value
        try:
            value, expires = await self._get_locally(key)
        except Exception as exc:
            self.stats.local_load_errs += 1
            raise GetterError(_message(exc)) from exc
        self.stats.local_loads += 1
        # remove(key) while the getter ran: the callers already waiting get this value, but it
        # may predate the change that caused the remove, so it is not cached.
        if (expires is None or expires > time.time()) and self._flight.is_current(key):
            self._populate(key, value, self._main, expires)
        return value

    async def _get_locally(self, key: str) -> tuple[bytes, float | None]:
        if self._async_getter:
            loaded = await self.getter(key)  # type: ignore[misc]
        else:
            loaded = await asyncio.to_thread(self.getter, key)
        return _normalise(loaded)

    def _populate(self, key: str, value: bytes, cache: _Cache, expires: float | None) -> None:
        if self.cache_bytes <= 0:
            return
        cache.add(key, value, expires)
        main, hot = self._main.lru, self._hot.lru
        # Evict until both caches fit the one budget, from the hot cache while it holds more
        # than an eighth of the main cache's bytes (groupcache's good-enough rule).
        while main.nbytes + hot.nbytes > self.cache_bytes:
            victim = hot if hot.nbytes > main.nbytes // 8 else main
            if victim.remove_oldest() is None:
                break

    def remove_local(self, key: str) -> None:
        """Drop ``key`` from this process's caches.

        A load of ``key`` already in flight still answers its waiting callers but is neither
        cached nor joined by later gets, which start a fresh load.
        """
        self._main.lru.remove(key)
        self._hot.lru.remove(key)
        self._flight.forget(key)

    async def remove(self, key: str) -> int:
        """Drop ``key`` here, on its owner and on every other peer; return how many peers failed.

        Beyond groupcache: Go nodes have no remove endpoint, and count as failures. A peer that
        failed may serve the old value until it evicts it (or it expires).
        """
        self.remove_local(key)
        peers = self.peers.remote_peers()
        if not peers:
            return 0
        results = await asyncio.gather(
            *(peer.remove(self.name, key) for peer in peers), return_exceptions=True
        )
        failed = 0
        for result in results:
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result
                failed += 1
                logger.warning("group %s: remove %r failed on a peer: %s", self.name, key, result)
        return failed

    def cache_stats(self, which: Literal["main", "hot"]) -> CacheStats:
        """Return a snapshot of the main cache (keys owned here) or the hot cache (peers' keys)."""
        if which == "main":
            return self._main.stats()
        if which == "hot":
            return self._hot.stats()
        raise ValueError(f"which must be 'main' or 'hot'; got {which!r}")

    def stats_dict(self) -> dict[str, object]:
        """The group's name and budget, its counters and each cache's, as one JSON-ready dict."""
        return {"name": self.name, "cache_bytes": self.cache_bytes, **self.stats.as_dict()}


def _message(exc: BaseException) -> str:
    """The text a caller (and a peer's 500 body) sees for a getter's exception."""
    if isinstance(exc, KeyError) and len(exc.args) == 1:
        return str(exc.args[0])  # str(KeyError("x")) would be "'x'"
    return str(exc) or type(exc).__name__


def _normalise(loaded: Loaded) -> tuple[bytes, float | None]:
    """Turn what a getter returned into (bytes, expiry seconds or None); reject anything else."""
    expires: float | None = None
    if isinstance(loaded, tuple):
        if len(loaded) != 2:
            raise TypeError(f"a getter returns value or (value, expires_at); got {loaded!r}")
        loaded, when = loaded
        expires = when.timestamp() if isinstance(when, datetime) else float(when)
    if isinstance(loaded, str):
        return loaded.encode(), expires
    if isinstance(loaded, bytes | bytearray | memoryview):
        return bytes(loaded), expires
    raise TypeError(f"a getter must return bytes or str; got {type(loaded).__name__}")
