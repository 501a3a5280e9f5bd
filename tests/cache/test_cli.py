"""``gee cache``: the size parser, and a 3-node cluster of real ``gee cache`` processes."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from gee.cache.cli import parse_size
from tests.servers import free_ports, port_open, start_process, stop_process, wait_for


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


@dataclass
class CacheNode:
    url: str
    api: str
    log: Path
    proc: subprocess.Popen[bytes]


@pytest.fixture
def gee_cluster(tmp_path: Path) -> Iterator[list[CacheNode]]:
    """Three ``gee cache`` processes that know each other, each with a front API port."""
    ports = free_ports(6)
    urls = [f"http://127.0.0.1:{p}" for p in ports[:3]]
    nodes: list[CacheNode] = []
    try:
        for url, port, api_port in zip(urls, ports[:3], ports[3:], strict=True):
            log = tmp_path / f"node-{port}.log"
            argv = [sys.executable, "-m", "gee", "cache", "--port", str(port), "--self", url]
            argv += ["--peers", ",".join(urls), "--api-port", str(api_port), "--slow-db", "1"]
            proc = start_process(argv, tmp_path, log)
            nodes.append(CacheNode(url, f"http://127.0.0.1:{api_port}", log, proc))
        for node, port, api_port in zip(nodes, ports[:3], ports[3:], strict=True):

            def up(node: CacheNode = node, port: int = port, api_port: int = api_port) -> bool:
                if node.proc.poll() is not None:
                    raise RuntimeError(f"gee cache exited:\n{node.log.read_text()}")
                return port_open(port) and port_open(api_port)

            wait_for(up, what="gee cache")
        yield nodes
    finally:
        for node in nodes:
            stop_process(node.proc)


def slow_db_loads(nodes: list[CacheNode], key: str) -> int:
    return sum(n.log.read_text().count(f"[SlowDB] search key {key}\n") for n in nodes)


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


def test_gee_help_lists_cache_and_is_fast() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gee", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "cache" in done.stdout
    heavy = [
        m for m in ("asyncio", "google.protobuf", "httpx", "uvicorn") if f"| {m}\n" in done.stderr
    ]
    assert heavy == [], f"'gee --help' imported {heavy}; want none of them"
