"""Differential tests of blocking commands: FIFO service, timeouts, MULTI, disconnects."""

from __future__ import annotations

import time

import pytest

from tests.kv.conftest import Differ, ThreadedServer
from tests.kv.resp_client import RawClient

pytestmark = pytest.mark.redis


def test_blpop_served_in_fifo_order(diff: Differ) -> None:
    diff.send("blpop", "q", "0", conn="c1")
    time.sleep(0.05)
    diff.send("blpop", "q", "0", conn="c2")
    time.sleep(0.05)
    diff.call("rpush", "q", "a", "b", "c")
    diff.read(conn="c1")
    diff.read(conn="c2")
    diff.call("lrange", "q", "0", "-1")


def test_blocking_family_wakeups(diff: Differ) -> None:
    diff.send("brpop", "x", "y", "0", conn="c1")
    diff.send("blmove", "src", "dst", "left", "right", "0", conn="c2")
    diff.send("bzpopmin", "z", "0", conn="c3")
    diff.send("bzpopmax", "z2", "0", conn="c4")
    diff.send("blmpop", "0", "2", "m1", "m2", "right", "count", "2", conn="c5")
    diff.send("bzmpop", "0", "1", "z3", "max", "count", "5", conn="c6")
    diff.send("brpoplpush", "s2", "dst", "0", conn="c7")
    time.sleep(0.1)
    diff.call("lpush", "y", "1")
    diff.read(conn="c1")
    diff.call("rpush", "src", "a")
    diff.read(conn="c2")
    diff.call("zadd", "z", "1", "m", "2", "n")
    diff.read(conn="c3")
    diff.call("zadd", "z2", "1", "m", "2", "n")
    diff.read(conn="c4")
    diff.call("rpush", "m2", "1", "2", "3")
    diff.read(conn="c5")
    diff.call("zadd", "z3", "1", "a", "2", "b")
    diff.read(conn="c6")
    diff.call("rpush", "s2", "v")
    diff.read(conn="c7")
    diff.call("lrange", "dst", "0", "-1")


def test_timeouts_and_errors(diff: Differ) -> None:
    diff.call("blpop", "q", "0.05")
    diff.call("blmove", "q", "d", "left", "left", "0.05")
    diff.call("bzpopmin", "q", "0.05")
    diff.call("blmpop", "0.05", "1", "q", "left")
    diff.call("blpop", "q", "-1")
    diff.call("blpop", "q", "x")
    diff.call("blpop", "q", "inf")
    diff.call("set", "s", "x")
    diff.call("blpop", "s", "0")
    diff.call("bzpopmin", "s", "0")
    diff.call("hello", "3", mode="len")
    diff.call("blpop", "q", "0.05")
    diff.call("blmove", "q", "d", "left", "left", "0.05")
    diff.call("hello", "2", mode="len")


def test_blocking_inside_multi_never_blocks(diff: Differ) -> None:
    diff.script(
        """
        multi
        blpop q 0
        brpoplpush q d 0
        bzpopmin z 0
        blmpop 0 1 q left
        exec
        """
    )


def test_push_inside_multi_wakes_after_exec(diff: Differ) -> None:
    diff.send("blpop", "q", "0", conn="c1")
    time.sleep(0.05)
    diff.script(
        """
        multi
        rpush q a
        rpush q b
        lrange q 0 -1
        exec
        """
    )
    diff.read(conn="c1")
    diff.call("lrange", "q", "0", "-1")


def test_pipeline_after_blocking_waits(diff: Differ) -> None:
    mine, theirs = diff.conn("c1")
    for client in (mine, theirs):
        client.send_raw(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n")
    time.sleep(0.05)
    diff.call("rpush", "q", "v")
    diff.read(conn="c1")
    diff.read(conn="c1")


def test_disconnected_blocked_client_leaves_nothing(kv_server: ThreadedServer) -> None:
    blocked = RawClient(kv_server.port)
    blocked.send("blpop", "gone", "0")
    time.sleep(0.05)
    blocked.close()
    time.sleep(0.05)
    other = RawClient(kv_server.port)
    try:
        assert other.call("rpush", "gone", "v") == b":1\r\n"
        assert other.call("llen", "gone") == b":1\r\n"
        assert b"blocked_clients:0" in other.call("info", "clients")
    finally:
        other.call("del", "gone")
        other.close()


def test_client_unblock(diff: Differ) -> None:
    for mode in ("timeout", "error"):
        mine, theirs = diff.conn("blocked")
        ids = []
        for client in (mine, theirs):
            ids.append(client.call("client", "id")[1:-2].decode())
            client.send("blpop", "q", "0")
        time.sleep(0.05)
        main_mine, main_theirs = diff.conn("main")
        got = main_mine.call("client", "unblock", ids[0], mode)
        want = main_theirs.call("client", "unblock", ids[1], mode)
        assert got == want, f"got {got!r}; want {want!r}"
        diff.read(conn="blocked")
    diff.call("client", "unblock", "999999")
    diff.call("client", "unblock", "1", "foo")
