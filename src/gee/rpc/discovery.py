"""Discovery: where the servers are. XClient asks ``await discovery.servers()`` per call.

A discovery keeps its own list fresh (a static list never changes; the registry and etcd
discoveries poll or watch in the background), so asking is cheap enough to do on every call.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

__all__ = ["Discovery", "StaticDiscovery", "discover"]


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


def discover(where: str) -> Discovery:
    """Return the discovery that ``where`` names, so configuration can be one string.

    - ``etcd://host:port/prefix/`` — EtcdDiscovery (prefix defaults to ``/geerpc/servers/``);
    - ``http://host:port/_geerpc_/registry`` — gee's registry (RegistryDiscovery);
    - ``tcp@a:1,tcp@b:2`` — a StaticDiscovery of those addresses.
    """
    if where.startswith("etcd://"):
        from gee.rpc.etcd import DEFAULT_PREFIX, EtcdDiscovery

        url = urlsplit(where)
        prefix = url.path if url.path not in ("", "/") else DEFAULT_PREFIX
        return EtcdDiscovery(f"http://{url.netloc}", prefix=prefix)
    if where.startswith("http://"):
        from gee.rpc.registry import RegistryDiscovery

        return RegistryDiscovery(where)
    return StaticDiscovery(a.strip() for a in where.split(",") if a.strip())
