"""IDLE and FREQ in the RDB files gee.kv saves: redis-server and a restarted gee.kv loading
the file report the OBJECT IDLETIME / OBJECT FREQ the keys had when gee.kv saved them, and a
policy that is neither LRU nor LFU writes neither opcode, as Redis does."""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gee.kv.persist import rdb
from tests.kv.oracle import call, call_int, gee_with, redis_with
from tests.kv.resp_client import RawClient

pytestmark = pytest.mark.redis

# lfu-decay-time 0: no decay between save and load. lfu-log-factor 0: every read adds one to
# the counter (the odds are 1/((counter - 5) * factor + 1)), so reads give a known counter.
LFU = ("maxmemory-policy", "allkeys-lfu", "lfu-decay-time", "0", "lfu-log-factor", "0")
LRU = ("maxmemory", "100mb", "maxmemory-policy", "allkeys-lru")
# RESTORE ... FREQ / IDLETIME given on gee.kv before it saves.
FREQ = {b"cold": 0, b"warm": 40, b"hot": 255}
IDLE = {b"old": 86_400, b"older": 500_000, b"new": 0}
READS = 7  # GETs of the key "read" (created with the counter at 5) under LFU


def _save(client: RawClient, how: str) -> None:
    """SAVE, or BGSAVE and wait (generously) for the child to finish and be reaped."""
    if how == "SAVE":
        assert client.call("SAVE") == b"+OK\r\n"
        return
    assert client.call("BGSAVE") == b"+Background saving started\r\n"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        info = client.call("INFO", "persistence")
        if b"rdb_bgsave_in_progress:0\r\n" in info:
            assert b"rdb_last_bgsave_status:ok\r\n" in info, info
            return
        time.sleep(0.05)
    raise AssertionError("BGSAVE did not finish in 60 s")


def _restore_all(client: RawClient, access: dict[bytes, int], option: str) -> None:
    """Create the keys of ``access`` by RESTORE with ``option`` (IDLETIME or FREQ)."""
    client.call("SET", "template", "value")
    payload = client.call("DUMP", "template")
    body = payload[payload.index(b"\r\n") + 2 : -2]
    client.call("DEL", "template")
    for key, value in access.items():
        reply = client.call("RESTORE", key, 0, body, option, value)
        assert reply == b"+OK\r\n", f"RESTORE {key!r}: got {reply!r}"


@contextlib.contextmanager
def _loaded(tmp_path: Path, path: Path, config: tuple[str, ...]) -> Iterator[dict[str, int]]:
    """redis-server and gee.kv started with ``config`` on copies of the file at ``path``:
    their ports by name."""
    redis_dir, gee_dir = tmp_path / "redis-load", tmp_path / "gee-load"
    for d in (redis_dir, gee_dir):
        d.mkdir()
        shutil.copy(path, d / "dump.rdb")
    with redis_with(redis_dir, config) as redis, gee_with(gee_dir, config) as gee:
        yield {"redis": redis.port, "gee": gee.port}


@pytest.mark.parametrize("how", ["SAVE", "BGSAVE"])
def test_saved_freq_loads_in_redis_and_gee(tmp_path: Path, how: str) -> None:
    writer = tmp_path / "writer"
    writer.mkdir()
    with gee_with(writer, LFU) as gee:
        client = RawClient(gee.port)
        try:
            _restore_all(client, FREQ, "FREQ")
            client.call("SET", "read", "value")
            for _ in range(READS):
                client.call("GET", "read")
            got = call_int(gee.port, "OBJECT", "FREQ", "read")
            assert got == 5 + READS, f"before the save: got {got}; want {5 + READS}"
            _save(client, how)
        finally:
            client.close()
    want = {**FREQ, b"read": 5 + READS}
    entries = rdb.load((writer / "dump.rdb").read_bytes()).entries
    assert {e.key: (e.freq, e.idle) for e in entries} == {k: (v, None) for k, v in want.items()}
    with _loaded(tmp_path, writer / "dump.rdb", LFU) as ports:
        for name, port in ports.items():
            for key, counter in want.items():
                got = call_int(port, "OBJECT", "FREQ", key)
                assert got == counter, f"{name} {key!r}: got {got}; want {counter}"


def test_saved_idle_loads_in_redis_and_gee(tmp_path: Path) -> None:
    writer = tmp_path / "writer"
    writer.mkdir()
    with gee_with(writer, LRU) as gee:
        client = RawClient(gee.port)
        try:
            _restore_all(client, IDLE, "IDLETIME")
            # A key with a TTL: its EXPIRETIME_MS comes before IDLE, as Redis writes them.
            client.call("SET", "template", "value")
            body = client.call("DUMP", "template")
            body = body[body.index(b"\r\n") + 2 : -2]
            client.call("DEL", "template")
            reply = client.call("RESTORE", "ttl", 100_000_000, body, "IDLETIME", 3_600)
            assert reply == b"+OK\r\n", reply
            _save(client, "SAVE")
        finally:
            client.close()
    want = {**IDLE, b"ttl": 3_600}
    entries = rdb.load((writer / "dump.rdb").read_bytes()).entries
    saved = {e.key: e.idle for e in entries}
    assert saved.keys() == want.keys()
    for key, idle in want.items():
        got = saved[key]
        # Seconds may pass between RESTORE and SAVE on a loaded machine.
        assert got is not None, f"{key!r}: saved without IDLE"
        assert idle <= got <= idle + 10, f"{key!r}: saved {got}; want {idle}"
    assert all(e.freq is None for e in entries)
    with _loaded(tmp_path, writer / "dump.rdb", LRU) as ports:
        for name, port in ports.items():
            for key, idle in want.items():
                got = call_int(port, "OBJECT", "IDLETIME", key)
                assert idle <= got <= idle + 10, f"{name} {key!r}: got {got}; want {idle}"
            ttl = call_int(port, "TTL", "ttl")
            assert 99_000 < ttl <= 100_000, f"{name}: TTL got {ttl}"


# Settings under which neither server writes IDLE or FREQ (gee.kv's tracking on or off).
UNTRACKED = [
    (),
    ("maxmemory", "100mb"),  # noeviction
    ("maxmemory", "100mb", "maxmemory-policy", "allkeys-random"),
    ("maxmemory", "100mb", "maxmemory-policy", "volatile-ttl"),
]


@pytest.mark.parametrize("config", UNTRACKED)
def test_no_access_opcodes_without_lru_or_lfu(tmp_path: Path, config: tuple[str, ...]) -> None:
    files = []
    for name, server_of in (("redis", redis_with), ("gee", gee_with)):
        workdir = tmp_path / name
        workdir.mkdir()
        with server_of(workdir, config) as server:
            client = RawClient(server.port)
            try:
                client.call("SET", "a", "1")
                client.call("SET", "b", "2", "EX", 1000)
                client.call("GET", "a")
                _save(client, "SAVE")
            finally:
                client.close()
        files.append(rdb.load((workdir / "dump.rdb").read_bytes()).entries)
    for entries in files:
        assert sorted(e.key for e in entries) == [b"a", b"b"]
        got = [(e.key, e.idle, e.freq) for e in entries if e.idle is not None or e.freq is not None]
        assert got == [], f"got access opcodes {got}; want none"


def test_lru_without_maxmemory_writes_no_idle(tmp_path: Path) -> None:
    """gee.kv tracks no access without maxmemory or an LFU policy, so it has no idle time to
    save (Redis, which always tracks, writes one); the key loads as just accessed."""
    workdir = tmp_path / "gee"
    workdir.mkdir()
    with gee_with(workdir, ("maxmemory-policy", "allkeys-lru")) as gee:
        assert call(gee.port, "SET", "k", "v") == b"+OK\r\n"
        assert call(gee.port, "SAVE") == b"+OK\r\n"
    entries = rdb.load((workdir / "dump.rdb").read_bytes()).entries
    assert [(e.key, e.idle, e.freq) for e in entries] == [(b"k", None, None)]
