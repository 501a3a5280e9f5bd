"""gee.cache: an embedded distributed cache that speaks groupcache's protocol.

::

    from gee.cache import Group, HTTPPool

    scores = Group("scores", 64 << 20, load_score)   # load_score(key) -> bytes | str
    pool = HTTPPool("http://10.0.0.1:8001")         # an ASGI app: serve it on that address
    pool.set_peers("http://10.0.0.1:8001", "http://10.0.0.2:8001")
    scores.peers = pool
    value = await scores.get("Tom")

A value comes from this process's cache, from the peer that owns the key, or from the getter,
loaded once however many callers ask at the same time. Names are imported on first use
(PEP 562), so that ``gee --help``, which imports ``gee.cache.cli``, does not pay for asyncio,
protobuf or the web framework.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gee.cache.consistenthash import HashRing
    from gee.cache.errors import (
        CacheError,
        GetterError,
        GroupExistsError,
        NoSuchGroupError,
        PeerError,
    )
    from gee.cache.etcd import EtcdMembership
    from gee.cache.group import CacheStats, Getter, Group, Stats, get_group, unregister_group
    from gee.cache.http import HTTPGetter, HTTPPool
    from gee.cache.lru import LRUCache
    from gee.cache.peers import NoPeers, PeerGetter, PeerPicker
    from gee.cache.singleflight import SingleFlight

__all__ = [
    "CacheError",
    "CacheStats",
    "EtcdMembership",
    "Getter",
    "GetterError",
    "Group",
    "GroupExistsError",
    "HTTPGetter",
    "HTTPPool",
    "HashRing",
    "LRUCache",
    "NoPeers",
    "NoSuchGroupError",
    "PeerError",
    "PeerGetter",
    "PeerPicker",
    "SingleFlight",
    "Stats",
    "get_group",
    "unregister_group",
]

_HOMES = {
    "CacheError": "gee.cache.errors",
    "CacheStats": "gee.cache.group",
    "EtcdMembership": "gee.cache.etcd",
    "Getter": "gee.cache.group",
    "GetterError": "gee.cache.errors",
    "Group": "gee.cache.group",
    "GroupExistsError": "gee.cache.errors",
    "HTTPGetter": "gee.cache.http",
    "HTTPPool": "gee.cache.http",
    "HashRing": "gee.cache.consistenthash",
    "LRUCache": "gee.cache.lru",
    "NoPeers": "gee.cache.peers",
    "NoSuchGroupError": "gee.cache.errors",
    "PeerError": "gee.cache.errors",
    "PeerGetter": "gee.cache.peers",
    "PeerPicker": "gee.cache.peers",
    "SingleFlight": "gee.cache.singleflight",
    "Stats": "gee.cache.group",
    "get_group": "gee.cache.group",
    "unregister_group": "gee.cache.group",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'gee.cache' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
