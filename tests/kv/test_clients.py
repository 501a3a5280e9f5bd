"""Real clients against gee.kv: redis-py (sync, asyncio, pipelines, pub/sub, Lock) and
redis-cli (inline, --pipe, --scan)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
import time

import pytest
import redis
import redis.asyncio

from tests.kv.conftest import ThreadedServer


@pytest.fixture
def r(kv_server: ThreadedServer) -> redis.Redis:
    client = redis.Redis(port=kv_server.port, protocol=3)
    client.flushall()
    yield client
    client.close()


def test_redis_py_sync_resp2_and_resp3(kv_server: ThreadedServer) -> None:
    for protocol in (2, 3):
        client = redis.Redis(port=kv_server.port, protocol=protocol, decode_responses=True)
        try:
            client.flushall()
            assert client.set("a", "1", ex=100) is True
            assert client.get("a") == "1"
            assert client.incr("a") == 2
            client.hset("h", mapping={"x": "1", "y": "2"})
            assert client.hgetall("h") == {"x": "1", "y": "2"}
            client.zadd("z", {"m": 1.5, "n": 2})
            pairs = [tuple(p) for p in client.zrange("z", 0, -1, withscores=True)]
            assert pairs == [("m", 1.5), ("n", 2.0)]
            assert client.zscore("z", "m") == 1.5
            client.sadd("s", "a", "b")
            assert client.smembers("s") == {"a", "b"}
            assert client.rpush("l", "a", "b") == 2
            assert client.lrange("l", 0, -1) == ["a", "b"]
            assert client.ttl("a") == 100
            info = client.info()
            assert info["redis_version"].startswith("7.0")
            assert client.config_get("maxclients") == {"maxclients": "10000"}
            assert client.client_id() > 0
            assert client.dbsize() == 5
        finally:
            client.close()


def test_redis_py_pipeline_transaction_and_watch(r: redis.Redis) -> None:
    with r.pipeline(transaction=True) as pipe:
        pipe.set("a", 1).incr("a").get("a")
        assert pipe.execute() == [True, 2, b"2"]
    with r.pipeline() as pipe:
        pipe.watch("a")
        r.set("a", 10)
        pipe.multi()
        pipe.incr("a")
        with pytest.raises(redis.WatchError):
            pipe.execute()


def test_redis_py_pubsub_and_lock(r: redis.Redis, kv_server: ThreadedServer) -> None:
    pubsub = r.pubsub()
    pubsub.subscribe("news")
    assert pubsub.get_message(timeout=1)["type"] == "subscribe"
    assert r.publish("news", "hello") == 1
    message = pubsub.get_message(timeout=1)
    assert message is not None
    assert message["data"] == b"hello"
    pubsub.close()
    lock = r.lock("resource", timeout=5)
    assert lock.acquire(blocking=False)
    assert not r.lock("resource").acquire(blocking=False)
    assert lock.extend(5)
    assert lock.reacquire()
    lock.release()
    assert r.get("resource") is None


def test_redis_py_blocking_pop(r: redis.Redis, kv_server: ThreadedServer) -> None:
    def push() -> None:
        time.sleep(0.1)
        other = redis.Redis(port=kv_server.port)
        other.rpush("q", "job")
        other.close()

    thread = threading.Thread(target=push)
    thread.start()
    assert r.blpop(["q"], timeout=2) == [b"q", b"job"]
    thread.join()
    assert r.blpop(["q"], timeout=0.1) is None


def test_redis_py_asyncio(kv_server: ThreadedServer) -> None:
    async def main() -> None:
        client = redis.asyncio.Redis(port=kv_server.port)
        try:
            await client.flushall()
            await client.set("k", "v")
            assert await client.get("k") == b"v"
            async with client.pipeline() as pipe:
                pipe.incr("n").incr("n")
                assert await pipe.execute() == [1, 2]
        finally:
            await client.aclose()

    asyncio.run(main())


needs_cli = pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli missing")


@needs_cli
def test_redis_cli_commands_and_pipe(kv_server: ThreadedServer) -> None:
    port = str(kv_server.port)

    def cli(*args: str, stdin: bytes | None = None) -> str:
        done = subprocess.run(
            ["redis-cli", "-p", port, *args], input=stdin, capture_output=True, timeout=10
        )
        return done.stdout.decode()

    assert cli("flushall").strip() == "OK"
    assert cli("set", "greeting", "hello world").strip() == "OK"
    assert cli("get", "greeting").strip() == "hello world"
    assert cli("nosuch").startswith("ERR unknown command 'nosuch'")
    mass = "".join(f"SET key:{i} {i}\r\n" for i in range(1000)).encode()
    output = cli("--pipe", stdin=mass)
    assert "errors: 0, replies: 1000" in output
    keys = cli("--scan", "--pattern", "key:1*").split()
    assert len(keys) == 111
    assert cli("dbsize").strip() == "1001"
    # Interactive mode reads commands from stdin when it is not a terminal.
    assert cli(stdin=b"ping\nincr c\n").split() == ["PONG", "1"]


@pytest.mark.skipif(shutil.which("redis-benchmark") is None, reason="redis-benchmark missing")
def test_redis_benchmark_runs_unchanged(kv_server: ThreadedServer) -> None:
    argv = ["redis-benchmark", "-p", str(kv_server.port), "-n", "2000", "-c", "10", "-P", "4"]
    argv += ["-q", "--csv", "-t", "ping,set,get,incr,lpush,rpop,sadd,hset,zadd,lrange_100,mset"]
    done = subprocess.run(
        argv,
        capture_output=True,
        timeout=60,
    )
    rows = [line for line in done.stdout.decode().splitlines() if line.startswith('"')]
    assert len(rows) >= 12, f"got {done.stdout!r} {done.stderr!r}"
    assert b"ERR" not in done.stdout + done.stderr
