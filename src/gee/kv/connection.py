"""One client connection: request framing, dispatch, and the connection's state.

Why asyncio.Protocol and not streams: ``data_received`` hands over each read as it comes, the
request loop below runs without awaiting anything, and every command of one read is answered
with a single ``transport.write``. That is where a Python Redis spends its time, so the loop is
kept flat: hiredis frames the requests, a dict maps the command name to its entry, and the
command appends its reply bytes to the connection's ``out`` buffer.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections import deque
from collections.abc import Callable
from time import time as _time
from typing import TYPE_CHECKING, cast

import hiredis

from gee.kv.commands import COMMANDS, FAST_TABLE, Command
from gee.kv.errors import CommandError
from gee.kv.keyspace import Database
from gee.kv.resp import (
    ARRAY_HEADER_SIZE,
    BULK_SIZE,
    MAX_INLINE_LEN,
    NULL3,
    NULL_ARRAY,
    NULL_BULK,
    QUEUED,
    ProtocolError,
    check_partial_frame,
    encode_command,
    split_inline,
)

if TYPE_CHECKING:
    from gee.kv.server import Server

# Commands a RESP2 client may send while subscribed.
_SUBSCRIBED_OK = {
    b"subscribe",
    b"unsubscribe",
    b"psubscribe",
    b"punsubscribe",
    b"ssubscribe",
    b"sunsubscribe",
    b"ping",
    b"quit",
    b"reset",
}
# Commands that run at once inside MULTI instead of being queued.
_MULTI_NOW = {b"exec", b"discard", b"multi", b"watch", b"quit", b"reset"}
# Commands a client may send before AUTH when a password is set.
_NOAUTH_OK = {b"auth", b"hello", b"quit", b"reset"}


class BlockState:
    """What a blocked client waits for: keys, the retry function, and its timeout."""

    __slots__ = ("args", "db", "keys", "serve", "timeout_reply", "timer")

    def __init__(
        self,
        db: Database,
        keys: list[bytes],
        args: list[bytes],
        serve: Callable[[Client, list[bytes], bytes | None], bool],
        timeout_reply: bytes,
    ) -> None:
        self.db = db
        self.keys = keys
        self.args = args
        # Retries the command for a ready key; True when it replied (served or failed).
        self.serve = serve
        self.timeout_reply = timeout_reply
        self.timer: asyncio.TimerHandle | None = None


class Client(asyncio.Protocol):
    """One connection and its state: database, protocol, MULTI queue, WATCH, subscriptions."""

    # Slots, not an instance dict: CPython 3.11 shares an instance dict's keys only up to 30
    # names, and past that every attribute read on the hot path becomes a dict lookup.
    __slots__ = (
        "addr", "authenticated", "blocked", "boundary", "channels", "closing", "created", "db",
        "dirty_cas", "fast", "id", "in_exec", "inline_buf", "keyspace", "laddr", "last_chunk",
        "last_command", "last_interaction", "multi", "multi_error", "name", "no_evict", "null",
        "null_array", "out", "partial_head", "partial_len", "patterns", "protocol", "reader",
        "server", "shard_channels", "soft_limit_since", "special", "transport", "watched_keys",
        "write",
    )  # fmt: skip

    def __init__(self, server: Server) -> None:
        self.server = server
        self.keyspace = server.keyspace
        self.id = server.next_client_id()
        self.transport: asyncio.Transport | None = None
        # The transport's write, kept bound for the fast path (set with the transport).
        self.write: Callable[[bytes], object] = _no_transport
        self.reader = hiredis.Reader()
        self.out = bytearray()
        self.db: Database = server.keyspace.dbs[0]
        self.protocol = 2
        self.null = NULL_BULK
        self.null_array = NULL_ARRAY
        self.name = b""
        self.addr = "?:0"
        self.laddr = "?:0"
        self.created = time.time()
        self.last_interaction = self.created
        self.last_command = b"NULL"
        self.authenticated = not server.config.requirepass
        # MULTI queue, or None outside MULTI; multi_error marks a queued syntax error.
        self.multi: list[tuple[Command, list[bytes]]] | None = None
        self.multi_error = False
        self.in_exec = False
        # WATCHed (database, key, expired-at-watch) triples; dirty_cas once any is written.
        self.watched_keys: list[tuple[Database, bytes, bool]] = []
        self.dirty_cas = False
        self.channels: dict[bytes, None] = {}
        self.patterns: dict[bytes, None] = {}
        # Shard channels (SSUBSCRIBE): a namespace of their own, as in Redis 7.0.
        self.shard_channels: dict[bytes, None] = {}
        self.blocked: BlockState | None = None
        self.closing = False
        self.no_evict = False
        # Inline bytes waiting for their newline, or None in multibulk mode.
        self.inline_buf: bytes | None = None
        # Whether the reader stands between frames (so a chunk not starting with "*" is an
        # inline command), the start of the unfinished frame (None: unknown), and the last
        # chunk fed (the reader's buffer ends with it). See ``_after_chunk``.
        self.boundary = True
        self.partial_head: bytes | None = b""
        self.partial_len: int | None = 0  # bytes of the unfinished frame so far
        self.last_chunk = b""
        # When this pub/sub client's unsent output first exceeded the soft limit, or None.
        self.soft_limit_since: float | None = None
        # True while any of: AUTH needed, MULTI, RESP2 subscriptions. Keeps the hot path short.
        self.special = not self.authenticated
        # Whether the next read may take ``data_received``'s fast path: between frames, not
        # special, not blocked, not closing, and the server on its fast path. One flag, so the
        # hot path tests one attribute; ``refresh_fast`` recomputes it where any input changes.
        self.fast = False
        self.refresh_fast()

    # -- connection life ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio's ABCs, hence a cast, not an isinstance.
        self.transport = cast(asyncio.Transport, transport)
        self.write = self.transport.write
        peer = transport.get_extra_info("peername")
        local = transport.get_extra_info("sockname")
        if isinstance(peer, tuple):
            self.addr = f"{peer[0]}:{peer[1]}"
        if isinstance(local, tuple):
            self.laddr = f"{local[0]}:{local[1]}"
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        server = self.server
        if len(server.clients) >= server.config.maxclients:
            self.transport.write(b"-ERR max number of clients reached\r\n")
            server.rejected_connections += 1
            self.closing = True
            self.fast = False
            self.transport.close()
            return
        server.clients[self.id] = self
        server.total_connections += 1
        self.refresh_fast()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self.fast = False
        self.server.clients.pop(self.id, None)
        self.cleanup()

    def pause_writing(self) -> None:
        # The client is not reading its replies: stop reading its requests until it catches
        # up, so a pipelining client cannot grow the server's output buffers without bound.
        if self.transport is not None and not self.closing:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.transport is not None and not self.closing:
            self.transport.resume_reading()

    def cleanup(self) -> None:
        """Drop every trace of this client in shared state (blocked, watched, subscribed)."""
        if self.blocked is not None:
            self.unblock()
        self.unwatch()
        self.multi = None
        server = self.server
        for mine, registry in (
            (self.channels, server.channels),
            (self.patterns, server.patterns),
            (self.shard_channels, server.shard_channels),
        ):
            for name in mine:
                subs = registry.get(name)
                if subs is not None:
                    subs.pop(self, None)
                    if not subs:
                        del registry[name]
        self.channels = {}
        self.patterns = {}
        self.shard_channels = {}

    def close(self) -> None:
        """Close the connection after flushing what is already buffered."""
        aof = self.server.aof
        if aof is not None and aof.buf:
            aof.commit()
        self.flush()
        self.closing = True
        self.fast = False
        if self.transport is not None:
            self.transport.close()

    # -- reading requests -----------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        # The fast path: one whole request in one read, on a plain connection. That is every
        # read of a client that waits for each reply (redis-benchmark -P 1, most applications),
        # where the cost per read is the cost per command; so it is one flat function, which
        # repeats the few lines of ``process``'s loop that run a command (a call costs more).
        if self.fast and data[0] == 42:
            reader = self.reader
            reader.feed(data)
            try:
                req = reader.gets()
            except hiredis.ProtocolError as exc:
                self.protocol_error(_hiredis_error(str(exc)))
                self.flush()
                return
            # When the read held this one request and nothing more, the reader stands
            # between frames again, so the framing state needs no update (``_after_chunk``).
            # (After a "*" at a frame boundary, hiredis returns a list, None or False.)
            if req and not reader.has_data():
                for arg in req:
                    if arg.__class__ is not bytes:
                        cmd = None  # not a command: ``process`` says why
                        break
                else:
                    cmd = FAST_TABLE.get(req[0])
                if cmd is not None and cmd.min_args <= len(req) <= cmd.max_args:
                    server = self.server
                    self.last_interaction = server.clock
                    self.last_command = cmd.name_bytes
                    keyspace = self.keyspace
                    dirty = keyspace.dirty
                    func = cmd.func  # an attribute load, then a call: cheaper than a method call
                    try:
                        func(self, req)
                    except CommandError as exc:
                        self.out += _error(exc)
                    except Exception as exc:
                        self._internal_error(cmd, exc)
                    server.commands_processed += 1
                    # No command both writes and changes the client's database (SELECT does
                    # not write), so the index read now is the one the command ran in.
                    if keyspace.dirty != dirty and server._propagate is not None:
                        aof = server.aof
                        if aof is None:
                            server._propagate(self.db.index, req)
                        elif (n := len(req)) <= cmd.aof_as_sent and self.db.index == aof.db:
                            # ``propagate``'s usual case, spelled out: the AOF records the
                            # command as it came, and when the request is RESP's one spelling
                            # of it (as clients send; hiredis also reads simple strings in an
                            # array), its own bytes are that record. Its length tells.
                            try:  # (IndexError: an argument of 1024 bytes or more)
                                if n == 3:
                                    a, b, c = req
                                    size = 4 + BULK_SIZE[len(a)] + BULK_SIZE[len(b)]
                                    size += BULK_SIZE[len(c)]
                                elif n == 4:
                                    a, b, c, d = req
                                    size = 4 + BULK_SIZE[len(a)] + BULK_SIZE[len(b)]
                                    size += BULK_SIZE[len(c)] + BULK_SIZE[len(d)]
                                else:
                                    size = ARRAY_HEADER_SIZE[n]
                                    for arg in req:
                                        size += BULK_SIZE[len(arg)]
                            except IndexError:
                                size = 0
                            if size == len(data):
                                aof.buf += data
                                if not aof.scheduled:
                                    aof.schedule()
                            else:
                                aof.propagate(self.db.index, req)
                        else:
                            aof.propagate(self.db.index, req)
                    if keyspace.ready_keys:
                        server.serve_ready()
                    out = self.out
                    if out and not self.closing:
                        aof = server.aof
                        if aof is not None and aof.buf:
                            # ``flush``'s AOF case, spelled out: the reply acknowledges a write
                            # not yet in the file, so it waits for the loop's one AOF write.
                            aof.held.append(self)
                            return
                        write = self.write  # a plain attribute load: ``fast`` means a transport
                        write(bytes(out))
                        out.clear()
                    return
            self.last_interaction = _time()
            self.last_chunk = data
            try:
                self.process(data, req)
            except ProtocolError as exc:
                self.protocol_error(str(exc))
            self.flush()
            return
        if self.closing:
            return
        if self.blocked is not None:
            # Redis stops reading a blocked client; gee buffers instead, so that a disconnect
            # is still noticed. The requests run when the client is unblocked.
            if self.inline_buf is not None:
                self.inline_buf += data
            elif data[0] != 42 and self.boundary:
                self.inline_buf = data
            else:
                self.reader.feed(data)
                self.last_chunk = data
                self.boundary = self.fast = False
                self.partial_head = self.partial_len = None
            return
        self.last_interaction = time.time()
        try:
            if self.inline_buf is not None or (data[0] != 42 and self.boundary):
                data = self._inline(data)
                if not data:
                    self.flush()
                    return
            self.reader.feed(data)
            self.last_chunk = data
            self.process(data)
        except ProtocolError as exc:
            self.protocol_error(str(exc))
        self.flush()

    def process(self, data: bytes | None = None, first: object = False) -> None:
        """Execute every complete request buffered in the reader (until blocked or closing).

        ``data`` is the chunk just fed, when there is one: it lets the tail of the chunk be
        checked (see ``_after_chunk``) and an inline command after a multibulk one be found.
        ``first`` is a request already taken from the reader (False: none).
        """
        reader = self.reader
        execute = self.execute
        table = FAST_TABLE
        server = self.server
        keyspace = self.keyspace
        last: list[bytes] | None = None
        fast = 0  # commands run on the fast path, added to the server's count once
        try:
            while True:
                if first is False:
                    req = reader.gets()
                else:
                    req, first = first, False
                if req is False:
                    break
                if req.__class__ is not list or not req:
                    last = _EMPTY_FRAME if req is not None else _NULL_FRAME
                    continue
                for arg in req:
                    if arg.__class__ is not bytes:
                        raise ProtocolError(_bad_element(arg))
                last = req
                # The fast path: a command spelled all-lower or all-upper, plain connection
                # state, right arity. Everything else goes through ``execute``.
                cmd = table.get(req[0])
                if (
                    cmd is None
                    or self.special
                    or not cmd.min_args <= len(req) <= cmd.max_args
                    or server.slow_path
                ):
                    execute(req)
                else:
                    fast += 1
                    self.last_command = cmd.name_bytes
                    dirty = keyspace.dirty
                    index = self.db.index
                    try:
                        cmd.func(self, req)
                    except CommandError as exc:
                        self.out += _error(exc)
                    except Exception as exc:
                        self._internal_error(cmd, exc)
                    if keyspace.dirty != dirty and server._propagate is not None:
                        server._propagate(index, req)
                    if keyspace.ready_keys:
                        server.serve_ready()
                if self.blocked is not None or self.closing:
                    server.commands_processed += fast
                    self._after_chunk(self.last_chunk if data is None else data, req)
                    return
        except hiredis.ProtocolError as exc:
            self.server.commands_processed += fast
            fast = 0
            rest = _after(data, last) if data is not None else None
            if not rest or rest[0] == 42:
                raise ProtocolError(_hiredis_error(str(exc))) from None
            # An inline command after multibulk ones in the same read (``nc`` sessions).
            self.reader = hiredis.Reader()
            rest = self._inline(rest)
            if rest and not self.closing and self.blocked is None:
                self.reader.feed(rest)
                self.process(rest)
            return
        self.server.commands_processed += fast
        if last is not None:
            self._after_chunk(self.last_chunk if data is None else data, last)
        elif data is not None:
            self._after_chunk(data, None)

    def _after_chunk(self, data: bytes, last: list[bytes] | None) -> None:
        """Work out where the reader stands after ``data``; refuse absurd pending headers.

        hiredis hides whether it is between frames, yet both inline detection and the header
        check need to know. The reader's buffer ends with ``data``; it stands between frames
        when nothing is left unparsed and ``data`` ends with the encoding of the last request
        (``last``; None when no request completed, so all of ``data`` belongs to an
        unfinished frame). Otherwise the unfinished frame follows that encoding, and its
        header lines are checked: hiredis would wait silently for the rest of a frame such as
        ``*1\\r\\n$999999999999\\r\\n``, which Redis refuses at once.
        """
        if last is not None:
            encoded = b"*-1\r\n" if last is _NULL_FRAME else encode_command(last)
            k = min(len(data), len(encoded))
            if not self.reader.has_data() and data[-k:] == encoded[-k:]:
                self.boundary = True
                self.partial_head = b""
                self.partial_len = 0
                self.refresh_fast()
                return
            self.boundary = self.fast = False
            pos = data.rfind(encoded)
            if pos >= 0:
                end = pos + len(encoded)
            elif self.partial_len is not None and 0 < len(encoded) - self.partial_len <= len(data):
                # The request began in an earlier read: it ends where its remainder does.
                end = len(encoded) - self.partial_len
            else:
                self.partial_head = self.partial_len = None
                return
            self.partial_head = data[end:][:65536]
            self.partial_len = len(data) - end
        else:
            self.boundary = self.fast = False
            head = self.partial_head
            if head is None or self.partial_len is None:
                return
            self.partial_len += len(data)
            if len(head) >= 65536:
                return
            self.partial_head = (head + data)[:65536]
        if self.partial_head:
            check_partial_frame(self.partial_head)

    def _inline(self, data: bytes) -> bytes:
        """Run the inline (telnet-style) commands at the start of ``data``; return the rest.

        Inline mode lasts while requests do not start with ``*``; a multibulk frame after
        inline lines is returned for hiredis. Unfinished lines wait in ``inline_buf``.
        """
        buf = data if self.inline_buf is None else self.inline_buf + data
        self.inline_buf = None
        while buf:
            if buf[0] == 42:
                return buf
            eol = buf.find(b"\n")
            if eol < 0:
                if len(buf) > MAX_INLINE_LEN:
                    raise ProtocolError("too big inline request")
                self.inline_buf = buf
                return b""
            line = buf[:eol]
            buf = buf[eol + 1 :]
            args = split_inline(line)
            if args:
                self.execute(args)
                if self.closing:
                    return b""
                if self.blocked is not None:
                    if buf:
                        self.inline_buf = buf
                    return b""
        return b""

    def protocol_error(self, message: str) -> None:
        """Reply Redis's protocol error and close, as Redis does on malformed input."""
        self.out += b"-ERR Protocol error: %s\r\n" % message.encode()
        self.close()

    # -- executing ------------------------------------------------------------------------

    def execute(self, args: list[bytes]) -> None:
        """Run one command: look it up, check arity, apply connection state, call it."""
        name = args[0].lower()
        cmd = COMMANDS.get(name)
        server = self.server
        server.commands_processed += 1
        if cmd is None:
            self.reject(_unknown(args))
            return
        n = len(args)
        arity = cmd.arity
        if (arity > 0 and n != arity) or n < -arity:
            self.reject(b"ERR wrong number of arguments for '%s' command" % cmd.name.encode())
            return
        if cmd.subcommands and n > 1:
            # Checked here too (not only when the container runs) so that inside MULTI a bad
            # subcommand dooms EXEC, as in Redis, where subcommands are table entries.
            sub = cmd.subcommands.get(args[1].lower())
            if sub is None:
                self.reject(
                    b"ERR unknown subcommand '%s'. Try %s HELP."
                    % (args[1][:128], cmd.name.upper().encode())
                )
                return
            if (sub.arity > 0 and n != sub.arity) or n < -sub.arity:
                self.reject(b"ERR wrong number of arguments for '%s' command" % sub.name.encode())
                return
        if server.guarded and self.authenticated:
            # Eviction before the command, then -OOM / -MISCONF (after NOAUTH, before MULTI
            # queues the command, as in Redis's processCommand).
            refused = server.refusal(self, cmd, name, args)
            if refused is not None:
                self.reject(refused)
                return
        if self.special and self._special(name, cmd, args):
            return
        self.last_command = name
        keyspace = self.keyspace
        dirty = keyspace.dirty
        db = self.db
        queued = self.multi if name == b"exec" else None
        try:
            cmd.func(self, args)
        except CommandError as exc:
            self.out += _error(exc)
        except Exception as exc:
            self._internal_error(cmd, exc)
        if server.propagate is not None and keyspace.dirty != dirty and name != b"exec":
            server.propagate(db.index, args)
        if keyspace.ready_keys:
            server.serve_ready()
        if server.memory.tracking:
            server.memory.after(db, cmd, name, args, queued)

    def _internal_error(self, cmd: Command, exc: Exception) -> None:
        """A bug in a command: answer an error, log it, and keep serving everyone else."""
        self.server.log(f"Error in '{cmd.name}': {exc!r}", "#")
        self.out += b"-ERR internal error in '%s': %s\r\n" % (
            cmd.name.encode(),
            repr(exc).encode().replace(b"\r", b" ").replace(b"\n", b" "),
        )

    def reject(self, message: bytes) -> None:
        """Reply an error found before the command ran; inside MULTI it dooms EXEC."""
        if self.multi is not None:
            self.multi_error = True
        self.out += b"-%s\r\n" % message

    def _special(self, name: bytes, cmd: Command, args: list[bytes]) -> bool:
        """Apply AUTH, MULTI and subscriber restrictions; True when the command was handled."""
        if not self.authenticated and name not in _NOAUTH_OK:
            self.reject(b"NOAUTH Authentication required.")
            return True
        if self.multi is not None and name not in _MULTI_NOW:
            self.multi.append((cmd, args))
            self.out += QUEUED
            return True
        if self.protocol == 2 and self.subscribed() and name not in _SUBSCRIBED_OK:
            full = cmd.name
            if cmd.subcommands and len(args) > 1:
                sub = cmd.subcommands.get(args[1].lower())
                full = sub.name if sub is not None else full
            self.out += (
                b"-ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / "
                b"QUIT / RESET are allowed in this context\r\n" % full.encode()
            )
            return True
        return False

    def update_special(self) -> None:
        """Recompute the flag that routes commands through ``_special``."""
        self.special = (
            not self.authenticated
            or self.multi is not None
            or (self.protocol == 2 and self.subscribed())
        )
        self.refresh_fast()

    def refresh_fast(self) -> None:
        """Recompute ``fast`` after a change to what it depends on (the server's
        ``update_paths`` calls it for every client)."""
        self.fast = (
            self.transport is not None
            and self.boundary
            and not self.special
            and self.blocked is None
            and not self.closing
            and not self.server.slow_path
        )

    def subscribed(self) -> bool:
        """Whether the client has any channel, pattern or shard channel subscription."""
        return bool(self.channels or self.patterns or self.shard_channels)

    def set_protocol(self, version: int) -> None:
        """Switch between RESP2 and RESP3 replies."""
        self.protocol = version
        self.null = NULL3 if version == 3 else NULL_BULK
        self.null_array = NULL3 if version == 3 else NULL_ARRAY
        self.update_special()

    def flush(self) -> None:
        """Send everything buffered in ``out`` with one write."""
        out = self.out
        if out and self.transport is not None and not self.transport.is_closing():
            aof = self.server.aof
            if aof is not None and aof.buf:
                # The replies acknowledge writes not yet in the AOF: wait for its commit.
                aof.hold(self)
                return
            self.transport.write(bytes(out))
        out.clear()

    # -- WATCH ----------------------------------------------------------------------------

    def unwatch(self) -> None:
        """Forget every WATCHed key."""
        for db, key, _ in self.watched_keys:
            clients = db.watched.get(key)
            if clients is not None:
                with contextlib.suppress(ValueError):
                    clients.remove(self)
                if not clients:
                    del db.watched[key]
        self.watched_keys = []
        self.dirty_cas = False

    # -- blocking -------------------------------------------------------------------------

    def block(
        self,
        keys: list[bytes],
        timeout: float,
        args: list[bytes],
        serve: Callable[[Client, list[bytes], bytes | None], bool],
        timeout_reply: bytes,
    ) -> None:
        """Wait for any of ``keys`` to be served by ``serve``; 0 ``timeout`` waits forever."""
        state = BlockState(self.db, keys, args, serve, timeout_reply)
        for key in dict.fromkeys(keys):
            self.db.blocked.setdefault(key, deque()).append(self)
        if timeout > 0:
            state.timer = asyncio.get_running_loop().call_later(timeout, self._block_timeout)
        self.blocked = state
        self.fast = False
        self.server.blocked_clients += 1

    def unblock(self) -> None:
        """Leave the blocked state (served, timed out, killed or disconnected)."""
        state = self.blocked
        if state is None:
            return
        self.blocked = None
        self.refresh_fast()
        self.server.blocked_clients -= 1
        if state.timer is not None:
            state.timer.cancel()
        for key in dict.fromkeys(state.keys):
            queue = state.db.blocked.get(key)
            if queue is not None:
                with contextlib.suppress(ValueError):
                    queue.remove(self)
                if not queue:
                    del state.db.blocked[key]

    def _block_timeout(self) -> None:
        state = self.blocked
        if state is None:
            return
        self.unblock()
        self.out += state.timeout_reply
        self.resume()

    def resume(self) -> None:
        """After unblocking: send the reply, then run requests that queued up meanwhile."""
        self.flush()
        if self.closing or self.transport is None or self.blocked is not None:
            return
        try:
            if self.inline_buf is not None:
                rest = self._inline(b"")
                if rest:
                    self.reader.feed(rest)
                    self.last_chunk = rest
            if self.blocked is None:
                self.process()
        except ProtocolError as exc:
            self.protocol_error(str(exc))
        self.flush()

    # -- pub/sub delivery -----------------------------------------------------------------

    def deliver(self, message: bytes, sender: Client) -> None:
        """Queue a pub/sub message; drop the client if it exceeds its output limit."""
        self.out += message
        if self is sender:
            return
        self.flush()
        transport = self.transport
        if transport is None:
            return
        hard, soft, soft_seconds = self.server.pubsub_limits
        pending = transport.get_write_buffer_size()
        over = bool(hard and pending > hard)
        if soft and pending > soft:
            now = time.monotonic()
            if self.soft_limit_since is None:
                self.soft_limit_since = now
            elif now - self.soft_limit_since > soft_seconds:
                over = True
        else:
            self.soft_limit_since = None
        if over:
            self.server.log("Client closed for overcoming of output buffer limits.")
            self.closing = True
            self.fast = False
            transport.abort()
            self.cleanup()


def _no_transport(data: bytes) -> object:
    raise RuntimeError("gee.kv: a client without a transport cannot send")


def _bad_element(arg: object) -> str:
    kind = {int: ":", list: "*"}.get(type(arg))
    if kind is None:
        return "invalid bulk length"
    return f"expected '$', got '{kind}'"


# Stand-ins for the frames ``*0`` and ``*-1`` when they are the last thing read.
_EMPTY_FRAME: list[bytes] = []
_NULL_FRAME: list[bytes] = []


def _after(data: bytes, last: list[bytes] | None) -> bytes | None:
    """The bytes of ``data`` after the request ``last`` (all of it when None)."""
    if last is None:
        return data
    encoded = encode_command(last)
    pos = data.rfind(encoded)
    return None if pos < 0 else data[pos + len(encoded) :]


def _hiredis_error(message: str) -> str:
    """Translate hiredis's framing errors into Redis's wording."""
    if "bulk" in message.lower() and "multi" in message.lower():
        return "invalid multibulk length"
    if "reply type byte" in message:
        return "invalid multibulk length"
    return "invalid bulk length"


def _unknown(args: list[bytes]) -> bytes:
    """Redis's unknown-command error, quoting the name and up to the first args."""
    quoted = b""
    for arg in args[1:]:
        if len(quoted) >= 128:
            break
        quoted += b"'%s' " % arg[: 128 - len(quoted)]
    return b"ERR unknown command '%s', with args beginning with: %s" % (args[0][:128], quoted)


def _error(exc: CommandError) -> bytes:
    message = exc.args[0]
    if isinstance(message, str):
        message = message.encode()
    return b"-%s\r\n" % message.replace(b"\r", b" ").replace(b"\n", b" ")
