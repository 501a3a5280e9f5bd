"""maxmemory against redis-server: CONFIG replies and errors, -OOM (MULTI included), OBJECT
FREQ/IDLETIME and the INFO memory fields, byte for byte where both are deterministic."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gee.kv import Config, ConfigError
from tests.kv.conftest import Differ, ThreadedServer
from tests.kv.resp_client import RawClient
from tests.servers import RunningServer

pytestmark = pytest.mark.redis


@pytest.fixture
def pair(oracle: RunningServer) -> Iterator[Differ]:
    """A Differ over a private gee.kv and the session's redis-server, whose eviction settings
    are put back afterwards."""
    server = ThreadedServer()
    differ = Differ(server.port, oracle.port)
    try:
        yield differ
    finally:
        differ.close()
        redis = RawClient(oracle.port)
        redis.call("CONFIG", "SET", "maxmemory", 0, "maxmemory-policy", "noeviction")
        redis.call("CONFIG", "SET", "maxmemory-samples", 5, "lfu-log-factor", 10)
        redis.call("CONFIG", "SET", "lfu-decay-time", 1, "maxmemory-eviction-tenacity", 10)
        redis.call("CONFIG", "SET", "maxmemory-clients", 0)
        redis.close()
        server.stop()


BAD_VALUES = [
    ("maxmemory", "abc"),
    ("maxmemory", "-1"),
    ("maxmemory", "1.5mb"),
    ("maxmemory", "10xb"),
    ("maxmemory-samples", "0"),
    ("maxmemory-samples", "5k"),
    ("maxmemory-samples", "+5"),
    ("maxmemory-samples", "05"),
    ("maxmemory-samples", "2147483648"),
    ("maxmemory-eviction-tenacity", "101"),
    ("maxmemory-eviction-tenacity", "-1"),
    ("lfu-log-factor", "-1"),
    ("lfu-log-factor", "x"),
    ("lfu-decay-time", "1mb"),
    ("maxmemory-policy", "lru"),
    ("maxmemory-policy", ""),
    ("maxmemory-clients", "101%"),
    ("maxmemory-clients", "x%"),
    ("stop-writes-on-bgsave-error", "maybe"),
]


@pytest.mark.parametrize(("name", "value"), BAD_VALUES)
def test_config_set_refuses_bad_values_as_redis(diff: Differ, name: str, value: str) -> None:
    diff.call("CONFIG", "SET", name, value)
    diff.call("CONFIG", "GET", name)


GOOD_VALUES = [
    ("maxmemory", "100mb"),
    ("maxmemory", "5K"),
    ("maxmemory", "1b"),
    ("maxmemory", "3GB"),
    ("maxmemory", "18446744073709551616"),
    ("maxmemory", "99999999999999999999gb"),
    ("maxmemory", "0"),
    ("maxmemory-policy", "ALLKEYS-LRU"),
    ("maxmemory-policy", "volatile-ttl"),
    ("maxmemory-samples", "10"),
    ("maxmemory-eviction-tenacity", "100"),
    ("lfu-log-factor", "0"),
    ("lfu-decay-time", "0"),
    ("maxmemory-clients", "10%"),
    ("maxmemory-clients", "1mb"),
]


def test_config_set_and_get_values_as_redis(pair: Differ) -> None:
    for name, value in GOOD_VALUES:
        pair.call("CONFIG", "SET", name, value)
        pair.call("CONFIG", "GET", name)
        if name == "maxmemory":
            pair.call("CONFIG", "SET", name, 0)
    pair.call("CONFIG", "SET", "maxmemory-clients", "0")
    pair.call("CONFIG", "GET", "maxmemory*", mode="pairs")
    pair.call("CONFIG", "GET", "lfu-*", mode="pairs")
    pair.call("CONFIG", "SET", "maxmemory-samples", "5", "lfu-decay-time", "abc")
    pair.call("CONFIG", "GET", "maxmemory-samples")


def test_redis_conf_lines_and_their_errors() -> None:
    config = Config()
    config.load_text("maxmemory 100mb\nmaxmemory-policy Allkeys-LFU\nlfu-log-factor 20\n")
    assert config.values["maxmemory"] == str(100 * 1024 * 1024)
    assert config.values["maxmemory-policy"] == "allkeys-lfu"
    with pytest.raises(ConfigError) as caught:
        Config().load_text("maxmemory 10 mb\n", "r.conf")
    assert "Bad directive or wrong number of arguments" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        Config().load_text("maxmemory-policy lru\n", "r.conf")
    assert str(caught.value).endswith(
        "argument(s) must be one of the following: volatile-lru, volatile-lfu, "
        "volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"
    )


def test_noeviction_answers_oom_and_reads_go_on(pair: Differ) -> None:
    pair.script(
        """
        set pre x
        rpush q a
        multi
        set k v
        get pre
        """
    )
    pair.call("CONFIG", "SET", "maxmemory", 1, conn="admin")
    pair.script(
        """
        exec
        exec
        get pre
        discard
        multi
        get pre
        exec
        multi
        exec
        set z 1
        incr z
        lpush q b
        append pre 1
        setex pre 10 1
        expire pre 100
        ttl pre
        persist pre
        ping
        lrange q 0 -1
        lpop q
        del pre
        exists pre
        flushdb
        dbsize
        """
    )


def test_oom_doom_and_exec_abort_in_multi(pair: Differ) -> None:
    pair.call("SET", "a", 1)
    pair.call("MULTI")
    pair.call("INCR", "a")
    pair.call("CONFIG", "SET", "maxmemory", 1, conn="admin")
    pair.call("DEL", "a")  # refused while queuing: memory is full
    pair.call("EXEC")
    pair.call("MULTI")
    pair.call("CONFIG", "SET", "maxmemory", 0, conn="admin")
    pair.call("GET", "a")
    pair.call("CONFIG", "SET", "maxmemory", 1, conn="admin")
    pair.call("EXEC")  # no denyoom command queued: runs
    pair.call("GET", "a")


def test_object_freq_follows_redis_lfu(pair: Differ) -> None:
    pair.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    pair.script(
        """
        set n v
        object freq n
        get n
        object freq n
        object idletime n
        object freq nope
        rpush x a
        object freq x
        rpush x b
        object freq x
        exists x
        type x
        ttl x
        object freq x
        del x
        object freq x
        hset h f v
        object freq h
        hget h f
        object freq h
        """
    )
    pair.call("CONFIG", "SET", "maxmemory-policy", "volatile-lru")
    # (Redis reads the old LFU bits as an LRU clock after the switch; gee starts afresh.)
    pair.script(
        """
        object freq n
        set fresh v
        object idletime fresh
        """
    )


def test_info_memory_has_redis_fields_in_order(pair: Differ) -> None:
    mine, theirs = pair.conn()
    names = []
    for client in (mine, theirs):
        text = client.call("INFO", "memory").decode()
        names.append([line.split(":")[0] for line in text.split("\r\n")[1:] if ":" in line])
    assert names[0] == names[1]
    pair.call("CONFIG", "SET", "maxmemory", "3mb")
    for client in (mine, theirs):
        text = client.call("INFO", "memory").decode()
        assert "\r\nmaxmemory:3145728\r\nmaxmemory_human:3.00M\r\n" in text
        assert "\r\nmaxmemory_policy:noeviction\r\n" in text
    assert b"\r\nevicted_keys:0\r\n" in mine.call("INFO", "stats")


def test_restore_idletime_and_freq_set_the_tracking(pair: Differ) -> None:
    pair.call("CONFIG", "SET", "maxmemory", "1gb")  # gee tracks only with a limit set
    pair.call("SET", "src", "value")
    payload = pair.call("DUMP", "src")
    payload = payload[payload.index(b"\r\n") + 2 : -2]
    pair.call("RESTORE", "k", 0, payload, "IDLETIME", 1000)
    pair.call("OBJECT", "IDLETIME", "k")
    pair.call("RESTORE", "k", 0, payload, "REPLACE", "IDLETIME", 50)
    pair.call("OBJECT", "IDLETIME", "k")
    pair.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    for freq in (0, 3, 100, 255):
        pair.call("RESTORE", f"f{freq}", 0, payload, "FREQ", freq)
        pair.call("OBJECT", "FREQ", f"f{freq}")
    pair.call("RESTORE", "f0", 0, payload, "REPLACE", "FREQ", 7)
    pair.call("OBJECT", "FREQ", "f0")
