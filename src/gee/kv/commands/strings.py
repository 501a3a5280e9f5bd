"""String commands: GET/SET and friends, counters, ranges, bits, LCS.

Strings are stored as ``bytes``; counters are parsed on each use, as Redis parses its strings.
INCRBYFLOAT emulates Redis's ``long double`` arithmetic and ``%.17Lf`` formatting with exact
fractions rounded to a 64-bit mantissa, so its replies match Redis digit for digit.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from gee.kv.commands import command
from gee.kv.commands.common import (
    INT64_MAX,
    INT64_MIN,
    NOT_INTEGER,
    SYNTAX,
    WRONGTYPE,
    parse_int,
)
from gee.kv.errors import CommandError
from gee.kv.keyspace import now_ms
from gee.kv.resp import OK, ONE, ZERO, bulk, integer

if TYPE_CHECKING:
    from gee.kv.connection import Client

MAX_STRING = 512 * 1024 * 1024
TOO_BIG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"


def get_string(c: Client, key: bytes) -> bytes | None:
    value = c.db.get(key)
    if value is not None and value.__class__ is not bytes:
        raise CommandError(WRONGTYPE)
    return value


@command("get")
def get(c: Client, args: list[bytes]) -> None:
    db = c.db
    key = args[1]
    value = db.data.get(key)
    if value is not None and db.expires and key in db.expires:
        value = db.get(key)
    if value is None:
        c.out += c.null
    elif value.__class__ is bytes:
        c.out += b"$%d\r\n%s\r\n" % (len(value), value)
    else:
        raise CommandError(WRONGTYPE)


def _expire_arg(raw: bytes, unit: int, absolute: bool, name: str) -> int:
    amount = parse_int(raw)
    if amount <= 0 or amount > INT64_MAX // unit:
        raise CommandError(f"ERR invalid expire time in '{name}' command")
    when = amount * unit
    if not absolute:
        when += now_ms()
        if when > INT64_MAX:  # Redis's long long wraps around to a negative: refused
            raise CommandError(f"ERR invalid expire time in '{name}' command")
    return when


@command("set")
def set_(c: Client, args: list[bytes]) -> None:
    key, value = args[1], args[2]
    db = c.db
    if len(args) == 3:
        db.data[key] = value
        if db.expires and key in db.expires:
            del db.expires[key]
        keyspace = c.keyspace  # db.modified(key), spelled out (see Database.modified)
        keyspace.dirty += 1
        if keyspace.touched is not None or db.watched:
            db.notify(key)
        c.out += OK
        return
    nx = xx = keepttl = get_old = False
    when: int | None = None
    expire_seen = False
    i = 3
    n = len(args)
    while i < n:
        option = args[i].lower()
        if option == b"nx" and not xx:
            nx = True
        elif option == b"xx" and not nx:
            xx = True
        elif option == b"get":
            get_old = True
        elif option == b"keepttl" and not expire_seen:
            keepttl = True
        elif option in (b"ex", b"px", b"exat", b"pxat") and not keepttl and not expire_seen:
            if i + 1 >= n:
                raise CommandError(SYNTAX)
            unit = 1000 if option in (b"ex", b"exat") else 1
            when = _expire_arg(args[i + 1], unit, option.endswith(b"at"), "set")
            expire_seen = True
            i += 1
        else:
            raise CommandError(SYNTAX)
        i += 1
    old = db.get(key)
    if get_old and old is not None and old.__class__ is not bytes:
        raise CommandError(WRONGTYPE)
    if (nx and old is not None) or (xx and old is None):
        c.out += (bulk(old) if old is not None else c.null) if get_old else c.null
        return
    ttl = db.expires.get(key) if keepttl else None
    db.set(key, value)
    if when is not None:
        db.set_expire(key, when)
    elif ttl is not None:
        db.set_expire(key, ttl)
    db.modified(key)
    if get_old:
        c.out += c.null if old is None else bulk(old)
    else:
        c.out += OK


@command("setnx")
def setnx(c: Client, args: list[bytes]) -> None:
    db = c.db
    if db.get(args[1]) is not None:
        c.out += ZERO
        return
    db.set(args[1], args[2])
    db.modified(args[1])
    c.out += ONE


def _setex(c: Client, args: list[bytes], unit: int) -> None:
    name = args[0].lower().decode(errors="replace")
    when = _expire_arg(args[2], unit, False, name)
    db = c.db
    db.set(args[1], args[3])
    db.set_expire(args[1], when)
    db.modified(args[1])
    c.out += OK


@command("setex")
def setex(c: Client, args: list[bytes]) -> None:
    _setex(c, args, 1000)


@command("psetex")
def psetex(c: Client, args: list[bytes]) -> None:
    _setex(c, args, 1)


@command("getset")
def getset(c: Client, args: list[bytes]) -> None:
    old = get_string(c, args[1])
    c.db.set(args[1], args[2])
    c.db.modified(args[1])
    c.out += c.null if old is None else bulk(old)


@command("getdel")
def getdel(c: Client, args: list[bytes]) -> None:
    old = get_string(c, args[1])
    if old is None:
        c.out += c.null
        return
    c.db.delete(args[1])
    c.db.modified(args[1])
    c.out += bulk(old)


@command("getex")
def getex(c: Client, args: list[bytes]) -> None:
    key = args[1]
    expire: tuple[bytes, int, bool] | None = None
    persist = False
    i = 2
    while i < len(args):
        option = args[i].lower()
        if option == b"persist" and expire is None and not persist:
            persist = True
        elif option in (b"ex", b"px", b"exat", b"pxat") and expire is None and not persist:
            if i + 1 >= len(args):
                raise CommandError(SYNTAX)
            unit = 1000 if option in (b"ex", b"exat") else 1
            expire = (args[i + 1], unit, option.endswith(b"at"))
            i += 1
        else:
            raise CommandError(SYNTAX)
        i += 1
    value = get_string(c, key)
    if value is None:
        c.out += c.null
        return
    db = c.db
    if expire is not None:
        # Redis checks the time only once it has found the key.
        when = _expire_arg(expire[0], expire[1], expire[2], "getex")
        if when <= now_ms() and not db.keyspace.loading:  # see expire's comment in keys.py
            db.delete(key)
        else:
            db.set_expire(key, when)
        db.modified(key)
    elif persist and key in db.expires:
        del db.expires[key]
        db.modified(key)
    c.out += bulk(value)


@command("mget")
def mget(c: Client, args: list[bytes]) -> None:
    db = c.db
    out = c.out
    out += b"*%d\r\n" % (len(args) - 1)
    null = c.null
    for key in args[1:]:
        value = db.get(key)
        if value is None or value.__class__ is not bytes:
            out += null
        else:
            out += b"$%d\r\n%s\r\n" % (len(value), value)


@command("mset")
def mset(c: Client, args: list[bytes]) -> None:
    if len(args) % 2 == 0:
        raise CommandError("ERR wrong number of arguments for 'mset' command")
    db = c.db
    for i in range(1, len(args), 2):
        db.set(args[i], args[i + 1])
        db.modified(args[i])
    c.out += OK


@command("msetnx")
def msetnx(c: Client, args: list[bytes]) -> None:
    if len(args) % 2 == 0:
        raise CommandError("ERR wrong number of arguments for 'msetnx' command")
    db = c.db
    if any(db.get(args[i]) is not None for i in range(1, len(args), 2)):
        c.out += ZERO
        return
    for i in range(1, len(args), 2):
        db.set(args[i], args[i + 1])
        db.modified(args[i])
    c.out += ONE


@command("append")
def append(c: Client, args: list[bytes]) -> None:
    old = get_string(c, args[1])
    value = args[2] if old is None else old + args[2]
    if len(value) > MAX_STRING:
        raise CommandError(TOO_BIG)
    db = c.db
    db.data[args[1]] = value
    db.modified(args[1])
    c.out += integer(len(value))


@command("strlen")
def strlen(c: Client, args: list[bytes]) -> None:
    value = get_string(c, args[1])
    c.out += integer(0 if value is None else len(value))


@command("getrange")
def getrange(c: Client, args: list[bytes]) -> None:
    start = parse_int(args[2])
    end = parse_int(args[3])
    value = get_string(c, args[1]) or b""
    c.out += bulk(string_range(value, start, end))


command("substr")(getrange)


def string_range(value: bytes, start: int, end: int) -> bytes:
    """GETRANGE's index arithmetic (negative from the end, clamped, inclusive)."""
    n = len(value)
    if start < 0 and end < 0 and start > end:
        return b""
    if start < 0:
        start = max(0, n + start)
    if end < 0:
        end = max(0, n + end)
    if end >= n:
        end = n - 1
    if n == 0 or start > end:
        return b""
    return value[start : end + 1]


@command("setrange")
def setrange(c: Client, args: list[bytes]) -> None:
    offset = parse_int(args[2])
    if offset < 0:
        raise CommandError("ERR offset is out of range")
    patch = args[3]
    old = get_string(c, args[1])
    if old is None:
        if not patch:
            c.out += ZERO
            return
        old = b""
    elif not patch:
        c.out += integer(len(old))
        return
    if offset + len(patch) > MAX_STRING:
        raise CommandError(TOO_BIG)
    if len(old) < offset:
        old += b"\0" * (offset - len(old))
    value = old[:offset] + patch + old[offset + len(patch) :]
    c.db.data[args[1]] = value
    c.db.modified(args[1])
    c.out += integer(len(value))


# -- counters -----------------------------------------------------------------------------


@command("incr")
def incr(c: Client, args: list[bytes], delta: int = 1) -> None:
    """INCR, and the body of DECR, INCRBY and DECRBY (which pass their ``delta``)."""
    key = args[1]
    db = c.db
    old = db.data.get(key)
    if old is not None and db.expires and key in db.expires:
        old = db.get(key)
    if old is None:
        current = 0
    elif old.__class__ is not bytes:
        raise CommandError(WRONGTYPE)
    elif old.isdigit() and len(old) < 19 and (old[0] != 48 or len(old) == 1):
        current = int(old)  # plain digits, no leading zero, far from the int64 limits
    else:
        # Inlined parse_int_or_none: counters are the hot path of INCR-heavy traffic.
        try:
            current = int(old)
        except ValueError:
            raise CommandError(NOT_INTEGER) from None
        if b"%d" % current != old or current > INT64_MAX or current < INT64_MIN:
            raise CommandError(NOT_INTEGER)
    result = current + delta
    if result > INT64_MAX or result < INT64_MIN:
        raise CommandError("ERR increment or decrement would overflow")
    reply = b":%d\r\n" % result
    db.data[key] = reply[1:-2]
    keyspace = c.keyspace  # db.modified(key), spelled out (see Database.modified)
    keyspace.dirty += 1
    if keyspace.touched is not None or db.watched:
        db.notify(key)
    c.out += reply


@command("decr")
def decr(c: Client, args: list[bytes]) -> None:
    incr(c, args, -1)


@command("incrby")
def incrby(c: Client, args: list[bytes]) -> None:
    incr(c, args, parse_int(args[2]))


@command("decrby")
def decrby(c: Client, args: list[bytes]) -> None:
    delta = parse_int(args[2])
    if delta == INT64_MIN:
        raise CommandError("ERR decrement would overflow")
    incr(c, args, -delta)


def parse_long_double(raw: bytes) -> Fraction | None:
    """Parse like Redis's ``string2ld`` (strtold, no spaces, no NaN); None when invalid."""
    from gee.kv.commands.common import parse_long_double_or_none

    value = parse_long_double_or_none(raw)
    if value is None:
        return None
    text = raw.decode()
    lowered = text.lower()
    if "inf" in lowered:
        return None
    if "x" in lowered:  # a hex float: Fraction reads only decimals
        return _round_ld(_hex_fraction(lowered))
    return _round_ld(Fraction(text))


def _hex_fraction(text: str) -> Fraction:
    """The exact value of a C99 hex float (``-0x1.8p3``), lowercase and already validated."""
    sign = -1 if text.startswith("-") else 1
    mantissa, _, exponent = text.lstrip("+-")[2:].partition("p")
    whole, _, fraction = mantissa.partition(".")
    value = Fraction(int(whole + fraction or "0", 16)) * Fraction(2) ** (
        int(exponent or "0") - 4 * len(fraction)
    )
    return sign * value


def _round_ld(value: Fraction) -> Fraction:
    """Round to the nearest x87 80-bit long double (64-bit mantissa, ties to even)."""
    if value == 0:
        return value
    sign = -1 if value < 0 else 1
    value = abs(value)
    exp = value.numerator.bit_length() - value.denominator.bit_length()
    if Fraction(2) ** exp > value:
        exp -= 1
    scale = Fraction(2) ** (63 - exp)
    scaled = value * scale
    mantissa = round(scaled)  # Fraction.__round__ rounds half to even
    return sign * Fraction(mantissa) / scale


_LD_MAX = Fraction(2) ** 16384


def format_long_double(value: Fraction) -> bytes:
    """Format as ``%.17Lf`` then strip trailing zeros and the dot (Redis's humanfriendly)."""
    scaled = value * 10**17
    rounded = round(scaled)
    sign = "-" if rounded < 0 else ""
    digits = str(abs(rounded)).rjust(18, "0")
    text = f"{digits[:-17]}.{digits[-17:]}".rstrip("0").rstrip(".")
    # A negative that rounds to zero prints "-0.000...", which Redis then turns into "0".
    return (sign + text).encode()


def incr_float(old: bytes | None, raw_delta: bytes) -> bytes:
    """The new value of INCRBYFLOAT/HINCRBYFLOAT, or CommandError with Redis's text."""
    delta = parse_long_double(raw_delta)
    if delta is None:
        if raw_delta.lower().lstrip(b"+-") in (b"inf", b"infinity"):
            raise CommandError("ERR increment would produce NaN or Infinity")
        raise CommandError("ERR value is not a valid float")
    current = Fraction(0)
    if old is not None:
        parsed = parse_long_double(old)
        if parsed is None:
            raise CommandError("ERR value is not a valid float")
        current = parsed
    result = _round_ld(current + delta)
    if abs(result) >= _LD_MAX:
        raise CommandError("ERR increment would produce NaN or Infinity")
    return format_long_double(result)


@command("incrbyfloat")
def incrbyfloat(c: Client, args: list[bytes]) -> None:
    old = get_string(c, args[1])
    value = incr_float(old, args[2])
    c.db.data[args[1]] = value
    c.db.modified(args[1])
    c.out += bulk(value)


# -- LCS ----------------------------------------------------------------------------------


@command("lcs")
def lcs(c: Client, args: list[bytes]) -> None:
    want_len = want_idx = with_len = False
    min_len = 0
    i = 3
    while i < len(args):
        option = args[i].lower()
        if option == b"len":
            want_len = True
        elif option == b"idx":
            want_idx = True
        elif option == b"withmatchlen":
            with_len = True
        elif option == b"minmatchlen" and i + 1 < len(args):
            min_len = max(0, parse_int(args[i + 1]))
            i += 1
        else:
            raise CommandError(SYNTAX)
        i += 1
    if want_len and want_idx:
        raise CommandError("ERR If you want both the length and indexes, please just use IDX.")
    values = [c.db.get(args[1]), c.db.get(args[2])]
    if any(v is not None and v.__class__ is not bytes for v in values):
        raise CommandError("ERR The specified keys must contain string values")
    a = values[0] or b""
    b = values[1] or b""
    rows, cols = len(a), len(b)
    table = [[0] * (cols + 1) for _ in range(rows + 1)]
    for x in range(1, rows + 1):
        ax = a[x - 1]
        row, prev = table[x], table[x - 1]
        for y in range(1, cols + 1):
            row[y] = prev[y - 1] + 1 if ax == b[y - 1] else max(prev[y], row[y - 1])
    length = table[rows][cols]
    if want_len:
        c.out += integer(length)
        return
    result = bytearray(length)
    matches: list[tuple[tuple[int, int], tuple[int, int], int]] = []
    # Walk back through the table as Redis's lcsCommand does, collecting ranges in its order.
    x, y, idx = rows, cols, length
    a_start = a_end = b_start = b_end = -1
    while x > 0 and y > 0:
        emit = False
        if a[x - 1] == b[y - 1]:
            result[idx - 1] = a[x - 1]
            if a_start == -1:
                a_start = a_end = x - 1
                b_start = b_end = y - 1
            elif a_start == x and b_start == y:
                a_start -= 1
                b_start -= 1
            else:
                emit = True
            if a_start == 0 or b_start == 0:
                emit = True
            idx -= 1
            x -= 1
            y -= 1
        else:
            if table[x - 1][y] > table[x][y - 1]:
                x -= 1
            else:
                y -= 1
            if a_start != -1:
                emit = True
        if emit:
            size = a_end - a_start + 1
            if min_len == 0 or size >= min_len:
                matches.append(((a_start, a_end), (b_start, b_end), size))
            a_start = -1
    if not want_idx:
        c.out += bulk(bytes(result))
        return
    from gee.kv.commands.common import map_header

    c.out += map_header(c, 2) + b"$7\r\nmatches\r\n*%d\r\n" % len(matches)
    for ra, rb, size in matches:
        c.out += b"*3\r\n" if with_len else b"*2\r\n"
        c.out += b"*2\r\n" + integer(ra[0]) + integer(ra[1])
        c.out += b"*2\r\n" + integer(rb[0]) + integer(rb[1])
        if with_len:
            c.out += integer(size)
    c.out += b"$3\r\nlen\r\n" + integer(length)
