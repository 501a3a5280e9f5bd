"""DUMP and RESTORE: replies identical to redis-server's, and payloads that cross both ways."""

from __future__ import annotations

import pytest

from tests.kv.conftest import Differ, ThreadedServer
from tests.kv.persist.dataset import call, full_dump, populate
from tests.kv.resp_client import RawClient
from tests.servers import RunningServer

pytestmark = pytest.mark.redis


def test_restore_errors_match_redis(diff: Differ) -> None:
    diff.script(
        """
        SET s hello
        RPUSH l a b c
        DUMP nosuchkey
        RESTORE s 0 x
        RESTORE s 0 x REPLACE
        RESTORE new -1 x
        RESTORE new abc x
        RESTORE new 0 x
        RESTORE new 0 x BOGUS
        RESTORE new 0 x IDLETIME -1
        RESTORE new 0 x FREQ 256
        RESTORE new 0 x FREQ 1 IDLETIME 1
        RESTORE new 0 x IDLETIME
        """
    )


def test_dump_restore_matches_redis(diff: Differ) -> None:
    diff.script(
        """
        SET s hello
        SET n 12345
        RPUSH l a b 3
        HSET h f v
        SADD st 1 2 3
        ZADD z 1 a 2 b
        """
    )
    for key in ("s", "n", "l", "h", "st", "z"):
        payload = call(diff.conn()[1], "DUMP", key)
        diff.call("RESTORE", key + ":copy", 0, payload)
        diff.call("RESTORE", key, 0, payload)
        diff.call("RESTORE", key, 0, payload, "REPLACE", "IDLETIME", 10)
        diff.call("RESTORE", key, 100000, payload, "REPLACE", "FREQ", 5)
        diff.call("PTTL", key, mode="type")
        diff.call("RESTORE", key, 1, payload, "REPLACE", "ABSTTL")
        diff.call("EXISTS", key)
        diff.call("TYPE", key + ":copy")
    diff.call("RESTORE", "late", 4_000_000_000_000, call(diff.conn()[1], "DUMP", "s"), "ABSTTL")
    diff.call("PEXPIRETIME", "late")


def _copy_all(source: int, target: int) -> None:
    """DUMP every key of ``source`` and RESTORE it (with its deadline) into ``target``."""
    src, dst = RawClient(source), RawClient(target)
    try:
        for index in range(16):
            call(src, "SELECT", index)
            call(dst, "SELECT", index)
            _, keys = call(src, "SCAN", 0, "COUNT", 100000)
            for key in keys:
                payload = call(src, "DUMP", key)
                deadline = call(src, "PEXPIRETIME", key)
                ttl = max(deadline, 0)
                assert call(dst, "RESTORE", key, ttl, payload, "ABSTTL") == b"OK", key
    finally:
        src.close()
        dst.close()


@pytest.mark.parametrize("direction", ["redis-to-gee", "gee-to-redis"])
def test_payloads_cross_both_ways(
    kv: RawClient, kv_server: ThreadedServer, oracle: RunningServer, direction: str
) -> None:
    redis = RawClient(oracle.port)
    try:
        call(redis, "FLUSHALL")
        source, target = (oracle.port, kv_server.port)
        if direction == "gee-to-redis":
            source, target = target, source
        populate(redis if source == oracle.port else kv)
        _copy_all(source, target)
        want, got = full_dump(source), full_dump(target)
        assert len(want) == 30
        assert got == want
    finally:
        call(redis, "FLUSHALL")
        redis.close()
