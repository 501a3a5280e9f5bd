"""How a Group finds and asks its peers: two small protocols, as in groupcache's ``peers.go``.

:class:`gee.cache.HTTPPool` implements both over HTTP; a test or another transport can
implement them with a few lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

__all__ = ["NoPeers", "PeerGetter", "PeerPicker"]


class PeerGetter(Protocol):
    """One remote peer, able to answer for the keys it owns."""

    async def get(self, group: str, key: str) -> bytes:
        """Return the value of ``key`` in ``group`` from this peer; raise on any failure."""
        ...

    async def remove(self, group: str, key: str) -> None:
        """Drop ``key`` from this peer's caches of ``group``; raise on any failure."""
        ...


class PeerPicker(Protocol):
    """Locates the peer that owns a key."""

    def pick_peer(self, key: str) -> PeerGetter | None:
        """Return the remote owner of ``key``; None when this process owns it (or has no peers)."""
        ...

    def remote_peers(self) -> Sequence[PeerGetter]:
        """Return every peer except this process (``Group.remove`` tells each of them)."""
        ...


class NoPeers:
    """A PeerPicker with no peers: every key is owned, and loaded, locally."""

    def pick_peer(self, key: str) -> PeerGetter | None:
        return None

    def remote_peers(self) -> Sequence[PeerGetter]:
        return ()
