"""Server commands: databases (SWAPDB, DBSIZE, FLUSH*), INFO, CONFIG, COMMAND, DEBUG, TIME..."""

from __future__ import annotations

import os
import platform
import resource
import secrets
import sys
import time
from typing import TYPE_CHECKING

from gee.kv.commands import COMMANDS, command, container
from gee.kv.commands._meta import DOCS, INFO
from gee.kv.commands.common import (
    NOT_INTEGER,
    REDIS_VERSION,
    SYNTAX,
    map_header,
    parse_c_int,
    parse_float,
    parse_int,
)
from gee.kv.errors import CommandError, ConfigError
from gee.kv.resp import OK, bulk, integer, resp3_to_resp2

if TYPE_CHECKING:
    from gee.kv.connection import Client


RUN_ID = secrets.token_hex(20)


@command("swapdb")
def swapdb(c: Client, args: list[bytes]) -> None:
    a = parse_c_int(args[1], "ERR invalid first DB index")
    b = parse_c_int(args[2], "ERR invalid second DB index")
    n = len(c.keyspace.dbs)
    if not (0 <= a < n and 0 <= b < n):
        raise CommandError("ERR DB index is out of range")
    if a != b:
        c.keyspace.swap(a, b)
        c.keyspace.dirty += 1
    c.out += OK


@command("dbsize")
def dbsize(c: Client, args: list[bytes]) -> None:
    c.out += integer(len(c.db.data))


def _flush_option(args: list[bytes]) -> None:
    if len(args) > 2 or (len(args) == 2 and args[1].lower() not in (b"async", b"sync")):
        raise CommandError(SYNTAX)


@command("flushdb")
def flushdb(c: Client, args: list[bytes]) -> None:
    _flush_option(args)
    c.db.touch_all_watched()
    c.keyspace.dirty += c.db.clear()
    c.out += OK


@command("flushall")
def flushall(c: Client, args: list[bytes]) -> None:
    _flush_option(args)
    for db in c.keyspace.dbs:
        db.touch_all_watched()
        c.keyspace.dirty += db.clear()
    # As Redis: a running BGSAVE is now pointless, and with save points the empty dataset is
    # saved at once, so a restart does not bring back what was flushed.
    c.keyspace.dirty += 1
    snapshots = c.server.snapshots
    snapshots.kill_child()
    if snapshots.save_points():
        snapshots.save()
    c.out += OK


@command("time")
def time_(c: Client, args: list[bytes]) -> None:
    now = time.time()
    seconds = int(now)
    c.out += b"*2\r\n" + bulk(b"%d" % seconds) + bulk(b"%d" % int((now - seconds) * 1e6))


@command("lastsave")
def lastsave(c: Client, args: list[bytes]) -> None:
    c.out += integer(c.server.lastsave)


@command("shutdown")
def shutdown(c: Client, args: list[bytes]) -> None:
    flags = {arg.lower() for arg in args[1:]}
    if not flags <= {b"nosave", b"save", b"now", b"force", b"abort"} or (
        b"nosave" in flags and b"save" in flags
    ):
        raise CommandError(SYNTAX)
    if b"abort" in flags:
        raise CommandError("ERR No shutdown in progress.")
    c.server.log("User requested shutdown...", "#")
    save = True if b"save" in flags else False if b"nosave" in flags else None
    if not c.server.prepare_shutdown(save, force=b"force" in flags):
        raise CommandError("ERR Errors trying to SHUTDOWN. Check logs.")
    c.server.stop()


# -- INFO -----------------------------------------------------------------------------------


def _rss() -> int:
    """The process's resident set size now (its peak where /proc is missing)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):  # pragma: no cover  (not Linux)
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _memory_section(c: Client) -> list[tuple[str, object]]:
    """INFO memory, in Redis 7.0's fields; used_memory is memory.py's estimate."""
    server = c.server
    memory = server.memory
    used = memory.used()
    peak = max(memory.peak, used)
    startup = min(memory.startup, used)
    rss = _rss()
    overhead = memory.tables()
    dataset = max(used - overhead, 0)
    net = max(used - startup, 1)
    aof = server.aof
    aof_buffer = len(aof.buf) if aof is not None else 0
    clients = memory.clients  # counted by ``used`` above
    total_system = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    maxmemory = memory.maxmemory
    return [
        ("used_memory", used),
        ("used_memory_human", _human(used)),
        ("used_memory_rss", rss),
        ("used_memory_rss_human", _human(rss)),
        ("used_memory_peak", peak),
        ("used_memory_peak_human", _human(peak)),
        ("used_memory_peak_perc", f"{used * 100 / peak if peak else 100:.2f}%"),
        ("used_memory_overhead", overhead),
        ("used_memory_startup", startup),
        ("used_memory_dataset", dataset),
        ("used_memory_dataset_perc", f"{dataset * 100 / net:.2f}%"),
        ("allocator_allocated", used),
        ("allocator_active", used),
        ("allocator_resident", rss),
        ("total_system_memory", total_system),
        ("total_system_memory_human", _human(total_system)),
        ("used_memory_lua", 0),
        ("used_memory_vm_eval", 0),
        ("used_memory_lua_human", "0B"),
        ("used_memory_scripts_eval", 0),
        ("number_of_cached_scripts", 0),
        ("number_of_functions", 0),
        ("number_of_libraries", 0),
        ("used_memory_vm_functions", 0),
        ("used_memory_vm_total", 0),
        ("used_memory_vm_total_human", "0B"),
        ("used_memory_functions", 0),
        ("used_memory_scripts", 0),
        ("used_memory_scripts_human", "0B"),
        ("maxmemory", maxmemory),
        ("maxmemory_human", _human(maxmemory)),
        ("maxmemory_policy", memory.policy),
        ("allocator_frag_ratio", "1.00"),
        ("allocator_frag_bytes", 0),
        ("allocator_rss_ratio", f"{rss / used if used else 0:.2f}"),
        ("allocator_rss_bytes", rss - used),
        ("rss_overhead_ratio", "1.00"),
        ("rss_overhead_bytes", 0),
        ("mem_fragmentation_ratio", f"{rss / used if used else 0:.2f}"),
        ("mem_fragmentation_bytes", rss - used),
        ("mem_not_counted_for_evict", aof_buffer),
        ("mem_replication_backlog", 0),
        ("mem_total_replication_buffers", 0),
        ("mem_clients_slaves", 0),
        ("mem_clients_normal", clients),
        ("mem_cluster_links", 0),
        ("mem_aof_buffer", aof_buffer),
        ("mem_allocator", "pymalloc"),
        ("active_defrag_running", 0),
        ("lazyfree_pending_objects", 0),
        ("lazyfreed_objects", 0),
    ]


def _info_sections(c: Client, wanted: set[str]) -> dict[str, list[tuple[str, object]]]:
    server = c.server
    snapshots = server.snapshots
    aof = server.aof
    now = time.time()
    uptime = int(now - server.start_time)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    keyspace = c.keyspace
    return {
        "server": [
            ("redis_version", REDIS_VERSION.decode()),
            ("redis_git_sha1", "00000000"),
            ("redis_git_dirty", 0),
            ("redis_build_id", "gee"),
            ("redis_mode", "standalone"),
            ("os", f"{platform.system()} {platform.release()} {platform.machine()}"),
            ("arch_bits", 64 if sys.maxsize > 2**32 else 32),
            ("monotonic_clock", "POSIX clock_gettime"),
            ("multiplexing_api", "epoll"),
            ("gcc_version", "0.0.0"),
            ("process_id", os.getpid()),
            ("process_supervised", "no"),
            ("run_id", RUN_ID),
            ("tcp_port", server.port),
            ("server_time_usec", int(now * 1e6)),
            ("uptime_in_seconds", uptime),
            ("uptime_in_days", uptime // 86400),
            ("hz", server.config.hz),
            ("configured_hz", server.config.hz),
            ("lru_clock", int(now) & ((1 << 24) - 1)),
            ("executable", sys.argv[0] if sys.argv else ""),
            ("config_file", ""),
            ("io_threads_active", 0),
        ],
        "clients": [
            ("connected_clients", len(server.clients)),
            ("cluster_connections", 0),
            ("maxclients", server.config.maxclients),
            ("client_recent_max_input_buffer", 0),
            ("client_recent_max_output_buffer", 0),
            ("blocked_clients", server.blocked_clients),
            ("tracking_clients", 0),
            ("clients_in_timeout_table", server.blocked_clients),
        ],
        "memory": _memory_section(c) if "memory" in wanted else [],
        "persistence": [
            ("loading", 0),
            ("async_loading", 0),
            ("current_cow_peak", 0),
            ("rdb_changes_since_last_save", snapshots.changes()),
            ("rdb_bgsave_in_progress", int(snapshots.child_pid is not None)),
            ("rdb_last_save_time", snapshots.lastsave),
            ("rdb_last_bgsave_status", "ok" if snapshots.last_bgsave_ok else "err"),
            ("rdb_last_bgsave_time_sec", snapshots.last_bgsave_seconds),
            (
                "rdb_current_bgsave_time_sec",
                -1 if snapshots.child_pid is None else int(time.time() - snapshots.child_started),
            ),
            ("rdb_saves", snapshots.saves),
            ("aof_enabled", int(aof is not None)),
            ("aof_rewrite_in_progress", int(aof is not None and aof.rewrite_pid is not None)),
            ("aof_rewrite_scheduled", int(aof is not None and aof.rewrite_scheduled)),
            (
                "aof_last_bgrewrite_status",
                "ok" if aof is None or aof.last_rewrite_ok else "err",
            ),
            ("aof_last_write_status", "ok" if aof is None or aof.last_write_ok else "err"),
            *(
                [("aof_current_size", aof.size), ("aof_base_size", aof.base_size)]
                if aof is not None
                else []
            ),
        ],
        "stats": [
            ("total_connections_received", server.total_connections),
            ("total_commands_processed", server.commands_processed),
            ("instantaneous_ops_per_sec", 0),
            ("rejected_connections", server.rejected_connections),
            ("expired_keys", keyspace.expired_keys),
            ("evicted_keys", server.memory.evicted_keys),
            ("keyspace_hits", 0),
            ("keyspace_misses", 0),
            ("pubsub_channels", len(server.channels)),
            ("pubsub_patterns", len(server.patterns)),
            ("total_blocking_keys", sum(len(db.blocked) for db in keyspace.dbs)),
        ],
        "replication": [
            ("role", "master"),
            ("connected_slaves", 0),
            ("master_failover_state", "no-failover"),
            ("master_replid", RUN_ID),
            ("master_repl_offset", 0),
            ("repl_backlog_active", 0),
        ],
        "cpu": [
            ("used_cpu_sys", f"{usage.ru_stime:.6f}"),
            ("used_cpu_user", f"{usage.ru_utime:.6f}"),
            ("used_cpu_sys_children", f"{children.ru_stime:.6f}"),
            ("used_cpu_user_children", f"{children.ru_utime:.6f}"),
        ],
        "modules": [],
        "errorstats": [],
        "cluster": [("cluster_enabled", 0)],
        "keyspace": [
            (
                f"db{db.index}",
                f"keys={len(db.data)},expires={len(db.expires)},avg_ttl=0",
            )
            for db in keyspace.dbs
            if db.data
        ],
    }


def _human(n: int) -> str:
    """Redis's bytesToHuman: 1023B, 1.00K, 2.50M ... up to P."""
    for unit in ("B", "K", "M", "G", "T", "P"):
        if n < 1024 or unit == "P":
            return f"{n}{unit}" if unit == "B" else f"{n:.2f}{unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)  # pragma: no cover


_DEFAULT_SECTIONS = [
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
]


@command("info")
def info(c: Client, args: list[bytes]) -> None:
    wanted = [a.decode(errors="replace").lower() for a in args[1:]] or ["default"]
    names: list[str] = []
    for want in wanted:
        if want in ("all", "everything", "default"):
            names += _DEFAULT_SECTIONS
        elif want in _DEFAULT_SECTIONS:
            names.append(want)
    # The memory section walks the keyspace while tracking is off: build it only on demand.
    sections = _info_sections(c, set(names))
    lines: list[str] = []
    for name in dict.fromkeys(names):
        if lines:
            lines.append("")
        lines.append(f"# {name.capitalize() if name != 'cpu' else 'CPU'}")
        lines += [f"{k}:{v}" for k, v in sections[name]]
    text = "\r\n".join(lines).encode() + (b"\r\n" if lines else b"")
    if c.protocol == 3:
        c.out += b"=%d\r\ntxt:%s\r\n" % (len(text) + 4, text)
    else:
        c.out += bulk(text)


# -- CONFIG ---------------------------------------------------------------------------------

container("config")


@command("config|get")
def config_get(c: Client, args: list[bytes]) -> None:
    pairs = c.server.config.get(a.decode(errors="replace") for a in args[2:])
    c.out += map_header(c, len(pairs))
    for name, value in pairs:
        c.out += bulk(name.encode()) + bulk(value.encode())


@command("config|set")
def config_set(c: Client, args: list[bytes]) -> None:
    if len(args) % 2:
        raise CommandError("ERR wrong number of arguments for 'config|set' command")
    config = c.server.config
    pairs: dict[str, str] = {}
    for i in range(2, len(args), 2):
        name = args[i].decode(errors="replace").lower()
        if not config.is_mutable(name):
            if name in config.values:
                raise CommandError(
                    f"ERR CONFIG SET failed (possibly related to argument '{name}') - "
                    "can't set immutable config"
                )
            raise CommandError(
                f"ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
            )
        if name in pairs:
            raise CommandError(
                f"ERR CONFIG SET failed (possibly related to argument '{name}') - "
                "duplicate parameter"
            )
        pairs[name] = args[i + 1].decode(errors="replace")
    backup = dict(config.values)
    for name, value in pairs.items():
        try:
            config.set(name, value)
        except ConfigError as exc:
            config.values = backup
            raise CommandError(
                f"ERR CONFIG SET failed (possibly related to argument '{name}') - {exc}"
            ) from None
    c.server.pubsub_limits = config.pubsub_limits()
    c.server.reconfigure()
    c.out += OK


@command("config|resetstat")
def config_resetstat(c: Client, args: list[bytes]) -> None:
    server = c.server
    server.commands_processed = 0
    server.total_connections = 0
    server.rejected_connections = 0
    server.pubsub_messages = 0
    c.keyspace.expired_keys = 0
    server.memory.evicted_keys = 0
    server.memory.peak = 0
    c.out += OK


@command("config|rewrite")
def config_rewrite(c: Client, args: list[bytes]) -> None:
    raise CommandError("ERR The server is running without a config file")


# -- COMMAND --------------------------------------------------------------------------------


def _info_reply(c: Client, name: str) -> bytes:
    raw = INFO[name]
    return raw if c.protocol == 3 else resp3_to_resp2(raw)


@command("command")
def command_(c: Client, args: list[bytes]) -> None:
    if len(args) > 1:
        sub = COMMANDS[b"command"].subcommands.get(args[1].lower())
        if sub is None:
            raise CommandError(b"ERR unknown subcommand '%s'. Try COMMAND HELP." % args[1][:128])
        n = len(args)
        if (sub.arity > 0 and n != sub.arity) or n < -sub.arity:
            raise CommandError(f"ERR wrong number of arguments for '{sub.name}' command")
        sub.func(c, args)
        return
    names = sorted(COMMANDS)
    c.out += b"*%d\r\n" % len(names)
    for name in names:
        c.out += _info_reply(c, name.decode())


@command("command|count")
def command_count(c: Client, args: list[bytes]) -> None:
    c.out += integer(len(COMMANDS))


@command("command|info")
def command_info(c: Client, args: list[bytes]) -> None:
    names = [a.lower() for a in args[2:]] if len(args) > 2 else sorted(COMMANDS)
    c.out += b"*%d\r\n" % len(names)
    for name in names:
        c.out += _info_reply(c, name.decode()) if name in COMMANDS else c.null


@command("command|docs")
def command_docs(c: Client, args: list[bytes]) -> None:
    names = [a.lower() for a in args[2:]] if len(args) > 2 else sorted(COMMANDS)
    found = [n for n in dict.fromkeys(names) if n in COMMANDS and n.decode() in DOCS]
    c.out += map_header(c, len(found))
    for name in found:
        raw = DOCS[name.decode()]
        c.out += bulk(name) + (raw if c.protocol == 3 else resp3_to_resp2(raw))


@command("command|list")
def command_list(c: Client, args: list[bytes]) -> None:
    names = sorted(COMMANDS)
    if len(args) > 2:
        if len(args) != 5 or args[2].lower() != b"filterby":
            raise CommandError(SYNTAX)
        kind, value = args[3].lower(), args[4]
        if kind == b"pattern":
            from gee.kv.commands.common import glob_match

            names = [n for n in names if glob_match(value.lower(), n, nocase=True)]
        elif kind == b"aclcat":
            cat = b"@" + value.lower()
            names = [n for n in names if cat in INFO[n.decode()]]
        elif kind == b"module":
            names = []
        else:
            raise CommandError(SYNTAX)
    c.out += b"*%d\r\n" % len(names) + b"".join(bulk(n) for n in names)


@command("command|getkeys")
def command_getkeys(c: Client, args: list[bytes]) -> None:
    target = COMMANDS.get(args[2].lower())
    if target is None:
        raise CommandError("ERR Invalid command specified")
    sub = args[2:]
    n = len(sub)
    if (target.arity > 0 and n != target.arity) or n < -target.arity:
        raise CommandError("ERR Invalid number of arguments specified for command")
    keys = target.keys(sub)
    if not keys:
        raise CommandError("ERR The command has no key arguments")
    c.out += b"*%d\r\n" % len(keys) + b"".join(bulk(k) for k in keys)


# -- DEBUG, FUNCTION ------------------------------------------------------------------------


@command("debug")
def debug(c: Client, args: list[bytes]) -> None:
    sub = args[1].lower()
    if sub == b"sleep" and len(args) == 3:
        time.sleep(parse_float(args[2], NOT_INTEGER))
        c.out += OK
    elif sub == b"set-active-expire" and len(args) == 3:
        c.keyspace.active_expire_enabled = args[2] != b"0"
        c.out += OK
    elif sub == b"object" and len(args) == 3:
        value = c.db.get(args[2])
        if value is None:
            raise CommandError("ERR no such key")
        from gee.kv.commands.keys import encoding_of

        enc = encoding_of(value).decode()
        text = f"Value at:0x0 refcount:1 encoding:{enc} serializedlength:0 lru:0 lru_seconds_idle:0"
        c.out += b"+%s\r\n" % text.encode()
    elif sub == b"populate" and 3 <= len(args) <= 5:
        _populate(c, args)
    elif (
        sub == b"jmap"
        or sub == b"quicklist-packed-threshold"
        or sub == b"change-repl-id"
        or sub == b"replybuffer"
    ):
        c.out += OK
    else:
        raise CommandError(
            b"ERR unknown subcommand or wrong number of arguments for '%s'. Try DEBUG HELP."
            % args[1]
        )


def _populate(c: Client, args: list[bytes]) -> None:
    """DEBUG POPULATE count [prefix] [size]: fill the database as Redis does (key:N value:N)."""
    count = parse_int(args[2], "ERR value is out of range, must be positive")
    if count < 0:
        raise CommandError("ERR value is out of range, must be positive")
    prefix = args[3] if len(args) > 3 else b"key"
    size = parse_int(args[4]) if len(args) > 4 else 0
    if size < 0:
        raise CommandError("ERR Invalid size")
    db = c.db
    data = db.data
    touched = c.keyspace.touched
    for i in range(count):
        key = b"%s:%d" % (prefix, i)
        if key in data:
            continue
        value = b"value:%d" % i
        if size:
            value = value[:size].ljust(size, b"\0")
        data[key] = value
        if touched is not None:  # memory accounting, without breaking WATCHes (as Redis)
            touched.append((db, key))
    c.keyspace.dirty += count
    c.out += OK


container("function")


@command("function|flush")
def function_flush(c: Client, args: list[bytes]) -> None:
    if len(args) > 3 or (len(args) == 3 and args[2].lower() not in (b"async", b"sync")):
        raise CommandError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
    c.out += OK


@command("function|list")
def function_list(c: Client, args: list[bytes]) -> None:
    c.out += b"*0\r\n"
