"""Arguments at the edges of what Redis accepts (expiry overflow, negative counts, huge
offsets, database indexes beyond an int), each compared with redis-server."""

from __future__ import annotations

import pytest

from tests.kv.conftest import Differ

_TIMES = [
    "0",
    "-1",
    "9223372036854775807",
    "9223372036854775806",
    "922337203685477580",
    "9223372036854775",
    "-9223372036854775808",
    "4611686018427387904",
]


# (No small positive time: a key that expires within a millisecond or a second would race
# the next command.)
@pytest.mark.parametrize("raw", _TIMES)
def test_expiry_arguments_overflow_as_in_redis(diff: Differ, raw: str) -> None:
    for cmd in ("EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"):
        diff.call("SET", "k", "v")
        diff.call(cmd, "k", raw)
        diff.call("EXISTS", "k")
    for option in ("EX", "PX", "EXAT", "PXAT"):
        diff.call("SET", "k", "v", option, raw)
        diff.call("GETEX", "k", option, raw)
        diff.call("EXISTS", "k")
    diff.call("SETEX", "k", raw, "v")
    diff.call("PSETEX", "k", raw, "v")


@pytest.mark.parametrize(
    "count", ["-1", "0", "-5", "5", "9223372036854775807", "-9223372036854775808"]
)
def test_counts_at_the_edges_as_in_redis(diff: Differ, count: str) -> None:
    diff.call("RPUSH", "l", "a", "b", "c")
    diff.call("SADD", "s", "a")
    diff.call("HSET", "h", "f", "v")
    diff.call("ZADD", "z", "1", "a")
    diff.call("LPOP", "l", count)
    diff.call("RPOP", "l", count)
    diff.call("SPOP", "s", count)
    diff.call("SRANDMEMBER", "s", count)
    diff.call("HRANDFIELD", "h", count)
    diff.call("ZRANDMEMBER", "z", count)
    diff.call("ZPOPMIN", "z", count)
    diff.call("LPOS", "l", "a", "COUNT", count)
    diff.call("LPOS", "l", "a", "MAXLEN", count)
    diff.call("SELECT", "9")  # an empty database: SCAN's reply cannot depend on key order
    diff.call("SCAN", "0", "COUNT", count)
    diff.call("SELECT", "0")
    diff.call("GETRANGE", "k", "0", count)
    diff.call("SETBIT", "b", count, "1")
    diff.call("SETRANGE", "r", count, "x")


_OFFSETS = [
    "0",
    "-1",
    "3",
    "-100",
    "536870911",
    "536870912",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "x",
    "",
]


@pytest.mark.parametrize("raw", _OFFSETS)
def test_offsets_and_indexes_at_the_edges_as_in_redis(diff: Differ, raw: str) -> None:
    diff.call("SET", "k", "hello")
    diff.call("GETRANGE", "k", raw, "2")
    diff.call("GETRANGE", "k", "1", raw)
    diff.call("SETRANGE", "k2", raw, "")
    diff.call("GETBIT", "k", raw)
    diff.call("BITCOUNT", "k", raw, "-1", "BIT")
    diff.call("BITPOS", "k", "1", raw)
    diff.call("BITPOS", "k", "0", "0", raw, "BIT")
    diff.call("RPUSH", "l", "a", "b", "c")
    diff.call("LSET", "l", raw, "z")
    diff.call("LINDEX", "l", raw)
    diff.call("LTRIM", "l2", raw, "1")
    diff.call("LRANGE", "l", "0", raw)
    diff.call("ZADD", "z", "1", "a", "2", "b")
    diff.call("ZRANGE", "z", "0", raw, "WITHSCORES")
    diff.call("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", raw, "1")
    diff.call("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "0", raw)
    diff.call("HSET", "h", "f", "1")
    diff.call("HINCRBY", "h", "f", raw)
    diff.call("HINCRBYFLOAT", "h", "g", raw)
    diff.call("LPOS", "l", "a", "RANK", raw)
    diff.call("OBJECT", "FREQ", "k")
    diff.call("SRANDMEMBER", "nos", raw)
    diff.call("EXPIRETIME", "k")
    diff.call("COPY", "k", "k3", "DB", raw)
    diff.call("MOVE", "k", raw)
    diff.call("SWAPDB", "0", raw)
