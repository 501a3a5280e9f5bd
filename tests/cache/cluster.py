"""In-process gee.cache nodes for tests: one HTTPPool and its own groups per uvicorn server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

import uvicorn

from gee.cache import Group, HTTPPool
from gee.web.types import ASGIApp
from tests.servers import free_ports


@asynccontextmanager
async def serve(app: ASGIApp, port: int) -> AsyncIterator[uvicorn.Server]:
    """Serve ``app`` on 127.0.0.1:``port`` in this event loop until the block ends."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="none"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        if task.done():
            task.result()
            raise RuntimeError(f"uvicorn on port {port} stopped before it started")
        assert server.started, f"uvicorn on port {port} did not start"
        yield server
    finally:
        server.should_exit = True
        await task


@dataclass
class Node:
    """One node: its URL, pool, groups, and the calls its getter received."""

    url: str
    pool: HTTPPool
    group: Group
    calls: list[str] = field(default_factory=list)
    server: uvicorn.Server | None = None


Loader = Callable[[str, str], bytes]


def default_loader(url: str, key: str) -> bytes:
    return f"value-of-{key}".encode("utf-8", "surrogateescape")  # a key may be any bytes


@asynccontextmanager
async def cluster(
    n: int,
    *,
    group: str = "scores",
    cache_bytes: int = 1 << 20,
    loader: Loader = default_loader,
    delay: float = 0.0,
    hot_cache_chance: float = 0.1,
    other_peers: tuple[str, ...] = (),
) -> AsyncIterator[list[Node]]:
    """Start ``n`` nodes that all know each other; each counts its getter's calls.

    ``other_peers`` are URLs of nodes started elsewhere (a Go node), put in the peer list
    after the gee nodes; they must be given the same list.
    """
    ports = free_ports(n)
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    peer_list = [*urls, *other_peers]
    nodes: list[Node] = []
    async with AsyncExitStack() as stack:
        for url in urls:
            calls: list[str] = []

            async def getter(key: str, url: str = url, calls: list[str] = calls) -> bytes:
                calls.append(key)
                if delay:
                    await asyncio.sleep(delay)
                return loader(url, key)

            g = Group(group, cache_bytes, getter, register=False, hot_cache_chance=hot_cache_chance)
            pool = HTTPPool(url, groups={group: g}, timeout=5.0)
            g.peers = pool
            pool.set_peers(*peer_list)
            stack.push_async_callback(pool.aclose)
            nodes.append(Node(url, pool, g, calls))
        for node, port in zip(nodes, ports, strict=True):
            node.server = await stack.enter_async_context(serve(node.pool, port))
        yield nodes
