"""Generic key commands: DEL, EXISTS, TYPE, KEYS, SCAN, RENAME, COPY, MOVE, OBJECT, expiry."""

from __future__ import annotations

import copy as copy_module
import itertools
import random
from collections import OrderedDict, deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from gee.kv.commands import command, container
from gee.kv.commands.common import (
    INT64_MAX,
    SYNTAX,
    matcher,
    parse_c_int,
    parse_int,
    parse_int_or_none,
    type_name,
)
from gee.kv.errors import CommandError
from gee.kv.keyspace import now_ms
from gee.kv.memory import key_size
from gee.kv.resp import NEG_ONE, NEG_TWO, OK, ONE, ZERO, bulk, integer
from gee.kv.zset import ZSet

if TYPE_CHECKING:
    from gee.kv.connection import Client
    from gee.kv.keyspace import Database


@command("del")
def del_(c: Client, args: list[bytes]) -> None:
    db = c.db
    removed = 0
    for key in args[1:]:
        if db.delete(key):
            db.modified(key)
            removed += 1
    c.out += integer(removed)


command("unlink")(del_)


@command("exists")
def exists(c: Client, args: list[bytes]) -> None:
    db = c.db
    c.out += integer(sum(1 for key in args[1:] if db.get(key) is not None))


@command("touch")
def touch(c: Client, args: list[bytes]) -> None:
    exists(c, args)


@command("type")
def type_(c: Client, args: list[bytes]) -> None:
    value = c.db.get(args[1])
    c.out += b"+none\r\n" if value is None else b"+%s\r\n" % type_name(value)


@command("keys")
def keys(c: Client, args: list[bytes]) -> None:
    db = c.db
    pattern = args[1]
    match = matcher(pattern)
    now = now_ms()
    expires = db.expires
    found = [
        k
        for k in db.data
        if (match is None or match(k)) and not (k in expires and expires[k] <= now)
    ]
    c.out += b"*%d\r\n" % len(found) + b"".join([b"$%d\r\n%s\r\n" % (len(k), k) for k in found])


@command("randomkey")
def randomkey(c: Client, args: list[bytes]) -> None:
    db = c.db
    for _ in range(100):
        if not db.data:
            break
        key = random.choice(list(db.data)) if len(db.data) < 64 else _random_key(db.data)
        if db.get(key) is not None:
            c.out += bulk(key)
            return
    c.out += c.null


def _random_key(data: dict[bytes, Any]) -> bytes:
    index = random.randrange(len(data))
    return next(itertools.islice(data, index, None))


# -- SCAN ---------------------------------------------------------------------------------

# Cursors of scans in progress: cursor -> (snapshot of the keys, position). A snapshot taken at
# SCAN 0 guarantees that every key present throughout the iteration is returned even when the
# table is resized, which Python's dict cannot promise for a positional cursor. The table is
# bounded in cursors and in snapshot entries held (8 bytes each); a cursor that has been
# forgotten ends its iteration (an empty last batch with cursor 0).
_CURSORS: OrderedDict[int, tuple[list[Any], int]] = OrderedDict()
_MAX_CURSORS = 1024
_MAX_HELD = 16_000_000
_held = 0  # entries in all snapshots of _CURSORS


def scan_cursor(raw: bytes) -> int:
    """Parse a SCAN cursor as Redis does, with strtoul: an unsigned 64-bit integer, a sign
    allowed (a negative one wraps around), nothing at all is 0; else Redis's error."""
    if raw.isdigit():
        value = int(raw)
    elif not raw:
        return 0  # strtoul converts nothing and stops at the end
    elif raw[:1] in (b"+", b"-") and raw[1:].isdigit():
        value = int(raw[1:])
        if raw[:1] == b"-" and value:
            value = (1 << 64) - value if value < 1 << 64 else 1 << 64
    else:
        raise CommandError("ERR invalid cursor")
    if value >= 1 << 64:
        raise CommandError("ERR invalid cursor")
    return value


def scan_step(cursor: int, source: Iterable[Any], count: int) -> tuple[int, list[Any]]:
    """Advance the scan ``cursor`` over ``source`` by about ``count`` items."""
    global _held
    if cursor == 0:
        snapshot = list(source)
        pos = 0
    else:
        entry = _CURSORS.pop(cursor, None)
        if entry is None:
            return 0, []
        snapshot, pos = entry
        _held -= len(snapshot)
    batch = snapshot[pos : pos + count]
    pos += count
    if pos >= len(snapshot):
        return 0, batch
    new_cursor = random.getrandbits(63) | 1
    _CURSORS[new_cursor] = (snapshot, pos)
    _held += len(snapshot)
    while len(_CURSORS) > _MAX_CURSORS or (_held > _MAX_HELD and len(_CURSORS) > 1):
        _, (old, _) = _CURSORS.popitem(last=False)
        _held -= len(old)
    return new_cursor, batch


def parse_scan_options(
    args: list[bytes], start: int, allow_type: bool
) -> tuple[bytes | None, int, bytes | None]:
    """Parse ``MATCH pattern``, ``COUNT n`` and (for SCAN) ``TYPE t`` options."""
    pattern = None
    count = 10
    kind = None
    i = start
    while i < len(args):
        option = args[i].lower()
        if i + 1 >= len(args):
            raise CommandError(SYNTAX)
        if option == b"count":
            count = parse_int(args[i + 1])
            if count < 1:
                raise CommandError(SYNTAX)
        elif option == b"match":
            pattern = args[i + 1]
        elif option == b"type" and allow_type:
            kind = args[i + 1].lower()
        else:
            raise CommandError(SYNTAX)
        i += 2
    return pattern, count, kind


@command("scan")
def scan(c: Client, args: list[bytes]) -> None:
    cursor = scan_cursor(args[1])
    pattern, count, kind = parse_scan_options(args, 2, True)
    db = c.db
    cursor, batch = scan_step(cursor, db.data, count)
    match = matcher(pattern)
    found = []
    for key in batch:
        value = db.get(key)
        if value is None or (match is not None and not match(key)):
            continue
        if kind is not None and type_name(value) != kind:
            continue
        found.append(key)
    c.out += b"*2\r\n" + bulk(b"%d" % cursor)
    c.out += b"*%d\r\n" % len(found) + b"".join(bulk(k) for k in found)


# -- RENAME, COPY, MOVE -------------------------------------------------------------------


def _move_value(src: Database, key: bytes, dst: Database, newkey: bytes, value: Any) -> None:
    when = src.expires.get(key)
    dst.set(newkey, value)
    if when is not None:
        dst.set_expire(newkey, when)


@command("rename")
def rename(c: Client, args: list[bytes]) -> None:
    _rename(c, args, nx=False)


@command("renamenx")
def renamenx(c: Client, args: list[bytes]) -> None:
    _rename(c, args, nx=True)


def _rename(c: Client, args: list[bytes], nx: bool) -> None:
    db = c.db
    key, newkey = args[1], args[2]
    value = db.get(key)
    if value is None:
        raise CommandError("ERR no such key")
    if key == newkey:
        c.out += ZERO if nx else OK
        return
    if nx and db.get(newkey) is not None:
        c.out += ZERO
        return
    when = db.expires.get(key)
    db.delete(key)
    db.delete(newkey)
    db.set(newkey, value)
    if when is not None:
        db.set_expire(newkey, when)
    db.modified(key)
    db.modified(newkey)
    db.ready(newkey)
    c.out += ONE if nx else OK


def _db_index(c: Client, raw: bytes) -> int:
    index = parse_c_int(raw)
    if not 0 <= index < len(c.keyspace.dbs):
        raise CommandError("ERR DB index is out of range")
    return index


@command("copy")
def copy(c: Client, args: list[bytes]) -> None:
    src = c.db
    dst = src
    replace = False
    i = 3
    while i < len(args):
        option = args[i].lower()
        if option == b"replace":
            replace = True
            i += 1
        elif option == b"db" and i + 1 < len(args):
            dst = c.keyspace.dbs[_db_index(c, args[i + 1])]
            i += 2
        else:
            raise CommandError(SYNTAX)
    key, newkey = args[1], args[2]
    if src is dst and key == newkey:
        raise CommandError("ERR source and destination objects are the same")
    value = src.get(key)
    if value is None:
        c.out += ZERO
        return
    if dst.get(newkey) is not None:
        if not replace:
            c.out += ZERO
            return
        dst.delete(newkey)
    _move_value(src, key, dst, newkey, duplicate(value))
    dst.modified(newkey)
    dst.ready(newkey)
    c.out += ONE


def duplicate(value: Any) -> Any:
    """A deep copy of a stored value (bytes are immutable and shared)."""
    if value.__class__ is bytes:
        return value
    if value.__class__ is ZSet:
        new = ZSet()
        new.dict = dict(value.dict)
        new.list = value.list.copy()
        new.big = value.big
        return new
    return copy_module.copy(value)


@command("move")
def move(c: Client, args: list[bytes]) -> None:
    src = c.db
    dst = c.keyspace.dbs[_db_index(c, args[2])]
    if src is dst:
        raise CommandError("ERR source and destination objects are the same")
    key = args[1]
    value = src.get(key)
    if value is None or dst.get(key) is not None:
        c.out += ZERO
        return
    _move_value(src, key, dst, key, value)
    src.delete(key)
    src.modified(key)
    dst.modified(key)
    dst.ready(key)
    c.out += ONE


# -- OBJECT -------------------------------------------------------------------------------

container("object")


def _all_ints(members: Iterable[bytes]) -> bool:
    return all(parse_int_or_none(m) is not None for m in members)


def encoding_of(value: Any) -> bytes:
    """The encoding name Redis 7.0 would report for ``value`` (by size, as Redis decides)."""
    cls = value.__class__
    if cls is bytes:
        if len(value) <= 20 and parse_int_or_none(value) is not None:
            return b"int"
        return b"embstr" if len(value) <= 44 else b"raw"
    if cls is deque:
        return b"quicklist"
    if cls is dict:
        small = len(value) <= 512 and all(len(k) <= 64 and len(v) <= 64 for k, v in value.items())
        return b"listpack" if small else b"hashtable"
    if cls is set:
        return b"intset" if len(value) <= 512 and _all_ints(value) else b"hashtable"
    if cls is ZSet:
        small = not value.big and len(value) <= 128
        return b"listpack" if small else b"skiplist"
    raise TypeError(cls)  # pragma: no cover


def _object_value(c: Client, key: bytes) -> Any:
    return c.db.get(key)


@command("object|encoding")
def object_encoding(c: Client, args: list[bytes]) -> None:
    value = _object_value(c, args[2])
    c.out += c.null if value is None else bulk(encoding_of(value))


@command("object|refcount")
def object_refcount(c: Client, args: list[bytes]) -> None:
    value = _object_value(c, args[2])
    if value is None:
        c.out += c.null
    elif (
        value.__class__ is bytes
        and parse_int_or_none(value) is not None
        and 0 <= int(value) < 10000
    ):
        c.out += integer(2147483647)
    else:
        c.out += ONE


@command("object|idletime")
def object_idletime(c: Client, args: list[bytes]) -> None:
    value = _object_value(c, args[2])
    if value is None:
        c.out += c.null
        return
    memory = c.server.memory
    if memory.lfu:
        raise CommandError(
            "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that "
            "when switching between policies at runtime LRU and LFU data will take some time "
            "to adjust."
        )
    c.out += integer(memory.idle_ms(c.db, args[2]) // 1000)


@command("object|freq")
def object_freq(c: Client, args: list[bytes]) -> None:
    value = _object_value(c, args[2])
    if value is None:
        c.out += c.null
        return
    memory = c.server.memory
    if not memory.lfu:
        raise CommandError(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please "
            "note that when switching between policies at runtime LRU and LFU data will take "
            "some time to adjust."
        )
    memory.settle()  # a key written by the previous command gets its counter
    c.out += integer(memory.freq(c.db, args[2]))


_OBJECT_HELP = [
    b"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"ENCODING <key>",
    b"    Return the kind of internal representation used in order to store the value",
    b"    associated with a <key>.",
    b"FREQ <key>",
    b"    Return the access frequency index of the <key>. The returned integer is",
    b"    proportional to the logarithm of the recent access frequency of the key.",
    b"IDLETIME <key>",
    b"    Return the idle time of the <key>, that is the approximated number of",
    b"    seconds elapsed since the last access to the key.",
    b"REFCOUNT <key>",
    b"    Return the number of references of the value associated with the specified",
    b"    <key>.",
    b"HELP",
    b"    Prints this help.",
]


@command("object|help")
def object_help(c: Client, args: list[bytes]) -> None:
    c.out += b"*%d\r\n" % len(_OBJECT_HELP) + b"".join(b"+%s\r\n" % h for h in _OBJECT_HELP)


# -- expiry -------------------------------------------------------------------------------


def _expire(c: Client, args: list[bytes], unit: int, absolute: bool) -> None:
    key = args[1]
    amount = parse_int(args[2])
    nx = xx = gt = lt = False
    for raw in args[3:]:
        option = raw.lower()
        if option == b"nx":
            nx = True
        elif option == b"xx":
            xx = True
        elif option == b"gt":
            gt = True
        elif option == b"lt":
            lt = True
        else:
            raise CommandError(b"ERR Unsupported option %s" % raw)
    if nx and (xx or gt or lt):
        raise CommandError("ERR NX and XX, GT or LT options at the same time are not compatible")
    if gt and lt:
        raise CommandError("ERR GT and LT options at the same time are not compatible")
    name = args[0].lower().decode(errors="replace")
    invalid = f"ERR invalid expire time in '{name}' command"
    # Redis checks the seconds-to-milliseconds conversion for overflow, then the addition.
    if unit != 1 and (amount > INT64_MAX // unit or amount < -(INT64_MAX // unit)):
        raise CommandError(invalid)
    when = amount * unit
    if not absolute:
        base = now_ms()
        if when > INT64_MAX - base:
            raise CommandError(invalid)
        when += base
    db = c.db
    if db.get(key) is None:
        c.out += ZERO
        return
    current = db.expires.get(key)
    if nx and current is not None:
        c.out += ZERO
        return
    if xx and current is None:
        c.out += ZERO
        return
    if gt and (current is None or when <= current):
        c.out += ZERO
        return
    if lt and current is not None and when >= current:
        c.out += ZERO
        return
    # While an AOF replays, a deadline already past is set, not applied: the commands after it
    # in the file ran while the key still lived (Redis's checkAlreadyExpired does the same).
    if when <= now_ms() and not db.keyspace.loading:
        db.delete(key)
        db.keyspace.expired_keys += 0
    else:
        db.set_expire(key, when)
    db.modified(key)
    c.out += ONE


@command("expire")
def expire(c: Client, args: list[bytes]) -> None:
    _expire(c, args, 1000, absolute=False)


@command("pexpire")
def pexpire(c: Client, args: list[bytes]) -> None:
    _expire(c, args, 1, absolute=False)


@command("expireat")
def expireat(c: Client, args: list[bytes]) -> None:
    _expire(c, args, 1000, absolute=True)


@command("pexpireat")
def pexpireat(c: Client, args: list[bytes]) -> None:
    _expire(c, args, 1, absolute=True)


def _ttl(c: Client, key: bytes, unit: int, absolute: bool) -> None:
    db = c.db
    if db.get(key) is None:
        c.out += NEG_TWO
        return
    when = db.expires.get(key)
    if when is None:
        c.out += NEG_ONE
    elif absolute:
        c.out += integer(when if unit == 1 else when // 1000)
    else:
        left = max(0, when - now_ms())
        c.out += integer(left if unit == 1 else (left + 500) // 1000)


@command("ttl")
def ttl(c: Client, args: list[bytes]) -> None:
    _ttl(c, args[1], 1000, False)


@command("pttl")
def pttl(c: Client, args: list[bytes]) -> None:
    _ttl(c, args[1], 1, False)


@command("expiretime")
def expiretime(c: Client, args: list[bytes]) -> None:
    _ttl(c, args[1], 1000, True)


@command("pexpiretime")
def pexpiretime(c: Client, args: list[bytes]) -> None:
    _ttl(c, args[1], 1, True)


@command("persist")
def persist(c: Client, args: list[bytes]) -> None:
    db = c.db
    key = args[1]
    if db.get(key) is not None and key in db.expires:
        del db.expires[key]
        db.modified(key)
        c.out += ONE
    else:
        c.out += ZERO


# -- MEMORY USAGE -------------------------------------------------------------------------

container("memory")


@command("memory|usage")
def memory_usage(c: Client, args: list[bytes]) -> None:
    if len(args) not in (3, 5) or (len(args) == 5 and args[3].lower() != b"samples"):
        raise CommandError(SYNTAX)
    if len(args) == 5:
        parse_int(args[4])
    key = args[2]
    value = c.db.get(key)
    if value is None:
        c.out += c.null
    else:  # the key's share of used_memory (memory.py)
        c.out += integer(key_size(key, value, key in c.db.expires))
