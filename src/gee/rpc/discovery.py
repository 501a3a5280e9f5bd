"""Discovery: where the servers are. XClient asks ``await discovery.servers()`` per call.

A discovery keeps its own list fresh (a static list never changes; the registry and etcd
discoveries poll or watch in the background), so asking is cheap enough to do on every call.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

__all__ = ["Discovery", "StaticDiscovery"]


@runtime_checkable
class Discovery(Protocol):
    """Anything that can say which servers are up right now."""

    async def servers(self) -> list[str]:
        """Return the addresses (``tcp@host:port`` ...) of the servers believed alive."""
        ...


class StaticDiscovery:
    """A fixed list of servers, replaced by hand with ``update``: GeeRPC's MultiServersDiscovery."""

    def __init__(self, servers: Iterable[str]) -> None:
        self._servers = list(servers)

    def update(self, servers: Iterable[str]) -> None:
        """Replace the list; calls already picked a server keep using it."""
        self._servers = list(servers)

    async def servers(self) -> list[str]:
        return self._servers

    async def close(self) -> None:
        """Nothing to stop; here so every discovery can be closed the same way."""
