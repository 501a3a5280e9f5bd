"""Discovery: where the servers are. XClient asks ``await discovery.servers()`` per call.

A discovery keeps its own list fresh (a static list never changes; the registry and etcd
discoveries poll or watch in the background), so asking is cheap enough to do on every call.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Generic, Protocol, TypeVar, runtime_checkable
from urllib.parse import urlsplit

from gee.rpc.errors import RPCError

__all__ = ["Discovery", "StaticDiscovery", "Watcher", "discover"]

T = TypeVar("T")


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


class Watcher(Generic[T]):
    """The one background task behind a discovery: a first ``load``, then ``watch`` forever.

    ``load()`` fetches the list and returns what ``watch`` needs to go on from there (etcd's
    revision; None for the registry). ``ready()`` starts the task on its first call and waits
    for the first load; a failed first load raises in every waiter, and the next call starts
    over. ``close()`` cancels whatever is running; a later ``ready()`` starts again from a
    fresh load, so a closed discovery never answers from a list nobody keeps current.
    """

    def __init__(
        self, load: Callable[[], Awaitable[T]], watch: Callable[[T], Awaitable[None]]
    ) -> None:
        self._load = load
        self._watch = watch
        self._task: asyncio.Task[None] | None = None  # the load, then the watch
        self._loaded: asyncio.Future[None] | None = None  # done once the first load ends

    async def ready(self) -> None:
        """Start the task if none runs yet; return once the first list is in."""
        # Many calls may make the first request at once (an XClient's first burst). Nothing is
        # awaited between the check and the create, so exactly one of them starts the task;
        # the rest wait on the same future. Each waits through a shield: a caller cancelled
        # while waiting must not cancel the load the others wait for.
        if self._task is None:
            loop = asyncio.get_running_loop()
            self._loaded = loop.create_future()
            self._task = loop.create_task(self._run(self._loaded))
        assert self._loaded is not None
        await asyncio.shield(self._loaded)

    async def _run(self, loaded: asyncio.Future[None]) -> None:
        try:
            state = await self._load()
        except asyncio.CancelledError:
            loaded.set_exception(RPCError("rpc: discovery closed before its first list"))
            raise
        except Exception as exc:
            if self._task is asyncio.current_task():
                self._task = None  # the first load failed: the next call starts over
            loaded.set_exception(exc)
            return
        loaded.set_result(None)
        await self._watch(state)

    async def close(self) -> None:
        """Stop the task; waiters of a first load still running get an RPCError.

        The watcher can be used again: the next ``ready()`` starts a new task.
        """
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


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
