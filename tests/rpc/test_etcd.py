"""etcd as the registry: leased keys, watch-driven discovery, revocation on shutdown."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest

import gee.rpc
from gee.rpc.etcd import EtcdDiscovery, _prefix_end, announce_etcd
from gee.rpc.xclient import XClient
from tests.rpc.services import Args, Arith
from tests.servers import RunningServer, etcd_request

pytestmark = pytest.mark.etcd


async def eventually(check: Callable[[], bool], within: float) -> None:
    async with asyncio.timeout(within):
        while not check():
            await asyncio.sleep(0.01)


async def arith_server() -> gee.rpc.Server:
    server = gee.rpc.Server()
    server.register(Arith())
    await server.start()
    return server


def test_prefix_end_is_last_byte_plus_one() -> None:
    assert _prefix_end("/a/") == "L2Ew"  # "/a0"


async def test_servers_come_and_go_within_a_second(etcd_server: RunningServer) -> None:
    url = etcd_server.extra["url"]
    prefix = f"/geerpc-test/{uuid.uuid4().hex}/"
    one, two = await arith_server(), await arith_server()
    await announce_etcd(one, url, prefix=prefix, ttl=2)
    discovery = EtcdDiscovery(url, prefix=prefix)
    async with XClient(discovery, "round_robin") as xc:
        assert await discovery.servers() == [str(one.addresses[0])]
        await announce_etcd(two, url, prefix=prefix, ttl=2)
        both = sorted(str(s.addresses[0]) for s in (one, two))
        await eventually(lambda: discovery._servers == both, within=1.0)
        assert [await xc.call("Arith.Multiply", Args(i, 3)) for i in range(4)] == [0, 3, 6, 9]
        await asyncio.sleep(2.5)  # past the lease ttl: keep-alives hold both keys
        assert discovery._servers == both
        await two.shutdown()  # revokes the lease: the key goes at once
        await eventually(lambda: discovery._servers == [str(one.addresses[0])], within=1.0)
        assert await xc.call("Arith.Multiply", Args(5, 5)) == 25
    await one.shutdown()
    fresh = EtcdDiscovery(url, prefix=prefix)
    assert await fresh.servers() == []
    await fresh.close()


async def test_crashed_server_expires_with_its_lease(etcd_server: RunningServer) -> None:
    url = etcd_server.extra["url"]
    prefix = f"/geerpc-test/{uuid.uuid4().hex}/"
    server = await arith_server()
    announcement = await announce_etcd(server, url, prefix=prefix, ttl=2)
    discovery = EtcdDiscovery(url, prefix=prefix)
    assert len(await discovery.servers()) == 1
    assert announcement.task is not None
    announcement.task.cancel()  # a crash: keep-alives stop, nobody revokes
    await eventually(lambda: discovery._servers == [], within=5.0)
    server.on_shutdown.clear()
    await server.shutdown()
    await discovery.close()


async def test_one_url_configures_both_sides(etcd_server: RunningServer) -> None:
    where = f"etcd://127.0.0.1:{etcd_server.port}/geerpc-test/{uuid.uuid4().hex}/"
    server = await arith_server()
    await gee.rpc.announce(server, where)
    async with XClient(gee.rpc.discover(where)) as xc:
        assert await xc.call("Arith.Multiply", Args(4, 5)) == 20
    await server.shutdown()


async def test_many_first_calls_start_one_watch(etcd_server: RunningServer) -> None:
    url = etcd_server.extra["url"]
    prefix = f"/geerpc-test/{uuid.uuid4().hex}/"
    before = asyncio.all_tasks()
    discovery = EtcdDiscovery(url, prefix=prefix)
    lists = await asyncio.gather(*(discovery.servers() for _ in range(50)))
    assert lists == [[]] * 50
    await discovery.close()
    leftover = [t for t in asyncio.all_tasks() - before if not t.done()]
    assert leftover == [], f"got {len(leftover)} tasks left after close(); want none"


async def test_an_address_is_announced_without_a_server(etcd_server: RunningServer) -> None:
    url = etcd_server.extra["url"]
    prefix = f"/geerpc-test/{uuid.uuid4().hex}/"
    announcement = await announce_etcd(None, url, prefix=prefix, address="tcp@10.0.0.1:1")
    discovery = EtcdDiscovery(url, prefix=prefix)
    assert await discovery.servers() == ["tcp@10.0.0.1:1"]
    await announcement.stop()  # leaves at once
    await eventually(lambda: discovery._servers == [], within=1.0)
    await announcement.stop()  # a second stop does nothing
    await discovery.close()


async def test_announcing_needs_a_server_or_an_address() -> None:
    with pytest.raises(TypeError, match="address="):
        await announce_etcd(None, "http://127.0.0.1:1")


async def test_a_lost_lease_is_taken_again(etcd_server: RunningServer) -> None:
    """The lease revoked behind the server's back: its key comes back on a new lease."""
    url = etcd_server.extra["url"]
    prefix = f"/geerpc-test/{uuid.uuid4().hex}/"
    server = await arith_server()
    address = str(server.addresses[0])
    discovery = EtcdDiscovery(url, prefix=prefix)
    try:
        announcement = await announce_etcd(server, url, prefix=prefix, ttl=2)
        assert await discovery.servers() == [address]
        lost = announcement.lease
        etcd_request(etcd_server, "/v3/lease/revoke", {"ID": lost})
        await eventually(lambda: discovery._servers == [], within=1.0)
        # the next keep-alive (every ttl/3) hears the lease is gone and puts the key again;
        # the watch may report the put before the put's own reply reaches the announcer
        await eventually(lambda: discovery._servers == [address], within=3.0)
        await eventually(lambda: announcement.lease != lost, within=1.0)
        await server.shutdown()  # revokes the new lease
        await eventually(lambda: discovery._servers == [], within=1.0)
    finally:
        await server.shutdown()
        await discovery.close()


async def test_a_closed_discovery_starts_again(etcd_server: RunningServer) -> None:
    url = etcd_server.extra["url"]
    prefix = f"/geerpc-test/{uuid.uuid4().hex}/"
    before = asyncio.all_tasks()
    discovery = EtcdDiscovery(url, prefix=prefix)
    assert await discovery.servers() == []
    await discovery.close()
    announcement = await announce_etcd(None, url, prefix=prefix, address="tcp@10.0.0.2:2")
    got = await discovery.servers()  # a fresh load, not the list from before close()
    assert got == ["tcp@10.0.0.2:2"], f"got {got} after close(); want the current list"
    await announcement.stop()
    await eventually(lambda: discovery._servers == [], within=1.0)  # and watched again
    await discovery.close()
    leftover = [t for t in asyncio.all_tasks() - before if not t.done()]
    assert leftover == [], f"got {len(leftover)} tasks left after close(); want none"
