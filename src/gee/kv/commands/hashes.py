"""Hash commands. Hashes are ``dict``s, which keep insertion order as Redis's listpack does."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from gee.kv.commands import command
from gee.kv.commands.common import (
    INT64_MAX,
    INT64_MIN,
    RANGE_ERROR,
    WRONGTYPE,
    get_typed,
    map_header,
    matcher,
    parse_int,
    parse_int_or_none,
)
from gee.kv.commands.keys import encoding_of, parse_scan_options, scan_cursor, scan_step
from gee.kv.commands.strings import incr_float
from gee.kv.errors import CommandError
from gee.kv.resp import ONE, ZERO, bulk, integer

if TYPE_CHECKING:
    from gee.kv.connection import Client


def _hash(c: Client, key: bytes) -> dict[bytes, bytes] | None:
    return get_typed(c, key, dict)  # type: ignore[no-any-return]


def _hash_for_write(c: Client, key: bytes) -> dict[bytes, bytes]:
    db = c.db
    value = db.get(key)
    if value is None:
        value = {}
        db.data[key] = value
    elif value.__class__ is not dict:
        raise CommandError(WRONGTYPE)
    return value


def _hset(c: Client, args: list[bytes], name: str) -> int:
    if len(args) % 2:
        raise CommandError(f"ERR wrong number of arguments for '{name}' command")
    value = _hash_for_write(c, args[1])
    before = len(value)
    for i in range(2, len(args), 2):
        value[args[i]] = args[i + 1]
    c.db.modified(args[1])
    return len(value) - before


@command("hset")
def hset(c: Client, args: list[bytes]) -> None:
    if len(args) != 4:
        c.out += integer(_hset(c, args, "hset"))
        return
    # One field: the common case, without the general path's layers.
    db = c.db
    key = args[1]
    value = db.data.get(key)
    if value is not None and db.expires and key in db.expires:
        value = db.get(key)
    if value is None:
        value = {}
        db.data[key] = value
    elif value.__class__ is not dict:
        raise CommandError(WRONGTYPE)
    field = args[2]
    added = field not in value
    value[field] = args[3]
    keyspace = c.keyspace  # db.modified(key), spelled out (see Database.modified)
    keyspace.dirty += 1
    if keyspace.touched is not None or db.watched:
        db.notify(key)
    c.out += ONE if added else ZERO


@command("hmset")
def hmset(c: Client, args: list[bytes]) -> None:
    _hset(c, args, "hmset")
    c.out += b"+OK\r\n"


@command("hsetnx")
def hsetnx(c: Client, args: list[bytes]) -> None:
    value = _hash_for_write(c, args[1])
    if args[2] in value:
        c.out += ZERO
        return
    value[args[2]] = args[3]
    c.db.modified(args[1])
    c.out += ONE


@command("hget")
def hget(c: Client, args: list[bytes]) -> None:
    value = _hash(c, args[1])
    item = None if value is None else value.get(args[2])
    c.out += c.null if item is None else bulk(item)


@command("hmget")
def hmget(c: Client, args: list[bytes]) -> None:
    value = _hash(c, args[1]) or {}
    c.out += b"*%d\r\n" % (len(args) - 2)
    for field in args[2:]:
        item = value.get(field)
        c.out += c.null if item is None else bulk(item)


@command("hgetall")
def hgetall(c: Client, args: list[bytes]) -> None:
    value = _hash(c, args[1]) or {}
    c.out += map_header(c, len(value))
    c.out += b"".join([bulk(k) + bulk(v) for k, v in value.items()])


@command("hdel")
def hdel(c: Client, args: list[bytes]) -> None:
    value = _hash(c, args[1])
    if value is None:
        c.out += ZERO
        return
    removed = 0
    for field in args[2:]:
        if value.pop(field, None) is not None:
            removed += 1
    if removed:
        if not value:
            c.db.delete(args[1])
        c.db.modified(args[1])
    c.out += integer(removed)


@command("hexists")
def hexists(c: Client, args: list[bytes]) -> None:
    value = _hash(c, args[1])
    c.out += ONE if value is not None and args[2] in value else ZERO


@command("hlen")
def hlen(c: Client, args: list[bytes]) -> None:
    value = _hash(c, args[1])
    c.out += integer(0 if value is None else len(value))


@command("hkeys")
def hkeys(c: Client, args: list[bytes]) -> None:
    value = _hash(c, args[1]) or {}
    c.out += b"*%d\r\n" % len(value) + b"".join([bulk(k) for k in value])


@command("hvals")
def hvals(c: Client, args: list[bytes]) -> None:
    value = _hash(c, args[1]) or {}
    c.out += b"*%d\r\n" % len(value) + b"".join([bulk(v) for v in value.values()])


@command("hstrlen")
def hstrlen(c: Client, args: list[bytes]) -> None:
    value = _hash(c, args[1]) or {}
    c.out += integer(len(value.get(args[2], b"")))


@command("hincrby")
def hincrby(c: Client, args: list[bytes]) -> None:
    delta = parse_int(args[3])
    value = _hash_for_write(c, args[1])
    old = value.get(args[2])
    current = 0
    if old is not None:
        parsed = parse_int_or_none(old)
        if parsed is None:
            _drop_new(c, args[1], value)
            raise CommandError("ERR hash value is not an integer")
        current = parsed
    result = current + delta
    if result > INT64_MAX or result < INT64_MIN:
        _drop_new(c, args[1], value)
        raise CommandError("ERR increment or decrement would overflow")
    value[args[2]] = b"%d" % result
    c.db.modified(args[1])
    c.out += integer(result)


def _drop_new(c: Client, key: bytes, value: dict[bytes, bytes]) -> None:
    if not value:
        c.db.delete(key)


@command("hincrbyfloat")
def hincrbyfloat(c: Client, args: list[bytes]) -> None:
    from gee.kv.commands.strings import parse_long_double

    if parse_long_double(args[3]) is None:
        if args[3].lower().lstrip(b"+-") in (b"inf", b"infinity"):
            raise CommandError("ERR value is NaN or Infinity")
        raise CommandError("ERR value is not a valid float")
    value = _hash_for_write(c, args[1])
    old = value.get(args[2])
    if old is not None and parse_long_double(old) is None:
        raise CommandError("ERR hash value is not a float")
    try:
        result = incr_float(old, args[3])
    except CommandError:
        _drop_new(c, args[1], value)
        raise
    value[args[2]] = result
    c.db.modified(args[1])
    c.out += bulk(result)


@command("hrandfield")
def hrandfield(c: Client, args: list[bytes]) -> None:
    if len(args) > 4 or (len(args) == 4 and args[3].lower() != b"withvalues"):
        raise CommandError("ERR syntax error")
    with_values = len(args) == 4
    if len(args) == 2:
        value = _hash(c, args[1])
        c.out += c.null if not value else bulk(random.choice(list(value)))
        return
    count = parse_int(args[2])
    if count == -INT64_MAX - 1:
        raise CommandError(RANGE_ERROR)
    if count < -(INT64_MAX // 2) or (with_values and count < -(INT64_MAX // 4)):
        raise CommandError("ERR value is out of range")
    value = _hash(c, args[1])
    if not value:
        c.out += b"*0\r\n"
        return
    fields = list(value)
    if count >= 0:
        picked = fields if count >= len(fields) else random.sample(fields, count)
    else:
        picked = [random.choice(fields) for _ in range(-count)]
    if not with_values:
        c.out += b"*%d\r\n" % len(picked) + b"".join(bulk(f) for f in picked)
    elif c.protocol == 3:
        c.out += b"*%d\r\n" % len(picked)
        c.out += b"".join(b"*2\r\n" + bulk(f) + bulk(value[f]) for f in picked)
    else:
        c.out += b"*%d\r\n" % (2 * len(picked))
        c.out += b"".join(bulk(f) + bulk(value[f]) for f in picked)


@command("hscan")
def hscan(c: Client, args: list[bytes]) -> None:
    cursor = scan_cursor(args[2])
    pattern, count, _ = parse_scan_options(args, 3, False)
    value = _hash(c, args[1])
    if value is None:
        c.out += b"*2\r\n$1\r\n0\r\n*0\r\n"
        return
    if encoding_of(value) == b"listpack":
        cursor, fields = 0, list(value)
    else:
        cursor, fields = scan_step(cursor, value, count)
    match = matcher(pattern)
    pairs = [(f, value[f]) for f in fields if f in value and (match is None or match(f))]
    c.out += b"*2\r\n" + bulk(b"%d" % cursor) + b"*%d\r\n" % (2 * len(pairs))
    c.out += b"".join(bulk(f) + bulk(v) for f, v in pairs)
