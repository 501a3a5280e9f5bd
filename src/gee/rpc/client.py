"""The RPC client: many calls in flight on one connection, matched by seq.

``go()`` writes a request and returns a future at once; ``call()`` awaits it. Replies arrive in
any order and resolve their own futures. A call that times out is forgotten: its late reply is
dropped when it comes. When the connection is lost every pending call fails at once with
RPCConnectionError, and the next call dials again. The same client speaks Go's
net/rpc/jsonrpc with ``codec="jsonrpc"``, so it can call a Go server.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Callable, Coroutine
from typing import Any, Final, cast

import msgspec

from gee.rpc import jsonrpc
from gee.rpc import protocol as wire
from gee.rpc.address import Address, parse_address
from gee.rpc.codec import JSON, Codec, Decode, codec_named
from gee.rpc.errors import (
    CallTimeoutError,
    FrameTooLargeError,
    ProtocolError,
    RemoteError,
    RPCConnectionError,
    RPCError,
)
from gee.rpc.server import GEE_RPC_PATH, GO_RPC_PATH

__all__ = ["Client", "SyncClient", "connect"]

_HEAD: Final = struct.Struct(">IQBBH")  # a frame's fixed header (see protocol.py)
_LENGTH_SEQ: Final = struct.Struct(">IQ")
_KIND_FLAGS_NAME: Final = struct.Struct(">BBH")
_KIND_FLAGS_NAME_DEADLINE: Final = struct.Struct(">BBHI")
_MAX_DEADLINE_MS: Final = 0xFFFFFFFF
_SLOTS_PER_S: Final = 1000  # deadline buckets are a millisecond wide
_DEADLINE_SLACK_MS: Final = 5  # added to the deadline the server is told
_MAX_HTTP_HEAD: Final = 8192
_MAX_NAMES: Final = 4096  # method names whose encoding a connection keeps
_BURST_PARTS: Final = 96  # queued parts (32 requests) sent without waiting for the burst's end


class _Connection(asyncio.Protocol):
    """One connection of a Client: the handshake, then replies routed to pending futures.

    ``pending`` maps seq to the call's future and ``timers`` seq to the deadline bucket of a call
    with a timeout (see ``_deadline``); both are touched only on the event loop thread, which is
    what makes the seq bookkeeping race-free.
    """

    def __init__(self, client: Client) -> None:
        self.client = client
        self.codec = client.codec
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.ready: asyncio.Future[None] = self.loop.create_future()
        self.closed: asyncio.Future[None] = self.loop.create_future()
        # seq -> the future of a call awaiting its reply (resolved with the undecoded body)
        self.pending: dict[int, asyncio.Future[Any]] = {}
        # seq -> the deadline bucket of a call with a timeout; calls without one have no entry
        self.timers: dict[int, set[int]] = {}
        # (name, timeout) -> [header tail with the deadline, current slot, bucket, name, timeout]
        self._timed: dict[tuple[str, float], list[Any]] = {}
        # id(bucket) -> its timer, for every bucket still waiting
        self._bucket_timers: dict[int, asyncio.TimerHandle] = {}
        self.seq = 0
        self.encode = self.codec.encode
        self._create_future = self.loop.create_future
        # False only between connection_made and closing or losing the transport: while it is
        # True no request may be queued
        self.closing = True
        self.jsonrpc = client.jsonrpc
        self.max_frame = client.max_frame
        self._out: list[bytes] = []  # request parts waiting for this iteration's flush
        # "Service.Method" -> the constant part of its request header, built once
        self._tails: dict[str, bytes] = {}
        # set while the transport's buffer is over its high-water mark; None when writable
        self.writable: asyncio.Event | None = None
        self._head = bytearray()
        self._feed: Callable[[bytes], None] = self._http_head
        self._reader = wire.FrameReader(self._on_frame, self._on_oversize, client.max_frame)

    # ------------------------------------------------------------------ transport events

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one
        self.transport = cast(asyncio.Transport, transport)
        self.closing = False
        client = self.client
        if client.address.scheme == "http":
            path = client.http_path or (GO_RPC_PATH if client.jsonrpc else GEE_RPC_PATH)
            self.transport.write(f"CONNECT {path} HTTP/1.0\n\n".encode())
        else:
            self._after_http()

    def _after_http(self) -> None:
        assert self.transport is not None
        if self.client.jsonrpc:
            self._feed = jsonrpc.LineReader(self._on_line, self.client.max_frame).feed
            self.ready.set_result(None)
        else:
            self._feed = self._handshake
            self.transport.write(wire.encode_handshake(self.codec.id))

    def data_received(self, data: bytes) -> None:
        try:
            self._feed(data)
        except ProtocolError as exc:
            self._fail_all(exc)
            if not self.ready.done():
                self.ready.set_exception(exc)
            assert self.transport is not None
            self.closing = True
            self.transport.close()

    def pause_writing(self) -> None:
        # the server is not keeping up: call() waits here instead of growing the buffer
        if self.writable is None:
            self.writable = asyncio.Event()

    def resume_writing(self) -> None:
        if self.writable is not None:
            self.writable.set()
            self.writable = None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self.resume_writing()
        reason = f": {exc}" if exc else ""
        error = RPCConnectionError(f"rpc: connection to {self.client.address} lost{reason}")
        if not self.ready.done():
            self.ready.set_exception(
                RPCConnectionError(
                    f"rpc: {self.client.address} closed the connection during the handshake "
                    "(wrong codec, protocol or port?)"
                )
            )
        self._fail_all(error)
        if not self.closed.done():
            self.closed.set_result(None)
        if self.client._conn is self:
            self.client._conn = None

    def _fail_all(self, error: Exception) -> None:
        pending, self.pending = self.pending, {}
        self.timers = {}
        handles, self._bucket_timers = self._bucket_timers, {}
        for handle in handles.values():
            handle.cancel()
        for fut in pending.values():
            if not fut.done():
                fut.set_exception(error)

    # ------------------------------------------------------------------ connecting

    def _http_head(self, data: bytes) -> None:
        self._head += data
        end = self._head.find(b"\n\n")
        size = 2
        crlf = self._head.find(b"\r\n\r\n")
        if crlf >= 0 and (end < 0 or crlf < end):
            end, size = crlf, 4
        if end < 0:
            if len(self._head) > _MAX_HTTP_HEAD:
                raise ProtocolError("HTTP response head too long")
            return
        status = bytes(self._head[:end]).decode("latin-1").splitlines()[0]
        rest = bytes(self._head[end + size :])
        self._head.clear()
        parts = status.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or parts[1] != "200":
            raise ProtocolError(f"unexpected HTTP response: {status!r}")
        self._after_http()
        if rest:
            self._feed(rest)

    def _handshake(self, data: bytes) -> None:
        self._head += data
        if len(self._head) < wire.HANDSHAKE_SIZE:
            return
        head = bytes(self._head[: wire.HANDSHAKE_SIZE])
        rest = bytes(self._head[wire.HANDSHAKE_SIZE :])
        self._head.clear()
        codec_id, _ = wire.decode_handshake(head)
        if codec_id != self.codec.id:
            raise ProtocolError(f"server answered codec {codec_id}; asked for {self.codec.id}")
        self._feed = self._replies
        self.ready.set_result(None)
        if rest:
            self._reader.feed(rest)

    # ------------------------------------------------------------------ calls

    def send(self, name: str, args: Any, timeout: float | None) -> asyncio.Future[Any]:
        """Write one request and return its future; its seq is ``self.seq`` until the next send.

        The future's result is the reply's undecoded body: the caller decodes it, so nothing
        per call but the future itself is kept here.
        """
        if self.closing:
            raise RPCConnectionError(f"rpc: connection to {self.client.address} is closed")
        try:
            body = self.encode(args)
        except (TypeError, msgspec.EncodeError) as exc:
            raise RPCError(f"rpc: cannot encode argument of {name}: {exc}") from exc
        seq = self.seq + 1
        out = self._out
        timed = None
        if timeout is not None:
            timed = self._timed.get((name, timeout))
            if timed is None:
                timed = self._timed_entry(name, timeout)
        if self.jsonrpc:
            frame = jsonrpc.encode_request(seq, name, body)
            size = len(frame) - 4
            parts: tuple[bytes, ...] = (frame,)
        else:
            if timed is None:
                tail = self._tails.get(name)
                if tail is None:
                    tail = self._tail(name)
            else:
                tail = timed[0]
            # length and seq packed here; kind, flags, name length, deadline and name are
            # constant for a method (and timeout)
            size = len(tail) + 8 + len(body)
            parts = (_LENGTH_SEQ.pack(size, seq), tail, body)
        if size > self.max_frame:
            raise FrameTooLargeError(
                f"rpc: request of {size} bytes exceeds the limit of {self.max_frame}"
            )
        self.seq = seq
        fut = self._create_future()
        self.pending[seq] = fut
        if timed is not None:
            self._deadline(seq, timed)
        # Requests made in one loop iteration leave in one send (see the server's write), a
        # long burst in pieces of 32: with one send per burst, client and server take turns,
        # each idle while the other works; sending the first requests while making the next
        # lets the server answer them meanwhile, on another core (+20-30% in bench/rpc).
        if not out:
            self.loop.call_soon(self._flush)
        out += parts
        if len(out) >= _BURST_PARTS:
            self._flush()
        return fut

    def _deadline(self, seq: int, timed: list[Any]) -> None:
        """Put call ``seq`` in the bucket of calls to ``name`` that time out in the same ms.

        A timer per call (call_later, then cancel) cost more than the rest of a call; here a
        timer is per bucket, and a call joins one with a set add, leaving it on its reply.
        Deadlines of one (name, timeout) only grow, so its current bucket is its latest.
        """
        slot = -int(-(self.loop.time() + timed[4]) * _SLOTS_PER_S // 1)  # ceil: never early
        if slot != timed[1]:
            bucket: set[int] = set()
            timed[1] = slot
            timed[2] = bucket
            handle = self.loop.call_at(slot / _SLOTS_PER_S, self._expire, bucket, timed)
            self._bucket_timers[id(bucket)] = handle
            bucket.add(seq)
            self.timers[seq] = bucket
            return
        timed[2].add(seq)
        self.timers[seq] = timed[2]

    def _timed_entry(self, name: str, timeout: float) -> list[Any]:
        """Return [header tail with deadline, slot, bucket, name, timeout] for such calls."""
        raw = name.encode()
        # The server gives up a little after the caller: its timer starts when the request
        # arrives, but the caller's bucket may fire up to a millisecond past the timeout, and
        # the caller should see its own CallTimeoutError, not the server's timeout reply.
        deadline_ms = min(max(-int(-timeout * 1000 // 1), 0) + _DEADLINE_SLACK_MS, _MAX_DEADLINE_MS)
        head = _KIND_FLAGS_NAME_DEADLINE.pack(
            wire.REQUEST, wire.FLAG_DEADLINE, len(raw), deadline_ms
        )
        entry: list[Any] = [head + raw, 0, set(), name, timeout]
        if len(self._timed) < _MAX_NAMES:
            self._timed[(name, timeout)] = entry
        return entry

    def _tail(self, name: str) -> bytes:
        """Return a request header's constant part for ``name``: kind, flags, name_len, name."""
        raw = name.encode()
        tail = _KIND_FLAGS_NAME.pack(wire.REQUEST, 0, len(raw)) + raw
        if len(self._tails) < _MAX_NAMES:
            self._tails[name] = tail
        return tail

    def _flush(self) -> None:
        if not self._out:
            return  # sent already, as a piece of a long burst
        out, self._out = self._out, []
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(b"".join(out))

    def _take(self, seq: int) -> asyncio.Future[Any] | None:
        """Remove call ``seq`` (and its deadline); return its future, None if it is gone."""
        if self.timers:
            bucket = self.timers.pop(seq, None)
            if bucket is not None:
                bucket.discard(seq)
        return self.pending.pop(seq, None)

    def forget(self, seq: int) -> None:
        """Drop a call nobody waits for any more; its reply, if it comes, is discarded."""
        self._take(seq)

    def _expire(self, bucket: set[int], timed: list[Any]) -> None:
        self._bucket_timers.pop(id(bucket), None)
        name, timeout = timed[3], timed[4]
        for seq in bucket:
            self.timers.pop(seq, None)
            fut = self.pending.pop(seq, None)
            if fut is not None and not fut.done():
                error = CallTimeoutError(f"rpc: call {name} timed out after {timeout:g}s")
                fut.set_exception(error)
        bucket.clear()

    def _fail(self, seq: int, error: Exception) -> None:
        """Fail call ``seq`` with ``error`` (unless it is gone already)."""
        fut = self._take(seq)
        if fut is not None and not fut.done():
            fut.set_exception(error)

    def _replies(self, data: bytes) -> None:
        """Resolve the futures of the whole ordinary replies in ``data``, the common case.

        A chunk of complete reply frames (no flags, no name, within the size limit) is parsed
        here, in one loop with no call per frame; anything else from that point on (a partial
        frame, an error frame, an oversized or odd one) goes to the general FrameReader, and
        later chunks too until it holds nothing back.
        """
        reader = self._reader
        if not reader.idle:
            reader.feed(data)
            return
        pending = self.pending
        timers = self.timers
        limit = self.max_frame
        unpack = _HEAD.unpack_from
        pos = 0
        end = len(data)
        while end - pos >= wire.HEADER_SIZE:
            length, seq, kind, flags, name_len = unpack(data, pos)
            stop = pos + 4 + length
            if stop > end or kind != wire.REPLY or flags or name_len or length > limit:
                break
            fut = pending.pop(seq, None)
            if timers:
                bucket = timers.pop(seq, None)
                if bucket is not None:
                    bucket.discard(seq)
            if fut is not None:
                try:
                    fut.set_result(data[pos + wire.HEADER_SIZE : stop])
                except asyncio.InvalidStateError:
                    pass  # cancelled, and forget() not yet run: dropped like a late reply
            pos = stop
        if pos < end:
            reader.feed(memoryview(data)[pos:])

    def _on_frame(self, seq: int, kind: int, deadline: int, name: bytes, body: Any) -> None:
        if kind == wire.REPLY:
            fut = self._take(seq)
            if fut is not None and not fut.done():
                fut.set_result(bytes(body))
        elif kind == wire.ERROR:
            self._fail(seq, RemoteError(bytes(body).decode("utf-8", "replace")))
        else:
            raise ProtocolError(f"server sent a frame of kind {kind}; want replies only")

    def _on_oversize(self, seq: int, kind: int, length: int) -> None:
        limit = self.client.max_frame
        self._fail(
            seq, FrameTooLargeError(f"rpc: reply of {length} bytes exceeds the limit of {limit}")
        )

    def _on_line(self, line: bytes) -> None:
        try:
            reply = jsonrpc.decode_response(line)
        except msgspec.DecodeError as exc:
            raise ProtocolError(f"bad JSON-RPC reply: {exc}") from None
        if not isinstance(reply.id, int) or isinstance(reply.id, bool):
            raise ProtocolError(f"JSON-RPC reply with id {reply.id!r}; want an integer")
        error = reply.error
        if error is not None:
            self._fail(reply.id, RemoteError(error if isinstance(error, str) else str(error)))
            return
        fut = self._take(reply.id)
        if fut is not None and not fut.done():
            fut.set_result(reply.result)


class Client:
    """A connection to one RPC server that dials lazily and redials after a loss.

    ``codec`` is "msgpack" (default), "json", or "jsonrpc" for a Go net/rpc/jsonrpc server.
    ``connect_timeout`` None waits for the OS. ``http_path`` overrides the CONNECT path of an
    ``http@`` address (default ``/_geerpc_``, or ``/_goRPC_`` with jsonrpc).
    """

    def __init__(
        self,
        address: str | Address,
        *,
        codec: str | Codec = "msgpack",
        connect_timeout: float | None = 5.0,
        max_frame: int = wire.DEFAULT_MAX_FRAME,
        http_path: str | None = None,
    ) -> None:
        self.address = parse_address(address) if isinstance(address, str) else address
        self.jsonrpc = codec == "jsonrpc"
        self.codec = JSON if self.jsonrpc else codec_named(codec)
        self.connect_timeout = connect_timeout
        self.max_frame = max_frame
        self.http_path = http_path
        self._conn: _Connection | None = None
        self._decoders: dict[Any, Decode] = {}  # result type -> decode, this client's codec
        self._lock: asyncio.Lock | None = None
        self._closed = False

    @property
    def in_flight(self) -> int:
        """Calls sent and not yet answered, timed out or failed."""
        return len(self._conn.pending) if self._conn is not None else 0

    @property
    def connected(self) -> bool:
        return self._conn is not None

    async def connect(self) -> None:
        """Dial now unless connected; RPCConnectionError says why it failed."""
        if self._closed:
            raise RPCConnectionError("rpc: client is closed")
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._conn is None:
                self._conn = await self._dial()

    async def _dial(self) -> _Connection:
        loop = asyncio.get_running_loop()
        addr = self.address
        transport: asyncio.BaseTransport | None = None
        ready = False
        try:
            async with asyncio.timeout(self.connect_timeout):
                if addr.scheme == "unix":
                    transport, conn = await loop.create_unix_connection(
                        lambda: _Connection(self), addr.path
                    )
                else:
                    transport, conn = await loop.create_connection(
                        lambda: _Connection(self), addr.host, addr.port
                    )
                await conn.ready
            ready = True
        except TimeoutError:
            raise RPCConnectionError(
                f"rpc: connect to {addr} timed out after {self.connect_timeout:g}s"
            ) from None
        except OSError as exc:
            raise RPCConnectionError(f"rpc: cannot connect to {addr}: {exc}") from exc
        finally:
            if not ready and transport is not None:
                transport.close()  # timed out, refused by the handshake, or cancelled
        return conn

    def go(
        self, name: str, args: Any, *, result: Any = Any, timeout: float | None = None
    ) -> asyncio.Future[Any]:
        """Send a call now and return its future (dialing first when not connected).

        ``result`` is the type the reply is decoded into (``Any``: plain builtins); ``timeout``
        None waits for ever. Cancelling the future forgets the call.
        """
        decode = self.codec.decoder(result)
        conn = self._conn
        if conn is None:
            return asyncio.ensure_future(self._call_later(name, args, decode, timeout))
        raw = conn.send(name, args, timeout)
        seq = conn.seq
        fut: asyncio.Future[Any] = conn.loop.create_future()

        def settle(done: asyncio.Future[Any]) -> None:
            if fut.done():
                return
            if done.cancelled():
                fut.cancel()
            elif (exc := done.exception()) is not None:
                fut.set_exception(exc)
            else:
                try:
                    fut.set_result(_decode(decode, done.result()))
                except RPCError as error:
                    fut.set_exception(error)

        raw.add_done_callback(settle)
        fut.add_done_callback(lambda f: conn.forget(seq) if f.cancelled() else None)
        return fut

    async def call(
        self,
        name: str,
        args: Any,
        *,
        result: Any = Any,
        timeout: float | None = None,  # noqa: ASYNC109 - it travels to the server as a deadline
    ) -> Any:
        """Call ``name`` ("Service.Method") with ``args`` and return the decoded reply.

        Raises RemoteError (the server's error string), CallTimeoutError, RPCConnectionError.
        A call with a timeout joins the calls timing out in the same millisecond, which
        share one timer (far cheaper than a timer, let alone a cancel scope, per call), and the
        server learns the timeout as the frame's deadline; a call without one costs no timer.
        """
        try:
            decode = self._decoders[result]
        except (KeyError, TypeError):
            decode = self._decoder(result)
        conn = self._conn
        if conn is None or conn.writable is not None:
            return await self._call_later(name, args, decode, timeout)
        fut = conn.send(name, args, timeout)
        seq = conn.seq
        try:
            body = await fut
        except asyncio.CancelledError:
            conn.forget(seq)
            raise
        try:
            return decode(body)
        except msgspec.DecodeError as exc:
            raise RPCError(f"rpc: cannot decode reply: {exc}") from None

    def _decoder(self, result: Any) -> Decode:
        decode = self.codec.decoder(result)
        with contextlib.suppress(TypeError):  # unhashable: looked up in the codec each time
            self._decoders[result] = decode
        return decode

    async def _call_later(self, name: str, args: Any, decode: Decode, limit: float | None) -> Any:
        await self.connect()
        conn = self._conn
        if conn is not None and conn.writable is not None:
            await conn.writable.wait()
            conn = self._conn
        if conn is None:
            raise RPCConnectionError(f"rpc: connection to {self.address} lost")
        fut = conn.send(name, args, limit)
        seq = conn.seq
        try:
            body = await fut
        except asyncio.CancelledError:
            conn.forget(seq)
            raise
        return _decode(decode, body)

    async def close(self, grace: float = 0.0) -> None:
        """Close the connection; calls still pending after ``grace`` s fail (RPCConnectionError)."""
        self._closed = True
        conn = self._conn
        if grace > 0 and conn is not None and conn.pending:
            await asyncio.wait(list(conn.pending.values()), timeout=grace)
        conn, self._conn = self._conn, None
        if conn is not None and conn.transport is not None:
            conn.closing = True
            if conn.transport.get_write_buffer_size():
                # requests the server never read: flushing them could wait for ever
                conn.transport.abort()
            else:
                conn.transport.close()
            await conn.closed

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _decode(decode: Decode, body: Any) -> Any:
    """Decode a reply body; a body of the wrong shape is an RPCError naming the field."""
    try:
        return decode(body)
    except msgspec.DecodeError as exc:
        raise RPCError(f"rpc: cannot decode reply: {exc}") from None


async def connect(
    address: str | Address,
    *,
    codec: str | Codec = "msgpack",
    connect_timeout: float | None = 5.0,
    max_frame: int = wire.DEFAULT_MAX_FRAME,
    http_path: str | None = None,
) -> Client:
    """Dial ``address`` (``tcp@host:port``, ``unix@/path``, ``http@host:port``); return a Client."""
    client = Client(
        address,
        codec=codec,
        connect_timeout=connect_timeout,
        max_frame=max_frame,
        http_path=http_path,
    )
    await client.connect()
    return client


class SyncClient:
    """A blocking Client for scripts: its own event loop, driven on the calling thread.

    Use it from one thread and outside any running event loop.
    """

    def __init__(self, address: str | Address, **options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._client = Client(address, **options)

    def _run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return self._loop.run_until_complete(coro)

    def call(self, name: str, args: Any, *, result: Any = Any, timeout: float | None = None) -> Any:
        """Call ``name`` with ``args`` and block until the reply; see Client.call."""
        return self._run(self._client.call(name, args, result=result, timeout=timeout))

    def close(self) -> None:
        """Close the connection and the private event loop."""
        if self._loop.is_closed():
            return
        with contextlib.suppress(Exception):
            self._run(self._client.close())
        self._loop.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
