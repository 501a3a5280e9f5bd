"""Eviction under load, against a real ``gee kv`` process: the limit holds, volatile policies
spare keys without a TTL, LRU keeps what is read, LFU what is read often, volatile-ttl takes
the nearest deadline first; evictions reach WATCH and the AOF.

The write loads are bounded by time (a couple of seconds each), not by count, so a slow machine
writes less but checks the same things.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kv.conftest import ThreadedServer
from tests.kv.resp_client import RawClient
from tests.servers import free_port

OOM = b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"


@contextlib.contextmanager
def gee_kv(workdir: Path, *flags: str) -> Iterator[RawClient]:
    """A ``gee kv`` process started with ``flags``; yields a connection to it."""
    port = free_port()
    argv = [sys.executable, "-m", "gee", "kv", "--port", str(port), "--bind", "127.0.0.1"]
    argv += ["--dir", str(workdir), "--save", "", *flags]
    with open(workdir / "gee.log", "ab") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, f"gee kv exited with {proc.returncode}"
            try:
                client = RawClient(port, timeout=10)
                break
            except OSError:
                assert time.monotonic() < deadline, "gee kv did not start"
                time.sleep(0.05)
        try:
            yield client
        finally:
            client.close()
    finally:
        proc.terminate()
        proc.wait(10)


def info(client: RawClient, section: str) -> dict[str, str]:
    text = client.call("INFO", section).decode()
    return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)


def test_write_load_keeps_used_memory_under_the_limit(tmp_path: Path) -> None:
    limit = 4 * 1024 * 1024
    with gee_kv(tmp_path, "--maxmemory", "4mb", "--maxmemory-policy", "allkeys-lru") as c:
        written = 0
        checks = 0
        end = time.monotonic() + 3
        while time.monotonic() < end:
            batch: list[list[object]] = []
            for _ in range(100):
                i = written
                written += 1
                kind = i % 5
                if kind == 0:
                    batch.append(["RPUSH", f"list:{i}", *(["element"] * (i % 40 + 1))])
                elif kind == 1:
                    batch.append(["HSET", f"hash:{i}", "a", "x" * (i % 300), "b", i])
                elif kind == 2:
                    batch.append(["ZADD", f"zset:{i}", i, "m1", i + 1, f"m{i}"])
                else:
                    batch.append(["SET", f"string:{i}", "v" * (i % 500)])
            replies = c.pipeline(batch)
            assert all(not r.startswith(b"-") for r in replies), replies[:3]
            memory = info(c, "memory")
            used = int(memory["used_memory"])
            assert used <= limit, f"used_memory {used} over maxmemory {limit} after {written}"
            checks += 1
        stats = info(c, "stats")
        dbsize = int(c.call("DBSIZE")[1:-2])
        assert int(stats["evicted_keys"]) + dbsize == written
        assert int(stats["evicted_keys"]) > written // 4, "the load never reached the limit"
        assert int(info(c, "memory")["used_memory"]) <= limit
        assert checks > 10


@pytest.mark.parametrize(
    "policy", ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"]
)
def test_volatile_policies_never_evict_keys_without_ttl(tmp_path: Path, policy: str) -> None:
    with gee_kv(tmp_path, "--maxmemory", "2mb", "--maxmemory-policy", policy) as c:
        keep = [f"keep:{i}" for i in range(500)]
        c.pipeline([["SET", key, "p" * 100] for key in keep])
        i = 0
        end = time.monotonic() + 1.5
        while time.monotonic() < end or int(info(c, "stats")["evicted_keys"]) < 1000:
            replies = c.pipeline(
                [["SET", f"t:{i + j}", "t" * 100, "EX", 10_000] for j in range(200)]
            )
            assert set(replies) == {b"+OK\r\n"}, "a volatile key could be evicted instead"
            i += 200
        assert c.call("EXISTS", *keep) == b":500\r\n"
        # Fill the rest with keys that may not go: then writes are refused, reads go on.
        j = 0
        while True:
            reply = c.call("SET", f"more:{j}", "m" * 100)
            if reply == OOM:
                break
            assert reply == b"+OK\r\n"
            j += 1
            assert j < 100_000, "never refused"
        assert c.call("EXISTS", *keep, *[f"more:{k}" for k in range(j)]) == b":%d\r\n" % (500 + j)
        assert c.call("GET", "keep:0") == b"$100\r\n" + b"p" * 100 + b"\r\n"
        assert c.call("DEL", "keep:0") == b":1\r\n"
        assert c.call("EXPIRE", "keep:1", 10) == b":1\r\n"  # not denyoom: allowed


def test_allkeys_lru_keeps_the_keys_being_read(tmp_path: Path) -> None:
    hot = [f"hot:{i}" for i in range(100)]
    with gee_kv(tmp_path, "--maxmemory", "3mb", "--maxmemory-policy", "allkeys-lru") as c:
        c.pipeline([["SET", key, "h" * 100] for key in hot])
        i = 0
        end = time.monotonic() + 3
        while time.monotonic() < end:
            c.pipeline([["SET", f"cold:{i + j}", "c" * 100] for j in range(100)])
            i += 100
            c.call("MGET", *hot)  # an access (EXISTS is not one, as in Redis)
            kept = c.call("EXISTS", *hot)
            assert kept == b":100\r\n", f"hot keys left {kept!r} after {i} writes"
        assert c.call("OBJECT", "IDLETIME", "hot:0") == b":0\r\n"
        evicted = int(info(c, "stats")["evicted_keys"])
        assert evicted > i // 2, f"only {evicted} of {i} cold keys evicted"


def test_allkeys_lfu_keeps_the_keys_read_often(tmp_path: Path) -> None:
    hot = [f"hot:{i}" for i in range(100)]
    with gee_kv(tmp_path, "--maxmemory", "3mb", "--maxmemory-policy", "allkeys-lfu") as c:
        c.pipeline([["SET", key, "h" * 100] for key in hot])
        c.pipeline([["MGET", *hot]] * 20)  # counters climb above a new key's 5
        for key in hot[:5]:
            freq = int(c.call("OBJECT", "FREQ", key)[1:-2])
            assert freq > 5, f"{key} freq {freq} after 20 reads"
        i = 0
        end = time.monotonic() + 3
        while time.monotonic() < end:
            replies = c.pipeline([["SET", f"cold:{i + j}", "c" * 100] for j in range(100)])
            assert replies[-1] == b"+OK\r\n"
            i += 100
            c.call("MGET", *hot)
            assert c.call("EXISTS", *hot) == b":100\r\n", f"a hot key was evicted after {i}"
        assert int(info(c, "stats")["evicted_keys"]) > i // 2
        assert c.call("OBJECT", "FREQ", f"cold:{i - 1}") == b":5\r\n"


def test_volatile_ttl_evicts_the_nearest_deadlines_first() -> None:
    server = ThreadedServer(**{"maxmemory-policy": "volatile-ttl", "maxmemory-samples": "5"})
    c = RawClient(server.port)
    try:
        n = 2000
        c.call("CONFIG", "SET", "maxmemory", "1gb")  # tracking on: its tables count too
        c.pipeline([["SET", f"k:{i}", "v" * 100, "EX", 10_000 + i] for i in range(n)])
        used = int(info(c, "memory")["used_memory"])
        per_key = (used - int(info(c, "memory")["used_memory_overhead"])) // n
        c.call("CONFIG", "SET", "maxmemory", used - per_key * n // 2)  # room for about half
        c.call("PING")
        left = [i for i in range(n) if c.call("EXISTS", f"k:{i}") == b":1\r\n"]
        assert n * 0.4 < len(left) < n * 0.6
        first_quarter = sum(1 for i in left if i < n // 4)
        last_quarter = sum(1 for i in left if i >= n * 3 // 4)
        assert first_quarter < n // 4 * 0.1, f"{first_quarter} of the nearest deadlines kept"
        assert last_quarter == n // 4, f"{n // 4 - last_quarter} of the farthest evicted"
    finally:
        c.close()
        server.stop()


def test_eviction_breaks_watch_and_reaches_the_aof(tmp_path: Path) -> None:
    options = {"dir": str(tmp_path), "appendonly": "yes", "appendfsync": "always"}
    server = ThreadedServer(**options, **{"maxmemory-policy": "allkeys-random"})
    c = RawClient(server.port)
    try:
        c.pipeline([["SET", f"k:{i}", "v" * 100] for i in range(1000)])
        c.call("WATCH", "k:1")
        c.call("CONFIG", "SET", "maxmemory", 1)  # every key must go
        deadline = time.monotonic() + 10
        while c.call("DBSIZE") != b":0\r\n":  # 500 us of eviction per command, then the loop's
            assert time.monotonic() < deadline
            time.sleep(0.01)
        c.call("CONFIG", "SET", "maxmemory", 0)  # (full, MULTI would refuse even a GET)
        c.call("MULTI")
        c.call("GET", "k:1")
        assert c.call("EXEC") == b"*-1\r\n"  # the eviction broke the WATCH
        c.call("SET", "after", "1")
    finally:
        c.close()
        server.stop()
    again = ThreadedServer(**options)  # replays the AOF: the evictions were appended as DEL
    c = RawClient(again.port)
    try:
        assert c.call("DBSIZE") == b":1\r\n"
        assert c.call("GET", "after") == b"$1\r\n1\r\n"
    finally:
        c.close()
        again.stop()
