"""gee.kv's memory module: the size estimate and its running total, calibrated against
tracemalloc.

Redis's LFU functions are tested in test_evict.py, the eviction policies against live
servers in test_eviction.py; -OOM, OBJECT FREQ and CONFIG against redis-server in
test_maxmemory_redis.py.
"""

from __future__ import annotations

import gc
import random
import time
import tracemalloc
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gee.kv.evict import SHIFT
from gee.kv.memory import db_overhead, key_size
from tests.kv.conftest import ThreadedServer
from tests.kv.resp_client import RawClient

# -- the running total ------------------------------------------------------------------


@pytest.fixture
def tracked() -> Iterator[ThreadedServer]:
    """A gee.kv with a limit far above what the tests write, so tracking is on."""
    server = ThreadedServer(maxmemory="1gb", **{"maxmemory-policy": "allkeys-lru"})
    try:
        yield server
    finally:
        server.stop()


def _recount(server: ThreadedServer) -> tuple[int, int]:
    """(running total, sum of fresh estimates) of every key, read while the server idles."""
    memory = server.server.memory
    memory.settle()
    fresh = 0
    stored = 0
    for db in server.server.keyspace.dbs:
        for key, value in db.data.items():
            fresh += key_size(key, value, key in db.expires)
            stored += db.meta[key] >> SHIFT
        assert set(db.meta) == set(db.data)
    assert stored == memory.keys_bytes
    return memory.keys_bytes, fresh


def _workload(client: RawClient, seed: int) -> None:
    rng = random.Random(seed)
    keys = [f"k{i}" for i in range(40)]
    commands: list[list[object]] = []
    for _ in range(3000):
        k, other = rng.choice(keys), rng.choice(keys)
        n = rng.randrange(200)
        commands.append(
            rng.choice(
                [
                    ["SET", k, "x" * n],
                    ["APPEND", k, "y" * n],
                    ["SETRANGE", k, n, "z"],
                    ["INCR", k],
                    ["RPUSH", k, *(["e" * n] * rng.randrange(1, 60))],
                    ["LPOP", k, rng.randrange(1, 40)],
                    ["LTRIM", k, 0, n % 20],
                    ["HSET", k, f"f{n}", "v" * n],
                    ["HDEL", k, f"f{n}"],
                    ["SADD", k, *[str(rng.randrange(100)) for _ in range(rng.randrange(1, 50))]],
                    ["SPOP", k, 3],
                    ["ZADD", k, n, f"m{n % 60}"],
                    ["ZREMRANGEBYRANK", k, 0, 2],
                    ["DEL", k],
                    ["EXPIRE", k, 1000],
                    ["PERSIST", k],
                    ["RENAME", k, other],
                    ["COPY", k, other, "REPLACE"],
                    ["MOVE", k, 1],
                    ["SUNIONSTORE", k, k, other],
                    ["LMOVE", k, other, "LEFT", "RIGHT"],
                    ["SET", k, "short", "PX", 1],
                    ["GETDEL", k],
                ]
            )
        )
    client.pipeline(commands)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_running_total_equals_a_fresh_estimate(tracked: ThreadedServer, seed: int) -> None:
    client = RawClient(tracked.port)
    try:
        _workload(client, seed)
        time.sleep(0.01)  # some keys were set to expire after 1 ms
        client.call("SCAN", 0, "COUNT", 1000)  # lazily expires nothing; active cycle may
        client.call("DEBUG", "SLEEP", 0)
        stored, fresh = _recount(tracked)
        assert stored == fresh, f"running total {stored}; fresh estimate {fresh}"
        client.call("SWAPDB", 0, 1)
        client.call("FLUSHDB")
        stored, fresh = _recount(tracked)
        assert stored == fresh
        client.call("FLUSHALL")
        assert _recount(tracked) == (0, 0)
    finally:
        client.close()


def test_debug_populate_is_counted(tracked: ThreadedServer) -> None:
    client = RawClient(tracked.port)
    try:
        client.call("DEBUG", "POPULATE", 5000)
        stored, fresh = _recount(tracked)
        assert stored == fresh > 5000 * 70
    finally:
        client.close()


def _used(client: RawClient) -> int:
    reply = client.call("INFO", "memory").decode()
    for line in reply.split("\r\n"):
        if line.startswith("used_memory:"):
            return int(line.split(":")[1])
    raise AssertionError(reply)


LOADS: dict[str, list[list[object]]] = {
    "short strings": [["SET", f"key:{i}", f"value:{i}"] for i in range(10000)],
    "1 KB strings": [["SET", f"key:{i}", "v" * 1024] for i in range(5000)],
    "strings with TTL": [["SET", f"key:{i}", f"value:{i}", "EX", 1000] for i in range(10000)],
    "small lists": [["RPUSH", f"list:{i}", "a", "bb", "ccc"] for i in range(10000)],
    "one big list": [["RPUSH", "list", *[f"element:{j}" for j in range(100)]] for _ in range(500)],
    "small hashes": [["HSET", f"h:{i}", "name", "ada", "age", i] for i in range(10000)],
    "one big hash": [["HSET", "h", f"field:{i}", f"value:{i}"] for i in range(10000)],
    "sets": [["SADD", f"s:{i % 100}", f"member:{i}"] for i in range(10000)],
    "sorted sets": [["ZADD", f"z:{i % 100}", i, f"member:{i}"] for i in range(10000)],
}


@pytest.mark.parametrize("load", list(LOADS))
def test_estimate_tracks_tracemalloc(tracked: ThreadedServer, load: str) -> None:
    """used_memory's growth stays within 15% of what tracemalloc sees the server allocate."""
    client = RawClient(tracked.port)
    tracemalloc.start()
    try:
        client.call("FLUSHALL")
        gc.collect()
        before_used = _used(client)
        before = tracemalloc.get_traced_memory()[0]
        commands = LOADS[load]
        for i in range(0, len(commands), 1000):
            client.pipeline(commands[i : i + 1000])
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        grown = _used(client) - before_used
        traced = after - before
    finally:
        tracemalloc.stop()
        client.call("FLUSHALL")
        client.close()
    ratio = grown / traced
    assert 0.85 < ratio < 1.15, f"{load}: used_memory grew {grown}; tracemalloc saw {traced}"


def test_used_memory_goes_down_on_delete(tracked: ThreadedServer) -> None:
    client = RawClient(tracked.port)
    try:
        empty = _used(client)
        client.pipeline([["SET", f"k{i}", "v" * 100] for i in range(2000)])
        full = _used(client)
        assert full > empty + 2000 * 130
        client.pipeline([["DEL", f"k{i}"] for i in range(1000)])
        half = _used(client)
        assert half < full - 1000 * 130
        server = tracked.server
        assert half == server.memory.keys_bytes + sum(db_overhead(db) for db in server.keyspace.dbs)
    finally:
        client.close()


def test_used_memory_without_tracking_is_computed_on_demand() -> None:
    server = ThreadedServer()
    client = RawClient(server.port)
    try:
        assert not server.server.memory.tracking
        empty = _used(client)
        client.pipeline([["RPUSH", f"l{i}", "a" * 50, "b" * 50] for i in range(1000)])
        full = _used(client)
        client.call("FLUSHALL")
        assert empty < full - 1000 * 200
        assert _used(client) < full
    finally:
        client.close()
        server.stop()


@settings(max_examples=30, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=80))
def test_estimate_is_a_pure_function_of_the_value(items: list[bytes]) -> None:
    from collections import deque

    for value in (deque(items), set(items), dict(zip(items, items, strict=True))):
        assert key_size(b"k", value, False) == key_size(b"k", value, False)
        assert key_size(b"k", value, True) > key_size(b"k", value, False)


def test_info_memory_peak_startup_and_resetstat(tracked: ThreadedServer) -> None:
    client = RawClient(tracked.port)
    try:

        def memory() -> dict[str, str]:
            text = client.call("INFO", "memory").decode()
            return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)

        client.pipeline([["SET", f"k{i}", "v" * 100] for i in range(3000)])
        full = memory()
        client.call("FLUSHALL")
        empty = memory()
        assert int(empty["used_memory_startup"]) <= int(empty["used_memory"])
        assert int(empty["used_memory"]) < int(full["used_memory"])
        assert int(empty["used_memory_peak"]) >= int(full["used_memory"])
        assert int(full["used_memory_dataset"]) > 3000 * (100 + 2 * 33)
        assert float(full["mem_fragmentation_ratio"]) > 0
        assert full["used_memory_human"].endswith("K") or full["used_memory_human"].endswith("M")
        client.call("SET", "x", "y")
        client.call("CONFIG", "SET", "maxmemory", 1, "maxmemory-policy", "allkeys-random")
        assert client.call("DBSIZE") == b":0\r\n"  # x had to go
        assert b"evicted_keys:1\r\n" in client.call("INFO", "stats")
        client.call("CONFIG", "SET", "maxmemory", "1gb")
        client.call("CONFIG", "RESETSTAT")
        assert b"evicted_keys:0\r\n" in client.call("INFO", "stats")
    finally:
        client.close()


def test_object_idletime_counts_from_the_last_access(tracked: ThreadedServer) -> None:
    client = RawClient(tracked.port)
    try:
        client.call("SET", "read", "v")
        client.call("SET", "idle", "v")
        time.sleep(1.2)
        client.call("GET", "read")
        client.call("EXISTS", "idle")  # not an access, as in Redis (LOOKUP_NOTOUCH)
        assert client.call("OBJECT", "IDLETIME", "read") == b":0\r\n"
        assert client.call("OBJECT", "IDLETIME", "idle") == b":1\r\n"
        assert client.call("OBJECT", "IDLETIME", "nope") == b"$-1\r\n"
    finally:
        client.close()


_KEYS = st.sampled_from([b"a", b"b", b"c"])
_VALUES = st.binary(max_size=120)
_COMMANDS = st.one_of(
    st.tuples(st.just(b"SET"), _KEYS, _VALUES),
    st.tuples(st.just(b"APPEND"), _KEYS, _VALUES),
    st.tuples(st.just(b"RPUSH"), _KEYS, _VALUES, _VALUES),
    st.tuples(st.just(b"LPOP"), _KEYS),
    st.tuples(st.just(b"HSET"), _KEYS, _VALUES, _VALUES),
    st.tuples(st.just(b"HDEL"), _KEYS, _VALUES),
    st.tuples(st.just(b"SADD"), _KEYS, _VALUES),
    st.tuples(st.just(b"SREM"), _KEYS, _VALUES),
    st.tuples(st.just(b"ZADD"), _KEYS, st.integers(-5, 5).map(lambda n: b"%d" % n), _VALUES),
    st.tuples(st.just(b"ZPOPMIN"), _KEYS),
    st.tuples(st.just(b"DEL"), _KEYS),
    st.tuples(st.just(b"EXPIRE"), _KEYS, st.just(b"100")),
    st.tuples(st.just(b"PERSIST"), _KEYS),
    st.tuples(st.just(b"RENAME"), _KEYS, _KEYS),
    st.tuples(st.just(b"COPY"), _KEYS, _KEYS, st.just(b"DB"), st.just(b"1")),
    st.tuples(st.just(b"MOVE"), _KEYS, st.just(b"1")),
    st.tuples(st.just(b"SWAPDB"), st.just(b"0"), st.just(b"1")),
    st.tuples(st.just(b"FLUSHDB")),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(_COMMANDS, max_size=40))
def test_running_total_survives_any_command_sequence(commands: list[tuple[bytes, ...]]) -> None:
    server = _hypothesis_server()
    client = RawClient(server.port)
    try:
        client.call("FLUSHALL")
        client.pipeline([list(command) for command in commands])
        stored, fresh = _recount(server)
        assert stored == fresh, f"running total {stored}; fresh estimate {fresh}"
    finally:
        client.close()


_SERVERS: list[ThreadedServer] = []


def _hypothesis_server() -> ThreadedServer:
    """One tracked server shared by every example (a fixture would be per test)."""
    if not _SERVERS:
        _SERVERS.append(ThreadedServer(maxmemory="1gb"))
    return _SERVERS[0]


@pytest.fixture(scope="module", autouse=True)
def _stop_hypothesis_server() -> Iterator[None]:
    yield
    while _SERVERS:
        _SERVERS.pop().stop()


def test_a_served_blocked_client_is_accounted(tracked: ThreadedServer) -> None:
    waiter = RawClient(tracked.port)
    pusher = RawClient(tracked.port)
    try:
        waiter.send("BLMOVE", "q", "dst", "LEFT", "RIGHT", 5)
        time.sleep(0.1)
        pusher.call("RPUSH", "q", "x" * 500, "y" * 500)
        assert waiter.read() == b"$500\r\n" + b"x" * 500 + b"\r\n"
        stored, fresh = _recount(tracked)
        assert stored == fresh
    finally:
        waiter.close()
        pusher.close()
