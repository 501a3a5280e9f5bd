"""Differential tests of MULTI/EXEC/DISCARD/WATCH across several connections."""

from __future__ import annotations

import time

import pytest

from tests.kv.conftest import Differ

pytestmark = pytest.mark.redis


def test_multi_exec_discard(diff: Differ) -> None:
    diff.script(
        """
        exec
        discard
        multi
        multi
        set a 1
        incr a
        lpush a x
        get a
        exec
        multi
        set b 1
        discard
        get b
        multi
        set c 1
        nosuchcommand
        get
        exec
        get c
        multi
        watch a
        exec
        multi
        exec
        multi
        config foo
        config get
        exec
        multi
        config get maxclients
        object encoding nope
        exec
        """
    )


def test_watch_is_broken_by_other_clients(diff: Differ) -> None:
    diff.call("set", "k", "1")
    diff.call("watch", "k")
    diff.call("set", "k", "2", conn="other")
    diff.script(
        """
        multi
        set k 3
        exec
        get k
        """
    )
    diff.call("watch", "k")
    diff.call("get", "k", conn="other")
    diff.script(
        """
        multi
        set k 4
        exec
        get k
        """
    )


@pytest.mark.parametrize(
    "breaker",
    [
        ["flushdb"],
        ["flushall"],
        ["swapdb", "0", "1"],
        ["del", "k"],
        ["expire", "k", "100"],
        ["rename", "k", "k2"],
        ["set", "k", "1", "nx"],
        ["del", "nope"],
        ["set", "other", "1"],
    ],
)
def test_watch_breakers(diff: Differ, breaker: list[str]) -> None:
    diff.call("set", "k", "1")
    diff.call("watch", "k")
    diff.call(*breaker, conn="other")
    diff.script(
        """
        multi
        ping
        exec
        """
    )


def test_watch_expired_key(diff: Differ) -> None:
    diff.call("set", "k", "1", "px", "20")
    diff.call("watch", "k")
    time.sleep(0.05)
    diff.script(
        """
        multi
        ping
        exec
        """
    )


def test_unwatch_and_watch_inside_multi(diff: Differ) -> None:
    diff.call("set", "k", "1")
    diff.call("watch", "k")
    diff.call("unwatch")
    diff.call("set", "k", "2", conn="other")
    diff.script(
        """
        multi
        watch k
        get k
        exec
        """
    )


def test_exec_resp3_and_runtime_errors(diff: Differ) -> None:
    diff.script(
        """
        hello 3 |len
        set s x
        multi
        incr s
        hset h a 1
        hgetall h
        zadd z 1 a
        zscore z a
        exec
        watch s
        set s y
        multi
        exec
        hello 2 |len
        """
    )


@pytest.mark.parametrize("breaker", [["flushdb"], ["flushall"], ["swapdb", "0", "1"]])
def test_flush_and_swap_spare_watched_keys_that_do_not_exist(
    diff: Differ, breaker: list[str]
) -> None:
    diff.call("watch", "missing")
    diff.call(*breaker, conn="other")
    diff.script(
        """
        multi
        ping
        exec
        """
    )


def test_swapdb_breaks_watch_on_key_only_in_other_db(diff: Differ) -> None:
    diff.call("watch", "k")
    diff.call("select", "1", conn="other")
    diff.call("set", "k", "v", conn="other")
    diff.call("swapdb", "0", "1", conn="other")
    diff.script(
        """
        multi
        get k
        exec
        """
    )
