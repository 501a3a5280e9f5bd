"""List commands, including the blocking ones (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP).

Lists are ``collections.deque``: O(1) at both ends, where list traffic is. Each element is
stored already encoded as a RESP bulk string (``$3\r\nfoo\r\n``): list replies are then a
join of stored bytes (LRANGE of 100 elements does no formatting at all), and since the encoding
is one-to-one, comparisons (LREM, LPOS, LINSERT) compare encoded forms. ``encode``/``decode``
convert at the edges (persistence will decode). A push signals the
key as ready; the server then serves blocked clients in FIFO order after the command (after
EXEC inside MULTI). A blocking command run inside MULTI never blocks: it answers as on timeout.
"""

from __future__ import annotations

import itertools
from collections import deque
from typing import TYPE_CHECKING, Any

from gee.kv.commands import command
from gee.kv.commands.common import (
    SYNTAX,
    WRONGTYPE,
    get_typed,
    parse_int,
    parse_timeout,
)
from gee.kv.errors import CommandError
from gee.kv.resp import NEG_ONE, OK, ZERO, bulk, integer

if TYPE_CHECKING:
    from gee.kv.connection import Client
    from gee.kv.keyspace import Database


def encode(value: bytes) -> bytes:
    """The stored form of a list element: its RESP bulk string."""
    return b"$%d\r\n%s\r\n" % (len(value), value)


def decode(item: bytes) -> bytes:
    """The value of a stored list element."""
    return item[item.index(b"\r\n") + 2 : -2]


def _list(c: Client, key: bytes) -> deque[bytes] | None:
    return get_typed(c, key, deque)  # type: ignore[no-any-return]


@command("lpush")
def lpush(c: Client, args: list[bytes], left: bool = True, only_existing: bool = False) -> None:
    """LPUSH, and the body of RPUSH, LPUSHX and RPUSHX (one call less for LPUSH)."""
    db = c.db
    key = args[1]
    value = db.data.get(key)
    if value is not None and db.expires and key in db.expires:
        value = db.get(key)
    if value is None:
        if only_existing:
            c.out += ZERO
            return
        value = deque()
        db.data[key] = value
    elif value.__class__ is not deque:
        raise CommandError(WRONGTYPE)
    if len(args) == 3:
        item = args[2]
        if left:
            value.appendleft(b"$%d\r\n%s\r\n" % (len(item), item))
        else:
            value.append(b"$%d\r\n%s\r\n" % (len(item), item))
    elif left:
        value.extendleft([encode(a) for a in args[2:]])
    else:
        value.extend([encode(a) for a in args[2:]])
    keyspace = c.keyspace  # db.modified(key), spelled out (see Database.modified)
    keyspace.dirty += 1
    if keyspace.touched is not None or db.watched:
        db.notify(key)
    if db.blocked:
        db.ready(key)
    c.out += b":%d\r\n" % len(value)


@command("rpush")
def rpush(c: Client, args: list[bytes]) -> None:
    lpush(c, args, False, False)


@command("lpushx")
def lpushx(c: Client, args: list[bytes]) -> None:
    lpush(c, args, True, True)


@command("rpushx")
def rpushx(c: Client, args: list[bytes]) -> None:
    lpush(c, args, False, True)


def _drop_if_empty(db: Database, key: bytes, value: Any) -> None:
    if not value:
        db.delete(key)


def _pop(c: Client, args: list[bytes], left: bool) -> None:
    if len(args) > 3:
        name = "lpop" if left else "rpop"
        raise CommandError(f"ERR wrong number of arguments for '{name}' command")
    count = None
    if len(args) == 3:
        count = parse_int(args[2], "ERR value is out of range, must be positive")
        if count < 0:
            raise CommandError("ERR value is out of range, must be positive")
    key = args[1]
    db = c.db
    value = db.data.get(key)
    if value is not None and db.expires and key in db.expires:
        value = db.get(key)
    if value is None:
        c.out += c.null if count is None else c.null_array
        return
    if value.__class__ is not deque:
        raise CommandError(WRONGTYPE)
    if count is None:
        c.out += value.popleft() if left else value.pop()
    else:
        pop = value.popleft if left else value.pop
        items = [pop() for _ in range(min(count, len(value)))]
        c.out += b"*%d\r\n" % len(items) + b"".join(items)
        if not items:
            return
    if not value:
        db.delete(key)
    keyspace = c.keyspace  # db.modified(key), spelled out (see Database.modified)
    keyspace.dirty += 1
    if keyspace.touched is not None or db.watched:
        db.notify(key)


@command("lpop")
def lpop(c: Client, args: list[bytes]) -> None:
    _pop(c, args, True)


@command("rpop")
def rpop(c: Client, args: list[bytes]) -> None:
    _pop(c, args, False)


@command("llen")
def llen(c: Client, args: list[bytes]) -> None:
    value = _list(c, args[1])
    c.out += integer(0 if value is None else len(value))


def _range(n: int, start: int, end: int) -> tuple[int, int]:
    """Redis's list range arithmetic: (start, stop) slice bounds, possibly empty."""
    if start < 0:
        start = max(0, n + start)
    if end < 0:
        end = n + end
    if start > end or start >= n:
        return 0, 0
    return start, min(end, n - 1) + 1


@command("lrange")
def lrange(c: Client, args: list[bytes]) -> None:
    start = parse_int(args[2])
    end = parse_int(args[3])
    db = c.db
    key = args[1]
    value = db.data.get(key)
    if value is not None and db.expires and key in db.expires:
        value = db.get(key)
    if value is None:
        c.out += b"*0\r\n"
        return
    if value.__class__ is not deque:
        raise CommandError(WRONGTYPE)
    lo, hi = _range(len(value), start, end)
    c.out += b"*%d\r\n" % (hi - lo) + b"".join(itertools.islice(value, lo, hi))


@command("lindex")
def lindex(c: Client, args: list[bytes]) -> None:
    index = parse_int(args[2])
    value = _list(c, args[1])
    if value is None:
        c.out += c.null
        return
    if index < 0:
        index += len(value)
    c.out += value[index] if 0 <= index < len(value) else c.null


@command("lset")
def lset(c: Client, args: list[bytes]) -> None:
    index = parse_int(args[2])
    value = _list(c, args[1])
    if value is None:
        raise CommandError("ERR no such key")
    if index < 0:
        index += len(value)
    if not 0 <= index < len(value):
        raise CommandError("ERR index out of range")
    value[index] = encode(args[3])
    c.db.modified(args[1])
    c.out += OK


@command("lrem")
def lrem(c: Client, args: list[bytes]) -> None:
    count = parse_int(args[2])
    value = _list(c, args[1])
    if value is None:
        c.out += ZERO
        return
    target = encode(args[3])
    items = list(value)
    removed = 0
    if count >= 0:
        keep = []
        for item in items:
            if item == target and (count == 0 or removed < count):
                removed += 1
            else:
                keep.append(item)
    else:
        keep = []
        for item in reversed(items):
            if item == target and removed < -count:
                removed += 1
            else:
                keep.append(item)
        keep.reverse()
    if removed:
        value.clear()
        value.extend(keep)
        _drop_if_empty(c.db, args[1], value)
        c.db.modified(args[1])
    c.out += integer(removed)


@command("ltrim")
def ltrim(c: Client, args: list[bytes]) -> None:
    start = parse_int(args[2])
    end = parse_int(args[3])
    value = _list(c, args[1])
    if value is None:
        c.out += OK
        return
    lo, hi = _range(len(value), start, end)
    kept = list(itertools.islice(value, lo, hi))
    value.clear()
    value.extend(kept)
    _drop_if_empty(c.db, args[1], value)
    c.db.modified(args[1])
    c.out += OK


@command("linsert")
def linsert(c: Client, args: list[bytes]) -> None:
    where = args[2].lower()
    if where not in (b"before", b"after"):
        raise CommandError(SYNTAX)
    value = _list(c, args[1])
    if value is None:
        c.out += ZERO
        return
    try:
        index = value.index(encode(args[3]))
    except ValueError:
        c.out += NEG_ONE
        return
    value.insert(index if where == b"before" else index + 1, encode(args[4]))
    c.db.modified(args[1])
    c.out += integer(len(value))


@command("lpos")
def lpos(c: Client, args: list[bytes]) -> None:
    rank = 1
    count: int | None = None
    maxlen = 0
    i = 3
    while i < len(args):
        option = args[i].lower()
        if i + 1 >= len(args):
            raise CommandError(SYNTAX)
        if option == b"rank":
            rank = parse_int(args[i + 1])
            if rank == -(1 << 63):
                # Redis negates it in a long long, which overflows back to itself; its search
                # then takes the first match from the tail.
                rank = -1
            if rank == 0:
                raise CommandError(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the "
                    "second ... or use negative to start from the end of the list"
                )
        elif option == b"count":
            count = parse_int(args[i + 1])
            if count < 0:
                raise CommandError("ERR COUNT can't be negative")
        elif option == b"maxlen":
            maxlen = parse_int(args[i + 1])
            if maxlen < 0:
                raise CommandError("ERR MAXLEN can't be negative")
        else:
            raise CommandError(SYNTAX)
        i += 2
    value = _list(c, args[1])
    if value is None:
        c.out += c.null if count is None else b"*0\r\n"
        return
    target = encode(args[2])
    n = len(value)
    indexes = range(n) if rank > 0 else range(n - 1, -1, -1)
    skip = abs(rank) - 1
    found: list[int] = []
    for scanned, index in enumerate(indexes):
        if maxlen and scanned >= maxlen:
            break
        if value[index] == target:
            if skip:
                skip -= 1
                continue
            found.append(index)
            if count is None or (count and len(found) >= count):
                break
    if count is None:
        c.out += integer(found[0]) if found else c.null
    else:
        c.out += b"*%d\r\n" % len(found) + b"".join(integer(f) for f in found)


# -- moves --------------------------------------------------------------------------------


def _side(raw: bytes) -> bool:
    side = raw.lower()
    if side == b"left":
        return True
    if side == b"right":
        return False
    raise CommandError(SYNTAX)


def _move(c: Client, src: bytes, dst: bytes, from_left: bool, to_left: bool) -> bytes | None:
    """Move one element (returned encoded); None when ``src`` is empty. Checks types first."""
    db = c.db
    source = _list(c, src)
    if source is None:
        return None
    target = db.get(dst)
    if target is not None and target.__class__ is not deque:
        raise CommandError(WRONGTYPE)
    item = source.popleft() if from_left else source.pop()
    if target is None:
        target = source if src == dst and not source else deque()
        db.data[dst] = target
    if to_left:
        target.appendleft(item)
    else:
        target.append(item)
    if not source and source is not target:
        db.delete(src)
    db.modified(src)
    db.modified(dst)
    if db.blocked:
        db.ready(dst)
    return item


@command("lmove")
def lmove(c: Client, args: list[bytes]) -> None:
    from_left = _side(args[3])
    to_left = _side(args[4])
    item = _move(c, args[1], args[2], from_left, to_left)
    c.out += c.null if item is None else item


@command("rpoplpush")
def rpoplpush(c: Client, args: list[bytes]) -> None:
    item = _move(c, args[1], args[2], False, True)
    c.out += c.null if item is None else item


# -- LMPOP and the blocking family --------------------------------------------------------


def _parse_mpop(args: list[bytes], start: int) -> tuple[list[bytes], bool, int]:
    """Parse ``numkeys key... LEFT|RIGHT [COUNT n]`` from ``args[start]``."""
    numkeys = parse_int(args[start], "ERR numkeys should be greater than 0")
    if numkeys <= 0:
        raise CommandError("ERR numkeys should be greater than 0")
    if numkeys > len(args) - start - 2:
        raise CommandError(SYNTAX)
    keys = args[start + 1 : start + 1 + numkeys]
    i = start + 1 + numkeys
    left = _side(args[i])
    count = 1
    count_seen = False
    i += 1
    while i < len(args):
        if args[i].lower() == b"count" and i + 1 < len(args) and not count_seen:
            count = parse_int(args[i + 1], "ERR count should be greater than 0")
            if count <= 0:
                raise CommandError("ERR count should be greater than 0")
            count_seen = True
            i += 2
        else:
            raise CommandError(SYNTAX)
    return keys, left, count


def _mpop_from(c: Client, key: bytes, value: deque[bytes], left: bool, count: int) -> None:
    pop = value.popleft if left else value.pop
    items = [pop() for _ in range(min(count, len(value)))]
    c.out += b"*2\r\n" + bulk(key) + b"*%d\r\n" % len(items) + b"".join(items)
    _drop_if_empty(c.db, key, value)
    c.db.modified(key)


def _serve_mpop(c: Client, keys: list[bytes], left: bool, count: int, ready: bytes | None) -> bool:
    for key in keys if ready is None else [ready]:
        value = c.db.get(key)
        if value is None:
            continue
        if value.__class__ is not deque:
            if ready is None:
                raise CommandError(WRONGTYPE)
            continue
        _mpop_from(c, key, value, left, count)
        return True
    return False


@command("lmpop")
def lmpop(c: Client, args: list[bytes]) -> None:
    keys, left, count = _parse_mpop(args, 1)
    if not _serve_mpop(c, keys, left, count, None):
        c.out += c.null_array


@command("blmpop")
def blmpop(c: Client, args: list[bytes]) -> None:
    timeout = parse_timeout(args[1])
    keys, left, count = _parse_mpop(args, 2)

    def serve(cl: Client, a: list[bytes], ready: bytes | None) -> bool:
        return _serve_mpop(cl, keys, left, count, ready)

    if serve(c, args, None):
        return
    _block_or_null(c, keys, timeout, args, serve, c.null_array)


def _block_or_null(
    c: Client,
    keys: list[bytes],
    timeout: float,
    args: list[bytes],
    serve: Any,
    timeout_reply: bytes,
    exec_reply: bytes | None = None,
) -> None:
    """Block ``c`` on ``keys``; inside MULTI/EXEC answer at once (as on timeout, except for
    the moving commands, which Redis answers with a null bulk there)."""
    if c.in_exec:
        c.out += timeout_reply if exec_reply is None else exec_reply
        return
    c.block(keys, timeout, args, serve, timeout_reply)


def _serve_bpop(c: Client, args: list[bytes], ready: bytes | None, left: bool) -> bool:
    keys = args[1:-1]
    for key in keys if ready is None else [ready]:
        value = c.db.get(key)
        if value is None:
            continue
        if value.__class__ is not deque:
            if ready is None:
                raise CommandError(WRONGTYPE)
            continue
        item = value.popleft() if left else value.pop()
        c.out += b"*2\r\n" + bulk(key) + item
        _drop_if_empty(c.db, key, value)
        c.db.modified(key)
        return True
    return False


def _serve_blpop(c: Client, args: list[bytes], ready: bytes | None) -> bool:
    return _serve_bpop(c, args, ready, True)


def _serve_brpop(c: Client, args: list[bytes], ready: bytes | None) -> bool:
    return _serve_bpop(c, args, ready, False)


@command("blpop")
def blpop(c: Client, args: list[bytes]) -> None:
    timeout = parse_timeout(args[-1])
    if not _serve_blpop(c, args, None):
        _block_or_null(c, args[1:-1], timeout, args, _serve_blpop, c.null_array)


@command("brpop")
def brpop(c: Client, args: list[bytes]) -> None:
    timeout = parse_timeout(args[-1])
    if not _serve_brpop(c, args, None):
        _block_or_null(c, args[1:-1], timeout, args, _serve_brpop, c.null_array)


def _serve_blmove(c: Client, args: list[bytes], ready: bytes | None) -> bool:
    from_left = _side(args[3])
    to_left = _side(args[4])
    try:
        item = _move(c, args[1], args[2], from_left, to_left)
    except CommandError:
        if ready is None:
            raise
        return False
    if item is None:
        return False
    c.out += item
    return True


@command("blmove")
def blmove(c: Client, args: list[bytes]) -> None:
    _side(args[3])
    _side(args[4])
    timeout = parse_timeout(args[5])
    if not _serve_blmove(c, args, None):
        _block_or_null(c, [args[1]], timeout, args, _serve_blmove, c.null_array, c.null)


def _serve_brpoplpush(c: Client, args: list[bytes], ready: bytes | None) -> bool:
    return _serve_blmove(c, [args[0], args[1], args[2], b"right", b"left"], ready)


@command("brpoplpush")
def brpoplpush(c: Client, args: list[bytes]) -> None:
    timeout = parse_timeout(args[3])
    if not _serve_brpoplpush(c, args, None):
        _block_or_null(c, [args[1]], timeout, args, _serve_brpoplpush, c.null_array, c.null)
