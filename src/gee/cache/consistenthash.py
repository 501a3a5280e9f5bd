"""A consistent-hash ring that picks the same owners as groupcache's ``consistenthash``.

Every peer is placed on a ring of 32-bit points ``replicas`` times, at
``hash(str(i) + peer)`` for ``i`` in ``range(replicas)``. A key belongs to the peer of the first
point at or after ``hash(key)``, wrapping past the top to the lowest point. Where two peers land
on one point, the peer added later wins, as in Go (its map entry overwrites the earlier one).
With the defaults (50 replicas, CRC-32 IEEE) a Python node and a Go groupcache node given the
same peer list agree on every key's owner, which is what lets them share one cluster.

The ring is a leaf: it imports nothing of gee. It is not locked; ``HTTPPool`` replaces the
whole ring when membership changes instead of mutating one that readers may be using.
"""

from __future__ import annotations

import zlib
from bisect import bisect_left
from collections.abc import Callable, Iterable

__all__ = ["DEFAULT_REPLICAS", "HashRing", "crc32"]

Hash = Callable[[bytes], int]

DEFAULT_REPLICAS = 50


def crc32(data: bytes) -> int:
    """CRC-32 IEEE of ``data`` as an unsigned 32-bit int, like Go's ``crc32.ChecksumIEEE``."""
    return zlib.crc32(data)


class HashRing:
    """Consistent hashing of keys onto peers, compatible with groupcache.

    ``replicas`` is the number of points per peer (groupcache's default 50; more points give a
    more even share at the cost of memory and of ``add``'s time). ``hash`` maps bytes to an
    unsigned 32-bit int; None means CRC-32 IEEE. Keys and peers are ``str`` hashed as UTF-8.
    """

    __slots__ = ("_hash", "_owners", "_points", "peers", "replicas")

    def __init__(self, replicas: int = DEFAULT_REPLICAS, hash: Hash | None = None) -> None:
        if replicas < 1:
            raise ValueError(f"replicas must be >= 1; got {replicas}")
        self.replicas = replicas
        self._hash: Hash = hash if hash is not None else zlib.crc32
        # The sorted points, and the peer that owns each (the later-added peer on a collision).
        self._points: list[int] = []
        self._owners: dict[int, str] = {}
        # The peers in the order they were added (a peer added twice is listed once).
        self.peers: list[str] = []

    def add(self, *peers: str) -> None:
        """Place each peer on the ring ``replicas`` times."""
        hash_ = self._hash
        for peer in peers:
            for i in range(self.replicas):
                point = hash_(f"{i}{peer}".encode("utf-8", "surrogateescape"))
                if point not in self._owners:
                    self._points.append(point)
                self._owners[point] = peer
            if peer not in self.peers:
                self.peers.append(peer)
        self._points.sort()

    def __bool__(self) -> bool:
        """False when no peer has been added."""
        return bool(self._points)

    def __len__(self) -> int:
        """The number of distinct points on the ring."""
        return len(self._points)

    def owner(self, key: str) -> str | None:
        """Return the peer that owns ``key``; None if the ring is empty."""
        points = self._points
        if not points:
            return None
        idx = bisect_left(points, self._hash(key.encode("utf-8", "surrogateescape")))
        if idx == len(points):
            idx = 0
        return self._owners[points[idx]]

    def shares(self) -> dict[str, float]:
        """Return each peer's share of the 32-bit hash space (0 to 1): the keys it can expect.

        A peer whose every point was taken over by a later peer has a share of zero.
        """
        points = self._points
        share = dict.fromkeys(self.peers, 0.0)
        previous = points[-1] - 2**32 if points else 0  # the arc that wraps past zero
        for point in points:
            share[self._owners[point]] += (point - previous) / 2**32
            previous = point
        return share

    @classmethod
    def of(
        cls, peers: Iterable[str], replicas: int = DEFAULT_REPLICAS, hash: Hash | None = None
    ) -> HashRing:
        """Return a ring holding ``peers``, added in order."""
        ring = cls(replicas, hash)
        ring.add(*peers)
        return ring
