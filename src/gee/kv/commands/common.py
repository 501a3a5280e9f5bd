"""Helpers shared by the command modules: argument parsing and typed lookups, Redis-exact.

Redis's number parsing is stricter than Python's (no ``+``, no spaces, no ``_``, no leading
zeros), and its error texts differ per caller; these helpers keep both in one place.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING, Any

from gee.kv.errors import CommandError
from gee.kv.resp import format_double
from gee.kv.zset import ZSet

if TYPE_CHECKING:
    from gee.kv.connection import Client

REDIS_VERSION = b"7.0.15"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
SYNTAX = "ERR syntax error"
RANGE_ERROR = (
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
)
INT64_MAX = (1 << 63) - 1
INT64_MIN = -(1 << 63)
LONG_MAX = INT64_MAX


def parse_int_or_none(raw: bytes) -> int | None:
    """Parse a signed 64-bit integer exactly as Redis's ``string2ll``; None when invalid.

    ``int()`` is laxer (spaces, ``+``, ``_``, leading zeros, ``-0``); requiring the value to
    print back as the same bytes refuses exactly what Redis refuses.
    """
    if len(raw) > 20:
        return None
    try:
        value = int(raw)
    except ValueError:
        return None
    if b"%d" % value != raw or value > INT64_MAX or value < INT64_MIN:
        return None
    return value


def parse_int(raw: bytes, message: str = NOT_INTEGER) -> int:
    """Parse an integer argument or raise Redis's error for it."""
    # parse_int_or_none's body, not a call to it: LRANGE and friends parse two per request.
    if len(raw) > 20:
        raise CommandError(message)
    try:
        value = int(raw)
    except ValueError:
        raise CommandError(message) from None
    if b"%d" % value != raw or value > INT64_MAX or value < INT64_MIN:
        raise CommandError(message)
    return value


def parse_c_int(raw: bytes, message: str | None = None) -> int:
    """Parse as Redis's ``getIntFromObjectOrReply``: a long long that must fit a C int, with
    ``message`` for either failure when given, else Redis's two messages."""
    try:
        value = parse_int(raw)
    except CommandError:
        if message is None:
            raise
        raise CommandError(message) from None
    if not -(1 << 31) <= value < 1 << 31:
        raise CommandError(
            message or "ERR value is out of range, value must between -2147483648 and 2147483647"
        )
    return value


_SPACE = b" \t\n\r\v\f"  # what strtod skips (an int ``in`` bytes is fast)
_INF = float("inf")


def parse_float_or_none(raw: bytes) -> float | None:
    """Parse a double as Redis's ``string2d``: strtod over the whole argument (C99 hex floats
    too), no spaces, no NaN, and no overflow to infinity or underflow to zero; None if invalid.
    """
    try:
        value = float(raw)
    except ValueError:
        hexed = _hex_float(raw)
        if hexed is None:
            return None
        value = hexed
    # float() is laxer than strtod as Redis uses it: it takes spaces around and "_" inside.
    # raw.find, not ``b"_" in raw``: bytes-in-bytes first tries the needle as an int, and
    # builds (and drops) a TypeError with a formatted message each time.
    if value != value or raw.find(b"_") >= 0 or raw[0] in _SPACE or raw[-1] in _SPACE:
        return None
    # Infinite (value - value is NaN, which is true) or zero: did strtod set ERANGE?
    if (value - value or not value) and raw != b"0" and _out_of_range(raw, value):
        return None
    return value


def parse_strtod(raw: bytes) -> float | None:
    """Parse a double as Redis's score ranges do: strtod over the whole argument after the
    spaces it skips, any magnitude (overflow is infinity, underflow zero), no NaN."""
    if not raw:
        return 0.0  # strtod converts nothing and stops at the end: Redis reads 0
    text = raw.lstrip(_SPACE)
    if not text or text[-1] in _SPACE or text.find(b"_") >= 0:
        return None
    value: float | None
    try:
        value = float(text)
    except ValueError:
        value = _hex_float(text)
    return None if value is None or value != value else value


def parse_long_double_or_none(raw: bytes) -> float | None:
    """Parse as Redis's ``string2ld`` (strtold) as far as a double can tell: no leading space,
    the whole argument, no NaN; a magnitude beyond a double's comes back infinite."""
    if not raw or raw[0] in _SPACE:
        return None
    return parse_strtod(raw)


def _hex_float(raw: bytes) -> float | None:
    """A C99 hexadecimal float (``0x1.8p3``), which strtod reads and float() does not; None
    when ``raw`` is not one. Too big for a double, it is infinite, as strtod's HUGE_VAL."""
    if raw.lstrip(b"+-")[:2].lower() != b"0x" or raw[:1].isspace():
        return None
    try:
        return float.fromhex(raw.decode("ascii"))
    except OverflowError:
        return -_INF if raw[:1] == b"-" else _INF
    except (ValueError, UnicodeDecodeError):
        return None


def _out_of_range(raw: bytes, value: float) -> bool:
    """Whether strtod sets ERANGE for ``raw``, which parsed as ``value`` (infinite or zero):
    an infinity that is not spelled ``inf``/``infinity``, or a zero that is not spelled with
    zeros only (the number underflowed)."""
    text = raw.lower().lstrip(b"+-")
    if value:
        return text not in (b"inf", b"infinity")
    hexadecimal = text.startswith(b"0x")
    mantissa = text[2:].partition(b"p")[0] if hexadecimal else text.partition(b"e")[0]
    return bool(mantissa.strip(b"0."))  # a digit other than 0 in it


def parse_float(raw: bytes, message: str = NOT_FLOAT) -> float:
    """Parse a double argument or raise ``message``."""
    value = parse_float_or_none(raw)
    if value is None:
        raise CommandError(message)
    return value


def parse_timeout(raw: bytes) -> float:
    """Parse a blocking command's timeout in (fractional) seconds, as Redis 7.0 does (a long
    double)."""
    value = parse_long_double_or_none(raw)
    if value is None:
        raise CommandError("ERR timeout is not a float or out of range")
    # Redis converts to milliseconds in a long long: infinities and overflow turn negative.
    if value < 0 or math.isinf(value) or value * 1000 >= 2**63:
        raise CommandError("ERR timeout is negative")
    return value


def get_typed(client: Client, key: bytes, kind: type) -> Any:
    """Return the value at ``key`` if it has type ``kind``, None if missing, else WRONGTYPE."""
    value = client.db.get(key)
    if value is not None and value.__class__ is not kind:
        raise CommandError(WRONGTYPE)
    return value


def map_header(client: Client, pairs: int) -> bytes:
    """The header of a map reply: ``%N`` in RESP3, a flat ``*2N`` array in RESP2."""
    return b"%%%d\r\n" % pairs if client.protocol == 3 else b"*%d\r\n" % (pairs * 2)


def set_header(client: Client, n: int) -> bytes:
    """The header of a set reply: ``~N`` in RESP3, ``*N`` in RESP2."""
    return b"~%d\r\n" % n if client.protocol == 3 else b"*%d\r\n" % n


def double(client: Client, value: float) -> bytes:
    """A double reply: ``,x`` in RESP3, a bulk string in RESP2."""
    text = format_double(value)
    if client.protocol == 3:
        return b",%s\r\n" % text
    return b"$%d\r\n%s\r\n" % (len(text), text)


def type_name(value: Any) -> bytes:
    """Redis's TYPE name for a stored value."""
    cls = value.__class__
    if cls is bytes:
        return b"string"
    if cls is deque:
        return b"list"
    if cls is dict:
        return b"hash"
    if cls is set:
        return b"set"
    if cls is ZSet:
        return b"zset"
    raise TypeError(cls)  # pragma: no cover


def glob_match(pattern: bytes, text: bytes, nocase: bool = False) -> bool:
    """Redis's ``stringmatchlen``: ``*``, ``?``, ``[...]`` with ranges and ``^``, ``\\`` escapes.

    A line-by-line port of Redis 7.0.15's, including its guard against pathological patterns
    (``skip`` stops retrying earlier stars once a later one failed everywhere; nesting is
    capped at 1000), so KEYS and SCAN MATCH agree with Redis on every pattern.
    """
    return _match(pattern, 0, text, 0, nocase, [False], 0)


def _at(data: bytes, i: int) -> int:
    """data[i], or 0 past the end (C's terminating NUL, which Redis's code reads)."""
    return data[i] if i < len(data) else 0


def _match(
    p: bytes, pi: int, s: bytes, si: int, nocase: bool, skip: list[bool], nesting: int
) -> bool:
    if nesting > 1000:
        return False
    plen, slen = len(p) - pi, len(s) - si
    while plen and slen:
        c = p[pi]
        if c == 42:  # *
            while plen and _at(p, pi + 1) == 42:
                pi += 1
                plen -= 1
            if plen == 1:
                return True
            while slen:
                if _match(p, pi + 1, s, si, nocase, skip, nesting + 1):
                    return True
                if skip[0]:
                    return False
                si += 1
                slen -= 1
            skip[0] = True
            return False
        if c == 63:  # ?
            si += 1
            slen -= 1
        elif c == 91:  # [
            pi += 1
            plen -= 1
            negate = _at(p, pi) == 94
            if negate:
                pi += 1
                plen -= 1
            matched = False
            ch = s[si]
            while True:
                pc = _at(p, pi)
                if pc == 92 and plen >= 2:
                    pi += 1
                    plen -= 1
                    if _at(p, pi) == ch:
                        matched = True
                elif pc == 93:
                    break
                elif plen == 0:
                    pi -= 1
                    plen += 1
                    break
                elif plen >= 3 and _at(p, pi + 1) == 45:
                    lo, hi, x = pc, _at(p, pi + 2), ch
                    if lo > hi:
                        lo, hi = hi, lo
                    if nocase:
                        lo, hi, x = _lower(lo), _lower(hi), _lower(x)
                    pi += 2
                    plen -= 2
                    if lo <= x <= hi:
                        matched = True
                elif (_lower(pc) == _lower(ch)) if nocase else pc == ch:
                    matched = True
                pi += 1
                plen -= 1
            if negate:
                matched = not matched
            if not matched:
                return False
            si += 1
            slen -= 1
        else:
            if c == 92 and plen >= 2:
                pi += 1
                plen -= 1
                c = p[pi]
            if (_lower(c) != _lower(s[si])) if nocase else c != s[si]:
                return False
            si += 1
            slen -= 1
        pi += 1
        plen -= 1
        if slen == 0:
            while _at(p, pi) == 42:
                pi += 1
                plen -= 1
            break
    return plen == 0 and slen == 0


def _lower(c: int) -> int:
    return c + 32 if 65 <= c <= 90 else c


def matcher(pattern: bytes | None) -> Any:
    """A fast predicate for MATCH patterns: None for ``*``, else a callable."""
    if pattern is None or pattern == b"*":
        return None
    if not any(ch in pattern for ch in b"*?[\\"):
        return pattern.__eq__
    return lambda text: glob_match(pattern, text)
