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
import gc
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hiredis

from gee.kv.commands import COMMANDS
from gee.kv.errors import AOFError, CommandError
from gee.kv.persist.rdb import dump_payload
from gee.kv.resp import encode_command
from gee.kv.zset import ZSet

if TYPE_CHECKING:
    from gee.kv.connection import Client
    from gee.kv.keyspace import Database, Keyspace
    from gee.kv.server import Server


_TIME_OPTIONS = {b"ex", b"px", b"exat", b"pxat"}
# Commands whose result depends on chance or on float formatting: the key's new value is
# appended instead of the command.
_SNAPSHOT = {b"spop", b"incrbyfloat", b"hincrbyfloat", b"restore"}
# Every command ``effect`` may rewrite; any other write is appended as it came.
_REWRITTEN = {
    b"expire",
    b"pexpire",
    b"expireat",
    b"pexpireat",
    b"setex",
    b"psetex",
    b"set",
    b"getex",
    *_SNAPSHOT,
}


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


def dataset_commands(keyspace: Keyspace) -> Iterator[bytes]:
    """The keyspace as RESP commands (the body of a rewritten AOF), deadlines absolute."""
    for db in keyspace.dbs:
        if not db.data:
            continue
        yield encode_command([b"SELECT", b"%d" % db.index])
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
            yield encode_command(cmd)
            when = db.expires.get(key)
            if when is not None:
                yield encode_command([b"PEXPIREAT", key, b"%d" % when])


def _write_all(fd: int, data: bytes | bytearray) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_commands(fd: int, commands: Iterable[bytes]) -> int:
    """Write ``commands`` to ``fd`` in batches of about 1 MB; return the bytes written."""
    total = 0
    batch: list[bytes] = []
    size = 0
    for cmd in commands:
        batch.append(cmd)
        size += len(cmd)
        if size >= 1 << 20:
            _write_all(fd, b"".join(batch))
            total += size
            batch, size = [], 0
    _write_all(fd, b"".join(batch))
    return total + size


class AOF:
    """The open append-only file of a running server (see the module docstring)."""

    def __init__(self, server: Server, path: Path) -> None:
        self.server = server
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        # Commands appended this loop iteration, not yet written; guarded by the loop.
        self.buf = bytearray()
        # The database the file's last SELECT chose (-1: none yet).
        self.db = -1
        self.held: list[Client] = []
        self.scheduled = False
        self.last_write_ok = True
        # Why the last write failed (strerror), for -MISCONF; and the bytes it did not write,
        # written before anything newer at the next commit.
        self.last_write_error = ""
        self.unwritten = b""
        self.size = os.fstat(self.fd).st_size
        # The size after the last rewrite (or at start): auto-rewrite measures growth from it.
        self.base_size = self.size
        # The BGREWRITEAOF child, and what was written since its fork (appended to its file).
        self.rewrite_pid: int | None = None
        self.rewrite_buf = bytearray()
        self.rewrite_scheduled = False
        self.rewrite_started = 0.0
        self.last_rewrite_ok = True
        # everysec: set when bytes were written since the last fsync; read and cleared by the
        # fsync thread. A plain attribute (a store per commit, no lock): a set that races with
        # the thread's clear is covered by the fsync that follows the clear.
        self.unsynced = False
        self._closed = threading.Event()
        self._values = server.config.values
        # The loop's call_soon and the bound commit, taken once: ``asyncio.get_running_loop``
        # costs a getpid() system call each time. (None until a loop runs, as in unit tests.)
        self._commit = self.commit
        try:
            self._call_soon: Callable[..., object] | None = asyncio.get_running_loop().call_soon
        except RuntimeError:
            self._call_soon = None
        for name, cmd in COMMANDS.items():
            cmd.aof_as_sent = _as_sent(name, cmd.max_args)
        # Runs under every policy (CONFIG SET appendfsync may change it) but fsyncs only
        # under everysec; it sleeps on ``_closed`` between rounds.
        self._thread = threading.Thread(target=self._fsync_loop, daemon=True)
        self._thread.start()

    # -- appending ------------------------------------------------------------------------

    def propagate(self, index: int, argv: list[bytes]) -> None:
        """The ``Server.propagate`` hook: append ``argv``'s effect on database ``index``."""
        route = _ROUTES.get(argv[0])
        if route is None:
            route = _route(argv[0].lower())
        if route == _SKIP:
            return  # a read that lazily expired a key: the expiry was appended as a DEL
        buf = self.buf
        if index != self.db:
            buf += encode_command([b"SELECT", b"%d" % index])
            self.db = index
        n = len(argv)
        if route == _REWRITE and not (n == 3 and argv[0].lower() == b"set"):
            for args in effect(self.server.keyspace.dbs[index], argv):
                buf += encode_command(args)
        elif n == 3:  # most writes (SET, LPUSH, SADD, INCRBY...): one format, no list
            a, b, c = argv
            buf += _RESP3 % (len(a), a, len(b), b, len(c), c)
        elif n == 4:  # HSET key field value, ZADD key score member...
            a, b, c, d = argv
            buf += _RESP4 % (len(a), a, len(b), b, len(c), c, len(d), d)
        else:
            buf += encode_command(argv)
        if not self.scheduled:
            self.schedule()

    def schedule(self) -> None:
        """Have ``commit`` run once the loop has served this iteration's reads."""
        self.scheduled = True
        (self._call_soon or asyncio.get_running_loop().call_soon)(self._commit)

    def expired(self, index: int, key: bytes) -> None:
        """A key expired: append its deletion so a replay need not know the clock."""
        self.propagate(index, [b"DEL", key])

    def hold(self, client: Client) -> None:
        """Keep ``client``'s replies until ``commit`` has written what they acknowledge."""
        self.held.append(client)

    def commit(self) -> None:
        """Write the buffered commands (fsync under ``always``), then release held replies.

        A failed write is kept and tried again (the next commit, or the cron every tick), as
        Redis keeps its ``aof_buf``; a partial write is cut off first, so that the file stays
        whole. Meanwhile writes get -MISCONF, and under ``always`` the replies that acknowledge
        the unwritten commands stay held: nothing is acknowledged that is not on disk. (Redis
        exits instead under ``always``.)
        """
        self.scheduled = False
        buf = self.buf
        if buf or self.unwritten:
            if buf and self.rewrite_pid is not None:
                self.rewrite_buf += buf
            # Usually one write of the buffer as it is; a copy only after a failed write.
            data: bytes | bytearray = self.unwritten + buf if self.unwritten else buf
            always = self._values["appendfsync"] == "always"
            try:
                written = os.write(self.fd, data)
                if written != len(data):
                    _write_all(self.fd, data[written:])
                if always:
                    os.fsync(self.fd)
                else:
                    self.unsynced = True
            except OSError as exc:
                self.unwritten = bytes(data)
                buf.clear()
                with contextlib.suppress(OSError):
                    os.ftruncate(self.fd, self.size)  # drop what a partial write left
                self.last_write_error = exc.strerror or str(exc)
                if self.last_write_ok:
                    self.server.log(f"Error writing to the AOF file: {exc}", "#")
                    self.last_write_ok = False
                    self.server.update_paths()  # writes now get -MISCONF
                if always:
                    return
            else:
                self.size += len(data)
                buf.clear()
                self.unwritten = b""
                if not self.last_write_ok:
                    self.last_write_ok = True
                    self.server.log("AOF write error looks solved, gee.kv can write again.")
                    self.server.update_paths()  # writes are accepted again (no -MISCONF)
        held = self.held
        if held:
            self.held = []
            for client in held:
                out = client.out
                if out:
                    if client.fast:  # ``flush`` for a plain open connection, spelled out
                        client.write(bytes(out))
                        out.clear()
                    else:
                        client.flush()

    def _fsync_loop(self) -> None:
        values = self.server.config.values
        while not self._closed.wait(1.0):
            if self.unsynced and values["appendfsync"] == "everysec":
                self.unsynced = False
                with contextlib.suppress(OSError):
                    os.fsync(self.fd)

    def close(self) -> None:
        """Commit, fsync and close the file (shutdown)."""
        self.kill_rewrite()
        self.commit()
        self._closed.set()
        self._thread.join()
        with contextlib.suppress(OSError):
            os.fsync(self.fd)
        os.close(self.fd)

    def write_base(self, commands: Iterable[bytes]) -> None:
        """Append ``commands`` (a dataset) to the empty file, synchronously and durably."""
        self.size += write_commands(self.fd, commands)
        os.fsync(self.fd)
        self.base_size = self.size
        self.db = -1

    # -- rewriting ------------------------------------------------------------------------

    def _temp_path(self, pid: int) -> Path:
        return self.path.with_name(f"temp-rewriteaof-bg-{pid}.aof")

    def start_rewrite(self) -> bool:
        """BGREWRITEAOF: fork a child that writes the dataset as commands to a temporary file.

        Whatever the parent commits after the fork is kept in ``rewrite_buf`` and appended to
        the child's file when it is done, so no write made during the rewrite is lost.
        """
        server = self.server
        self.commit()  # what is committed now is in the child's snapshot, not in rewrite_buf
        try:
            pid = os.fork()
        except OSError as exc:
            server.log(f"Can't rewrite append only file in background: fork: {exc}", "#")
            self.last_rewrite_ok = False
            return False
        if pid == 0:  # the child
            code = 1
            try:
                fd = os.open(self._temp_path(os.getpid()), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
                try:
                    write_commands(fd, dataset_commands(server.keyspace))
                    os.fsync(fd)
                finally:
                    os.close(fd)
                code = 0
            finally:
                os._exit(code)
        self.rewrite_pid = pid
        self.rewrite_started = time.time()
        self.rewrite_scheduled = False
        self.rewrite_buf = bytearray()
        self.db = -1  # the rewritten file's last SELECT is unknown here: select again
        server.log(f"Background append only file rewriting started by pid {pid}")
        return True

    def reap_rewrite(self) -> None:
        """From the cron: when the child is done, append the buffered writes, swap files."""
        pid = self.rewrite_pid
        if pid is None:
            return
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # pragma: no cover
            done, status = pid, 1 << 8
        if done == 0:
            return
        self.commit()  # while rewrite_pid is set, so the last writes reach rewrite_buf too
        self.rewrite_pid = None
        temp = self._temp_path(pid)
        ok = os.waitstatus_to_exitcode(status) == 0
        if ok:
            try:
                fd = os.open(temp, os.O_WRONLY | os.O_APPEND)
                _write_all(fd, bytes(self.rewrite_buf))
                os.fsync(fd)
                os.replace(temp, self.path)
                os.close(self.fd)
                self.fd = fd
                self.size = self.base_size = os.fstat(fd).st_size
            except OSError as exc:
                ok = False
                self.server.log(f"Error trying to rename the temporary AOF file: {exc}", "#")
        self.rewrite_buf = bytearray()
        self.last_rewrite_ok = ok
        if ok:
            self.server.log("Background AOF rewrite finished successfully")
        else:
            self.server.log("Background AOF rewrite terminated with error", "#")
            with contextlib.suppress(OSError):
                temp.unlink()

    def kill_rewrite(self) -> None:
        """Stop a running rewrite child and remove its file (shutdown)."""
        pid = self.rewrite_pid
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            self.rewrite_pid = None
            with contextlib.suppress(OSError):
                self._temp_path(pid).unlink()

    def cron(self) -> None:
        """Retry a failed write; reap the rewrite child; start a scheduled or automatic
        rewrite when none runs."""
        if self.unwritten and not self.scheduled:
            self.commit()
        self.reap_rewrite()
        if self.rewrite_pid is not None or self.server.snapshots.child_pid is not None:
            return
        if self.rewrite_scheduled:
            self.start_rewrite()
            return
        values = self.server.config.values
        percentage = int(values["auto-aof-rewrite-percentage"])
        if (
            percentage
            and self.size >= int(values["auto-aof-rewrite-min-size"])
            and (self.size - self.base_size) * 100 >= percentage * max(self.base_size, 1)
        ):
            self.server.log(f"Starting automatic rewriting of AOF on {percentage}% growth")
            self.start_rewrite()


# How ``propagate`` appends a command (by name, as written; see ``_route``).
_SKIP = 0  # not at all: a read-only command (it can only have expired a key)
_PLAIN = 1  # as it came: its arguments are its effect
_REWRITE = 2  # through ``effect``
_ROUTES: dict[bytes, int] = {}
_RESP3 = b"*3\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
_RESP4 = b"*4\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"


def _route(name: bytes) -> int:
    """How to append command ``name`` (lowercase); remembered under its lowercase and uppercase
    spellings, the ones clients send, so that one dict lookup routes a command."""
    spec = COMMANDS.get(name)
    if spec is not None and "readonly" in spec.flags:
        route = _SKIP
    elif name in _REWRITTEN:
        route = _REWRITE
    else:
        route = _PLAIN
    _ROUTES[name] = _ROUTES[name.upper()] = route
    return route


def _as_sent(name: bytes, max_args: int) -> int:
    """``Command.aof_as_sent`` for command ``name``: where ``propagate`` appends the arguments
    as they came (SET only without options), capped at 255 arguments."""
    if name == b"set":
        return 3
    return min(max_args, 255) if _route(name) == _PLAIN else 0


# How much of the file the RESP reader is given at a time: hiredis moves its unread bytes to
# the front of its buffer once a kilobyte is consumed, so feeding a whole 100 MB file at once
# makes every few commands copy what remains (quadratic; a 1M-command file took minutes).
_FEED = 1 << 16
# Replayed through the dispatcher, which keeps the MULTI state.
_TRANSACTION = {b"multi", b"exec", b"discard"}
# Fed after the last byte of the file: read back alone only if the file ended on a boundary.
_SENTINEL = encode_command([b"PING"])


def _ends_whole(reader: hiredis.Reader) -> bool:
    """Whether ``reader``, given the whole file and drained, stopped between two commands:
    then a sentinel fed after it reads back alone; inside a command it would be swallowed
    into that command (or be a protocol error)."""
    reader.feed(_SENTINEL)
    try:
        return bool(reader.gets() == [b"PING"])
    except hiredis.ProtocolError:
        return False


def _bad_format(path: Path, data: bytes, commands: int) -> AOFError:
    return AOFError(
        f"Bad file format reading the append only file {path} at offset {_offset(data, commands)}"
    )


def _offset(data: bytes, commands: int) -> int:
    """Where the first ``commands`` whole commands of ``data`` end (for errors and truncation,
    so the replay need not track offsets as it goes)."""
    reader = hiredis.Reader()
    pos = fed = 0
    for _ in range(commands):
        req = reader.gets()
        while req is False:
            reader.feed(data, fed, min(_FEED, len(data) - fed))
            fed += _FEED
            req = reader.gets()
        pos += len(encode_command(req))
    return pos


def replay(server: Server, path: Path) -> int:
    """Run every command of the AOF at ``path``; return how many ran.

    A file ending inside a command is truncated to its last whole command, with a warning.
    """
    from gee.kv.connection import Client

    data = path.read_bytes()
    size = len(data)
    reader = hiredis.Reader()
    gets = reader.gets
    client = Client(server)
    client.authenticated = True
    client.in_exec = True
    client.update_special()
    execute = client.execute
    commands = COMMANDS
    keyspace = server.keyspace
    keyspace.loading = True
    fed = 0
    count = 0
    whole = True
    collecting = gc.isenabled()
    gc.disable()  # a replay allocates millions of objects and makes no cycles
    try:
        while True:
            try:
                req: Any = gets()
                if req is False:
                    if fed >= size:
                        whole = _ends_whole(reader)
                        break
                    reader.feed(data, fed, min(_FEED, size - fed))
                    fed += _FEED
                    continue
                b"".join(req)  # TypeError unless a non-empty array of bulk strings
                if not req:
                    raise TypeError
            except (hiredis.ProtocolError, TypeError):
                raise _bad_format(path, data, count) from None
            count += 1
            # Most commands run straight from the table, as Redis's loader calls a command's
            # proc: the dispatcher's work (stats, MULTI, propagation, blocked clients) has
            # nothing to do here. MULTI/EXEC/DISCARD, commands with subcommands and a wrong
            # argument count go through it.
            name = req[0].lower()
            cmd = commands.get(name)
            if (
                cmd is not None
                and client.multi is None
                and not cmd.subcommands
                and cmd.min_args <= len(req) <= cmd.max_args
                and name not in _TRANSACTION
            ):
                try:
                    cmd.func(client, req)
                except CommandError:
                    pass  # its error reply would be dropped below anyway
                except Exception as exc:  # a bug: log it and go on, as the dispatcher does
                    server.log(f"Error in '{cmd.name}' replaying the AOF: {exc!r}", "#")
                client.out.clear()
                continue
            execute(req)
            client.in_exec = True
            out = client.out
            if out:
                if out[0] == 45 and name not in (b"exec", b"discard"):  # "-"
                    error = bytes(out).decode(errors="replace").strip()
                    if error.startswith("-ERR unknown command"):
                        name = req[0].decode(errors="replace")
                        raise AOFError(f"Unknown command '{name}' reading the append only file")
                out.clear()
    finally:
        keyspace.loading = False
        if collecting:
            gc.freeze()  # the keyspace lives as long as the server: see rdb.load
            gc.enable()
    if client.multi is not None:
        server.log("Revert incomplete MULTI/EXEC transaction in AOF file", "#")
        client.multi = None
    if not whole:
        pos = _offset(data, count)
        server.log(
            f"!!! Warning: short read while loading the AOF file {path}!!! "
            f"AOF loaded anyway because aof-load-truncated is enabled; "
            f"truncated to {pos} bytes (dropped {size - pos}).",
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
