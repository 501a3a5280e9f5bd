"""Integer arguments spelled at the edges of what Redis's parsers take (string2ll, strtoul
for SCAN cursors, int ranges), each compared with redis-server."""

from __future__ import annotations

import pytest

from tests.kv.conftest import Differ

_INTEGERS = [
    "0",
    "-0",
    "+1",
    "01",
    "00",
    "",
    " 1",
    "1 ",
    "1.0",
    "1e3",
    "0x10",
    "1_000",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "99999999999999999999",
    "\u0661",
    "-",
    "+",
]


@pytest.mark.parametrize("raw", _INTEGERS)
def test_integer_spellings_parse_as_in_redis(diff: Differ, raw: str) -> None:
    diff.call("SET", "k", "5")
    diff.call("INCRBY", "k", raw)
    diff.call("DECRBY", "k", raw)
    diff.call("HINCRBY", "h", "f", raw)
    diff.call("RPUSH", "l", "a", "b", "c")
    diff.call("LRANGE", "l", raw, "-1")
    diff.call("LINDEX", "l", raw)
    diff.call("GETRANGE", "k", raw, "-1")
    diff.call("SETRANGE", "s", raw, "x")
    diff.call("EXPIRE", "k", raw)
    diff.call("TTL", "k")
    diff.call("SADD", "st", "a", "b")
    diff.call("SRANDMEMBER", "st", raw, mode="sort")
    diff.call("ZADD", "z", "1", "a", "2", "b")
    diff.call("ZRANGE", "z", raw, "-1")
    diff.call("LPOS", "l", "a", "RANK", raw)
    diff.call("SELECT", raw)
    diff.call("SELECT", "0")
    diff.call("SETBIT", "bits", raw, "1")
    diff.call("BITCOUNT", "k", raw, "-1")


@pytest.mark.parametrize("raw", ["", "0", "+0", "-0", "00", "+", "-", " 0", "0 ", "x", "1" * 30])
def test_scan_cursors_parse_as_in_redis(diff: Differ, raw: str) -> None:
    # Every spelling of cursor 0 starts an iteration (one key: the order cannot differ); a
    # cursor the server never handed out is a documented difference, so none is used here.
    diff.call("SET", "k", "1")
    diff.call("SCAN", raw)
