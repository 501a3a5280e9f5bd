"""XClient over three real servers: each mode's choices, broadcast, membership changes."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest

import gee.rpc
from gee.rpc import RemoteError, RPCError
from gee.rpc.discovery import StaticDiscovery
from gee.rpc.xclient import XClient


class Who:
    def __init__(self, name: str) -> None:
        self.name = name
        self.fail = False

    async def Am(self, delay: float) -> str:
        if self.fail:
            raise ValueError(f"{self.name} refuses")
        await asyncio.sleep(delay)
        return self.name


@pytest.fixture
async def trio() -> AsyncIterator[tuple[list[str], list[Who]]]:
    servers, whos, addresses = [], [], []
    for i in range(3):
        server = gee.rpc.Server()
        who = Who(f"s{i}")
        server.register(who)
        addresses.append(str(await server.start()))
        servers.append(server)
        whos.append(who)
    try:
        yield addresses, whos
    finally:
        for server in servers:
            await server.shutdown(grace=0.2)


async def test_random_uses_every_server(trio: tuple[list[str], list[Who]]) -> None:
    async with XClient(StaticDiscovery(trio[0]), "random") as xc:
        got = Counter([await xc.call("Who.Am", 0) for _ in range(60)])
    assert set(got) == {"s0", "s1", "s2"}, f"got {got}"


async def test_round_robin_cycles(trio: tuple[list[str], list[Who]]) -> None:
    async with XClient(StaticDiscovery(trio[0]), "round_robin") as xc:
        got = [await xc.call("Who.Am", 0) for _ in range(6)]
    assert got[:3] == got[3:], f"got {got}"
    assert sorted(got[:3]) == ["s0", "s1", "s2"], f"got {got}"


async def test_p2c_steers_away_from_a_busy_server(trio: tuple[list[str], list[Who]]) -> None:
    addresses, _ = trio
    async with XClient(StaticDiscovery(addresses[:2]), "p2c") as xc:
        await xc.client(addresses[0]).connect()
        busy = [xc.client(addresses[0]).go("Who.Am", 0.5) for _ in range(5)]
        got = Counter([await xc.call("Who.Am", 0) for _ in range(20)])
        assert got == {"s1": 20}, f"got {got}; want every call on the idle server"
        await asyncio.gather(*busy)


async def test_consistent_hash_is_stable_per_key(trio: tuple[list[str], list[Who]]) -> None:
    async with XClient(StaticDiscovery(trio[0]), "consistent_hash") as xc:
        first = {k: await xc.call("Who.Am", 0, key=k) for k in map(str, range(30))}
        again = {k: await xc.call("Who.Am", 0, key=k) for k in map(str, range(30))}
        assert first == again
        assert len(set(first.values())) == 3, f"30 keys landed on {set(first.values())}"
        with pytest.raises(RPCError, match="needs call"):
            await xc.call("Who.Am", 0)


async def test_broadcast_returns_every_reply(trio: tuple[list[str], list[Who]]) -> None:
    async with XClient(StaticDiscovery(trio[0])) as xc:
        assert await xc.broadcast("Who.Am", 0) == ["s0", "s1", "s2"]


async def test_broadcast_first_error_cancels_the_rest(trio: tuple[list[str], list[Who]]) -> None:
    addresses, whos = trio
    whos[1].fail = True
    async with XClient(StaticDiscovery(addresses)) as xc:
        loop = asyncio.get_running_loop()
        start = loop.time()
        # s1 fails at once; the others would take 2 s
        with pytest.raises(RemoteError, match="s1 refuses"):
            await xc.broadcast("Who.Am", 2.0, timeout=5)
        elapsed = loop.time() - start
        assert elapsed < 1.0, f"broadcast took {elapsed:.2f}s; want the error at once"
        assert all(c.in_flight == 0 for c in xc._clients.values())


async def test_no_servers() -> None:
    async with XClient(StaticDiscovery([])) as xc:
        with pytest.raises(RPCError, match="no available servers"):
            await xc.call("Who.Am", 0)


async def test_departed_server_client_is_closed(trio: tuple[list[str], list[Who]]) -> None:
    addresses, _ = trio
    discovery = StaticDiscovery(addresses)
    async with XClient(discovery, "round_robin") as xc:
        for _ in range(3):
            await xc.call("Who.Am", 0)
        assert len(xc._clients) == 3
        discovery.update(addresses[:1])
        assert await xc.call("Who.Am", 0) == "s0"
        assert list(xc._clients) == [addresses[0]]
