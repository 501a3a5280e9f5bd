"""Demo 5b: gee.cache's consistent-hash ring and LRU cache, answering live as you type.

``HashRing`` is the ring groupcache uses (50 points per node, CRC-32): for the key typed, it
names the node that owns it, the same answer a gee.cache or Go groupcache cluster with these
peers gives. The answers pass through an ``LRUCache`` bounded in bytes, so repeated keys are hits
and old ones are evicted, shown oldest first.
"""

from __future__ import annotations

from typing import Any

from gee.cache.consistenthash import HashRing
from gee.cache.lru import LRUCache

from .dom import element, listen

MAX_BYTES = 160


class Lookup:
    """The ring of the peers typed in the page and the LRU of recent answers."""

    def __init__(self) -> None:
        self.ring = HashRing()
        self.evicted = 0
        self.lru = LRUCache(MAX_BYTES, on_evicted=self._count)
        self.hits = self.misses = 0

    def _count(self, key: str, value: bytes) -> None:
        self.evicted += 1

    def set_peers(self, text: str) -> None:
        peers = [peer.strip() for peer in text.split(",") if peer.strip()]
        self.ring = HashRing.of(peers)
        self.lru.clear()  # owners may have moved: forget the old answers, start counting anew
        self.hits = self.misses = self.evicted = 0

    def owner(self, key: str) -> tuple[str | None, bool]:
        """The owner of ``key`` and whether the LRU already knew it."""
        cached = self.lru.get(key)
        if cached is not None:
            self.hits += 1
            return cached.decode(), True
        self.misses += 1
        owner = self.ring.owner(key)
        if owner is not None:
            self.lru.add(key, owner.encode())
        return owner, False


lookup = Lookup()


def render_shares() -> None:
    shares = lookup.ring.shares()
    element("cache-shares").textContent = " · ".join(
        f"{peer} {share:.1%}" for peer, share in shares.items()
    )


def on_peers(event: Any) -> None:
    lookup.set_peers(str(element("cache-peers").value))
    render_shares()
    on_key(event)


def on_key(event: Any) -> None:
    key = str(element("cache-key").value)
    if not key:
        element("cache-owner").textContent = "type a key"
        return
    owner, hit = lookup.owner(key)
    where = "LRU hit" if hit else "ring lookup"
    element("cache-owner").textContent = f"{key!r} → {owner or 'no peers'} ({where})"
    lru = lookup.lru
    element("cache-lru").textContent = (
        f"LRU {lru.nbytes}/{lru.max_bytes} bytes, oldest first: {', '.join(lru.keys())}"
        f" · hits {lookup.hits}, misses {lookup.misses}, evicted {lookup.evicted}"
    )


def main() -> None:
    lookup.set_peers(str(element("cache-peers").value))
    render_shares()
    listen(element("cache-peers"), "change", on_peers)
    listen(element("cache-key"), "input", on_key)
