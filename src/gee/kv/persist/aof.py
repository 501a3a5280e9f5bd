"""The append-only file: every write appended as RESP after it runs, replayed at start.

Writes arrive through ``Server.propagate`` and are rewritten to their deterministic effect
(``effect``): relative expiry becomes PEXPIREAT/PXAT, a past deadline DEL, SPOP and the
float increments the resulting value (as a RESTORE of the key), so replaying the file later
rebuilds the same keyspace. Keys that expire are appended as DEL, and during replay nothing
expires (``Keyspace.loading``), as in Redis: the file alone decides what exists.

Group commit: appended commands collect in ``buf`` during one loop iteration; a client whose
replies are ready while ``buf`` is not empty is held (``hold``), and ``commit`` (scheduled
once per iteration with ``call_soon``) writes the buffer with one ``write``, fsyncs it under
``appendfsync always``, then releases the held clients' replies. So under every policy a reply
leaves only after its write reached the kernel (a killed process loses nothing it
acknowledged), and under ``always`` only after it reached the disk. ``everysec`` fsyncs from a
thread once a second, off the loop; ``no`` leaves flushing to the kernel.

A file that ends inside a command (a crash mid-write) loads up to the last whole command, is
truncated there, and a warning is logged, as Redis's ``aof-load-truncated yes``; bad bytes
before the end refuse to start and name the offset.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hiredis

from gee.kv.errors import KVError
from gee.kv.persist.rdb import dump_payload
from gee.kv.resp import encode_command
from gee.kv.zset import ZSet

if TYPE_CHECKING:
    from gee.kv.connection import Client
    from gee.kv.keyspace import Database, Keyspace
    from gee.kv.server import Server


class AOFError(KVError):
    """The append-only file cannot be replayed; the message names the offset."""


_TIME_OPTIONS = {b"ex", b"px", b"exat", b"pxat"}
# Commands whose result depends on chance or on float formatting: the key's new value is
# appended instead of the command.
_SNAPSHOT = {b"spop", b"incrbyfloat", b"hincrbyfloat", b"restore"}


def _deadline_or_del(db: Database, key: bytes, otherwise: list[bytes] | None) -> list[list[bytes]]:
    if key not in db.data:
        return [[b"DEL", key]]
    when = db.expires.get(key)
    if when is not None:
        return [[b"PEXPIREAT", key, b"%d" % when]]
    return [otherwise] if otherwise else []


def _snapshot(db: Database, key: bytes) -> list[list[bytes]]:
    value = db.get(key)
    if value is None:
        return [[b"DEL", key]]
    out = [[b"RESTORE", key, b"0", dump_payload(value, False), b"REPLACE"]]
    when = db.expires.get(key)
    if when is not None:
        out.append([b"PEXPIREAT", key, b"%d" % when])
    return out


def effect(db: Database, argv: list[bytes]) -> list[list[bytes]]:
    """The commands that replay ``argv``'s effect on ``db`` deterministically."""
    name = argv[0].lower()
    if name in (b"expire", b"pexpire", b"expireat", b"pexpireat"):
        return _deadline_or_del(db, argv[1], None)
    if name in (b"setex", b"psetex"):
        key = argv[1]
        when = db.expires.get(key)
        if key not in db.data:
            return [[b"DEL", key]]
        return [[b"SET", key, argv[3], b"PXAT", b"%d" % when]] if when else [[b"SET", key, argv[3]]]
    if name == b"set" and len(argv) > 3:
        opts = argv[3:]
        lowered = [o.lower() for o in opts]
        if not _TIME_OPTIONS.intersection(lowered):
            return [argv]
        kept: list[bytes] = []
        skip = False
        for opt, low in zip(opts, lowered, strict=True):
            if skip:
                skip = False
            elif low in _TIME_OPTIONS:
                skip = True
            else:
                kept.append(opt)
        key = argv[1]
        if key not in db.data:
            return [[b"DEL", key]]
        when = db.expires.get(key)
        tail = [b"PXAT", b"%d" % when] if when is not None else []
        return [[b"SET", key, argv[2], *kept, *tail]]
    if name == b"getex":
        return _deadline_or_del(db, argv[1], [b"PERSIST", argv[1]])
    if name in _SNAPSHOT:
        return _snapshot(db, argv[1])
    return [argv]


def dataset_commands(keyspace: Keyspace) -> list[bytes]:
    """The keyspace as RESP commands (the body of a rewritten AOF), deadlines absolute."""
    out: list[bytes] = []
    for db in keyspace.dbs:
        if not db.data:
            continue
        out.append(encode_command([b"SELECT", b"%d" % db.index]))
        for key, value in db.data.items():
            cls = value.__class__
            if cls is bytes:
                cmd = [b"SET", key, value]
            elif cls is deque:
                cmd = [b"RPUSH", key, *(item[item.index(b"\r\n") + 2 : -2] for item in value)]
            elif cls is dict:
                cmd = [b"HSET", key, *(x for pair in value.items() for x in pair)]
            elif cls is set:
                cmd = [b"SADD", key, *value]
            elif cls is ZSet:
                cmd = [
                    b"ZADD",
                    key,
                    *(x for m, s in value.dict.items() for x in (repr(s).encode(), m)),
                ]
            else:  # pragma: no cover
                raise TypeError(cls)
            out.append(encode_command(cmd))
            when = db.expires.get(key)
            if when is not None:
                out.append(encode_command([b"PEXPIREAT", key, b"%d" % when]))
    return out


class AOF:
    """The open append-only file of a running server (see the module docstring)."""

    def __init__(self, server: Server, path: Path) -> None:
        self.server = server
        self.path = path
        self.policy = server.config.values["appendfsync"]
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        # Commands appended this loop iteration, not yet written; guarded by the loop.
        self.buf = bytearray()
        # The database the file's last SELECT chose (-1: none yet).
        self.db = -1
        self.held: list[Client] = []
        self.scheduled = False
        self.last_write_ok = True
        self.size = os.fstat(self.fd).st_size
        # everysec: set when bytes were written since the last fsync; read by the fsync thread.
        self._unsynced = threading.Event()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        if self.policy == "everysec":
            self._thread = threading.Thread(target=self._fsync_loop, daemon=True)
            self._thread.start()

    # -- appending ------------------------------------------------------------------------

    def propagate(self, index: int, argv: list[bytes]) -> None:
        """The ``Server.propagate`` hook: append ``argv``'s effect on database ``index``."""
        buf = self.buf
        if index != self.db:
            buf += encode_command([b"SELECT", b"%d" % index])
            self.db = index
        name = argv[0].lower()
        if name in (b"multi", b"exec") or name in _PLAIN:
            buf += encode_command(argv)
        else:
            for cmd in effect(self.server.keyspace.dbs[index], argv):
                buf += encode_command(cmd)
        if not self.scheduled:
            self.scheduled = True
            asyncio.get_running_loop().call_soon(self.commit)

    def expired(self, index: int, key: bytes) -> None:
        """A key expired: append its deletion so a replay need not know the clock."""
        self.propagate(index, [b"DEL", key])

    def hold(self, client: Client) -> None:
        """Keep ``client``'s replies until ``commit`` has written what they acknowledge."""
        self.held.append(client)

    def commit(self) -> None:
        """Write the buffered commands (fsync under ``always``), then release held replies."""
        self.scheduled = False
        if self.buf:
            data = bytes(self.buf)
            self.buf.clear()
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(self.fd, view) :]
                self.size += len(data)
                if self.policy == "always":
                    os.fsync(self.fd)
                else:
                    self._unsynced.set()
                self.last_write_ok = True
            except OSError as exc:
                self.last_write_ok = False
                self.server.log(f"Error writing to the AOF file: {exc}", "#")
        held = self.held
        if held:
            self.held = []
            for client in held:
                client.flush()

    def _fsync_loop(self) -> None:
        while not self._closed.wait(1.0):
            if self._unsynced.is_set():
                self._unsynced.clear()
                with contextlib.suppress(OSError):
                    os.fsync(self.fd)

    def close(self) -> None:
        """Commit, fsync and close the file (shutdown)."""
        self.commit()
        self._closed.set()
        if self._thread is not None:
            self._thread.join()
        with contextlib.suppress(OSError):
            os.fsync(self.fd)
        os.close(self.fd)

    def write_base(self, commands: list[bytes]) -> None:
        """Append ``commands`` (a dataset) to the empty file, synchronously and durably."""
        data = b"".join(commands)
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]
        os.fsync(self.fd)
        self.size += len(data)
        self.db = -1


# Commands appended as they are whatever ``effect`` would say (the common, cheap case).
_PLAIN = {
    b"del",
    b"incr",
    b"incrby",
    b"decr",
    b"decrby",
    b"lpush",
    b"rpush",
    b"hset",
    b"sadd",
    b"zadd",
    b"append",
    b"mset",
}


def replay(server: Server, path: Path) -> int:
    """Run every command of the AOF at ``path``; return how many ran.

    A file ending inside a command is truncated to its last whole command, with a warning.
    """
    from gee.kv.connection import Client

    data = path.read_bytes()
    reader = hiredis.Reader()
    reader.feed(data)
    client = Client(server)
    client.authenticated = True
    client.in_exec = True
    client.update_special()
    keyspace = server.keyspace
    keyspace.loading = True
    pos = 0
    count = 0
    try:
        while True:
            try:
                req: Any = reader.gets()
            except hiredis.ProtocolError:
                raise AOFError(
                    f"Bad file format reading the append only file {path} at offset {pos}"
                ) from None
            if req is False:
                break
            if req.__class__ is not list or not req or any(a.__class__ is not bytes for a in req):
                raise AOFError(
                    f"Bad file format reading the append only file {path} at offset {pos}"
                )
            pos += len(encode_command(req))
            client.execute(req)
            client.in_exec = True
            if client.out[:1] == b"-" and req[0].lower() not in (b"exec", b"discard"):
                name = req[0].decode(errors="replace")
                error = bytes(client.out).decode(errors="replace").strip()
                if error.startswith("-ERR unknown command"):
                    raise AOFError(f"Unknown command '{name}' reading the append only file")
            client.out.clear()
            count += 1
    finally:
        keyspace.loading = False
    if client.multi is not None:
        server.log("Revert incomplete MULTI/EXEC transaction in AOF file", "#")
        client.multi = None
    if pos < len(data):
        server.log(
            f"!!! Warning: short read while loading the AOF file {path}!!! "
            f"AOF loaded anyway because aof-load-truncated is enabled; "
            f"truncated to {pos} bytes (dropped {len(data) - pos}).",
            "#",
        )
        os.truncate(path, pos)
    return count


def open_on_start(server: Server) -> AOF:
    """At start with ``appendonly yes``: replay the AOF (or, when there is none yet, keep what
    the RDB loaded and write it as the AOF's base), then hook the file into propagation."""
    config = server.config
    path = config.dir / config.values["appendfilename"]
    started = time.perf_counter()
    if path.exists():
        count = replay(server, path)
        took = time.perf_counter() - started
        server.log(f"DB loaded from append only file: {took:.3f} seconds ({count} commands)")
        aof = AOF(server, path)
    else:
        server.load()
        aof = AOF(server, path)
        aof.write_base(dataset_commands(server.keyspace))
        server.log("Creating AOF base file on server start")
    server.keyspace.dirty = 0
    return aof
