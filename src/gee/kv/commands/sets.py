"""Set commands. Sets are Python ``set``s; small all-integer sets reply in ascending numeric
order, as Redis's intset encoding does, so most small-set replies match Redis's order too."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from gee.kv.commands import command
from gee.kv.commands.common import (
    INT64_MAX,
    RANGE_ERROR,
    SYNTAX,
    WRONGTYPE,
    get_typed,
    matcher,
    parse_int,
    set_header,
)
from gee.kv.commands.keys import encoding_of, parse_scan_options, scan_cursor, scan_step
from gee.kv.errors import CommandError
from gee.kv.resp import ONE, ZERO, bulk, integer

if TYPE_CHECKING:
    from collections.abc import Iterable

    from gee.kv.connection import Client


def _set(c: Client, key: bytes) -> set[bytes] | None:
    return get_typed(c, key, set)  # type: ignore[no-any-return]


def ordered(members: set[bytes]) -> Iterable[bytes]:
    """Members in the order Redis would list them when it can be predicted (intsets)."""
    if len(members) <= 512 and encoding_of(members) == b"intset":
        return sorted(members, key=int)
    return members


def _reply_set(c: Client, members: set[bytes]) -> None:
    c.out += set_header(c, len(members)) + b"".join([bulk(m) for m in ordered(members)])


@command("sadd")
def sadd(c: Client, args: list[bytes]) -> None:
    db = c.db
    key = args[1]
    value = db.data.get(key)
    if value is not None and db.expires and key in db.expires:
        value = db.get(key)
    if value is None:
        value = set()
        db.data[key] = value
    elif value.__class__ is not set:
        raise CommandError(WRONGTYPE)
    before = len(value)
    if len(args) == 3:
        value.add(args[2])
    else:
        value.update(args[2:])
    added = len(value) - before
    if added:
        keyspace = c.keyspace  # db.modified(key), spelled out (see Database.modified)
        keyspace.dirty += 1
        if keyspace.touched is not None or db.watched:
            db.notify(key)
    c.out += b":%d\r\n" % added


@command("srem")
def srem(c: Client, args: list[bytes]) -> None:
    value = _set(c, args[1])
    if value is None:
        c.out += ZERO
        return
    before = len(value)
    value.difference_update(args[2:])
    removed = before - len(value)
    if removed:
        if not value:
            c.db.delete(args[1])
        c.db.modified(args[1])
    c.out += integer(removed)


@command("smembers")
def smembers(c: Client, args: list[bytes]) -> None:
    _reply_set(c, _set(c, args[1]) or set())


@command("sismember")
def sismember(c: Client, args: list[bytes]) -> None:
    value = _set(c, args[1])
    c.out += ONE if value is not None and args[2] in value else ZERO


@command("smismember")
def smismember(c: Client, args: list[bytes]) -> None:
    value = _set(c, args[1]) or set()
    c.out += b"*%d\r\n" % (len(args) - 2) + b"".join(ONE if m in value else ZERO for m in args[2:])


@command("scard")
def scard(c: Client, args: list[bytes]) -> None:
    value = _set(c, args[1])
    c.out += integer(0 if value is None else len(value))


@command("spop")
def spop(c: Client, args: list[bytes]) -> None:
    if len(args) > 3:
        raise CommandError(SYNTAX)
    count = None
    if len(args) == 3:
        count = parse_int(args[2], "ERR value is out of range, must be positive")
        if count < 0:
            raise CommandError("ERR value is out of range, must be positive")
    value = _set(c, args[1])
    if value is None:
        c.out += c.null if count is None else set_header(c, 0)
        return
    if count is None:
        if len(value) > 64:
            # Picking uniformly would copy the set (O(n)); an arbitrary member is O(1).
            member = value.pop()
        else:
            member = random.choice(tuple(value))
            value.discard(member)
        c.out += bulk(member)
    else:
        if count == 0:
            c.out += set_header(c, 0)
            return
        picked = value.copy() if count >= len(value) else set(random.sample(tuple(value), count))
        value -= picked
        _reply_set(c, picked)
    if not value:
        c.db.delete(args[1])
    c.db.modified(args[1])


@command("srandmember")
def srandmember(c: Client, args: list[bytes]) -> None:
    if len(args) > 3:
        raise CommandError(SYNTAX)
    if len(args) == 2:
        value = _set(c, args[1])
        c.out += c.null if not value else bulk(random.choice(tuple(value)))
        return
    count = parse_int(args[2])
    if count == -INT64_MAX - 1:
        raise CommandError(RANGE_ERROR)
    if count < -(INT64_MAX // 2):
        raise CommandError("ERR value is out of range")
    value = _set(c, args[1])
    if not value:
        c.out += b"*0\r\n"
        return
    members = tuple(value)
    if count >= 0:
        picked = list(ordered(value)) if count >= len(members) else random.sample(members, count)
    else:
        picked = [random.choice(members) for _ in range(-count)]
    c.out += b"*%d\r\n" % len(picked) + b"".join(bulk(m) for m in picked)


@command("smove")
def smove(c: Client, args: list[bytes]) -> None:
    src, dst, member = args[1], args[2], args[3]
    if c.db.get(src) is None:
        c.out += ZERO
        return
    source = _set(c, src)
    target = _set(c, dst)
    if source is None or member not in source:
        c.out += ZERO
        return
    if src == dst:
        c.out += ONE
        return
    db = c.db
    source.discard(member)
    if not source:
        db.delete(src)
    if target is None:
        target = set()
        db.data[dst] = target
    target.add(member)
    db.modified(src)
    db.modified(dst)
    c.out += ONE


def _sets(c: Client, keys: list[bytes]) -> list[set[bytes]]:
    return [_set(c, k) or set() for k in keys]


def _inter(c: Client, keys: list[bytes]) -> set[bytes]:
    sets = _sets(c, keys)
    if not all(sets):
        return set()
    sets.sort(key=len)
    return set.intersection(*sets)


def _union(c: Client, keys: list[bytes]) -> set[bytes]:
    result: set[bytes] = set()
    for s in _sets(c, keys):
        result |= s
    return result


def _diff(c: Client, keys: list[bytes]) -> set[bytes]:
    sets = _sets(c, keys)
    result = set(sets[0])
    for s in sets[1:]:
        result -= s
    return result


def _store(c: Client, dest: bytes, members: set[bytes]) -> None:
    db = c.db
    existed = db.delete(dest)
    if members:
        db.data[dest] = members
    if members or existed:
        db.modified(dest)
    c.out += integer(len(members))


@command("sinter")
def sinter(c: Client, args: list[bytes]) -> None:
    _reply_set(c, _inter(c, args[1:]))


@command("sunion")
def sunion(c: Client, args: list[bytes]) -> None:
    _reply_set(c, _union(c, args[1:]))


@command("sdiff")
def sdiff(c: Client, args: list[bytes]) -> None:
    _reply_set(c, _diff(c, args[1:]))


@command("sinterstore")
def sinterstore(c: Client, args: list[bytes]) -> None:
    _store(c, args[1], _inter(c, args[2:]))


@command("sunionstore")
def sunionstore(c: Client, args: list[bytes]) -> None:
    _store(c, args[1], _union(c, args[2:]))


@command("sdiffstore")
def sdiffstore(c: Client, args: list[bytes]) -> None:
    _store(c, args[1], _diff(c, args[2:]))


@command("sintercard")
def sintercard(c: Client, args: list[bytes]) -> None:
    numkeys = parse_int(args[1], "ERR numkeys should be greater than 0")
    if numkeys <= 0:
        raise CommandError("ERR numkeys should be greater than 0")
    if numkeys > len(args) - 2:
        raise CommandError("ERR Number of keys can't be greater than number of args")
    keys = args[2 : 2 + numkeys]
    limit = 0
    i = 2 + numkeys
    while i < len(args):
        if args[i].lower() == b"limit" and i + 1 < len(args):
            limit = parse_int(args[i + 1], "ERR LIMIT can't be negative")
            if limit < 0:
                raise CommandError("ERR LIMIT can't be negative")
            i += 2
        else:
            raise CommandError(SYNTAX)
    n = len(_inter(c, keys))
    c.out += integer(min(n, limit) if limit else n)


@command("sscan")
def sscan(c: Client, args: list[bytes]) -> None:
    cursor = scan_cursor(args[2])
    pattern, count, _ = parse_scan_options(args, 3, False)
    value = _set(c, args[1])
    if value is None:
        c.out += b"*2\r\n$1\r\n0\r\n*0\r\n"
        return
    if encoding_of(value) == b"intset":
        cursor, members = 0, list(ordered(value))
    else:
        cursor, members = scan_step(cursor, value, count)
    match = matcher(pattern)
    found = [m for m in members if m in value and (match is None or match(m))]
    c.out += b"*2\r\n" + bulk(b"%d" % cursor) + b"*%d\r\n" % len(found)
    c.out += b"".join(bulk(m) for m in found)
