"""gee.cache: an embedded distributed cache that speaks groupcache's protocol.

Create a :class:`Group` with a getter, optionally give it an :class:`HTTPPool` as its peers, and
``await group.get(key)``: the value comes from this process's cache, from the peer that owns the
key, or from the getter, loaded once however many callers ask at the same time.
"""

from gee.cache.consistenthash import HashRing
from gee.cache.errors import (
    CacheError,
    GetterError,
    GroupExistsError,
    NoSuchGroupError,
    PeerError,
)
from gee.cache.group import CacheStats, Getter, Group, Stats, get_group, unregister_group
from gee.cache.lru import LRUCache
from gee.cache.peers import NoPeers, PeerGetter, PeerPicker
from gee.cache.singleflight import SingleFlight

__all__ = [
    "CacheError",
    "CacheStats",
    "Getter",
    "GetterError",
    "Group",
    "GroupExistsError",
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
