"""An RDB file's IDLE and FREQ opcodes on load, against redis-server loading the same file:
OBJECT IDLETIME / OBJECT FREQ after the load, and the eviction order they give."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.kv.oracle import call, call_int, gee_with, redis_with
from tests.kv.resp_client import RawClient

pytestmark = pytest.mark.redis

# Given to RESTORE on the writing redis-server, which saves them as IDLE / FREQ opcodes.
IDLE = {b"old": 86_400, b"older": 500_000, b"new": 0}
FREQ = {b"cold": 1, b"warm": 40, b"hot": 200}
LRU = ("maxmemory", "100mb", "maxmemory-policy", "allkeys-lru")
# lfu-decay-time 0: no decay, so a minute boundary between load and query changes nothing.
LFU = ("maxmemory-policy", "allkeys-lfu", "lfu-decay-time", "0")


def _used_memory(client: RawClient) -> int:
    for line in client.call("INFO", "memory").split(b"\r\n"):
        if line.startswith(b"used_memory:"):
            return int(line.split(b":")[1])
    raise AssertionError("INFO memory has no used_memory")


def _write_rdb(
    workdir: Path, config: tuple[str, ...], access: dict[bytes, int], option: str, size: int
) -> Path:
    """Have redis-server save keys RESTOREd with IDLETIME or FREQ ``access``; return the file."""
    workdir.mkdir()
    with redis_with(workdir, config) as redis:
        client = RawClient(redis.port)
        try:
            client.call("SET", "template", b"v" * size)
            payload = client.call("DUMP", "template")
            body = payload[payload.index(b"\r\n") + 2 : -2]
            for key, value in access.items():
                assert client.call("RESTORE", key, 0, body, option, value) == b"+OK\r\n"
            client.call("DEL", "template")
            assert client.call("SAVE") == b"+OK\r\n"
        finally:
            client.close()
    return workdir / "dump.rdb"


def _loaded_pair(tmp_path: Path, rdb: Path) -> tuple[Path, Path]:
    dirs = (tmp_path / "redis-load", tmp_path / "gee-load")
    for d in dirs:
        d.mkdir()
        shutil.copy(rdb, d / "dump.rdb")
    return dirs


def test_loaded_freq_matches_redis(tmp_path: Path) -> None:
    rdb = _write_rdb(tmp_path / "writer", LFU, FREQ, "FREQ", 10)
    redis_dir, gee_dir = _loaded_pair(tmp_path, rdb)
    with redis_with(redis_dir, LFU) as redis, gee_with(gee_dir, LFU) as gee:
        for key in FREQ:
            want = call_int(redis.port, "OBJECT", "FREQ", key)
            got = call_int(gee.port, "OBJECT", "FREQ", key)
            assert got == want == FREQ[key], f"{key!r}: got {got}; want {want}"


def test_loaded_idle_matches_redis(tmp_path: Path) -> None:
    rdb = _write_rdb(tmp_path / "writer", LRU, IDLE, "IDLETIME", 10)
    redis_dir, gee_dir = _loaded_pair(tmp_path, rdb)
    with redis_with(redis_dir, LRU) as redis, gee_with(gee_dir, LRU) as gee:
        for key in IDLE:
            want = call_int(redis.port, "OBJECT", "IDLETIME", key)
            got = call_int(gee.port, "OBJECT", "IDLETIME", key)
            # Seconds pass between the two servers' loads and queries on a loaded machine.
            assert abs(got - want) <= 3, f"{key!r}: got {got}; want {want}"
            assert got >= IDLE[key], f"{key!r}: got {got}; want at least {IDLE[key]}"


def test_loaded_access_ignored_without_tracking(tmp_path: Path) -> None:
    """Without maxmemory or an LFU policy gee.kv keeps no access data; the file still loads and
    the keys start fresh once tracking is turned on."""
    rdb = _write_rdb(tmp_path / "writer", LRU, IDLE, "IDLETIME", 10)
    gee_dir = tmp_path / "gee"
    gee_dir.mkdir()
    shutil.copy(rdb, gee_dir / "dump.rdb")
    with gee_with(gee_dir, ()) as gee:
        assert call_int(gee.port, "DBSIZE") == len(IDLE)
        assert call(gee.port, "CONFIG", "SET", *LRU) == b"+OK\r\n"
        idle = call_int(gee.port, "OBJECT", "IDLETIME", "older")
        assert idle < 100, f"got {idle}; want a fresh key"


# Two keys the file says are long idle (or rarely used), two it says are fresh (or hot).
EVICT_IDLE = {b"stale1": 100_000, b"stale2": 200_000, b"fresh1": 0, b"fresh2": 0}
EVICT_FREQ = {b"stale1": 0, b"stale2": 1, b"fresh1": 250, b"fresh2": 255}
VALUE = 100_000


@pytest.mark.parametrize(
    ("policy", "access", "option"),
    [("allkeys-lru", EVICT_IDLE, "IDLETIME"), ("allkeys-lfu", EVICT_FREQ, "FREQ")],
)
def test_loaded_access_orders_eviction_as_redis(
    tmp_path: Path, policy: str, access: dict[bytes, int], option: str
) -> None:
    # 64 samples of 4 keys: missing one of them in a round has odds of (3/4)**64.
    config = ("maxmemory", "100mb", "maxmemory-policy", policy, "maxmemory-samples", "64")
    config += ("lfu-decay-time", "0")
    rdb = _write_rdb(tmp_path / "writer", config, access, option, VALUE)
    redis_dir, gee_dir = _loaded_pair(tmp_path, rdb)
    with redis_with(redis_dir, config) as redis, gee_with(gee_dir, config) as gee:
        for port in (redis.port, gee.port):
            info = RawClient(port)
            try:
                used = _used_memory(info)
                # Room for all but one and a half values: two keys must go, two may stay.
                assert info.call("CONFIG", "SET", "maxmemory", used - VALUE * 3 // 2) == b"+OK\r\n"
                keys = info.call("KEYS", "*")
            finally:
                info.close()
            left = {key for key in access if b"$%d\r\n%s\r\n" % (len(key), key) in keys}
            assert left == {b"fresh1", b"fresh2"}, f"port {port}: got {left}; want the fresh keys"
