"""XClient: one logical client over many servers, picking one per call.

Modes (GeeRPC had the first two):

- ``random`` — uniform choice;
- ``round_robin`` — each server in turn;
- ``p2c`` — power of two choices: two servers at random, the one with fewer calls in flight
  (a cheap, well-known way to steer load away from a slow server without global state);
- ``consistent_hash`` — the server owning ``key`` on a hash ring (crc32, 50 points per server),
  so the same key goes to the same server while membership is stable.

Clients are kept per address and closed when their server leaves the discovery.
"""

from __future__ import annotations

import asyncio
import bisect
import random
import zlib
from typing import Any, Final, Literal

from gee.rpc.client import Client
from gee.rpc.discovery import Discovery
from gee.rpc.errors import RPCError

__all__ = ["MODES", "Mode", "XClient"]

Mode = Literal["random", "round_robin", "p2c", "consistent_hash"]
MODES: Final = ("random", "round_robin", "p2c", "consistent_hash")
_REPLICAS: Final = 50


class _Ring:
    """A consistent-hash ring over one server list (rebuilt only when the list changes)."""

    __slots__ = ("owners", "points", "servers")

    def __init__(self, servers: list[str]) -> None:
        self.servers = servers
        pairs = sorted(
            (zlib.crc32(f"{i}{server}".encode()), server)
            for server in servers
            for i in range(_REPLICAS)
        )
        self.points = [p for p, _ in pairs]
        self.owners = [s for _, s in pairs]

    def owner(self, key: str) -> str:
        i = bisect.bisect_left(self.points, zlib.crc32(key.encode()))
        return self.owners[i % len(self.owners)]


class XClient:
    """Calls go to one server chosen by ``mode`` among those ``discovery`` lists.

    ``options`` are passed to each Client (``codec``, ``connect_timeout``, ``max_frame``...).
    """

    def __init__(self, discovery: Discovery, mode: Mode = "random", **options: Any) -> None:
        if mode not in MODES:
            raise RPCError(f"rpc: unknown mode {mode!r}; want one of {MODES}")
        self.discovery = discovery
        self.mode = mode
        self._options = options
        self._clients: dict[str, Client] = {}  # address -> client; event loop only
        self._index = random.randrange(1 << 16)  # round robin position
        self._ring: _Ring | None = None
        self._known: list[str] = []
        # clients of departed servers, closing once their calls finish
        self._closing: dict[asyncio.Task[None], Client] = {}

    async def _pick(self, key: str | None) -> str:
        servers = await self.discovery.servers()
        if not servers:
            raise RPCError("rpc discovery: no available servers")
        if servers is not self._known:
            self._forget_gone(servers)
        mode = self.mode
        if mode == "round_robin":
            self._index += 1
            return servers[self._index % len(servers)]
        if mode == "p2c" and len(servers) > 1:
            a, b = random.sample(servers, 2)
            return a if self._in_flight(a) <= self._in_flight(b) else b
        if mode == "consistent_hash":
            if key is None:
                raise RPCError("rpc: consistent_hash mode needs call(..., key=...)")
            if self._ring is None or self._ring.servers != servers:
                self._ring = _Ring(list(servers))
            return self._ring.owner(key)
        return random.choice(servers)

    def _in_flight(self, address: str) -> int:
        client = self._clients.get(address)
        return client.in_flight if client is not None else 0

    def _forget_gone(self, servers: list[str]) -> None:
        self._known = servers
        alive = set(servers)
        for address in [a for a in self._clients if a not in alive]:
            client = self._clients.pop(address)
            # calls in flight on it may still finish: close once they have
            task = asyncio.get_running_loop().create_task(client.close(grace=30.0))
            self._closing[task] = client
            task.add_done_callback(self._closing.pop)

    def client(self, address: str) -> Client:
        """Return the (lazily connected) client for ``address``."""
        client = self._clients.get(address)
        if client is None:
            client = self._clients[address] = Client(address, **self._options)
        return client

    async def call(
        self,
        name: str,
        args: Any,
        *,
        result: Any = Any,
        timeout: float | None = None,  # noqa: ASYNC109 - sent on as the call's deadline
        key: str | None = None,
    ) -> Any:
        """Call ``name`` on one server; ``key`` picks it in consistent_hash mode."""
        address = await self._pick(key)
        return await self.client(address).call(name, args, result=result, timeout=timeout)

    async def broadcast(
        self,
        name: str,
        args: Any,
        *,
        result: Any = Any,
        timeout: float | None = None,  # noqa: ASYNC109 - sent on as each call's deadline
    ) -> list[Any]:
        """Call ``name`` on every server; return their replies in the discovery's order.

        The first error cancels the calls still running and is raised.
        """
        servers = list(await self.discovery.servers())
        if not servers:
            raise RPCError("rpc discovery: no available servers")
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(
                        self.client(s).call(name, args, result=result, timeout=timeout)
                    )
                    for s in servers
                ]
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from None
        return [t.result() for t in tasks]

    async def close(self) -> None:
        """Close every client (pending calls fail) and the discovery if it can be closed."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.close()
        closing = dict(self._closing)
        for client in closing.values():
            await client.close()  # fails their pending calls, which ends the graceful waits
        await asyncio.gather(*closing, return_exceptions=True)
        closer = getattr(self.discovery, "close", None)
        if closer is not None:
            await closer()

    async def __aenter__(self) -> XClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
