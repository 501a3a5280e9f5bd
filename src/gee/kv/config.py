"""Server configuration: redis.conf syntax, the ``gee kv`` flags, and CONFIG GET/SET.

Every option has Redis's name and default, stored as the string CONFIG GET shows. The typed
properties are what the server reads. A config file is parsed as redis.conf is (one directive
per line, ``#`` comments, quoted arguments); a directive gee does not know is refused with the
line that holds it, as Redis refuses it, rather than silently ignored.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from gee.kv.errors import ConfigError
from gee.kv.resp import ProtocolError, split_inline

# name -> default, as Redis 7.0 reports it in CONFIG GET. Persistence and eviction options are
# accepted now so that a redis.conf loads; gee.kv acts on them once those features exist.
DEFAULTS: dict[str, str] = {
    "activerehashing": "yes",
    "active-expire-effort": "1",
    "appendfilename": "appendonly.aof",
    "appendfsync": "everysec",
    "appendonly": "no",
    "auto-aof-rewrite-min-size": "67108864",
    "auto-aof-rewrite-percentage": "100",
    "bind": "* -::*",
    "client-output-buffer-limit": (
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    ),
    "cluster-enabled": "no",
    "daemonize": "no",
    "databases": "16",
    "dbfilename": "dump.rdb",
    "dir": ".",
    "dynamic-hz": "yes",
    "enable-debug-command": "yes",
    "hash-max-listpack-entries": "512",
    "hash-max-listpack-value": "64",
    "hash-max-ziplist-entries": "512",
    "hash-max-ziplist-value": "64",
    "hz": "10",
    "lazyfree-lazy-eviction": "no",
    "lazyfree-lazy-expire": "no",
    "lazyfree-lazy-server-del": "no",
    "lazyfree-lazy-user-del": "no",
    "lazyfree-lazy-user-flush": "no",
    "lfu-decay-time": "1",
    "lfu-log-factor": "10",
    "list-compress-depth": "0",
    "list-max-listpack-size": "-2",
    "list-max-ziplist-size": "-2",
    "logfile": "",
    "loglevel": "notice",
    "maxclients": "10000",
    "maxmemory": "0",
    "maxmemory-clients": "0",
    "maxmemory-eviction-tenacity": "10",
    "maxmemory-policy": "noeviction",
    "maxmemory-samples": "5",
    "notify-keyspace-events": "",
    "pidfile": "",
    "port": "6379",
    "protected-mode": "yes",
    "proto-max-bulk-len": "536870912",
    "rdbchecksum": "yes",
    "rdbcompression": "yes",
    "requirepass": "",
    "save": "3600 1 300 100 60 10000",
    "set-max-intset-entries": "512",
    "slowlog-log-slower-than": "10000",
    "slowlog-max-len": "128",
    "stop-writes-on-bgsave-error": "yes",
    "supervised": "no",
    "tcp-backlog": "511",
    "tcp-keepalive": "300",
    "timeout": "0",
    "zset-max-listpack-entries": "128",
    "zset-max-listpack-value": "64",
    "zset-max-ziplist-entries": "128",
    "zset-max-ziplist-value": "64",
}

# Redis 7.0 directives that gee.kv has no counterpart for (replication, TLS, modules, threads,
# the logo...). A redis.conf carries many of them (Debian's sets two dozen), so a config file
# may name them: they are accepted and listed in ``Config.ignored``, never acted on. A name in
# neither table is refused, as Redis refuses a directive it does not know.
_REDIS_ONLY_NAMES = """
    acllog-max-len aclfile active-defrag-cycle-max active-defrag-cycle-min
    active-defrag-ignore-bytes active-defrag-max-scan-fields active-defrag-threshold-lower
    active-defrag-threshold-upper activedefrag always-show-logo aof-load-truncated
    aof-rewrite-incremental-fsync aof-timestamp-enabled aof-use-rdb-preamble appenddirname
    busy-reply-threshold client-query-buffer-limit cluster-allow-reads-when-down
    cluster-announce-bus-port cluster-announce-hostname cluster-announce-ip cluster-announce-port
    cluster-announce-tls-port cluster-config-file cluster-node-timeout cluster-port
    cluster-preferred-endpoint-type cluster-replica-no-failover cluster-replica-validity-factor
    cluster-require-full-coverage cluster-allow-replica-migration cluster-migration-barrier
    crash-log-enabled crash-memcheck-enabled disable-thp enable-module-command
    enable-protected-configs hll-sparse-max-bytes ignore-warnings io-threads io-threads-do-reads
    jemalloc-bg-thread latency-monitor-threshold latency-tracking
    latency-tracking-info-percentiles lua-time-limit masterauth masteruser
    min-replicas-max-lag min-replicas-to-write min-slaves-max-lag min-slaves-to-write
    no-appendfsync-on-rewrite oom-score-adj oom-score-adj-values proc-title-template
    rdb-del-sync-files rdb-save-incremental-fsync rdb-key-save-delay
    repl-backlog-size repl-backlog-ttl repl-disable-tcp-nodelay repl-diskless-load
    repl-diskless-sync repl-diskless-sync-delay repl-diskless-sync-max-replicas
    repl-ping-replica-period repl-timeout replica-announce-ip replica-announce-port
    replica-announced replica-ignore-maxmemory
    replica-lazy-flush replica-priority replica-read-only replica-serve-stale-data replicaof
    sanitize-dump-payload set-proc-title shutdown-on-sigint shutdown-on-sigterm shutdown-timeout
    slave-lazy-flush slave-priority slave-read-only slave-serve-stale-data slaveof
    socket-mark-id stream-node-max-bytes stream-node-max-entries syslog-enabled syslog-facility
    syslog-ident tls-auth-clients tls-ca-cert-dir tls-ca-cert-file tls-cert-file tls-ciphers
    tls-ciphersuites tls-cluster tls-dh-params-file tls-key-file tls-key-file-pass tls-port
    tls-prefer-server-ciphers tls-protocols tls-replication tls-session-cache-size
    tls-session-cache-timeout tls-session-caching tracking-table-max-keys unixsocket
    unixsocketperm
"""
REDIS_ONLY = frozenset(_REDIS_ONLY_NAMES.split())

# Options whose value must be an integer (CONFIG SET checks them as Redis does).
_INTEGERS = {
    "active-expire-effort",
    "auto-aof-rewrite-min-size",
    "auto-aof-rewrite-percentage",
    "databases",
    "hash-max-listpack-entries",
    "hash-max-listpack-value",
    "hash-max-ziplist-entries",
    "hash-max-ziplist-value",
    "hz",
    "list-compress-depth",
    "list-max-listpack-size",
    "list-max-ziplist-size",
    "maxclients",
    "port",
    "proto-max-bulk-len",
    "set-max-intset-entries",
    "slowlog-log-slower-than",
    "slowlog-max-len",
    "tcp-backlog",
    "tcp-keepalive",
    "timeout",
    "zset-max-listpack-entries",
    "zset-max-listpack-value",
    "zset-max-ziplist-entries",
    "zset-max-ziplist-value",
}
_BOOLEANS = {name for name, value in DEFAULTS.items() if value in ("yes", "no")}
# Options fixed at start-up: CONFIG SET refuses them, as Redis does for its immutable configs.
_IMMUTABLE = {"databases", "daemonize", "supervised", "pidfile", "logfile", "cluster-enabled"}
# Options that take several words (the rest take exactly one).
_MULTI_WORD = {"bind", "save", "client-output-buffer-limit"}
# Old names Redis still accepts, kept in step with their new names.
_ALIASES = {
    "hash-max-ziplist-entries": "hash-max-listpack-entries",
    "hash-max-ziplist-value": "hash-max-listpack-value",
    "list-max-ziplist-size": "list-max-listpack-size",
    "zset-max-ziplist-entries": "zset-max-listpack-entries",
    "zset-max-ziplist-value": "zset-max-listpack-value",
}


_INT_MAX = 2**31 - 1
# Options checked exactly as Redis 7.0 checks them (parser, bounds, error text), by kind:
# memory values (memtoull), plain integers in a range (string2ll), enums.
_MEMORY = {"maxmemory"}
_RANGES = {
    "maxmemory-samples": (1, _INT_MAX),
    "maxmemory-eviction-tenacity": (0, 100),
    "lfu-log-factor": (0, _INT_MAX),
    "lfu-decay-time": (0, _INT_MAX),
}
_ENUMS = {
    "maxmemory-policy": (
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
        "allkeys-lru",
        "allkeys-lfu",
        "allkeys-random",
        "noeviction",
    ),
}
_MEMORY_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1024,
    "m": 1000**2,
    "mb": 1024**2,
    "g": 1000**3,
    "gb": 1024**3,
}


def memtoull(text: str) -> int:
    """Redis's memtoull: digits and an optional unit (b, k, kb, m, mb, g, gb, any case).

    As in Redis, digits beyond 2**64-1 saturate and the product wraps modulo 2**64; anything
    else (a sign, a fraction, an unknown unit) raises ValueError.
    """
    digits = len(text) - len(text.lstrip("0123456789"))
    unit = _MEMORY_UNITS.get(text[digits:].lower())
    if unit is None or not text[:digits].isascii():
        raise ValueError(text)
    number = min(int(text[:digits] or "0"), 2**64 - 1)
    return number * unit % 2**64


def _string2ll(text: str) -> int:
    """Redis's string2ll: an optional minus, no leading zeros or plus sign, 64-bit."""
    body = text[1:] if text.startswith("-") else text
    if not body.isdigit() or not body.isascii() or (body[0] == "0" and text != "0"):
        raise ValueError(text)
    number = int(text)
    if not -(2**63) <= number < 2**63:
        raise ValueError(text)
    return number


def _checked(name: str, value: str) -> str | None:
    """``value`` as CONFIG GET will show it when ``name`` has a Redis check, else None."""
    if name in _MEMORY:
        try:
            return str(memtoull(value))
        except ValueError:
            raise ConfigError("argument must be a memory value") from None
    if name == "maxmemory-clients":
        if value.endswith("%") and value[:-1].isdigit():
            if int(value[:-1]) > 100:
                raise ConfigError("percentage argument must be less or equal to 100")
            return value
        try:
            return str(memtoull(value))
        except ValueError:
            raise ConfigError("argument must be a memory or percent value") from None
    bounds = _RANGES.get(name)
    if bounds is not None:
        try:
            number = _string2ll(value)
        except ValueError:
            raise ConfigError("argument couldn't be parsed into an integer") from None
        low, high = bounds
        if not low <= number <= high:
            raise ConfigError(f"argument must be between {low} and {high} inclusive")
        return str(number)
    choices = _ENUMS.get(name)
    if choices is not None:
        if value.lower() not in choices:
            raise ConfigError("argument(s) must be one of the following: " + ", ".join(choices))
        return value.lower()
    return None


def _parse_memory(text: str) -> int:
    """Parse ``100``, ``1k``, ``1kb``, ``5mb``, ``2gb`` as redis.conf does (k=1000, kb=1024)."""
    units = {
        "k": 1000,
        "kb": 1024,
        "m": 1000**2,
        "mb": 1024**2,
        "g": 1000**3,
        "gb": 1024**3,
    }
    lowered = text.lower()
    for suffix in ("kb", "mb", "gb", "k", "m", "g"):
        if lowered.endswith(suffix):
            return int(lowered[: -len(suffix)]) * units[suffix]
    return int(lowered)


class Config:
    """The server's options: each a string as CONFIG GET shows it, with typed accessors."""

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self.values: dict[str, str] = dict(DEFAULTS)
        self.values["dir"] = os.getcwd()
        # Config-file lines naming a Redis directive gee.kv does not act on (see REDIS_ONLY).
        self.ignored: list[str] = []
        for name, value in (values or {}).items():
            self.set(name, value)

    # -- typed views the server reads ------------------------------------------------------

    @property
    def port(self) -> int:
        """TCP port; 0 lets the OS choose (the chosen one is logged and kept here)."""
        return int(self.values["port"])

    @property
    def bind(self) -> list[str]:
        """Addresses to listen on; Redis's default ``* -::*`` means every IPv4 and IPv6 one."""
        out = []
        for addr in self.values["bind"].split():
            addr = addr.lstrip("-")
            out.append({"*": "0.0.0.0", "::*": "::"}.get(addr, addr))
        return out

    @property
    def dir(self) -> Path:
        """Working directory for data files."""
        return Path(self.values["dir"])

    @property
    def databases(self) -> int:
        """Number of logical databases (SELECT 0 .. databases-1)."""
        return int(self.values["databases"])

    @property
    def requirepass(self) -> str:
        """Password for AUTH; empty means no password is needed."""
        return self.values["requirepass"]

    @property
    def maxclients(self) -> int:
        """Most clients connected at once; more get ``-ERR max number of clients reached``."""
        return int(self.values["maxclients"])

    @property
    def timeout(self) -> int:
        """Seconds of idleness after which a client is closed; 0 means never."""
        return int(self.values["timeout"])

    @property
    def hz(self) -> int:
        """How many times a second the background cycle (active expiry, timeouts) runs."""
        return max(1, min(500, int(self.values["hz"])))

    def pubsub_limits(self) -> tuple[int, int, int]:
        """(hard, soft, soft seconds) output limit for pub/sub clients; 0 means no limit."""
        words = self.values["client-output-buffer-limit"].split()
        for i in range(0, len(words) - 3, 4):
            if words[i] == "pubsub":
                return (
                    _parse_memory(words[i + 1]),
                    _parse_memory(words[i + 2]),
                    int(words[i + 3]),
                )
        return (0, 0, 0)

    # -- reading and changing --------------------------------------------------------------

    def set(self, name: str, value: str) -> None:
        """Set option ``name``; raise ``ConfigError`` with Redis's reason if it is refused."""
        name = name.lower()
        if name not in DEFAULTS:
            raise ConfigError(f"Bad directive or wrong number of arguments ('{name}')")
        checked = _checked(name, value)
        if checked is not None:
            value = checked
        elif name in _BOOLEANS:
            value = value.lower()
            if value not in ("yes", "no"):
                raise ConfigError("argument must be 'yes' or 'no'")
        elif name in _INTEGERS:
            try:
                number = _parse_memory(value)
            except ValueError:
                raise ConfigError("argument couldn't be parsed into an integer") from None
            value = str(number)
        elif name == "client-output-buffer-limit":
            value = self._merge_output_limits(value)
        self.values[name] = value
        for old, new in _ALIASES.items():
            if name == old:
                self.values[new] = value
            elif name == new:
                self.values[old] = value

    def _merge_output_limits(self, value: str) -> str:
        words = value.split()
        if len(words) % 4:
            raise ConfigError("Wrong number of arguments in buffer limit configuration.")
        current = self.values["client-output-buffer-limit"].split()
        classes = {current[i]: current[i + 1 : i + 4] for i in range(0, len(current), 4)}
        for i in range(0, len(words), 4):
            kind = {"replica": "slave"}.get(words[i].lower(), words[i].lower())
            if kind not in classes:
                raise ConfigError("Invalid client class specified in buffer limit configuration.")
            try:
                limits = [str(_parse_memory(w)) for w in words[i + 1 : i + 4]]
            except ValueError:
                raise ConfigError(
                    "Error in hard, soft or soft_seconds setting in buffer limit configuration."
                ) from None
            classes[kind] = limits
        return " ".join(" ".join([k, *v]) for k, v in classes.items())

    def get(self, patterns: Iterable[str]) -> list[tuple[str, str]]:
        """Return (name, value) for every option matching any glob in ``patterns``, once each."""
        found: dict[str, str] = {}
        for pattern in patterns:
            pattern = pattern.lower()
            if pattern in self.values:
                found[pattern] = self.values[pattern]
                continue
            for name, value in self.values.items():
                if fnmatch.fnmatchcase(name, pattern):
                    found[name] = value
        return list(found.items())

    def is_mutable(self, name: str) -> bool:
        """Whether CONFIG SET may change ``name`` while the server runs."""
        return name in DEFAULTS and name not in _IMMUTABLE

    def load_text(self, text: str, source: str = "config") -> None:
        """Apply redis.conf-style ``text``; a bad line raises ``ConfigError`` naming it."""
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            try:
                words = [w.decode() for w in split_inline(line.encode())]
            except ProtocolError:
                raise ConfigError(_fatal(source, number, raw, "Unbalanced quotes")) from None
            name = words[0].lower()
            args = words[1:]
            if name == "include":
                continue
            if name in REDIS_ONLY:
                self.ignored.append(f"{source}:{number}: {line}")
                continue
            if (
                name not in DEFAULTS
                or (not args and name not in ("save", "bind"))
                or (len(args) > 1 and name not in _MULTI_WORD)
            ):
                raise ConfigError(
                    _fatal(source, number, raw, "Bad directive or wrong number of arguments")
                )
            try:
                self.set(name, " ".join(args))
            except ConfigError as exc:
                raise ConfigError(_fatal(source, number, raw, str(exc))) from None

    def load_file(self, path: str | Path) -> None:
        """Apply the redis.conf-style file at ``path``."""
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise ConfigError(f"Fatal error, can't open config file '{path}': {exc}") from None
        self.load_text(text, str(path))


def _fatal(source: str, number: int, line: str, reason: str) -> str:
    """Format a config error as Redis's FATAL CONFIG FILE ERROR block."""
    return (
        "\n*** FATAL CONFIG FILE ERROR (gee.kv) ***\n"
        f"Reading the configuration file {source}, at line {number}\n"
        f">>> '{line.strip()}'\n{reason}"
    )
