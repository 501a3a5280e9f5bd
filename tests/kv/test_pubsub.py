"""Differential tests of pub/sub in RESP2 and RESP3, plus the output-limit disconnect."""

from __future__ import annotations

import pytest

from tests.kv.conftest import Differ, ThreadedServer
from tests.kv.resp_client import RawClient

pytestmark = pytest.mark.redis


def test_subscribe_publish_resp2(diff: Differ) -> None:
    diff.call("subscribe", "a", "b", conn="sub")
    diff.read(conn="sub")
    diff.call("psubscribe", "n*", conn="sub")
    diff.call("publish", "a", "hello")
    diff.read(conn="sub")
    diff.call("publish", "news", "x")
    diff.read(conn="sub")
    diff.call("publish", "nobody", "x")
    diff.script(
        """
        get a
        ping
        ping hi
        pubsub numpat
        pubsub channels
        """,
        conn="sub",
    )
    diff.script(
        """
        pubsub channels |sort
        pubsub channels a*
        pubsub numsub a b c
        pubsub numpat
        pubsub foo
        """
    )
    diff.call("unsubscribe", "a", conn="sub")
    diff.call("unsubscribe", conn="sub")
    diff.call("punsubscribe", conn="sub")
    diff.call("punsubscribe", conn="sub")
    diff.call("unsubscribe", conn="sub")
    diff.call("get", "a", conn="sub")


def test_resp3_push(diff: Differ) -> None:
    diff.call("hello", "3", conn="sub", mode="len")
    diff.call("subscribe", "a", conn="sub")
    diff.call("get", "a", conn="sub")
    diff.call("publish", "a", "m1", conn="sub")
    diff.read(conn="sub")
    diff.call("publish", "a", "m2")
    diff.read(conn="sub")
    diff.call("psubscribe", "*", conn="sub")
    diff.call("publish", "a", "m3")
    diff.read(conn="sub")
    diff.read(conn="sub")
    diff.call("reset", conn="sub")
    diff.call("publish", "a", "m4")


@pytest.mark.parametrize("limits", ["pubsub 1mb 0 0", "pubsub 0 256kb 0"])
def test_slow_subscriber_is_dropped(kv_server: ThreadedServer, limits: str) -> None:
    publisher = RawClient(kv_server.port)
    slow = RawClient(kv_server.port)
    slow.sock.setsockopt(__import__("socket").SOL_SOCKET, __import__("socket").SO_RCVBUF, 4096)
    publisher.call("config", "set", "client-output-buffer-limit", limits)
    try:
        slow.call("subscribe", "flood")
        payload = b"x" * 65536
        for _ in range(200):
            publisher.call("publish", "flood", payload)
        assert publisher.call("pubsub", "numsub", "flood") == b"*2\r\n$5\r\nflood\r\n:0\r\n"
        assert publisher.call("ping") == b"+PONG\r\n"
    finally:
        publisher.call("config", "set", "client-output-buffer-limit", "pubsub 33554432 8388608 60")
        publisher.close()
        slow.close()


def test_sharded_pubsub(diff: Differ) -> None:
    diff.call("ssubscribe", "s1", "s2", conn="sub")
    diff.read(conn="sub")
    diff.call("subscribe", "plain", conn="sub")
    diff.call("spublish", "s1", "hi")
    diff.read(conn="sub")
    diff.call("publish", "s1", "not for shard subscribers")
    diff.script(
        """
        pubsub shardchannels |sort
        pubsub shardchannels s1
        pubsub shardnumsub s1 nope
        pubsub channels
        """
    )
    diff.call("get", "x", conn="sub")
    diff.call("sunsubscribe", "s1", conn="sub")
    diff.call("sunsubscribe", conn="sub")
    diff.call("sunsubscribe", conn="sub")
    diff.call("unsubscribe", conn="sub")
    diff.call("get", "x", conn="sub")
