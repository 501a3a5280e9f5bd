"""gee's built-in registry: servers heartbeat over HTTP, clients poll or long-poll.

GeeRPC's day 7, kept wire-compatible in spirit: ``POST /_geerpc_/registry`` with header
``X-Geerpc-Server: tcp@host:port`` is a heartbeat; ``GET`` answers the live servers in the
``X-Geerpc-Servers`` header (comma-separated) and as JSON ``{"servers": [...], "version": N}``.
Additions: ``DELETE`` deregisters at once (graceful shutdown), ``?version=N&wait=S`` holds a GET
until the list differs from version N (at most S seconds), so a change reaches clients without
polling, and a reaper drops servers whose heartbeat is older than ``ttl`` even when nobody asks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final
from urllib.parse import parse_qs, urlsplit

from gee.rpc import httpclient
from gee.rpc.discovery import Watcher
from gee.rpc.errors import RPCError

if TYPE_CHECKING:
    from gee.rpc.etcd import EtcdAnnouncement
    from gee.rpc.server import Server

__all__ = ["DEFAULT_PATH", "Announcement", "Registry", "RegistryDiscovery", "announce"]

log = logging.getLogger("gee.rpc.registry")

DEFAULT_PATH: Final = "/_geerpc_/registry"
_MAX_WAIT: Final = 60.0


class Registry:
    """The registry server. ``ttl`` is how long a heartbeat keeps a server listed."""

    def __init__(self, ttl: float = 30.0, path: str = DEFAULT_PATH) -> None:
        self.ttl = ttl
        self.path = path
        self._servers: dict[str, float] = {}  # address -> expiry (monotonic); loop thread only
        self.version = 0
        self._changed = asyncio.Event()  # replaced on every change; waiters hold the old one
        self._server: asyncio.Server | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        # Every open connection's writer, added when it is accepted: shutdown() closes them
        # all, including one whose handler task has not run yet (it would leak its socket).
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    def alive(self) -> list[str]:
        """The servers heard from within ``ttl``, sorted (expired ones are dropped now)."""
        now = time.monotonic()
        dead = [a for a, expiry in self._servers.items() if expiry <= now]
        for address in dead:
            del self._servers[address]
        if dead:
            log.info("registry: %s expired", ", ".join(dead))
            self._bump()
        return sorted(self._servers)

    def heartbeat(self, address: str) -> None:
        """Record that ``address`` is alive for another ``ttl``."""
        is_new = address not in self._servers
        self._servers[address] = time.monotonic() + self.ttl
        if is_new:
            self._bump()

    def remove(self, address: str) -> None:
        """Forget ``address`` at once."""
        if self._servers.pop(address, None) is not None:
            self._bump()

    def _bump(self) -> None:
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen; return the port (``port`` 0: any free one)."""
        self._server = await asyncio.start_server(self._accept, host, port)
        self.port = self._server.sockets[0].getsockname()[1]
        self._reaper = asyncio.get_running_loop().create_task(self._reap())
        log.info("registry listening on http://%s:%d%s", host, self.port, self.path)
        return self.port

    async def serve_forever(self) -> None:
        assert self._server is not None
        await self._server.serve_forever()

    async def shutdown(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(min(self.ttl / 4, 1.0))
            self.alive()

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A plain function, so asyncio calls it as the connection is made (a coroutine would
        # become a task that may never start before a shutdown).
        self._writers.add(writer)
        task = asyncio.get_running_loop().create_task(self._serve(reader, writer))
        task.add_done_callback(lambda _: self._forget(writer))

    def _forget(self, writer: asyncio.StreamWriter) -> None:
        # The handler ended, however (even cancelled before it ran): its socket closes too.
        self._writers.discard(writer)
        writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            status, headers, body = await self._answer(reader)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, OSError):
            status, headers, body = 400, {}, b"bad request\n"
        except asyncio.CancelledError:
            status, headers, body = 503, {}, b"shutting down\n"
        finally:
            self._handlers.discard(task)
        head = f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
        headers.setdefault("Content-Type", "application/json" if status == 200 else "text/plain")
        headers.update({"Content-Length": str(len(body)), "Connection": "close"})
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        try:
            writer.write(head.encode("latin-1") + body)
            await writer.drain()
        except OSError:
            pass
        finally:  # cancelled by shutdown() while draining: the socket still closes
            writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        request_line, *lines = head.split("\r\n")
        method, target, _ = request_line.split(" ", 2)
        headers = {}
        for line in lines:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        if int(headers.get("content-length", "0")):
            await reader.readexactly(int(headers["content-length"]))
        url = urlsplit(target)
        if url.path != self.path:
            return 404, {}, b"404 page not found\n"
        if method == "GET":
            query = parse_qs(url.query)
            if "version" in query:
                await self._wait(int(query["version"][0]), float(query.get("wait", ["30"])[0]))
            servers = self.alive()
            body = json.dumps({"servers": servers, "version": self.version}).encode()
            extra = {"X-Geerpc-Servers": ",".join(servers), "X-Geerpc-Version": str(self.version)}
            return 200, extra, body
        address = headers.get("x-geerpc-server", "")
        if method in ("POST", "DELETE") and not address:
            return 400, {}, b"missing X-Geerpc-Server header\n"
        if method == "POST":
            self.heartbeat(address)
            return 200, {"X-Geerpc-TTL": f"{self.ttl:g}"}, b"{}"
        if method == "DELETE":
            self.remove(address)
            return 200, {}, b"{}"
        return 405, {}, b"405 method not allowed\n"

    async def _wait(self, version: int, wait: float) -> None:
        """Hold a long-poll until the list is no longer at ``version``, or ``wait`` s pass."""
        self.alive()
        if version != self.version:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(min(max(wait, 0.0), _MAX_WAIT)):
                await self._changed.wait()


class Announcement:
    """A server's heartbeats to a registry; ``stop()`` ends them and deregisters."""

    def __init__(self, task: asyncio.Task[None], stop: Callable[[], Awaitable[None]]) -> None:
        self.task = task
        self._stop = stop

    async def stop(self) -> None:
        await self._stop()


async def announce(
    server: Server,
    registry: str,
    *,
    address: str | None = None,
    interval: float | None = None,
) -> Announcement | EtcdAnnouncement:
    """Register ``server`` with the registry at ``registry`` (its full URL) and keep it there.

    ``address`` None means the server's first listening address. ``interval`` None means a
    third of the registry's ttl. The first heartbeat is sent before this returns (errors raise);
    later failures are logged and retried. Deregisters on ``server.shutdown()``. An
    ``etcd://host:port/prefix/`` URL announces to etcd instead (see ``announce_etcd``).
    """
    if registry.startswith("etcd://"):
        from gee.rpc.etcd import DEFAULT_PREFIX, announce_etcd

        url = urlsplit(registry)
        prefix = url.path if url.path not in ("", "/") else DEFAULT_PREFIX
        return await announce_etcd(server, f"http://{url.netloc}", prefix=prefix, address=address)
    if address is None:
        if not server.addresses:
            raise RPCError("rpc: start() the server before announcing it")
        address = str(server.addresses[0])
    header = {"X-Geerpc-Server": address}
    first = await httpclient.request("POST", registry, b"", header)
    if first.status != 200:
        raise RPCError(f"rpc: registry {registry} answered {first.status} to a heartbeat")
    every = interval if interval is not None else float(first.headers.get("x-geerpc-ttl", 30)) / 3

    async def beat() -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await httpclient.request("POST", registry, b"", header)
            except RPCError as exc:
                log.warning("registry heartbeat to %s failed: %s", registry, exc)

    task = asyncio.get_running_loop().create_task(beat())

    async def stop() -> None:
        if task.done():
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        try:
            await httpclient.request("DELETE", registry, None, header, timeout=2.0)
        except RPCError as exc:
            log.warning("registry deregistration at %s failed: %s", registry, exc)

    server.on_shutdown.append(stop)
    return Announcement(task, stop)


class RegistryDiscovery:
    """Servers from gee's registry at ``url``, kept fresh in the background.

    ``wait`` is how long each long-poll may be held; ``wait=0`` polls plainly every
    ``interval`` seconds instead (GeeRPC's way, for registries behind proxies that cut held
    requests). A failed request is retried after ``retry`` s while the last list stays in use.
    """

    def __init__(
        self, url: str, *, wait: float = 30.0, interval: float = 10.0, retry: float = 1.0
    ) -> None:
        self.url = url
        self.wait = wait
        self.interval = interval
        self.retry = retry
        self._servers: list[str] = []
        self._version = -1
        self._watcher = Watcher(self._fetch_first, self._watch)

    async def servers(self) -> list[str]:
        await self._watcher.ready()
        return self._servers

    async def _fetch_first(self) -> None:
        await self._fetch(None)

    async def _fetch(self, version: int | None) -> None:
        url = self.url
        timeout = 5.0
        if version is not None:
            url += f"?version={version}&wait={self.wait:g}"
            timeout += self.wait
        response = await httpclient.request("GET", url, timeout=timeout)
        if response.status != 200:
            raise RPCError(f"rpc: registry {self.url} answered {response.status}")
        answer = json.loads(response.body)
        if answer["version"] != self._version:
            self._version = answer["version"]
            self._servers = list(answer["servers"])

    async def _watch(self, _: None) -> None:
        while True:
            try:
                if self.wait > 0:
                    await self._fetch(self._version)
                else:
                    await asyncio.sleep(self.interval)
                    await self._fetch(None)
            except (RPCError, ValueError, KeyError) as exc:
                log.warning("registry discovery: %s", exc)
                await asyncio.sleep(self.retry)

    async def close(self) -> None:
        await self._watcher.close()
