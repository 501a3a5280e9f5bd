"""Discoveries named by one configuration string."""

from __future__ import annotations

import asyncio

import pytest

import gee.rpc
from gee.rpc.discovery import StaticDiscovery, Watcher, discover
from gee.rpc.etcd import EtcdDiscovery
from gee.rpc.registry import RegistryDiscovery


async def test_static_list() -> None:
    d = discover("tcp@127.0.0.1:1, tcp@127.0.0.1:2")
    assert isinstance(d, StaticDiscovery)
    assert await d.servers() == ["tcp@127.0.0.1:1", "tcp@127.0.0.1:2"]
    d.update([])
    assert await d.servers() == []
    assert isinstance(d, gee.rpc.Discovery)


def test_registry_and_etcd_urls() -> None:
    reg = discover("http://127.0.0.1:9999/_geerpc_/registry")
    assert isinstance(reg, RegistryDiscovery)
    assert reg.url == "http://127.0.0.1:9999/_geerpc_/registry"
    etcd = discover("etcd://127.0.0.1:2379/my/services/")
    assert isinstance(etcd, EtcdDiscovery)
    assert (etcd.url, etcd.prefix) == ("http://127.0.0.1:2379", "/my/services/")
    default = discover("etcd://127.0.0.1:2379")
    assert isinstance(default, EtcdDiscovery)
    assert default.prefix == "/geerpc/servers/"


async def test_watcher_retries_a_failed_first_load() -> None:
    loads: list[int] = []

    async def load() -> int:
        loads.append(len(loads))
        await asyncio.sleep(0.01)
        if len(loads) == 1:
            raise gee.rpc.RPCError("registry down")
        return 7

    watched: list[int] = []

    async def watch(state: int) -> None:
        watched.append(state)
        await asyncio.sleep(3600)

    watcher = Watcher(load, watch)
    results = await asyncio.gather(*(watcher.ready() for _ in range(5)), return_exceptions=True)
    assert [str(r) for r in results] == ["registry down"] * 5, f"got {results}"
    await asyncio.gather(*(watcher.ready() for _ in range(5)))
    assert (loads, watched) == ([0, 1], [7]), f"got {loads}, {watched}; want one retry"
    await watcher.close()


async def test_watcher_closed_during_first_load() -> None:
    async def load() -> None:
        await asyncio.sleep(3600)

    async def watch(_: None) -> None:
        raise AssertionError("never reached")

    watcher = Watcher(load, watch)
    waiter = asyncio.ensure_future(watcher.ready())
    await asyncio.sleep(0.01)
    await watcher.close()
    with pytest.raises(gee.rpc.RPCError, match="closed"):
        await waiter
