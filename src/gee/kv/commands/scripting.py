"""EVAL/EVALSHA/SCRIPT for the few Lua scripts clients ship, run as Python equivalents.

gee.kv has no Lua interpreter. Client libraries rely on a handful of fixed scripts, the ones
of redis-py's ``Lock`` above all, so those are recognised by their text (whitespace-normalised)
and run as Python functions with the same effect; any other script gets an error that says so.
Script caching works as Redis's: SCRIPT LOAD returns the SHA1, EVALSHA of an unknown SHA1
answers NOSCRIPT, which makes clients fall back to loading it.

A script's shebang (``#!lua flags=no-writes,allow-oom``) is read as Redis 7.0 reads it: a
script with one may write unless it says ``no-writes``, and one that may write is refused
by the ``*_RO`` commands and, while memory is full, with -OOM (``allow-oom`` lifts that).
``command_flags`` gives the server's refusal check those flags, as Redis's processCommand
takes them from the script, so an EXEC that queued such a script is refused as a whole. A
script without a shebang runs in Redis's compatibility mode: Redis refuses only its first
``denyoom`` command under -OOM, and the known scripts have none.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from gee.kv.commands import command, container
from gee.kv.commands.common import WRONGTYPE, parse_int
from gee.kv.errors import CommandError
from gee.kv.keyspace import now_ms
from gee.kv.resp import OK, ONE, ZERO, ProtocolError, bulk, split_inline

if TYPE_CHECKING:
    from gee.kv.connection import Client

# A known script: the client, KEYS, ARGV and whether it is read-only; returns its reply.
Script = Callable[["Client", list[bytes], list[bytes], bool], bytes]

# Redis's script flags (script.c's scripts_flags_def).
NO_WRITES, ALLOW_OOM, ALLOW_STALE, NO_CLUSTER, ALLOW_CROSS_SLOT = 1, 2, 4, 8, 16
_FLAG_NAMES = {
    b"no-writes": NO_WRITES,
    b"allow-oom": ALLOW_OOM,
    b"allow-stale": ALLOW_STALE,
    b"no-cluster": NO_CLUSTER,
    b"allow-cross-slot-keys": ALLOW_CROSS_SLOT,
}


class _WriteDenied(Exception):
    """A read-only run of a known script reached its write."""


def _write(read_only: bool) -> None:
    if read_only:
        raise _WriteDenied


def shebang(body: bytes) -> tuple[int | None, int]:
    """A script's flags (None: no shebang, Redis's compatibility mode) and the shebang's
    length, as Redis's evalExtractShebangFlags; a bad shebang raises Redis's error."""
    if not body.startswith(b"#!"):
        return None, 0
    end = body.find(b"\n")
    if end < 0:
        raise CommandError("ERR Invalid script shebang")
    try:
        parts = split_inline(body[:end])
    except ProtocolError:
        raise CommandError("ERR Invalid engine in script shebang") from None
    if parts[0] != b"#!lua":
        raise CommandError(f"ERR Unexpected engine in script shebang: {_text(parts[0])}")
    flags = 0
    for part in parts[1:]:
        if not part.startswith(b"flags="):
            raise CommandError(f"ERR Unknown lua shebang option: {_text(part)}")
        for name in part[6:].split(b",") if len(part) > 6 else ():
            flag = _FLAG_NAMES.get(name)
            if flag is None:
                raise CommandError(f"ERR Unexpected flag in script shebang: {_text(name)}")
            flags |= flag
    return flags, end


def _text(arg: bytes) -> str:
    return arg.decode(errors="replace")


# The commands that run a script, whose flags come from the script's shebang.
SCRIPT_COMMANDS = frozenset((b"eval", b"eval_ro", b"evalsha", b"evalsha_ro"))
_SCRIPT_DECIDES = frozenset(("denyoom", "write", "stale", "may_replicate"))


def command_flags(flags: frozenset[str], args: list[bytes]) -> frozenset[str]:
    """The flags of a script command (``SCRIPT_COMMANDS``) whose own are ``flags``, for the
    call ``args``, as Redis's evalGetCommandFlags: a script with a shebang replaces denyoom,
    write and stale with what it declares (denyoom unless no-writes or allow-oom, write
    unless no-writes). Without a shebang, with a bad one, or for EVALSHA of a SHA1 not
    cached, the command's own flags stand (a bad script fails when it runs)."""
    if args[0].lower().startswith(b"evalsha"):
        body = _SCRIPTS.get(args[1].lower()) if len(args[1]) == 40 else None
        if body is None:
            return flags
    else:
        body = args[1]
    try:
        declared = shebang(body)[0]
    except CommandError:
        return flags
    if declared is None:
        return flags
    result = set(flags - _SCRIPT_DECIDES)
    if not declared & (NO_WRITES | ALLOW_OOM):
        result.add("denyoom")
    if not declared & NO_WRITES:
        result.add("write")
    if declared & ALLOW_STALE:
        result.add("stale")
    return frozenset(result)


def _token_matches(c: Client, key: bytes, token: bytes) -> bool:
    value = c.db.get(key)
    if value is not None and value.__class__ is not bytes:
        raise CommandError(WRONGTYPE)
    return value == token


def _lock_release(c: Client, keys: list[bytes], argv: list[bytes], read_only: bool) -> bytes:
    if not _token_matches(c, keys[0], argv[0]):
        return ZERO
    _write(read_only)
    c.db.delete(keys[0])
    c.db.modified(keys[0])
    return ONE


def _lock_extend(c: Client, keys: list[bytes], argv: list[bytes], read_only: bool) -> bytes:
    key = keys[0]
    if not _token_matches(c, key, argv[0]):
        return ZERO
    when = c.db.expires.get(key)
    if when is None:
        return ZERO
    extra = parse_int(argv[1])
    left = max(0, when - now_ms())
    new_ttl = extra if argv[2] != b"0" else extra + left
    _write(read_only)
    c.db.set_expire(key, now_ms() + new_ttl)
    c.db.modified(key)
    return ONE


def _lock_reacquire(c: Client, keys: list[bytes], argv: list[bytes], read_only: bool) -> bytes:
    key = keys[0]
    if not _token_matches(c, key, argv[0]):
        return ZERO
    _write(read_only)
    c.db.set_expire(key, now_ms() + parse_int(argv[1]))
    c.db.modified(key)
    return ONE


def _normalise(body: bytes) -> bytes:
    return b" ".join(body.split())


# Normalised text -> the script and the text of its one write call (for the error's line).
_KNOWN: dict[bytes, tuple[Script, bytes]] = {
    _normalise(
        b"""local token = redis.call('get', KEYS[1])
        if not token or token ~= ARGV[1] then return 0 end
        redis.call('del', KEYS[1]) return 1"""
    ): (_lock_release, b"redis.call('del'"),
    _normalise(
        b"""local token = redis.call('get', KEYS[1])
        if not token or token ~= ARGV[1] then return 0 end
        local expiration = redis.call('pttl', KEYS[1])
        if not expiration then expiration = 0 end
        if expiration < 0 then return 0 end
        local newttl = ARGV[2]
        if ARGV[3] == "0" then newttl = ARGV[2] + expiration end
        redis.call('pexpire', KEYS[1], newttl) return 1"""
    ): (_lock_extend, b"redis.call('pexpire'"),
    _normalise(
        b"""local token = redis.call('get', KEYS[1])
        if not token or token ~= ARGV[1] then return 0 end
        redis.call('pexpire', KEYS[1], ARGV[2]) return 1"""
    ): (_lock_reacquire, b"redis.call('pexpire'"),
}

# SHA1 (hex, lowercase) -> script body, as SCRIPT LOAD or EVAL stored it.
_SCRIPTS: dict[bytes, bytes] = {}


def _load(body: bytes) -> bytes:
    sha = hashlib.sha1(body).hexdigest().encode()
    _SCRIPTS[sha] = body
    return sha


def _numkeys(args: list[bytes]) -> int:
    numkeys = parse_int(args[2])
    if numkeys > len(args) - 3:
        raise CommandError("ERR Number of keys can't be greater than number of args")
    if numkeys < 0:
        raise CommandError("ERR Number of keys can't be negative")
    return numkeys


def _run(c: Client, body: bytes, args: list[bytes], ro: bool) -> None:
    """Run a script as Redis's evalGenericCommand: the key count, the shebang, the *_RO check,
    then the script (read-only under *_RO or ``no-writes``)."""
    numkeys = _numkeys(args)
    flags, length = shebang(body)
    sha = _load(body)
    if ro and flags is not None and not flags & NO_WRITES:
        raise CommandError("ERR Can not execute a script with write flag using *_ro command.")
    known = _KNOWN.get(_normalise(body[length:]))
    if known is None:
        raise CommandError(
            "ERR gee.kv does not run Lua scripts (only the scripts of redis-py's Lock are known)"
        )
    script, write_call = known
    read_only = ro or (flags is not None and bool(flags & NO_WRITES))
    keys = args[3 : 3 + numkeys]
    try:
        c.out += script(c, keys, args[3 + numkeys :], read_only)
    except _WriteDenied:
        line = body[: body.find(write_call)].count(b"\n") + 1
        raise CommandError(
            "ERR Write commands are not allowed from read-only scripts. "
            f"script: {sha.decode()}, on @user_script:{line}."
        ) from None


def _eval(c: Client, args: list[bytes], ro: bool) -> None:
    _run(c, args[1], args, ro)


def _evalsha(c: Client, args: list[bytes], ro: bool) -> None:
    body = _SCRIPTS.get(args[1].lower())
    if body is not None:
        _run(c, body, args, ro)
        return
    if len(args[1]) == 40:
        _numkeys(args)  # Redis checks the key count before the cache
    raise CommandError("NOSCRIPT No matching script. Please use EVAL.")


@command("eval")
def eval_(c: Client, args: list[bytes]) -> None:
    _eval(c, args, False)


@command("eval_ro")
def eval_ro(c: Client, args: list[bytes]) -> None:
    _eval(c, args, True)


@command("evalsha")
def evalsha(c: Client, args: list[bytes]) -> None:
    _evalsha(c, args, False)


@command("evalsha_ro")
def evalsha_ro(c: Client, args: list[bytes]) -> None:
    _evalsha(c, args, True)


container("script")


@command("script|load")
def script_load(c: Client, args: list[bytes]) -> None:
    shebang(args[2])
    c.out += bulk(_load(args[2]))


@command("script|exists")
def script_exists(c: Client, args: list[bytes]) -> None:
    c.out += b"*%d\r\n" % (len(args) - 2)
    c.out += b"".join(ONE if sha.lower() in _SCRIPTS else ZERO for sha in args[2:])


@command("script|flush")
def script_flush(c: Client, args: list[bytes]) -> None:
    _SCRIPTS.clear()
    c.out += OK
