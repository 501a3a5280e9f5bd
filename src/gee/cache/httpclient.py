"""A small asyncio HTTP/1.1 client for peer fetches: keep-alive connections pooled per peer.

A peer fetch is one GET of a short path answered by a short body, on loopback or a LAN; a
general HTTP client spends far more time in its own layers than on the wire (httpx cost ~1.7 ms
of wall time per fetch where the round trip is ~0.13 ms). This one is an ``asyncio.Protocol``
per connection feeding httptools' C response parser, and a pool of idle connections per peer:

- bodies by ``Content-Length`` or chunked (Go's net/http may chunk); a response without either
  (read to close) is refused, as no peer server sends one;
- ``Connection: close`` (or HTTP/1.0) drops the connection after the response;
- ``timeout`` bounds a whole request, ``connect_timeout`` the TCP connect within it;
- a reused connection that fails before the first response byte (the peer closed it while it
  sat idle) is retried once on a fresh connection: GET and DELETE are idempotent, and Go's
  ``http.Transport`` does the same;
- at most ``max_connections`` connections are open at once (idle or busy, all peers together);
  an idle one is dropped after ``keepalive_expiry`` seconds, before a server's own keep-alive
  timeout (uvicorn's is 5 s) closes it under a request;
- a response head larger than ``MAX_HEAD`` bytes is refused.

Every failure is a :class:`~gee.cache.errors.PeerError` whose message names the method, URL and
what went wrong (``ConnectError``, ``TimeoutError``, ``RemoteProtocolError``, ...).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
from typing import cast

import httptools

from gee.cache.errors import PeerError

__all__ = ["MAX_HEAD", "Client"]

MAX_HEAD = 64 * 1024  # bytes of status line and headers a response may have


class _Closed(Exception):
    """The connection closed or failed; ``early`` when no byte of a response had arrived."""

    def __init__(self, message: str, early: bool) -> None:
        super().__init__(message)
        self.early = early


class _Connection(asyncio.Protocol):
    """One TCP connection to a peer, carrying one request at a time."""

    __slots__ = (
        "_body",
        "_closed",
        "_head_bytes",
        "_headers_done",
        "_lost",
        "_parser",
        "_received",
        "_status",
        "_transport",
        "_waiter",
        "idle_since",
        "keep_alive",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        # The request in flight: its future, and what arrived so far.
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self._body: list[bytes] = []
        self._status = 0
        self._received = False
        self._headers_done = False
        self._head_bytes = 0
        self._closed = False
        self._lost: asyncio.Future[None] = loop.create_future()
        self.keep_alive = True
        self.idle_since = 0.0

    # ------------------------------------------------------------------ asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            # Bytes nobody asked for (or after a cancelled request): the stream is out of step.
            self.close()
            return
        self._received = True
        if not self._headers_done:
            if self._head_bytes + len(data) > MAX_HEAD:
                # Where does the head end in this read? A body may follow it. (A terminator
                # split across reads is missed: a head near the limit is then refused.)
                end = data.find(b"\r\n\r\n")
                if self._head_bytes + (len(data) if end < 0 else end + 4) > MAX_HEAD:
                    self._fail(_Closed(f"RemoteProtocolError: head over {MAX_HEAD} bytes", False))
                    return
            self._head_bytes += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(_Closed("RemoteProtocolError: unexpected upgrade", early=False))
            return
        except httptools.HttpParserError as exc:
            self._fail(_Closed(f"RemoteProtocolError: {exc}", early=False))
            return

    def eof_received(self) -> bool | None:
        return False  # close the transport: a half-closed peer sends no more responses

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            why = f"{type(exc).__name__}: {exc}" if exc else "the peer closed the connection"
            early = not self._received
            name = "ReadError" if early else "RemoteProtocolError"
            waiter.set_exception(_Closed(f"{name}: {why}", early=early))
        if not self._lost.done():
            self._lost.set_result(None)

    # ------------------------------------------------------------------ httptools callbacks

    def on_headers_complete(self) -> None:
        self._headers_done = True
        self._status = self._parser.get_status_code()
        self.keep_alive = self._parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result((self._status, b"".join(self._body)))

    # ------------------------------------------------------------------ use

    @property
    def usable(self) -> bool:
        return not self._closed and self.keep_alive

    def _fail(self, exc: _Closed) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        self.close()

    def send(
        self, request: bytes, loop: asyncio.AbstractEventLoop
    ) -> asyncio.Future[tuple[int, bytes]]:
        """Write ``request`` and return the future of its (status, body)."""
        waiter = self._waiter = loop.create_future()
        self._body = []
        self._received = False
        self._headers_done = False
        self._head_bytes = 0
        assert self._transport is not None
        if self._closed or self._transport.is_closing():
            waiter.set_exception(_Closed("ReadError: connection already closed", early=True))
        else:
            self._transport.write(request)
        return waiter

    def close(self) -> None:
        self._closed = True
        if self._transport is not None:
            self._transport.close()

    async def wait_closed(self) -> None:
        await self._lost


class Client:
    """Pooled keep-alive HTTP/1.1 connections to any number of ``host:port`` peers.

    ``timeout`` bounds each request in seconds, connecting included; ``connect_timeout`` bounds
    the connect alone (None: ``timeout``). ``max_connections`` bounds the connections open at
    once over all peers; a request beyond it waits for one to be returned. Call :meth:`aclose`
    from the loop that made the requests.
    """

    def __init__(
        self,
        *,
        timeout: float = 5.0,
        connect_timeout: float | None = None,
        max_connections: int = 100,
        keepalive_expiry: float = 2.0,
    ) -> None:
        if max_connections < 1:
            raise ValueError(f"max_connections must be at least 1; got {max_connections}")
        self.timeout = timeout
        self.connect_timeout = timeout if connect_timeout is None else connect_timeout
        self.keepalive_expiry = keepalive_expiry
        self.max_connections = max_connections
        # All touched only from the loop's thread. Idle connections per (host, port), newest
        # last; every open connection, idle or busy; how many are open or being opened (at most
        # max_connections); requests waiting for one of those to be returned or closed.
        self._idle: dict[tuple[str, int], deque[_Connection]] = {}
        self._open: set[_Connection] = set()
        self._count = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._host_lines: dict[tuple[str, int], bytes] = {}
        self._closed = False

    async def request(
        self, method: str, host: str, port: int, target: bytes, headers: bytes = b""
    ) -> tuple[int, bytes]:
        """Send ``method target`` to ``host:port`` and return (status, body).

        ``headers`` are extra header lines, each ending in CRLF. Raise PeerError on failure.
        """
        host_line = self._host_lines.get((host, port))
        if host_line is None:
            name = f"[{host}]" if ":" in host else host  # an IPv6 address
            host_line = self._host_lines[host, port] = b"Host: %s:%d\r\n" % (
                name.encode("idna"),
                port,
            )
        request = b"%s %s HTTP/1.1\r\n%s%s\r\n" % (
            method.encode("ascii"),
            target,
            host_line,
            headers,
        )
        try:
            async with asyncio.timeout(self.timeout):
                return await self._send(method, host, port, target, request)
        except TimeoutError:
            url = f"http://{host}:{port}{target.decode('latin-1')}"
            raise PeerError(
                f"{method} {url}: TimeoutError: no answer in {self.timeout} s"
            ) from None

    async def _send(
        self, method: str, host: str, port: int, target: bytes, request: bytes
    ) -> tuple[int, bytes]:
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            conn, reused = await self._acquire(method, host, port, target, loop)
            try:
                status, body = await conn.send(request, loop)
            except _Closed as exc:
                self._discard(conn)
                # A kept-alive connection the peer closed as we reused it fails before any
                # answer. Try once more on a fresh one, or the key would count as a peer error
                # and be loaded twice in the cluster.
                # The peer likely closed its other idle connections too (a restart, an idle
                # timeout): drop them, so the retry connects afresh.
                if reused and exc.early and attempt == 1:
                    for stale in self._idle.pop((host, port), ()):
                        self._discard(stale)
                    continue
                url = f"http://{host}:{port}{target.decode('latin-1')}"
                raise PeerError(f"{method} {url}: {exc}") from None
            except BaseException:  # cancelled or timed out mid-request: the stream is unusable
                self._discard(conn)
                raise
            if conn.usable and not self._closed:
                conn.idle_since = loop.time()
                self._idle.setdefault((host, port), deque()).append(conn)
                self._wake()
            else:
                self._discard(conn)
            return status, body
        raise AssertionError("unreachable")  # pragma: no cover

    async def _acquire(
        self, method: str, host: str, port: int, target: bytes, loop: asyncio.AbstractEventLoop
    ) -> tuple[_Connection, bool]:
        """An idle connection to the peer (reused: True), or a new one once the limit allows."""
        while True:
            if self._closed:
                raise PeerError(f"{method} http://{host}:{port}: the client is closed")
            idle = self._idle.get((host, port))
            if idle:
                oldest_ok = loop.time() - self.keepalive_expiry
                while idle:
                    conn = idle.pop()
                    if conn.usable and conn.idle_since >= oldest_ok:
                        return conn, True
                    self._discard(conn)
            if self._count < self.max_connections:
                return await self._connect(method, host, port, target, loop), False
            # At the limit: close an idle connection to another peer to make room, or wait
            # until a connection is returned (maybe to our peer) or closed.
            if self._drop_one_idle():
                continue
            waiter = loop.create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._wake()  # we were woken but will not use it: pass it on
                raise

    async def _connect(
        self, method: str, host: str, port: int, target: bytes, loop: asyncio.AbstractEventLoop
    ) -> _Connection:
        self._count += 1
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, conn = await loop.create_connection(lambda: _Connection(loop), host, port)
        except BaseException as exc:
            self._count -= 1
            self._wake()
            if isinstance(exc, (OSError, TimeoutError)):
                url = f"http://{host}:{port}{target.decode('latin-1')}"
                kind = "ConnectTimeout" if isinstance(exc, TimeoutError) else "ConnectError"
                raise PeerError(f"{method} {url}: {kind}: {exc}") from exc
            raise
        self._open.add(conn)
        return conn

    def _drop_one_idle(self) -> bool:
        for idle in self._idle.values():
            if idle:
                self._discard(idle.popleft())
                return True
        return False

    def _wake(self) -> None:
        """Wake the first request waiting for a connection, if any."""
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _discard(self, conn: _Connection) -> None:
        conn.close()
        if conn in self._open:
            self._open.remove(conn)
            self._count -= 1
            self._wake()

    async def aclose(self) -> None:
        """Close every connection, idle or busy, and wait until their sockets are closed."""
        self._closed = True
        conns: Iterable[_Connection] = list(self._open)
        self._idle.clear()
        for conn in conns:
            self._discard(conn)
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)  # it sees the client closed
        for conn in conns:
            await conn.wait_closed()
