"""The RPC server: one asyncio protocol per connection, every request handled concurrently.

One listening port speaks everything; the first byte of a connection decides how it is read:

- ``0x00`` — gee's protocol (the handshake's magic starts with a zero byte);
- ``{`` or whitespace — Go's net/rpc/jsonrpc, one JSON object per line;
- an ASCII capital — HTTP: ``CONNECT /_geerpc_`` (answered ``200 Connected to Gee RPC``) or
  ``CONNECT /_goRPC_`` (``200 Connected to Go RPC``, as Go's client requires) switch the
  connection to RPC; ``GET /debug/geerpc`` serves the debug page.

Anything else is logged and closed. Each request runs concurrently: an ``async def`` method
starts at once, in a task that is scheduled only if it has to wait; a plain ``def`` runs in the
thread pool. Replies go out in whatever order they finish, matched by seq. A broken frame
closes only its own connection. A vanished client's handlers are cancelled, and the handle
timeout cancels a handler rather than abandoning it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import struct
import sys
import time
import types
from collections.abc import Awaitable, Callable, Coroutine, Generator
from concurrent.futures import Executor
from typing import Any, Final, cast

import msgspec

from gee.rpc import jsonrpc
from gee.rpc import protocol as wire
from gee.rpc.address import Address, parse_address
from gee.rpc.codec import JSON, Codec, codec_by_id
from gee.rpc.debug import DEBUG_PATH, render
from gee.rpc.errors import ProtocolError, ServiceError
from gee.rpc.service import Method, Service, build_service

__all__ = ["DEBUG_PATH", "EAGER_SUPPORTED", "GEE_RPC_PATH", "GO_RPC_PATH", "Server"]

log = logging.getLogger("gee.rpc")

# Eager handlers need asyncio's C Task, which can be allocated first and initialised later
# (the pure-Python one cannot): see Server._start.
EAGER_SUPPORTED: Final = asyncio.Task is getattr(asyncio.tasks, "_CTask", None)


class _HandlerTask(asyncio.Task):  # type: ignore[type-arg]
    """The Task of an eager handler: allocated before its first step, initialised only if it waits.

    Until then it is a C Task whose fields are empty: the methods asyncio.timeout() and TaskGroup
    use (cancel, cancelling, uncancel, done) work, most others raise RuntimeError, but C
    ``get_coro()`` (and ``get_context()`` from 3.12) would read a NULL pointer and crash the
    process; here they return None until the task is started, and ``repr()`` says so.
    """

    __slots__ = ()

    def get_coro(self) -> Any:
        return super().get_coro() if self._loop is not None else None

    def __repr__(self) -> str:
        return super().__repr__() if self._loop is not None else "<Task not started (eager)>"

    if sys.version_info >= (3, 12):

        def get_context(self) -> Any:
            return super().get_context() if self._loop is not None else None


_new_task = asyncio.Task.__new__
_enter_task = asyncio.tasks._enter_task
_leave_task = asyncio.tasks._leave_task

GEE_RPC_PATH: Final = "/_geerpc_"
GO_RPC_PATH: Final = "/_goRPC_"
_GEE_CONNECTED: Final = b"HTTP/1.0 200 Connected to Gee RPC\n\n"
_GO_CONNECTED: Final = b"HTTP/1.0 200 Connected to Go RPC\n\n"
_MAX_HTTP_HEAD: Final = 8192
_BURST_PARTS: Final = 64  # queued parts (32 replies) sent without waiting for the burst's end
_JSON_START: Final = frozenset(b"{ \t\r\n")
_HEAD: Final = struct.Struct(">IQBBH")  # a frame's fixed header (see protocol.py)
_U32: Final = struct.Struct(">I")
_REPLY_HEAD: Final = _HEAD  # a reply: length, seq, kind, no flags, no name
_REPLY_FIXED: Final = wire.HEADER_SIZE - 4  # header bytes counted by a frame's length
_perf_counter = time.perf_counter
_copy_context = contextvars.copy_context
_Task = _HandlerTask
_current_task = asyncio.current_task


class Server:
    """Serves registered objects over gee's protocol, JSON-RPC and HTTP CONNECT.

    ``handle_timeout`` None means a handler may run as long as it likes; otherwise a handler
    still running after that many seconds is cancelled and the caller gets an error. A request
    carrying a deadline shortens it further. ``max_frame`` bounds every incoming frame (and JSON
    line). ``executor`` runs plain ``def`` methods; None means the loop's default pool.
    ``eager`` (on by default) runs each ``async def`` handler's first step the moment its
    request is decoded, and schedules it as a Task only if it waits (see "Eager handlers" in
    docs/rpc.md): a handler that answers at once costs no Task trip through the loop. Off,
    every request is scheduled as a Task of its own and starts on the next loop iteration.
    """

    def __init__(
        self,
        *,
        handle_timeout: float | None = None,
        max_frame: int = wire.DEFAULT_MAX_FRAME,
        executor: Executor | None = None,
        eager: bool = True,
    ) -> None:
        self.handle_timeout = handle_timeout
        self.eager = eager and EAGER_SUPPORTED
        self.max_frame = max_frame
        self.executor = executor
        self.services: dict[str, Service] = {}
        # b"Service.Method" -> Method: one dict lookup per request, no decoding of the name
        self._methods: dict[bytes, Method] = {}
        self._servers: list[asyncio.AbstractServer] = []
        self._connections: set[_Connection] = set()
        self._unix_paths: list[str] = []
        self.addresses: list[Address] = []
        # called (and awaited) by shutdown() before connections close: registries deregister
        self.on_shutdown: list[Callable[[], Awaitable[None]]] = []
        self.started = time.time()

    # ------------------------------------------------------------------ set-up

    def register(self, obj: object, name: str | None = None) -> Service:
        """Serve ``obj``'s public methods as ``name.Method`` (``name`` None: the class name).

        Raises ServiceError naming every misfit method, or when the name is taken.
        """
        service = build_service(obj, name)
        if service.name in self.services:
            raise ServiceError(f"rpc: service already defined: {service.name}")
        self.services[service.name] = service
        for method in service.methods.values():
            self._methods[method.name.encode()] = method
        return service

    async def start(self, address: str | Address = "tcp@127.0.0.1:0") -> Address:
        """Listen on ``address`` (port 0: any free port); return the address actually bound.

        ``http@`` listens like ``tcp@``: every port answers HTTP CONNECT.
        """
        addr = parse_address(address) if isinstance(address, str) else address
        loop = asyncio.get_running_loop()
        if addr.scheme == "unix":
            with contextlib.suppress(FileNotFoundError):
                os.unlink(addr.path)
            server = await loop.create_unix_server(lambda: _Connection(self), addr.path)
            self._unix_paths.append(addr.path)
            bound = addr
        else:
            server = await loop.create_server(
                lambda: _Connection(self), addr.host, addr.port, backlog=511
            )
            host, port = server.sockets[0].getsockname()[:2]
            bound = Address(addr.scheme, host, port)
        self._servers.append(server)
        self.addresses.append(bound)
        log.info("rpc server listening on %s", bound)
        return bound

    async def serve_forever(self) -> None:
        """Wait until shutdown() is called (from a signal handler or another task)."""
        await asyncio.gather(*(s.serve_forever() for s in self._servers), return_exceptions=True)

    async def shutdown(self, grace: float = 5.0) -> None:
        """Stop listening, run ``on_shutdown`` hooks, let calls finish for ``grace`` s, close."""
        for server in self._servers:
            server.close()
        for hook in self.on_shutdown:
            try:
                await hook()
            except Exception:
                log.exception("rpc server: shutdown hook failed")
        running = [t for c in self._connections for t in c.tasks]
        if running:
            await asyncio.wait(running, timeout=grace)
        for conn in list(self._connections):
            conn.close()
            transport = conn.transport
            if transport is not None and transport.get_write_buffer_size():
                transport.abort()  # a client that stopped reading would hold us open for ever
        for server in self._servers:
            await server.wait_closed()
        for path in self._unix_paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        self._servers.clear()
        # let connection_lost run and cancelled handlers unwind before the loop may close
        for _ in range(3):
            await asyncio.sleep(0)

    async def __aenter__(self) -> Server:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.shutdown()

    # ------------------------------------------------------------------ dispatch

    def find(self, name: bytes) -> Method | str:
        """Return the method called ``name``, or the error Go's net/rpc would answer."""
        method = self._methods.get(name)
        if method is not None:
            return method
        text = name.decode("utf-8", "replace")
        service, dot, _ = text.rpartition(".")
        if not dot:
            return f"rpc: service/method request ill-formed: {text}"
        if service not in self.services:
            return f"rpc: can't find service {text}"
        return f"rpc: can't find method {text}"


class _Connection(asyncio.Protocol):
    """One client connection; ``data_received`` switches reader as the first bytes decide.

    ``_tasks`` holds the connection's running handlers (event loop thread only), so that a
    lost connection cancels them and shutdown can wait for them.
    """

    def __init__(self, server: Server) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self._feed: Callable[[bytes], None] = self._sniff
        self._pending = bytearray()  # bytes seen before the reader was chosen
        self._codec: Codec = JSON
        self._encode = JSON.encode
        self._tasks: set[asyncio.Task[None]] = set()
        self._http_allowed = True
        self._jsonrpc = False
        self._loop = asyncio.get_running_loop()
        self._out: list[bytes] = []  # frames waiting for this iteration's flush
        self._methods = server._methods  # the server's table, one attribute lookup nearer
        self._reader = wire.FrameReader(self._on_frame, self._on_oversize, server.max_frame)
        self._decode_index = 0  # the codec id, which indexes Method.decoders
        self._eager = server.eager

    @property
    def tasks(self) -> set[asyncio.Task[None]]:
        """The handlers still running for this connection."""
        return self._tasks

    # ------------------------------------------------------------------ transport events

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one
        self.transport = cast(asyncio.Transport, transport)
        self.peer = str(transport.get_extra_info("peername") or "unix")
        self.server._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server._connections.discard(self)
        for task in self._tasks:
            task.cancel()
        self.transport = None

    def pause_writing(self) -> None:
        # the client is not reading its replies: stop reading its requests until it does
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.transport is not None:
            self.transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        try:
            self._feed(data)
        except ProtocolError as exc:
            self.refuse(str(exc))

    def refuse(self, reason: str) -> None:
        """Log why and close this connection; other connections are unaffected."""
        log.warning("rpc server: closing connection from %s: %s", self.peer, reason)
        self.close()

    def close(self) -> None:
        if self._out:
            self._flush()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def write(self, data: bytes) -> None:
        """Queue ``data``; what is queued in one loop iteration goes out in one send.

        With many calls in flight, replies finish in bursts: one syscall per burst instead of
        one per reply is most of the difference between a busy and an idle CPU here. Replies
        of a long burst leave in pieces of 32, so the client starts on the first while the
        rest are made (see the client's ``send``).
        """
        if not self._out:
            self._loop.call_soon(self._flush)
        self._out.append(data)

    def _flush(self) -> None:
        if not self._out:
            return  # sent already, as a piece of a long burst
        out, self._out = self._out, []
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(out[0] if len(out) == 1 else b"".join(out))

    # ------------------------------------------------------------------ choosing a reader

    def _sniff(self, data: bytes) -> None:
        first = data[0]
        if first == 0:
            self._feed = self._handshake
        elif first in _JSON_START:
            self._jsonrpc = True
            self._codec = JSON
            self._feed = jsonrpc.LineReader(self._on_line, self.server.max_frame).feed
        elif self._http_allowed and 0x41 <= first <= 0x5A:
            self._feed = self._http
        else:
            raise ProtocolError(f"unknown protocol: first byte {first:#04x}")
        self._feed(data)

    def _handshake(self, data: bytes) -> None:
        self._pending += data
        if len(self._pending) < wire.HANDSHAKE_SIZE:
            return
        head = bytes(self._pending[: wire.HANDSHAKE_SIZE])
        rest = bytes(self._pending[wire.HANDSHAKE_SIZE :])
        self._pending.clear()
        codec_id, _ = wire.decode_handshake(head)
        codec = codec_by_id(codec_id)
        if codec is None:
            raise ProtocolError(f"unknown codec id {codec_id}")
        self._codec = codec
        self._encode = codec.encode
        self.write(head)  # the echo tells the client its choice was accepted
        self._decode_index = codec.id
        self._feed = self._requests
        if rest:
            self._reader.feed(rest)

    def _http(self, data: bytes) -> None:
        self._pending += data
        end = self._pending.find(b"\r\n\r\n")
        size = 4
        lf = self._pending.find(b"\n\n")  # Go's client ends its CONNECT with a bare "\n\n"
        if lf >= 0 and (end < 0 or lf < end):
            end, size = lf, 2
        if end < 0:
            if len(self._pending) > _MAX_HTTP_HEAD:
                raise ProtocolError("HTTP request head too long")
            return
        head = bytes(self._pending[:end]).decode("latin-1")
        rest = bytes(self._pending[end + size :])
        self._pending.clear()
        parts = head.split("\r\n" if "\r\n" in head else "\n", 1)[0].split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            raise ProtocolError(f"bad HTTP request line {parts!r}")
        method, target = parts[0], parts[1]
        path = target.split("?", 1)[0]
        if path in (GEE_RPC_PATH, GO_RPC_PATH):
            if method != "CONNECT":
                self._http_reply(405, "text/plain; charset=utf-8", b"405 must CONNECT\n")
                return
            self.write(_GEE_CONNECTED if path == GEE_RPC_PATH else _GO_CONNECTED)
            self._http_allowed = False
            self._feed = self._sniff
            if rest:
                self._sniff(rest)
            return
        if path == DEBUG_PATH and method in ("GET", "HEAD"):
            page = render(self.server).encode()
            self._http_reply(200, "text/html; charset=utf-8", page, head_only=method == "HEAD")
            return
        self._http_reply(404, "text/plain; charset=utf-8", b"404 page not found\n")

    def _http_reply(self, status: int, ctype: str, body: bytes, head_only: bool = False) -> None:
        reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed"}[status]
        head = (
            f"HTTP/1.0 {status} {reason}\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        self.write(head if head_only else head + body)
        self._feed = self._ignore
        self.close()

    def _ignore(self, data: bytes) -> None:
        pass

    # ------------------------------------------------------------------ requests

    def _requests(self, data: bytes) -> None:
        """Start the handlers of the whole ordinary requests in ``data``, the common case.

        Complete request frames of known methods (with or without a deadline, within the size
        limit) are parsed here in one loop, with no call per frame but the handler's; anything
        else from that point on (a partial frame, an unknown method, an odd or oversized
        frame) goes to the general FrameReader, and later chunks too until it holds nothing
        back. The client's ``_replies`` is the mirror image.
        """
        reader = self._reader
        if not reader.idle:
            reader.feed(data)
            return
        methods = self._methods
        codec_id = self._decode_index
        encode = self._encode
        loop = self._loop
        # eager start needs no task running: true in a protocol callback, which this is
        # unless someone feeds the connection from inside a task
        eager = self._eager and _current_task(loop) is None
        limit = self.server.max_frame
        unpack = _HEAD.unpack_from
        pos = 0
        end = len(data)
        while end - pos >= wire.HEADER_SIZE:
            length, seq, kind, flags, name_len = unpack(data, pos)
            stop = pos + 4 + length
            if stop > end or kind != wire.REQUEST or length > limit:
                break
            start = pos + wire.HEADER_SIZE
            deadline = None
            if flags:
                if flags != wire.FLAG_DEADLINE or length < wire.HEADER_SIZE:
                    break
                deadline = _U32.unpack_from(data, start)[0] / 1000 or None
                start += 4
            name_end = start + name_len
            method = methods.get(data[start:name_end]) if name_end <= stop else None
            if method is None:
                break
            try:
                arg = method.decoders[codec_id](data[name_end:stop])
            except msgspec.DecodeError:
                break  # _on_frame answers it, naming the field
            pos = stop
            if not eager or not method.is_async:
                self._start(seq, method, arg, deadline)
                continue
            # _start's eager path and _answer, inlined: this loop is the server's hot path
            started = _perf_counter()
            context = _copy_context()
            task = _new_task(_Task)
            coro = method.func(arg)
            _enter_task(loop, task)
            try:
                waiting = context.run(coro.send, None)
            except StopIteration as done:
                try:
                    body = encode(done.value)
                except Exception as exc:
                    self._answer(seq, method, started, None, str(exc) or type(exc).__name__)
                    continue
                method.calls += 1
                method.seconds += _perf_counter() - started
                out = self._out
                if not out:
                    loop.call_soon(self._flush)
                out.append(_REPLY_HEAD.pack(_REPLY_FIXED + len(body), seq, wire.REPLY, 0, 0))
                out.append(body)
                if len(out) >= _BURST_PARTS:
                    self._flush()
                continue
            except Exception as exc:
                self._answer(seq, method, started, None, str(exc) or type(exc).__name__)
                continue
            except asyncio.CancelledError:
                self._answer(seq, method, started, None, "rpc server: handler cancelled itself")
                continue
            finally:
                _leave_task(loop, task)
            within = self._limit(deadline)
            self._spawn(seq, method, started, _resume(coro, waiting), within, task, context)
        if pos < end:
            reader.feed(memoryview(data)[pos:])

    def _on_frame(self, seq: int, kind: int, deadline_ms: int, name: bytes, body: Any) -> None:
        if kind != wire.REQUEST:
            raise ProtocolError(f"client sent a frame of kind {kind}; want requests only")
        method = self._methods.get(name)
        if method is None:
            missing = self.server.find(name)
            if isinstance(missing, str):
                self.write(wire.encode_error(seq, missing))
                return
            method = missing
        try:
            arg = method.decoders[self._codec.id](body)
        except msgspec.DecodeError as exc:  # includes ValidationError: names the field
            method.errors += 1
            self.write(wire.encode_error(seq, f"rpc: cannot decode {method.name} argument: {exc}"))
            return
        self._start(seq, method, arg, deadline_ms / 1000 if deadline_ms else None)

    def _on_oversize(self, seq: int, kind: int, length: int) -> None:
        limit = self.server.max_frame
        log.warning("rpc server: %s sent a frame of %d bytes (limit %d)", self.peer, length, limit)
        if kind == wire.REQUEST:
            message = f"rpc: request of {length} bytes exceeds the server's limit of {limit}"
            self.write(wire.encode_error(seq, message))

    def _on_line(self, line: bytes) -> None:
        try:
            request = jsonrpc.decode_request(line)
        except msgspec.DecodeError as exc:
            raise ProtocolError(f"bad JSON-RPC request: {exc}") from None
        key = bytes(request.id)
        method = self.server.find(request.method.encode())
        if isinstance(method, str):
            self.write(jsonrpc.encode_error(key, method))
            return
        try:
            (arg,) = method.jsonrpc_params()(request.params)
        except msgspec.DecodeError as exc:
            method.errors += 1
            text = str(exc).replace("`$[0]", "`$")
            message = f"rpc: cannot decode {method.name} params: {text}"
            self.write(jsonrpc.encode_error(key, message))
            return
        self._start(key, method, arg, None)

    def _limit(self, deadline: float | None) -> float | None:
        """The handler's time limit: the handle timeout or the caller's deadline, if sooner."""
        limit = self.server.handle_timeout
        if deadline is not None and (limit is None or deadline < limit):
            return deadline
        return limit

    def _start(self, key: Any, method: Method, arg: Any, deadline: float | None) -> None:
        started = _perf_counter()
        if not method.is_async or not self._eager:
            awaitable = self._invoke(method, arg)
            self._spawn(key, method, started, awaitable, self._limit(deadline), None, None)
            return
        # The first step of an async handler runs here, with no Task scheduled: most handlers
        # answer without ever waiting, and a Task per request (its creation, two trips through
        # the loop's ready queue, the done callbacks) was most of the server's CPU per call.
        # Yet the handler must see a current task, or asyncio.timeout() and TaskGroup refuse
        # to start: so it gets one, allocated but not initialised (not scheduled, nothing to
        # run), entered as the loop's current task for this step. Only if the handler waits
        # is that same object initialised and scheduled, so everything that captured it
        # (a timeout scope, a TaskGroup, the handler itself) holds its real task. It runs in
        # a copy of the context, as a Task would, so context variables it sets do not leak
        # into the next request. Python 3.12's eager tasks do the same in the interpreter.
        context = _copy_context()
        task = _new_task(_Task)
        loop = self._loop
        try:
            _enter_task(loop, task)
        except RuntimeError:  # called from inside a task: run it the ordinary way
            self._spawn(key, method, started, method.func(arg), self._limit(deadline), None, None)
            return
        coro = method.func(arg)
        try:
            waiting = context.run(coro.send, None)
        except StopIteration as done:
            self._answer(key, method, started, done.value, None)
            return
        except Exception as exc:
            self._answer(key, method, started, None, str(exc) or type(exc).__name__)
            return
        except asyncio.CancelledError:
            self._answer(key, method, started, None, "rpc server: handler cancelled itself")
            return
        finally:
            _leave_task(loop, task)
        self._spawn(
            key, method, started, _resume(coro, waiting), self._limit(deadline), task, context
        )

    def _spawn(
        self,
        key: Any,
        method: Method,
        started: float,
        awaitable: Awaitable[Any],
        limit: float | None,
        task: asyncio.Task[None] | None,
        context: contextvars.Context | None,
    ) -> None:
        """Run ``_finish`` for a handler in a Task: a new one, or ``task`` (uninitialised, the
        one the handler's first step already saw as current) made real now."""
        finish = self._finish(key, method, started, awaitable, limit)
        if task is None:
            task = self._loop.create_task(finish, context=context)
        else:
            # Cancels asked for during the first step (the handler cancelling itself) are
            # forgotten by Task.__init__: count them and ask again.
            asked = task.cancelling()
            # ``finish`` takes its first step here too, to reach the handler's wait: a Task
            # cancelled before its first step would otherwise never start ``finish`` at all,
            # and the suspended handler would only see its cancellation when collected.
            assert context is not None
            _enter_task(self._loop, task)
            try:
                waiting = context.run(finish.send, None)
            except StopIteration:
                return  # it answered already (cannot happen: the handler is waiting)
            finally:
                _leave_task(self._loop, task)
            asyncio.Task.__init__(task, _resume(finish, waiting), loop=self._loop, context=context)
            for _ in range(asked):
                task.cancel()
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _finish(
        self,
        key: Any,
        method: Method,
        started: float,
        awaitable: Awaitable[Any],
        limit: float | None,
    ) -> None:
        """Wait for a handler that had to wait (or runs in the pool), then answer."""
        result: Any = None
        error: str | None = None
        try:
            if limit is None:
                result = await awaitable
            else:
                # GeeRPC answered the timeout but left the handler running forever; here the
                # handler is cancelled (a thread-pool method finishes its thread, unobserved)
                scope = asyncio.timeout(limit)
                try:
                    async with scope:
                        result = await awaitable
                except TimeoutError:
                    if not scope.expired():
                        raise  # the handler's own TimeoutError, not ours
                    error = f"rpc server: request handle timeout: expect within {limit:g}s"
        except asyncio.CancelledError:
            raise  # the connection is gone or the server is closing: nobody to answer
        except Exception as exc:
            error = str(exc) or type(exc).__name__
        self._answer(key, method, started, result, error)

    def _answer(
        self, key: Any, method: Method, started: float, result: Any, error: str | None
    ) -> None:
        """Encode and queue the reply to request ``key``; count the call."""
        if error is None:
            try:
                body = self._encode(result)
            except Exception as exc:
                error = str(exc) or type(exc).__name__
        method.calls += 1
        method.seconds += _perf_counter() - started
        if error is not None:
            method.errors += 1
            self.write(
                jsonrpc.encode_error(key, error) if self._jsonrpc else wire.encode_error(key, error)
            )
        elif self._jsonrpc:
            self.write(jsonrpc.encode_result(key, body))
        else:
            out = self._out  # write(), twice over, without the second check
            if not out:
                self._loop.call_soon(self._flush)
            out.append(_REPLY_HEAD.pack(_REPLY_FIXED + len(body), key, wire.REPLY, 0, 0))
            out.append(body)
            if len(out) >= _BURST_PARTS:
                self._flush()

    def _invoke(self, method: Method, arg: Any) -> Awaitable[Any]:
        if method.is_async:
            coro: Awaitable[Any] = method.func(arg)
            return coro
        return self._loop.run_in_executor(self.server.executor, method.func, arg)


def _resume(coro: Coroutine[Any, Any, Any], waiting: Any) -> Coroutine[Any, Any, Any]:
    """Carry on, inside a Task, a coroutine whose first step already ran and yielded ``waiting``.

    Returned already started, stopped at its first (bare) yield: so whatever the Task does
    first, a send or a throw (cancelled before it ever ran), arrives inside the ``try`` and
    reaches the coroutine. It then waits on what the coroutine was waiting on; anything thrown
    in meanwhile is thrown into the coroutine where it stopped. After that ``yield from`` hands
    the coroutine to the Task outright, resuming it with ``send(None)`` as a Task would.
    """
    # types.coroutine marks the generator awaitable; mypy sees only a Generator
    return cast(Coroutine[Any, Any, Any], _primed(_carry_on(coro, waiting)))


def _primed(gen: Generator[Any, None, Any]) -> Generator[Any, None, Any]:
    next(gen)
    return gen


@types.coroutine
def _carry_on(coro: Coroutine[Any, Any, Any], waiting: Any) -> Generator[Any, None, Any]:
    try:
        yield  # where _primed stops
    except BaseException as exc:
        try:
            waiting = coro.throw(exc)
        except StopIteration as done:
            return done.value
    while True:
        try:
            yield waiting
        except BaseException as exc:
            try:
                waiting = coro.throw(exc)
            except StopIteration as done:
                return done.value
        else:
            return (yield from coro)
