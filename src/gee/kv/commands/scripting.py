"""EVAL/EVALSHA/SCRIPT for the few Lua scripts clients ship, run as Python equivalents.

gee.kv has no Lua interpreter. Client libraries rely on a handful of fixed scripts, the ones
of redis-py's ``Lock`` above all, so those are recognised by their text (whitespace-normalised)
and run as Python functions with the same effect; any other script gets an error that says so.
Script caching works as Redis's: SCRIPT LOAD returns the SHA1, EVALSHA of an unknown SHA1
answers NOSCRIPT, which makes clients fall back to loading it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from gee.kv.commands import command, container
from gee.kv.commands.common import WRONGTYPE, parse_int
from gee.kv.errors import CommandError
from gee.kv.keyspace import now_ms
from gee.kv.resp import OK, ONE, ZERO, bulk

if TYPE_CHECKING:
    from gee.kv.connection import Client

Script = Callable[["Client", list[bytes], list[bytes]], bytes]


def _token_matches(c: Client, key: bytes, token: bytes) -> bool:
    value = c.db.get(key)
    if value is not None and value.__class__ is not bytes:
        raise CommandError(WRONGTYPE)
    return value == token


def _lock_release(c: Client, keys: list[bytes], argv: list[bytes]) -> bytes:
    if not _token_matches(c, keys[0], argv[0]):
        return ZERO
    c.db.delete(keys[0])
    c.db.modified(keys[0])
    return ONE


def _lock_extend(c: Client, keys: list[bytes], argv: list[bytes]) -> bytes:
    key = keys[0]
    if not _token_matches(c, key, argv[0]):
        return ZERO
    when = c.db.expires.get(key)
    if when is None:
        return ZERO
    extra = parse_int(argv[1])
    left = max(0, when - now_ms())
    new_ttl = extra if argv[2] != b"0" else extra + left
    c.db.set_expire(key, now_ms() + new_ttl)
    c.db.modified(key)
    return ONE


def _lock_reacquire(c: Client, keys: list[bytes], argv: list[bytes]) -> bytes:
    key = keys[0]
    if not _token_matches(c, key, argv[0]):
        return ZERO
    c.db.set_expire(key, now_ms() + parse_int(argv[1]))
    c.db.modified(key)
    return ONE


def _normalise(body: bytes) -> bytes:
    return b" ".join(body.split())


_KNOWN: dict[bytes, Script] = {
    _normalise(
        b"""local token = redis.call('get', KEYS[1])
        if not token or token ~= ARGV[1] then return 0 end
        redis.call('del', KEYS[1]) return 1"""
    ): _lock_release,
    _normalise(
        b"""local token = redis.call('get', KEYS[1])
        if not token or token ~= ARGV[1] then return 0 end
        local expiration = redis.call('pttl', KEYS[1])
        if not expiration then expiration = 0 end
        if expiration < 0 then return 0 end
        local newttl = ARGV[2]
        if ARGV[3] == "0" then newttl = ARGV[2] + expiration end
        redis.call('pexpire', KEYS[1], newttl) return 1"""
    ): _lock_extend,
    _normalise(
        b"""local token = redis.call('get', KEYS[1])
        if not token or token ~= ARGV[1] then return 0 end
        redis.call('pexpire', KEYS[1], ARGV[2]) return 1"""
    ): _lock_reacquire,
}

# SHA1 (hex, lowercase) -> script body, as SCRIPT LOAD or EVAL stored it.
_SCRIPTS: dict[bytes, bytes] = {}


def _load(body: bytes) -> bytes:
    sha = hashlib.sha1(body).hexdigest().encode()
    _SCRIPTS[sha] = body
    return sha


def _run(c: Client, body: bytes, args: list[bytes]) -> None:
    numkeys = parse_int(args[2])
    if numkeys > len(args) - 3:
        raise CommandError("ERR Number of keys can't be greater than number of args")
    if numkeys < 0:
        raise CommandError("ERR Number of keys can't be negative")
    script = _KNOWN.get(_normalise(body))
    if script is None:
        raise CommandError(
            "ERR gee.kv does not run Lua scripts (only the scripts of redis-py's Lock are known)"
        )
    keys = args[3 : 3 + numkeys]
    c.out += script(c, keys, args[3 + numkeys :])


@command("eval")
def eval_(c: Client, args: list[bytes]) -> None:
    _load(args[1])
    _run(c, args[1], args)


@command("evalsha")
def evalsha(c: Client, args: list[bytes]) -> None:
    body = _SCRIPTS.get(args[1].lower())
    if body is None:
        raise CommandError("NOSCRIPT No matching script. Please use EVAL.")
    _run(c, body, args)


container("script")


@command("script|load")
def script_load(c: Client, args: list[bytes]) -> None:
    c.out += bulk(_load(args[2]))


@command("script|exists")
def script_exists(c: Client, args: list[bytes]) -> None:
    c.out += b"*%d\r\n" % (len(args) - 2)
    c.out += b"".join(ONE if sha.lower() in _SCRIPTS else ZERO for sha in args[2:])


@command("script|flush")
def script_flush(c: Client, args: list[bytes]) -> None:
    _SCRIPTS.clear()
    c.out += OK
