"""The gee.kv server: one asyncio loop, one keyspace, a ``Client`` protocol per connection.

Redis's single-threaded semantics follow from the loop: a command runs to completion before
the loop looks at another socket, so every command is atomic. The server owns what spans
connections (keyspace, pub/sub tables, blocked-client service, the background cycle) and the
process life cycle (listening with Redis's backlog of 511, signals, log lines).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from gee.kv.commands import COMMANDS, Command, load_all
from gee.kv.commands.scripting import SCRIPT_COMMANDS, command_flags
from gee.kv.config import Config
from gee.kv.connection import Client, _error
from gee.kv.errors import AOFError, CommandError, RDBError
from gee.kv.evict import EVICT_FAIL, OOM
from gee.kv.keyspace import Keyspace
from gee.kv.memory import Memory
from gee.kv.persist.aof import AOF, open_on_start
from gee.kv.persist.snapshot import Snapshots, load_into

REDIS_VERSION = "7.0.15"

__all__ = ["REDIS_VERSION", "Client", "Server", "run"]


class Server:
    """A gee.kv server: its configuration, keyspace, clients and listening sockets."""

    def __init__(self, config: Config | None = None, *, log_file: TextIO | None = None) -> None:
        load_all()
        self.config = config or Config()
        self.keyspace = Keyspace(self.config.databases)
        self.clients: dict[int, Client] = {}
        self._next_id = 0
        self.log_file = log_file if log_file is not None else sys.stdout
        # channel/pattern -> subscribers (dicts keep subscription order).
        self.channels: dict[bytes, dict[Client, None]] = {}
        self.patterns: dict[bytes, dict[Client, None]] = {}
        self.shard_channels: dict[bytes, dict[Client, None]] = {}
        # (hard, soft, soft seconds) output limits of pub/sub clients; 0 disables one.
        self.pubsub_limits = self.config.pubsub_limits()
        self.commands_processed = 0
        self.total_connections = 0
        self.rejected_connections = 0
        self.blocked_clients = 0
        self.pubsub_messages = 0
        self.start_time = time.time()
        # time.time() as of the last cron tick: what the fast path stamps a client's last
        # interaction with, as Redis uses its cached server.unixtime (a call per request costs).
        self.clock = self.start_time
        self.snapshots = Snapshots(self)
        self.ports: list[int] = []
        self._servers: list[asyncio.AbstractServer] = []
        # See the ``propagate`` property.
        self._propagate: Callable[[int, list[bytes]], None] | None = None
        # The open append-only file with ``appendonly yes``, else None (see persist/aof.py).
        self.aof: AOF | None = None
        # maxmemory: accounting, access tracking and eviction (memory.py).
        self.memory = Memory(self)
        # Whether ``refusal`` must look at each command (maxmemory set, or persistence can
        # fail: -OOM, -MISCONF), and whether commands must leave the connection's fast path
        # (that, or memory tracking). Kept by ``update_paths``.
        self.guarded = False
        self.slow_path = False
        self._cron: asyncio.TimerHandle | None = None
        self._stopped: asyncio.Event | None = None
        self.shutdown_requested = False

    @property
    def propagate(self) -> Callable[[int, list[bytes]], None] | None:
        """Called with (db index, argv) after every command that changed the keyspace (inside
        EXEC: after each such queued command, the lot between [MULTI] and [EXEC]; for a
        blocked client: when it is served); None means nobody listens. The hook the AOF
        appends from."""
        return self._propagate

    @propagate.setter
    def propagate(self, hook: Callable[[int, list[bytes]], None] | None) -> None:
        self._propagate = hook
        self.update_paths()

    @property
    def lastsave(self) -> int:
        """Unix time of the last successful save (start time when there was none)."""
        return self.snapshots.lastsave

    def next_client_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def log(self, message: str, level: str = "*") -> None:
        """Write a log line in Redis's format (``pid:M dd Mon yyyy hh:mm:ss.mmm * text``)."""
        now = time.time()
        stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(now))
        line = f"{os.getpid()}:M {stamp}.{int(now * 1000) % 1000:03d} {level} {message}\n"
        with contextlib.suppress(ValueError, OSError):
            self.log_file.write(line)
            self.log_file.flush()

    # -- life cycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on every bind address (backlog 511, as Redis) and start the cron."""
        loop = asyncio.get_running_loop()
        config = self.config
        self._stopped = asyncio.Event()
        if config.values["appendonly"] == "yes":
            self.aof = open_on_start(self)
            self.propagate = self.aof.propagate
            self.keyspace.on_expired = self.aof.expired
        else:
            self.load()
        self.memory.configure()
        self.update_paths()
        port = config.port
        for host in config.bind:
            server = await loop.create_server(
                lambda: Client(self), host, port, backlog=511, reuse_address=True
            )
            self._servers.append(server)
            if port == 0 and server.sockets:
                port = server.sockets[0].getsockname()[1]
        self.ports = [port]
        config.values["port"] = str(port)
        self.log(f"Server initialized (gee.kv, Redis {REDIS_VERSION} compatible)")
        self.log(f"Running mode=standalone, port={port}.")
        self.log(f"Ready to accept connections on port {port}")
        self._cron = loop.call_later(1 / config.hz, self._tick)

    def load(self) -> None:
        """Load ``dir/dbfilename`` if it exists; RDBError names what is wrong with it."""
        path = self.config.dir / self.config.values["dbfilename"]
        if not path.exists():
            return
        started = time.perf_counter()
        try:
            keys = load_into(self, path)
        except RDBError as exc:
            raise RDBError(f"Bad RDB file {path}: {exc}") from None
        self.keyspace.dirty = 0
        took = time.perf_counter() - started
        self.log(f"DB loaded from disk: {took:.3f} seconds ({keys} keys)")

    def reconfigure(self) -> None:
        """Apply eviction options changed by CONFIG SET; evict at once if now over the limit."""
        memory = self.memory
        memory.configure()
        self.update_paths()
        if memory.maxmemory:
            used = memory.used()
            if used > memory.maxmemory:
                self.log(
                    f"WARNING: the new maxmemory value set via CONFIG SET ({memory.maxmemory})"
                    f" is smaller than the current memory usage ({used}). This will result in"
                    " key eviction and/or the inability to accept new write commands"
                    " depending on the maxmemory-policy.",
                    "#",
                )
            memory.perform_evictions()

    def update_paths(self) -> None:
        """Recompute ``guarded`` and ``slow_path`` after a change to what they depend on."""
        aof = self.aof
        self.guarded = bool(
            self.memory.maxmemory
            or (aof is not None and not aof.last_write_ok)
            or self._bgsave_error_blocks()
        )
        # Propagation does not need the slow path: the fast paths propagate too.
        self.slow_path = self.guarded or self.memory.tracking
        for client in self.clients.values():
            client.refresh_fast()

    def _bgsave_error_blocks(self) -> bool:
        """Redis's DISK_ERROR_TYPE_RDB: stop-writes-on-bgsave-error with save points set and
        the last BGSAVE failed."""
        return (
            not self.snapshots.last_bgsave_ok
            and self.config.values["stop-writes-on-bgsave-error"] == "yes"
            and bool(self.snapshots.save_points())
        )

    def disk_error(self) -> bytes | None:
        """The -MISCONF error writes get while persistence is failing, or None."""
        if self._bgsave_error_blocks():
            return BGSAVE_ERROR
        aof = self.aof
        if aof is not None and not aof.last_write_ok:
            reason = aof.last_write_error or os.strerror(errno.EIO)
            return b"MISCONF Errors writing to the AOF file: %s" % str(reason).encode()
        return None

    def refusal(self, client: Client, cmd: Command, name: bytes, args: list[bytes]) -> bytes | None:
        """Redis's processCommand checks for a full memory and failing persistence: evict
        if over maxmemory, then the -OOM or -MISCONF error the command gets, or None.

        As in Redis: with memory full, commands flagged denyoom are refused, and so is every
        command queued inside MULTI (EXEC with a denyoom command queued aborts it); with
        persistence failing, write commands and PING are refused.
        """
        memory = self.memory
        # (Settled and within the limit, as after most commands: nothing to evict.)
        if (
            memory.maxmemory
            and (memory.keyspace.touched or memory.keys_bytes + memory.overhead > memory.maxmemory)
            and memory.perform_evictions() == EVICT_FAIL
        ):
            if client.multi is not None:
                refuse = name not in _OOM_ALLOWED_IN_MULTI or (
                    name == b"exec" and _queued_flag(client, "denyoom")
                )
            else:
                refuse = "denyoom" in _flags(cmd, args)
            if refuse:
                return _abort_exec(client, name, OOM)
        if self.aof is not None or not self.snapshots.last_bgsave_ok:
            error = self.disk_error()
            if error is None:
                return None
            if name == b"exec" and client.multi is not None:
                writes = _queued_flag(client, "write")
            else:
                writes = "write" in _flags(cmd, args)
            if writes or name == b"ping":
                return _abort_exec(client, name, error)
        return None

    def prepare_shutdown(self, save: bool | None, force: bool = False) -> bool:
        """Save before exit when asked (``save`` True) or when save points are configured
        (``save`` None); return False when the save failed and ``force`` is not set."""
        snapshots = self.snapshots
        snapshots.kill_child()
        if self.aof is not None:
            self.log("Calling fsync() on the AOF file.")
            self.aof.commit()
        if save is None:
            save = bool(snapshots.save_points())
        if save:
            self.log("Saving the final RDB snapshot before exiting.", "#")
            if not snapshots.save() and not force:
                self.log("Error trying to save the DB, can't exit.", "#")
                return False
        return True

    @property
    def port(self) -> int:
        """The TCP port it listens on (the chosen one when configured with 0)."""
        return self.ports[0] if self.ports else self.config.port

    def _tick(self) -> None:
        """The background cycle: active expiry (a few ms at most) and idle-client timeouts."""
        self.clock = time.time()
        ran_out = self.keyspace.active_expire(0.002)
        self.snapshots.cron()
        if self.aof is not None:
            self.aof.cron()
        if self.keyspace.ready_keys:
            self.serve_ready()
        memory = self.memory
        if memory.tracking:
            memory.cron()
        timeout = self.config.timeout
        if timeout:
            limit = time.time() - timeout
            for client in list(self.clients.values()):
                if (
                    client.last_interaction < limit
                    and client.blocked is None
                    and not client.subscribed()
                ):
                    client.close()
        # A backlog of expired keys: run again soon, but leave the loop ~70% of the time, as
        # Redis caps its expiry cycle at 25% of CPU.
        delay = 0.005 if ran_out else 1 / self.config.hz
        self._cron = asyncio.get_running_loop().call_later(delay, self._tick)

    async def serve_forever(self) -> None:
        """Run until ``stop`` is called (by a signal or SHUTDOWN)."""
        if self._stopped is None:
            await self.start()
        assert self._stopped is not None
        await self._stopped.wait()

    def stop(self) -> None:
        """Stop accepting, flush and close every client, end ``serve_forever``."""
        self.snapshots.kill_child()
        aof = self.aof
        if aof is not None:
            aof.commit()
        for server in self._servers:
            server.close()
        if self._cron is not None:
            self._cron.cancel()
        for client in list(self.clients.values()):
            client.close()
        if aof is not None:
            self.aof = self.propagate = None
            self.keyspace.on_expired = None
            aof.close()
            self.update_paths()
        if self._stopped is not None:
            self._stopped.set()

    # -- blocking -------------------------------------------------------------------------

    def serve_ready(self) -> None:
        """Serve clients blocked on keys that got data, first blocked first served."""
        keyspace = self.keyspace
        while keyspace.ready_keys:
            ready = keyspace.ready_keys
            keyspace.ready_keys = {}
            for index, key in ready:
                db = keyspace.dbs[index]
                queue = db.blocked.get(key)
                while queue:
                    client = queue[0]
                    state = client.blocked
                    if state is None:  # pragma: no cover  (unblock removes it)
                        queue.popleft()
                        continue
                    saved = client.db
                    client.db = state.db
                    dirty = keyspace.dirty
                    try:
                        served = state.serve(client, state.args, key)
                    except CommandError as exc:
                        client.out += _error(exc)
                        served = True
                    except Exception as exc:  # a bug: answer the blocked client, go on
                        client._internal_error(COMMANDS[state.args[0].lower()], exc)
                        served = True
                    finally:
                        client.db = saved
                    if served and self.propagate is not None and keyspace.dirty != dirty:
                        self.propagate(state.db.index, state.args)
                    if not served:
                        break
                    client.unblock()
                    asyncio.get_running_loop().call_soon(client.resume)
                    client.flush()
                    queue = db.blocked.get(key)


BGSAVE_ERROR = (
    b"MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist "
    b"to disk. Commands that may modify the data set are disabled, because this instance is "
    b"configured to report errors during writes if RDB snapshotting fails "
    b"(stop-writes-on-bgsave-error option). Please check the Redis logs for details about the "
    b"RDB error."
)
# Commands a client in MULTI may still send when memory is full.
_OOM_ALLOWED_IN_MULTI = {b"exec", b"discard", b"quit", b"reset"}


def _flags(cmd: Command, args: list[bytes]) -> frozenset[str]:
    """The flags of the command ``args`` runs (a container's subcommand's own flags; for
    EVAL and EVALSHA, what the script's shebang declares)."""
    if cmd.subcommands and len(args) > 1:
        sub = cmd.subcommands.get(args[1].lower())
        if sub is not None:
            return sub.flags
    if cmd.name_bytes in SCRIPT_COMMANDS:
        return command_flags(cmd.flags, args)
    return cmd.flags


def _queued_flag(client: Client, flag: str) -> bool:
    """Whether a command queued in the client's MULTI has ``flag`` (EXEC inherits them)."""
    return any(flag in _flags(cmd, args) for cmd, args in client.multi or ())


def _abort_exec(client: Client, name: bytes, error: bytes) -> bytes:
    """The refusal ``error`` as the command gets it: a refused EXEC discards the transaction
    and answers EXECABORT quoting the reason, as Redis's execCommandAbort."""
    if name != b"exec" or client.multi is None:
        return error
    client.multi = None
    client.multi_error = False
    client.unwatch()
    client.update_special()
    return b"EXECABORT Transaction discarded because of: " + error


def _install_signals(loop: asyncio.AbstractEventLoop, server: Server) -> None:
    def on_signal(name: str) -> None:
        server.log(f"Received {name} scheduling shutdown...", "#")
        server.log("User requested shutdown...", "#")
        if server.prepare_shutdown(None):
            server.stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, on_signal, sig.name)


async def _main(server: Server) -> None:
    _install_signals(asyncio.get_running_loop(), server)
    await server.serve_forever()
    server.log("Redis is now ready to exit, bye bye...", "#")


def run(config: Config | None = None) -> int:
    """Serve until SIGTERM/SIGINT or SHUTDOWN; return the process exit code."""
    server = Server(config)
    with contextlib.suppress(OSError):
        server.config.dir.mkdir(parents=True, exist_ok=True)
    try:
        os.chdir(server.config.dir)
    except OSError as exc:
        server.log(f"Can't chdir to '{server.config.dir}': {exc}", "#")
        return 1
    server.config.values["dir"] = os.getcwd()
    server.log("oO0OoO0OoO0Oo gee.kv is starting oO0OoO0OoO0Oo")
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        runner: Any = asyncio.run
    else:
        runner = uvloop.run
    try:
        runner(_main(server))
    except (RDBError, AOFError) as exc:
        server.log(f"{exc}. Aborting now.", "#")
        return 1
    except OSError as exc:
        server.log(f"Failed listening on port {server.config.port} (tcp): {exc}", "#")
        return 1
    return 0
