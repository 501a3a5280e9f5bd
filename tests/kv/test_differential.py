"""Hypothesis-generated command sequences, run on gee.kv and redis-server, replies compared.

The key space is tiny (three keys) and every family draws from it, so sequences hit WRONGTYPE,
empty-key deletion, and the edges of ranges and counters. Commands whose reply is random
(SPOP, SRANDMEMBER, ...) are left out; unordered replies are compared sorted.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.kv.conftest import Differ

pytestmark = pytest.mark.redis

keys = st.sampled_from(["a", "b", "c"])
members = st.sampled_from(["x", "y", "z", "1", "2", "10", "-3", ""])
ints = st.integers(-5, 5).map(str)
bigints = st.sampled_from(["0", "1", "-1", "9223372036854775807", "-9223372036854775808", "x"])
scores = st.sampled_from(["0", "1", "-1", "1.5", "inf", "-inf", "2.5e3", "x", "(1", "(-inf"])
lexes = st.sampled_from(["-", "+", "[x", "(x", "[1", "(z", "a"])
floats = st.sampled_from(["0.1", "-1.5", "1e3", "x", "3"])

Cmd = list[str]


def cmd(name: str, *parts: st.SearchStrategy[str]) -> st.SearchStrategy[Cmd]:
    """A command whose parts may hold several words (``"ex 100"`` becomes two arguments)."""
    return st.tuples(*parts).map(lambda t: [*name.split(), *(w for p in t for w in p.split(" "))])


def var(
    name: str, head: list[st.SearchStrategy[str]], tail: st.SearchStrategy[str]
) -> st.SearchStrategy[Cmd]:
    return st.tuples(st.tuples(*head), st.lists(tail, min_size=1, max_size=4)).map(
        lambda t: [*name.split(), *t[0], *t[1]]
    )


generic = [
    cmd("del", keys),
    cmd("exists", keys),
    cmd("type", keys),
    cmd("rename", keys, keys),
    cmd("renamenx", keys, keys),
    cmd("copy", keys, keys),
    cmd("expire", keys, st.sampled_from(["100", "-1", "0"])),
    cmd("ttl", keys),
    cmd("persist", keys),
    cmd("dbsize"),
]
strings = [
    cmd("set", keys, members),
    cmd("get", keys),
    cmd("append", keys, members),
    cmd("incr", keys),
    cmd("incrby", keys, bigints),
    cmd("decrby", keys, ints),
    cmd("incrbyfloat", keys, floats),
    cmd("strlen", keys),
    cmd("getrange", keys, ints, ints),
    cmd("setrange", keys, st.sampled_from(["0", "2", "5"]), members),
    cmd("getset", keys, members),
    cmd("getdel", keys),
    cmd("setnx", keys, members),
    cmd("setbit", keys, st.sampled_from(["0", "7", "13"]), st.sampled_from(["0", "1"])),
    cmd("bitcount", keys),
    cmd("bitpos", keys, st.sampled_from(["0", "1"])),
    var("mget", [], keys),
    var("mset", [keys, members], st.sampled_from(["a", "b"])).filter(lambda c: len(c) % 2 == 1),
]
lists = [
    var("lpush", [keys], members),
    var("rpush", [keys], members),
    cmd("lpushx", keys, members),
    cmd("lpop", keys),
    cmd("rpop", keys, st.sampled_from(["0", "1", "3"])),
    cmd("llen", keys),
    cmd("lrange", keys, ints, ints),
    cmd("lindex", keys, ints),
    cmd("lset", keys, ints, members),
    cmd("lrem", keys, ints, members),
    cmd("ltrim", keys, ints, ints),
    cmd("linsert", keys, st.sampled_from(["before", "after"]), members, members),
    cmd("lpos", keys, members),
    cmd(
        "lmove", keys, keys, st.sampled_from(["left", "right"]), st.sampled_from(["left", "right"])
    ),
    cmd("rpoplpush", keys, keys),
    cmd("lmpop", st.just("2"), keys, keys, st.sampled_from(["left", "right"])),
]
hashes = [
    var("hset", [keys, members], members).filter(lambda c: len(c) % 2 == 0),
    cmd("hsetnx", keys, members, members),
    cmd("hget", keys, members),
    var("hmget", [keys], members),
    cmd("hgetall", keys),
    var("hdel", [keys], members),
    cmd("hexists", keys, members),
    cmd("hlen", keys),
    cmd("hkeys", keys),
    cmd("hvals", keys),
    cmd("hstrlen", keys, members),
    cmd("hincrby", keys, members, bigints),
    cmd("hincrbyfloat", keys, members, floats),
]
sets = [
    var("sadd", [keys], members),
    var("srem", [keys], members),
    cmd("sismember", keys, members),
    var("smismember", [keys], members),
    cmd("scard", keys),
    cmd("smove", keys, keys, members),
    cmd("sintercard", st.just("2"), keys, keys),
    cmd("sinterstore", keys, keys, keys),
    cmd("sunionstore", keys, keys, keys),
    cmd("sdiffstore", keys, keys, keys),
]
sorted_replies = [
    cmd("smembers", keys),
    cmd("sinter", keys, keys),
    cmd("sunion", keys, keys),
    cmd("sdiff", keys, keys),
]
zsets = [
    st.tuples(keys, st.lists(st.tuples(scores, members), min_size=1, max_size=3)).map(
        lambda t: ["zadd", t[0], *[x for pair in t[1] for x in pair]]
    ),
    cmd("zadd", keys, st.sampled_from(["nx", "xx", "gt", "lt", "ch", "incr"]), scores, members),
    cmd("zincrby", keys, scores, members),
    var("zrem", [keys], members),
    cmd("zscore", keys, members),
    cmd("zcard", keys),
    cmd("zcount", keys, scores, scores),
    cmd("zrange", keys, ints, ints, st.sampled_from(["withscores", "rev"])),
    cmd("zrange", keys, scores, scores, st.just("byscore")),
    cmd("zrangebyscore", keys, scores, scores),
    cmd("zrevrangebyscore", keys, scores, scores, st.just("withscores")),
    cmd("zrangebylex", keys, lexes, lexes),
    cmd("zlexcount", keys, lexes, lexes),
    cmd("zrank", keys, members),
    cmd("zrevrank", keys, members),
    cmd("zremrangebyrank", keys, ints, ints),
    cmd("zremrangebyscore", keys, scores, scores),
    cmd("zpopmin", keys),
    cmd("zpopmax", keys, st.sampled_from(["1", "2"])),
    cmd("zunionstore", keys, st.just("2"), keys, keys),
    cmd(
        "zinterstore",
        keys,
        st.just("2"),
        keys,
        keys,
        st.just("aggregate"),
        st.sampled_from(["min", "max", "sum"]),
    ),
    cmd("zdiff", st.just("2"), keys, keys, st.just("withscores")),
    cmd("zmscore", keys, members, members),
]

more = [
    cmd("set", keys, members, st.sampled_from(["nx", "xx", "get", "keepttl", "ex 100", "px 0"])),
    cmd("getex", keys, st.sampled_from(["persist", "ex 100", "px 0", "exat 1", "foo"])),
    cmd("expire", keys, st.sampled_from(["100", "200"]), st.sampled_from(["nx", "xx", "gt", "lt"])),
    cmd("copy", keys, keys, st.sampled_from(["replace", "db 1", "db 1 replace"])),
    cmd("move", keys, st.sampled_from(["0", "1"])),
    cmd("bitop", st.sampled_from(["and", "or", "xor", "not"]), keys, keys),
    cmd(
        "bitfield",
        keys,
        st.sampled_from(["get", "set", "incrby"]),
        st.sampled_from(["u4", "i8"]),
        st.sampled_from(["0", "3", "#1"]),
        ints,
    ),
    cmd("getbit", keys, st.sampled_from(["0", "7", "100"])),
    cmd("lcs", keys, keys, st.sampled_from(["len", "idx", "idx withmatchlen"])),
    cmd(
        "lpos", keys, members, st.sampled_from(["rank -1", "count 0", "maxlen 2", "rank 2 count 2"])
    ),
    cmd("zrangestore", keys, keys, ints, ints),
    cmd("zrange", keys, lexes, lexes, st.sampled_from(["bylex", "bylex rev", "bylex limit 1 1"])),
    cmd("zintercard", st.just("2"), keys, keys, st.sampled_from(["limit 1", "limit 0"])),
    cmd(
        "zunion",
        st.just("2"),
        keys,
        keys,
        st.sampled_from(["weights 2 0.5", "aggregate max", "withscores"]),
    ),
    cmd("sintercard", st.just("2"), keys, keys, st.sampled_from(["limit 1", "limit 0"])),
    cmd("zmpop", st.just("2"), keys, keys, st.sampled_from(["min", "max count 2"])),
    cmd("lmpop", st.just("1"), keys, st.sampled_from(["left count 2", "right"])),
    cmd("blpop", keys, keys, st.just("0.01")),
    cmd("blmove", keys, keys, st.sampled_from(["left right", "right left"]), st.just("0.01")),
    cmd("bzpopmax", keys, st.just("0.01")),
    cmd("blmpop", st.just("0.01"), st.just("2"), keys, keys, st.sampled_from(["left", "right"])),
]


FAMILIES = {
    "strings": strings + generic,
    "lists": lists + generic,
    "hashes": hashes + generic,
    "sets": sets + generic,
    "zsets": zsets + generic,
    "mixed": strings + lists + hashes + sets + zsets + generic,
    "options": more + strings[:4] + lists[:3] + zsets[:3] + sets[:2] + generic,
}


def run_sequence(diff: Differ, sequence: list[tuple[Cmd, bool]]) -> None:
    diff.call("flushall")
    for args, unordered in sequence:
        diff.call(*args, mode="sort" if unordered else None)


def sequences(family: list[st.SearchStrategy[Cmd]]) -> st.SearchStrategy[list[tuple[Cmd, bool]]]:
    ordered = st.one_of(*family).map(lambda c: (c, False))
    unordered = st.one_of(*sorted_replies).map(lambda c: (c, True))
    return st.lists(st.one_of(ordered, ordered, ordered, unordered), min_size=1, max_size=40)


SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_random_sequences(diff: Differ, family: str) -> None:
    @SETTINGS
    @given(sequences(FAMILIES[family]))
    def check(sequence: list[tuple[Cmd, bool]]) -> None:
        run_sequence(diff, sequence)

    check()


def test_random_sequences_resp3(diff: Differ) -> None:
    diff.call("hello", "3", mode="len")

    @SETTINGS
    @given(sequences(FAMILIES["mixed"]))
    def check(sequence: list[tuple[Cmd, bool]]) -> None:
        run_sequence(diff, sequence)

    check()


tx_commands = [
    cmd("watch", keys),
    cmd("unwatch"),
    cmd("multi"),
    cmd("exec"),
    cmd("discard"),
    cmd("set", keys, members),
    cmd("incr", keys),
    cmd("get", keys),
    cmd("del", keys),
    cmd("lpush", keys, members),
    cmd("expire", keys, st.sampled_from(["100", "0"])),
    cmd("flushdb"),
    cmd("select", st.sampled_from(["0", "1"])),
    cmd("swapdb", st.just("0"), st.just("1")),
    cmd("nosuchcommand"),
    cmd("get"),
]


@pytest.mark.parametrize("protocol", ["2", "3"])
def test_random_transactions_over_two_connections(diff: Differ, protocol: str) -> None:
    @SETTINGS
    @given(st.lists(st.tuples(st.sampled_from(["c1", "c2"]), st.one_of(*tx_commands)), max_size=40))
    def check(sequence: list[tuple[str, Cmd]]) -> None:
        diff.call("flushall")
        for conn in ("c1", "c2"):
            diff.call("reset", conn=conn)
            diff.call("hello", protocol, conn=conn, mode="len")
        for conn, args in sequence:
            diff.call(*args, conn=conn)

    check()
