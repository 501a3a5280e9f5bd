"""``gee cache``: the size parser, and clusters of real ``gee cache`` processes over SQLite."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gee.cache import HashRing
from gee.cache.cli import parse_size
from tests.cache.nodes import CacheNode, make_cluster, slow_db_loads, write_scores
from tests.servers import free_ports


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("0", 0),
        ("65536", 65536),
        ("64KB", 64 << 10),
        ("64kb", 64 << 10),
        ("64MB", 64 << 20),
        ("64M", 64 << 20),
        ("1GiB", 1 << 30),
        (" 2 GB ", 2 << 30),
    ],
)
def test_parse_size(text: str, want: int) -> None:
    got = parse_size(text)
    assert got == want, f"parse_size({text!r}): got {got}; want {want}"


@pytest.mark.parametrize("text", ["", "MB", "-1", "1.5MB", "12 parsecs"])
def test_parse_size_refuses(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="not a size"):
        parse_size(text)


@pytest.fixture
def gee_cluster(tmp_path: Path) -> Iterator[list[CacheNode]]:
    """Three running ``gee cache`` nodes over the demo table, with a 1 s slow database."""
    nodes = make_cluster(tmp_path, "--slow-db", "1")
    try:
        for node in nodes:
            node.start(tmp_path)
        yield nodes
    finally:
        for node in nodes:
            node.stop()


async def test_demo_scores_come_from_sqlite_once_per_key(tmp_path: Path) -> None:
    """No --db: each node opens ./scores.db, the first creates it with GeeCache's rows."""
    nodes = make_cluster(tmp_path)
    try:
        for node in nodes:
            node.start(tmp_path)
        assert (tmp_path / "scores.db").exists()
        async with httpx.AsyncClient(timeout=30) as client:
            for _ in range(2):
                for node in nodes:
                    for key, want in [("Tom", b"630"), ("Jack", b"589"), ("Sam", b"567")]:
                        response = await client.get(f"{node.api}/api", params={"key": key})
                        got = (response.status_code, response.content)
                        assert got == (200, want), f"{node.api} get({key!r}): got {got}"
            missing = await client.get(f"{nodes[1].api}/api", params={"key": "Kate"})
    finally:
        for node in nodes:
            node.stop()
    for key in ("Tom", "Jack", "Sam"):
        loads = slow_db_loads(nodes, key)
        assert loads == 1, f"[SlowDB] search key {key}: got {loads} in the logs; want 1"
    assert missing.status_code == 500
    assert "Kate not exist" in missing.text, f"got {missing.text!r}"


@pytest.mark.slow
async def test_thousand_concurrent_gets_load_once_in_a_process_cluster(
    gee_cluster: list[CacheNode],
) -> None:
    # 1,000 gets in flight at once, over at most 100 connections: httpx's pool degrades with
    # thousands of queued requests, and the point is concurrency at the cache, not the client.
    # The slow database (1 s) keeps the one load running while the gets pile up on all nodes.
    connections = asyncio.Semaphore(100)
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:

        async def get(i: int) -> httpx.Response:
            async with connections:
                return await client.get(f"{gee_cluster[i % 3].api}/api", params={"key": "Tom"})

        responses = await asyncio.gather(*(get(i) for i in range(1000)))
        bodies = {(r.status_code, r.content) for r in responses}
        assert bodies == {(200, b"630")}, f"got {bodies}; want every answer 200 b'630'"
        stats = [
            (await client.get(f"{n.url}/_groupcache/_stats")).json()["scores"] for n in gee_cluster
        ]
        missing = await client.get(f"{gee_cluster[0].api}/api", params={"key": "Kate"})
    loads = sum(s["local_loads"] for s in stats)
    assert loads == 1, f"got {loads} getter runs in the cluster; want 1"
    assert slow_db_loads(gee_cluster, "Tom") == 1
    assert sum(s["peer_errors"] for s in stats) == 0
    assert missing.status_code == 500
    assert "Kate not exist" in missing.text, f"got {missing.text!r}"


async def test_a_json_table_stands_in_for_the_sqlite_file(tmp_path: Path) -> None:
    """``--db table.json``: a table of any values (the benchmarks serve ``value-of-K``)."""
    db = tmp_path / "table.json"
    db.write_text(json.dumps({"a b": "value-of-a b", "Tom": "not a score"}))
    port, api_port = free_ports(2)
    argv = [sys.executable, "-m", "gee", "cache", "--port", str(port), "--api-port"]
    argv += [str(api_port), "--db", str(db)]
    url, api = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{api_port}"
    node = CacheNode(url, api, port, api_port, argv, tmp_path / "node.log")
    try:
        node.start(tmp_path)
        async with httpx.AsyncClient(timeout=30) as client:
            got = [
                (await client.get(f"{node.api}/api", params={"key": k})).text
                for k in ("a b", "Tom", "a b")
            ]
    finally:
        node.stop()
    assert got == ["value-of-a b", "not a score", "value-of-a b"], f"got {got}"
    assert slow_db_loads([node], "a b") == 1
    assert not (tmp_path / "scores.db").exists(), "a JSON table created a SQLite file too"


def test_cli_module_imports_nothing_heavy() -> None:
    """``gee --help`` imports gee.cache.cli: it must not pull in asyncio, protobuf or servers."""
    code = (
        "import sys, argparse; import gee.cache.cli as m;"
        "m.add_parser(argparse.ArgumentParser().add_subparsers());"
        "heavy = ('asyncio', 'google.protobuf', 'httpx', 'uvicorn', 'gee.web.app',"
        " 'gee.cache.group');"
        "print([name for name in heavy if name in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert done.stdout.strip() == "[]", f"gee.cache.cli imported {done.stdout.strip()}"


def test_gee_help_lists_cache() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gee", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "run a gee.cache node" in done.stdout, done.stdout


@pytest.mark.slow
async def test_peer_killed_mid_run_and_back(tmp_path: Path) -> None:
    """Kill a node (SIGKILL) during a run: gets go on through local loads; restarted, it serves."""
    table = {f"key{i}": 1000 + i for i in range(600)}
    db = tmp_path / "scores.db"
    write_scores(db, table)
    nodes = make_cluster(tmp_path, "--db", str(db))
    asker, victim = nodes[0], nodes[1]
    ring = HashRing.of([n.url for n in nodes])
    victim_keys = [k for k in table if ring.owner(k) == victim.url]
    assert len(victim_keys) >= 60, f"got {len(victim_keys)} keys owned by the victim"
    first, second, third = victim_keys[:20], victim_keys[20:40], victim_keys[40:60]
    try:
        for node in nodes:
            node.start(tmp_path)
        async with httpx.AsyncClient(timeout=30) as client:

            async def get_all(keys: list[str]) -> None:
                for key in keys:
                    response = await client.get(f"{asker.api}/api", params={"key": key})
                    got = (response.status_code, response.text)
                    assert got == (200, str(table[key])), f"get({key!r}): got {got}"

            async def stats(node: CacheNode) -> dict[str, int]:
                response = await client.get(f"{node.url}/_groupcache/_stats")
                return response.json()["scores"]  # type: ignore[no-any-return]

            await get_all(first)
            assert (await stats(asker))["peer_errors"] == 0
            served = (await stats(victim))["server_requests"]
            assert served >= len(first), f"got {served} requests at the victim; want >= 20"

            victim.stop(signal.SIGKILL)
            await get_all(second)
            errors = (await stats(asker))["peer_errors"]
            assert errors == len(second), f"got {errors} peer errors; want {len(second)}"

            victim.start(tmp_path)
            await get_all(third)
            after = await stats(asker)
            assert after["peer_errors"] == len(second), f"new peer errors after restart: {after}"
            served = (await stats(victim))["server_requests"]
            assert served >= len(third), f"got {served} requests at the revived victim; want >= 20"
    finally:
        for node in nodes:
            node.stop()
