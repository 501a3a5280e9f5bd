"""Differential tests of server commands: SELECT, SWAPDB, FLUSH*, INFO and CLIENT LIST shape,
DEBUG, FUNCTION."""

from __future__ import annotations

import pytest

from tests.kv.conftest import Differ
from tests.kv.resp_client import RawClient

pytestmark = pytest.mark.redis


def test_select_swapdb_flush(diff: Differ) -> None:
    diff.script(
        """
        set a 0
        select 1
        set a 1
        set b 1
        dbsize
        swapdb 0 1
        get a
        get b
        select 0
        get a
        get b
        swapdb 0 0
        swapdb 0 99
        swapdb x 1
        swapdb 1 x
        flushdb
        dbsize
        select 1
        dbsize
        flushdb async
        flushdb sync
        flushdb foo
        flushall async
        flushall sync foo
        select 0
        """
    )


def test_info_and_client_list_shape(kv: RawClient) -> None:
    info = kv.call("info").decode()
    for needle in (
        "# Server",
        "redis_version:7.0.15",
        "arch_bits:64",
        "# Clients",
        "connected_clients:",
        "# Memory",
        "# Persistence",
        "# Stats",
        "# Replication",
        "# CPU",
        "# Cluster",
        "cluster_enabled:0",
        "# Keyspace",
    ):
        assert needle in info, f"INFO lacks {needle!r}"
    kv.call("set", "k", "v")
    assert "db0:keys=1,expires=0" in kv.call("info", "keyspace").decode()
    assert kv.call("info", "nosuchsection") == b"$0\r\n\r\n"
    listing = kv.call("client", "list").decode()
    assert "cmd=client|list" in listing
    assert listing.split("\r\n")[1].startswith("id=")
    own_id = int(kv.call("client", "id")[1:-2])
    info_line = kv.call("client", "info").decode()
    assert f"id={own_id} " in info_line


def test_debug_and_function(diff: Differ) -> None:
    diff.script(
        """
        debug sleep 0
        debug sleep 0.01
        debug foo
        debug object nope
        debug populate 5
        debug populate 3 p 10
        debug populate 2 p 3
        mget key:0 key:4 p:0 p:2
        dbsize
        debug populate x
        debug populate -1
        function flush
        function flush async
        function flush foo
        """
    )
