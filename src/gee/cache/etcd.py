"""Membership from etcd: each node lists its URL there, and every pool's ring follows the list.

This is gee.rpc's etcd registry used for cache peers, not a second etcd client: the node's
URL is announced with :func:`gee.rpc.etcd.announce_etcd` (a key ``<prefix><url>`` on a lease
of ``ttl`` seconds, kept alive in the background and taken again if lost, revoked on a clean
leave), and the list is read through gee.rpc's discovery interface
(:class:`gee.rpc.etcd.EtcdDiscovery`, which watches the prefix) by :meth:`HTTPPool.follow`.
A node that crashes drops out of every ring once its lease expires; one that leaves cleanly
drops out at once. Every node sees the same sorted list, so every ring is the same ring.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import TracebackType
from typing import TYPE_CHECKING

from gee.rpc.etcd import EtcdAnnouncement, EtcdDiscovery, announce_etcd

if TYPE_CHECKING:
    from gee.cache.http import HTTPPool

__all__ = ["DEFAULT_PREFIX", "EtcdMembership"]

log = logging.getLogger("gee.cache")

DEFAULT_PREFIX = "/geecache/peers/"


class EtcdMembership:
    """``pool``'s membership in the etcd at ``url`` (``http://host:2379``), under ``prefix``.

    ``await join()`` lists ``pool.self_url`` on a lease of ``ttl`` seconds (etcd's minimum is
    2) and starts following the list: ``pool.set_peers`` is called with every URL under
    ``prefix`` whenever it changes (looked at every ``interval`` seconds; the discovery keeps
    its list current through a watch, so a look costs no request). ``await leave()`` revokes
    the lease, so the others drop this node at once, and stops following. Also an async
    context manager. If the lease is ever lost (etcd unreachable for longer than ``ttl``) the
    node announces itself again once etcd answers (gee.rpc's announcement does that).
    """

    def __init__(
        self,
        pool: HTTPPool,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        ttl: int = 5,
        interval: float = 0.2,
    ) -> None:
        self.pool = pool
        self.url = url.rstrip("/")
        self.prefix = prefix
        self.ttl = ttl
        self.interval = interval
        self._discovery: EtcdDiscovery | None = None  # while joined
        self._announcement: EtcdAnnouncement | None = None  # the leased key, while joined
        self._tasks: list[asyncio.Task[None]] = []  # the follower, while joined

    async def join(self) -> None:
        """List this node and follow the list; raises RPCError if etcd cannot be reached."""
        if self._tasks:
            return
        self._announcement = await announce_etcd(
            None, self.url, prefix=self.prefix, address=self.pool.self_url, ttl=self.ttl
        )
        discovery = self._discovery = EtcdDiscovery(self.url, prefix=self.prefix)
        try:
            await discovery.servers()  # the first list, with this node in it
        except BaseException:
            await self.leave()  # revoke the lease just taken
            raise
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self.pool.follow(discovery.servers, self.interval))]
        log.info("etcd %s: %s joined under %s", self.url, self.pool.self_url, self.prefix)

    async def leave(self) -> None:
        """Revoke this node's lease (it leaves every ring now) and stop following."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        announcement, self._announcement = self._announcement, None
        if announcement is not None:
            await announcement.stop()
        discovery, self._discovery = self._discovery, None
        if discovery is not None:
            await discovery.close()

    async def __aenter__(self) -> EtcdMembership:
        await self.join()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.leave()
