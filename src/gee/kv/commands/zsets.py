"""Sorted set commands, including BZPOPMIN/BZPOPMAX/BZMPOP. See ``gee.kv.zset`` for the type."""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING

from gee.kv.commands import command
from gee.kv.commands.common import (
    INT64_MAX,
    RANGE_ERROR,
    SYNTAX,
    WRONGTYPE,
    double,
    get_typed,
    matcher,
    parse_float_or_none,
    parse_int,
    parse_strtod,
    parse_timeout,
)
from gee.kv.commands.keys import parse_scan_options, scan_cursor, scan_step
from gee.kv.errors import CommandError
from gee.kv.resp import ZERO, bulk, format_double, integer
from gee.kv.zset import ZSet

if TYPE_CHECKING:
    from gee.kv.connection import Client

NOT_FLOAT = "ERR value is not a valid float"
MAX_LISTPACK_ENTRIES = 128
MAX_LISTPACK_VALUE = 64


def _zset(c: Client, key: bytes) -> ZSet | None:
    return get_typed(c, key, ZSet)  # type: ignore[no-any-return]


def _note_size(z: ZSet, member: bytes) -> None:
    if len(z) > MAX_LISTPACK_ENTRIES or len(member) > MAX_LISTPACK_VALUE:
        z.big = True


def _score(raw: bytes) -> float:
    value = parse_float_or_none(raw)
    if value is None:
        raise CommandError(NOT_FLOAT)
    return value


def reply_members(c: Client, items: list[tuple[float, bytes]], with_scores: bool) -> None:
    """Reply a range: members, or member/score pairs (flat in RESP2, nested in RESP3)."""
    out = c.out
    if not with_scores:
        out += b"*%d\r\n" % len(items) + b"".join([bulk(m) for _, m in items])
    elif c.protocol == 3:
        out += b"*%d\r\n" % len(items)
        out += b"".join([b"*2\r\n" + bulk(m) + b",%s\r\n" % format_double(s) for s, m in items])
    else:
        out += b"*%d\r\n" % (2 * len(items))
        out += b"".join([bulk(m) + bulk(format_double(s)) for s, m in items])


# -- ZADD, ZINCRBY, ZREM ------------------------------------------------------------------


@command("zadd")
def zadd(c: Client, args: list[bytes]) -> None:
    if len(args) == 4:
        # ZADD key score member, without options: the common case, kept short.
        score = parse_float_or_none(args[2])
        if score is not None:
            db = c.db
            key = args[1]
            z = db.data.get(key)
            if z is not None and db.expires and key in db.expires:
                z = db.get(key)
            if z is None:
                z = ZSet()
                db.data[key] = z
            elif z.__class__ is not ZSet:
                raise CommandError(WRONGTYPE)
            member = args[3]
            old = z.dict.get(member)
            if old == score:
                c.out += ZERO
                return
            z.add(member, score)
            if old is None:
                _note_size(z, member)
            keyspace = c.keyspace  # db.modified(key), spelled out (see Database.modified)
            keyspace.dirty += 1
            if keyspace.touched is not None or db.watched:
                db.notify(key)
            if db.blocked:
                db.ready(key)
            c.out += ZERO if old is not None else b":1\r\n"
            return
    nx = xx = gt = lt = ch = incr = False
    i = 2
    while i < len(args):
        option = args[i].lower()
        if option == b"nx":
            nx = True
        elif option == b"xx":
            xx = True
        elif option == b"gt":
            gt = True
        elif option == b"lt":
            lt = True
        elif option == b"ch":
            ch = True
        elif option == b"incr":
            incr = True
        else:
            break
        i += 1
    pairs = args[i:]
    if not pairs or len(pairs) % 2:
        raise CommandError(SYNTAX)
    if nx and xx:
        raise CommandError("ERR XX and NX options at the same time are not compatible")
    if (gt and nx) or (lt and nx) or (gt and lt):
        raise CommandError("ERR GT, LT, and/or NX options at the same time are not compatible")
    if incr and len(pairs) > 2:
        raise CommandError("ERR INCR option supports a single increment-element pair")
    scores = [_score(pairs[j]) for j in range(0, len(pairs), 2)]
    db = c.db
    key = args[1]
    z = db.get(key)
    if z is not None and z.__class__ is not ZSet:
        raise CommandError(WRONGTYPE)
    if z is None:
        if xx:
            c.out += c.null if incr else ZERO
            return
        z = ZSet()
        db.data[key] = z
    added = changed = 0
    result: float | None = None
    for j, score in enumerate(scores):
        member = pairs[2 * j + 1]
        old = z.dict.get(member)
        if old is None:
            if xx:
                continue
            z.add(member, score)
            _note_size(z, member)
            added += 1
            result = score
            continue
        if nx:
            continue
        new = old + score if incr else score
        if math.isnan(new):
            raise CommandError("ERR resulting score is not a number (NaN)")
        if (gt and new <= old) or (lt and new >= old):
            continue
        result = new
        if new != old:
            z.add(member, new)
            changed += 1
    if not z:
        db.delete(key)
    if added or changed:
        db.modified(key)
        if db.blocked:
            db.ready(key)
    if incr:
        c.out += c.null if result is None else double(c, result)
    else:
        c.out += integer(added + changed if ch else added)


@command("zincrby")
def zincrby(c: Client, args: list[bytes]) -> None:
    delta = _score(args[2])
    db = c.db
    key = args[1]
    z = _zset(c, key)
    if z is None:
        z = ZSet()
        db.data[key] = z
    new = z.dict.get(args[3], 0.0) + delta
    if math.isnan(new):
        if not z:
            db.delete(key)
        raise CommandError("ERR resulting score is not a number (NaN)")
    z.add(args[3], new)
    _note_size(z, args[3])
    db.modified(key)
    if db.blocked:
        db.ready(key)
    c.out += double(c, new)


@command("zrem")
def zrem(c: Client, args: list[bytes]) -> None:
    z = _zset(c, args[1])
    if z is None:
        c.out += ZERO
        return
    removed = sum(1 for m in args[2:] if z.remove(m))
    if removed:
        if not z:
            c.db.delete(args[1])
        c.db.modified(args[1])
    c.out += integer(removed)


@command("zscore")
def zscore(c: Client, args: list[bytes]) -> None:
    z = _zset(c, args[1])
    score = None if z is None else z.dict.get(args[2])
    c.out += c.null if score is None else double(c, score)


@command("zmscore")
def zmscore(c: Client, args: list[bytes]) -> None:
    z = _zset(c, args[1])
    scores = {} if z is None else z.dict
    c.out += b"*%d\r\n" % (len(args) - 2)
    for member in args[2:]:
        score = scores.get(member)
        c.out += c.null if score is None else double(c, score)


@command("zcard")
def zcard(c: Client, args: list[bytes]) -> None:
    z = _zset(c, args[1])
    c.out += integer(0 if z is None else len(z))


# -- ranges -------------------------------------------------------------------------------


def parse_score_bound(raw: bytes) -> tuple[float, bool]:
    """Parse a score bound: ``1.5``, ``(1.5`` (exclusive), ``-inf``, ``+inf``."""
    exclusive = raw[:1] == b"("
    value = parse_strtod(raw[1:] if exclusive else raw)
    if value is None:
        raise CommandError("ERR min or max is not a float")
    return value, exclusive


def parse_lex_bound(raw: bytes) -> tuple[bytes | None, bool, int]:
    """Parse a lex bound: ``[a``, ``(a``, ``-``, ``+``; returns (value, exclusive, infinity)."""
    if raw == b"-":
        return None, False, -1
    if raw == b"+":
        return None, False, 1
    if raw[:1] == b"[":
        return raw[1:], False, 0
    if raw[:1] == b"(":
        return raw[1:], True, 0
    raise CommandError("ERR min or max not valid string range item")


def _lex_span(z: ZSet, lo_raw: bytes, hi_raw: bytes) -> tuple[int, int]:
    lo, lo_ex, lo_inf = parse_lex_bound(lo_raw)
    hi, hi_ex, hi_inf = parse_lex_bound(hi_raw)
    if lo_inf == 1 or hi_inf == -1:
        return 0, 0
    return z.lex_span(lo, lo_ex, hi, hi_ex)


def _rank_span(n: int, start: int, end: int) -> tuple[int, int]:
    if start < 0:
        start = max(0, n + start)
    if end < 0:
        end = n + end
    if start > end or start >= n:
        return 0, 0
    return start, min(end, n - 1) + 1


def _select(
    z: ZSet | None,
    by: str,
    lo_raw: bytes,
    hi_raw: bytes,
    rev: bool,
    offset: int,
    count: int,
) -> list[tuple[float, bytes]]:
    """The items a ZRANGE-family call selects, in reply order (bounds in call order)."""
    if by == "rank":
        start, end = int(lo_raw), int(hi_raw)
        if z is None:
            return []
        n = len(z)
        lo, hi = _rank_span(n, start, end)
        if lo >= hi:
            return []
        if rev:
            return list(z.list[n - hi : n - lo])[::-1]
        return list(z.list[lo:hi])
    if by == "score":
        first, second = (hi_raw, lo_raw) if rev else (lo_raw, hi_raw)
        lo_v, lo_ex = parse_score_bound(first)
        hi_v, hi_ex = parse_score_bound(second)
        if z is None:
            return []
        lo, hi = z.score_span(lo_v, lo_ex, hi_v, hi_ex)
    else:
        first, second = (hi_raw, lo_raw) if rev else (lo_raw, hi_raw)
        if z is None:
            parse_lex_bound(first)
            parse_lex_bound(second)
            return []
        lo, hi = _lex_span(z, first, second)
    if lo >= hi or offset < 0:
        return []
    if rev:
        stop = hi - offset
        start = stop - count if count >= 0 else lo
        return list(z.list[max(lo, start) : max(lo, stop)])[::-1]
    start = lo + offset
    stop = start + count if count >= 0 else hi
    return list(z.list[start : min(hi, stop)])


def _parse_range(
    args: list[bytes], first: int, default_by: str, rev: bool, store: bool
) -> tuple[str, bool, int, int, bool]:
    """Parse the options after the bounds: BYSCORE BYLEX REV LIMIT WITHSCORES."""
    by = default_by
    offset, count = 0, -1
    with_scores = False
    limit = False
    i = first
    while i < len(args):
        option = args[i].lower()
        if option == b"withscores" and not store:
            with_scores = True
        elif option == b"limit" and i + 2 < len(args):
            offset = parse_int(args[i + 1])
            count = parse_int(args[i + 2])
            limit = True
            i += 2
        elif option == b"byscore" and default_by == "rank-ok":
            by = "score"
        elif option == b"bylex" and default_by == "rank-ok":
            by = "lex"
        elif option == b"rev" and default_by == "rank-ok":
            rev = True
        else:
            raise CommandError(SYNTAX)
        i += 1
    if by == "rank-ok":
        by = "rank"
        if limit:
            raise CommandError(
                "ERR syntax error, LIMIT is only supported in combination with either BYSCORE "
                "or BYLEX"
            )
    if by == "lex" and with_scores:
        raise CommandError("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    return by, rev, offset, count, with_scores


def _validate_bounds(by: str, lo: bytes, hi: bytes) -> None:
    """Check range bounds before the key is looked up, so bad bounds win over WRONGTYPE."""
    if by == "rank":
        parse_int(lo)
        parse_int(hi)
    elif by == "score":
        parse_score_bound(lo)
        parse_score_bound(hi)
    else:
        parse_lex_bound(lo)
        parse_lex_bound(hi)


def _range_command(c: Client, args: list[bytes], by: str, rev: bool) -> None:
    default = "rank-ok" if by == "generic" else by
    by, rev, offset, count, with_scores = _parse_range(args, 4, default, rev, False)
    _validate_bounds(by, args[2], args[3])
    z = _zset(c, args[1])
    items = _select(z, by, args[2], args[3], rev, offset, count)
    reply_members(c, items, with_scores)


@command("zrange")
def zrange(c: Client, args: list[bytes]) -> None:
    _range_command(c, args, "generic", False)


@command("zrevrange")
def zrevrange(c: Client, args: list[bytes]) -> None:
    _range_command(c, args, "rank", True)


@command("zrangebyscore")
def zrangebyscore(c: Client, args: list[bytes]) -> None:
    _range_command(c, args, "score", False)


@command("zrevrangebyscore")
def zrevrangebyscore(c: Client, args: list[bytes]) -> None:
    _range_command(c, args, "score", True)


@command("zrangebylex")
def zrangebylex(c: Client, args: list[bytes]) -> None:
    _range_command(c, args, "lex", False)


@command("zrevrangebylex")
def zrevrangebylex(c: Client, args: list[bytes]) -> None:
    _range_command(c, args, "lex", True)


@command("zrangestore")
def zrangestore(c: Client, args: list[bytes]) -> None:
    by, rev, offset, count, _ = _parse_range(args, 5, "rank-ok", False, True)
    _validate_bounds(by, args[3], args[4])
    z = _zset(c, args[2])
    items = _select(z, by, args[3], args[4], rev, offset, count)
    store_items(c, args[1], items)


def store_items(c: Client, dest: bytes, items: list[tuple[float, bytes]]) -> None:
    db = c.db
    existed = db.delete(dest)
    if items:
        z = ZSet()
        for score, member in items:
            z.add(member, score)
            _note_size(z, member)
        db.data[dest] = z
        if db.blocked:
            db.ready(dest)
    if items or existed:
        db.modified(dest)
    c.out += integer(len(items))


@command("zcount")
def zcount(c: Client, args: list[bytes]) -> None:
    lo, lo_ex = parse_score_bound(args[2])
    hi, hi_ex = parse_score_bound(args[3])
    z = _zset(c, args[1])
    c.out += integer(0 if z is None else z.count_score(lo, lo_ex, hi, hi_ex))


@command("zlexcount")
def zlexcount(c: Client, args: list[bytes]) -> None:
    parse_lex_bound(args[2])
    parse_lex_bound(args[3])
    z = _zset(c, args[1])
    if z is None:
        c.out += ZERO
        return
    lo, hi = _lex_span(z, args[2], args[3])
    c.out += integer(max(0, hi - lo))


def _rank(c: Client, args: list[bytes], rev: bool) -> None:
    if len(args) > 4 or (len(args) == 4 and args[3].lower() != b"withscore"):
        raise CommandError(SYNTAX)
    z = _zset(c, args[1])
    rank = None if z is None else z.rank(args[2])
    if rank is None:
        c.out += c.null_array if len(args) == 4 else c.null
        return
    if rev:
        rank = len(z) - 1 - rank  # type: ignore[arg-type]
    c.out += integer(rank)


@command("zrank")
def zrank(c: Client, args: list[bytes]) -> None:
    _rank(c, args, False)


@command("zrevrank")
def zrevrank(c: Client, args: list[bytes]) -> None:
    _rank(c, args, True)


def _remove_span(c: Client, key: bytes, z: ZSet, lo: int, hi: int) -> None:
    items = list(z.list[lo:hi]) if lo < hi else []
    for _, member in items:
        z.remove(member)
    if items:
        if not z:
            c.db.delete(key)
        c.db.modified(key)
    c.out += integer(len(items))


@command("zremrangebyrank")
def zremrangebyrank(c: Client, args: list[bytes]) -> None:
    start, end = parse_int(args[2]), parse_int(args[3])
    z = _zset(c, args[1])
    if z is None:
        c.out += ZERO
        return
    lo, hi = _rank_span(len(z), start, end)
    _remove_span(c, args[1], z, lo, hi)


@command("zremrangebyscore")
def zremrangebyscore(c: Client, args: list[bytes]) -> None:
    lo_v, lo_ex = parse_score_bound(args[2])
    hi_v, hi_ex = parse_score_bound(args[3])
    z = _zset(c, args[1])
    if z is None:
        c.out += ZERO
        return
    lo, hi = z.score_span(lo_v, lo_ex, hi_v, hi_ex)
    _remove_span(c, args[1], z, lo, hi)


@command("zremrangebylex")
def zremrangebylex(c: Client, args: list[bytes]) -> None:
    parse_lex_bound(args[2])
    parse_lex_bound(args[3])
    z = _zset(c, args[1])
    if z is None:
        c.out += ZERO
        return
    lo, hi = _lex_span(z, args[2], args[3])
    _remove_span(c, args[1], z, lo, hi)


# -- pops ---------------------------------------------------------------------------------


def _pop_items(
    c: Client, key: bytes, z: ZSet, count: int, maximum: bool
) -> list[tuple[float, bytes]]:
    n = min(count, len(z))
    items = list(z.list[len(z) - n :])[::-1] if maximum else list(z.list[:n])
    for _, member in items:
        z.remove(member)
    if items:
        if not z:
            c.db.delete(key)
        c.db.modified(key)
    return items


def _zpop(c: Client, args: list[bytes], maximum: bool) -> None:
    if len(args) > 3:
        raise CommandError(SYNTAX)
    count = 1
    if len(args) == 3:
        count = parse_int(args[2], "ERR value is out of range, must be positive")
        if count < 0:
            raise CommandError("ERR value is out of range, must be positive")
    z = _zset(c, args[1])
    if z is None or count == 0:
        c.out += b"*0\r\n"
        return
    items = _pop_items(c, args[1], z, count, maximum)
    if len(args) == 2 and c.protocol == 3:
        score, member = items[0]
        c.out += b"*2\r\n" + bulk(member) + double(c, score)
        return
    reply_members(c, items, True)


@command("zpopmin")
def zpopmin(c: Client, args: list[bytes]) -> None:
    _zpop(c, args, False)


@command("zpopmax")
def zpopmax(c: Client, args: list[bytes]) -> None:
    _zpop(c, args, True)


def _parse_zmpop(args: list[bytes], start: int) -> tuple[list[bytes], bool, int]:
    numkeys = parse_int(args[start], "ERR numkeys should be greater than 0")
    if numkeys <= 0:
        raise CommandError("ERR numkeys should be greater than 0")
    if numkeys > len(args) - start - 2:
        raise CommandError(SYNTAX)
    keys = args[start + 1 : start + 1 + numkeys]
    i = start + 1 + numkeys
    where = args[i].lower()
    if where not in (b"min", b"max"):
        raise CommandError(SYNTAX)
    count = 1
    seen = False
    i += 1
    while i < len(args):
        if args[i].lower() == b"count" and i + 1 < len(args) and not seen:
            count = parse_int(args[i + 1], "ERR count should be greater than 0")
            if count <= 0:
                raise CommandError("ERR count should be greater than 0")
            seen = True
            i += 2
        else:
            raise CommandError(SYNTAX)
    return keys, where == b"max", count


def _serve_zmpop(
    c: Client, keys: list[bytes], maximum: bool, count: int, ready: bytes | None
) -> bool:
    for key in keys if ready is None else [ready]:
        z = c.db.get(key)
        if z is None:
            continue
        if z.__class__ is not ZSet:
            if ready is None:
                raise CommandError(WRONGTYPE)
            continue
        items = _pop_items(c, key, z, count, maximum)
        c.out += b"*2\r\n" + bulk(key)
        _reply_members_nested(c, items)
        return True
    return False


def _reply_members_nested(c: Client, items: list[tuple[float, bytes]]) -> None:
    c.out += b"*%d\r\n" % len(items)
    c.out += b"".join([b"*2\r\n" + bulk(m) + double(c, s) for s, m in items])


@command("zmpop")
def zmpop(c: Client, args: list[bytes]) -> None:
    keys, maximum, count = _parse_zmpop(args, 1)
    if not _serve_zmpop(c, keys, maximum, count, None):
        c.out += c.null_array


@command("bzmpop")
def bzmpop(c: Client, args: list[bytes]) -> None:
    timeout = parse_timeout(args[1])
    keys, maximum, count = _parse_zmpop(args, 2)

    def serve(cl: Client, a: list[bytes], ready: bytes | None) -> bool:
        return _serve_zmpop(cl, keys, maximum, count, ready)

    if serve(c, args, None):
        return
    _block(c, keys, timeout, args, serve)


def _block(c: Client, keys: list[bytes], timeout: float, args: list[bytes], serve: object) -> None:
    if c.in_exec:
        c.out += c.null_array
        return
    c.block(keys, timeout, args, serve, c.null_array)  # type: ignore[arg-type]


def _serve_bzpop(c: Client, args: list[bytes], ready: bytes | None, maximum: bool) -> bool:
    for key in args[1:-1] if ready is None else [ready]:
        z = c.db.get(key)
        if z is None:
            continue
        if z.__class__ is not ZSet:
            if ready is None:
                raise CommandError(WRONGTYPE)
            continue
        score, member = _pop_items(c, key, z, 1, maximum)[0]
        c.out += b"*3\r\n" + bulk(key) + bulk(member) + double(c, score)
        return True
    return False


def _serve_bzpopmin(c: Client, args: list[bytes], ready: bytes | None) -> bool:
    return _serve_bzpop(c, args, ready, False)


def _serve_bzpopmax(c: Client, args: list[bytes], ready: bytes | None) -> bool:
    return _serve_bzpop(c, args, ready, True)


@command("bzpopmin")
def bzpopmin(c: Client, args: list[bytes]) -> None:
    timeout = parse_timeout(args[-1])
    if not _serve_bzpopmin(c, args, None):
        _block(c, args[1:-1], timeout, args, _serve_bzpopmin)


@command("bzpopmax")
def bzpopmax(c: Client, args: list[bytes]) -> None:
    timeout = parse_timeout(args[-1])
    if not _serve_bzpopmax(c, args, None):
        _block(c, args[1:-1], timeout, args, _serve_bzpopmax)


# -- random, scan -------------------------------------------------------------------------


@command("zrandmember")
def zrandmember(c: Client, args: list[bytes]) -> None:
    if len(args) > 4 or (len(args) == 4 and args[3].lower() != b"withscores"):
        raise CommandError(SYNTAX)
    if len(args) == 2:
        z = _zset(c, args[1])
        c.out += c.null if not z else bulk(random.choice(list(z.dict)))
        return
    count = parse_int(args[2])
    with_scores = len(args) == 4
    if count == -INT64_MAX - 1:
        raise CommandError(RANGE_ERROR)
    if count < -(INT64_MAX // 2) or (with_scores and count < -(INT64_MAX // 4)):
        raise CommandError("ERR value is out of range")
    z = _zset(c, args[1])
    if not z:
        c.out += b"*0\r\n"
        return
    members = list(z.list)
    if count >= 0:
        # Asked for the whole set, Redis walks its listpack from the tail.
        picked = members[::-1] if count >= len(members) else random.sample(members, count)
    else:
        picked = [random.choice(members) for _ in range(-count)]
    reply_members(c, picked, with_scores)


@command("zscan")
def zscan(c: Client, args: list[bytes]) -> None:
    cursor = scan_cursor(args[2])
    pattern, count, _ = parse_scan_options(args, 3, False)
    z = _zset(c, args[1])
    if z is None:
        c.out += b"*2\r\n$1\r\n0\r\n*0\r\n"
        return
    if not z.big and len(z) <= MAX_LISTPACK_ENTRIES:
        cursor, members = 0, [m for _, m in z.list]
    else:
        cursor, members = scan_step(cursor, z.dict, count)
    match = matcher(pattern)
    found = [(m, z.dict[m]) for m in members if m in z.dict and (match is None or match(m))]
    c.out += b"*2\r\n" + bulk(b"%d" % cursor) + b"*%d\r\n" % (2 * len(found))
    c.out += b"".join(bulk(m) + bulk(format_double(s)) for m, s in found)
