"""Membership from a real etcd, through gee.rpc's discovery: pools join, leave, and crash out."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from gee.cache import EtcdMembership, HashRing, HTTPPool
from tests.cache.nodes import CacheNode, etcd_cluster, slow_db_loads, write_scores
from tests.servers import RunningServer, etcd_request, free_ports

pytestmark = pytest.mark.etcd


async def eventually(check: Callable[[], bool], within: float) -> None:
    async with asyncio.timeout(within):
        while not check():
            await asyncio.sleep(0.02)


async def test_pools_join_and_leave_at_once(etcd_server: RunningServer) -> None:
    url = etcd_server.extra["url"]
    prefix = f"/geecache-test/{uuid.uuid4().hex}/"
    urls = sorted(f"http://127.0.0.1:{p}" for p in free_ports(3))
    pools = [HTTPPool(u, groups={}) for u in urls]
    members = [EtcdMembership(p, url, prefix=prefix, ttl=10, interval=0.05) for p in pools]
    try:
        for m in members:
            await m.join()
        await eventually(lambda: all(p.peers == urls for p in pools), within=2.0)
        rings = {tuple(p.ring.owner(f"key{i}") for i in range(100)) for p in pools}
        assert len(rings) == 1, "the pools' rings disagree on owners"
        # A clean leave revokes the lease: gone from the others long before the 10 s ttl.
        await members[1].leave()
        rest = [urls[0], urls[2]]
        await eventually(lambda: pools[0].peers == pools[2].peers == rest, within=2.0)
        await members[1].join()  # and back
        await eventually(lambda: all(p.peers == urls for p in pools), within=2.0)
    finally:
        for m in members:
            await m.leave()
        for p in pools:
            await p.aclose()


async def test_a_lost_lease_is_taken_again(etcd_server: RunningServer) -> None:
    """The lease revoked behind the node's back (as if it expired): the node lists itself again."""
    url = etcd_server.extra["url"]
    prefix = f"/geecache-test/{uuid.uuid4().hex}/"
    urls = sorted(f"http://127.0.0.1:{p}" for p in free_ports(2))
    pools = [HTTPPool(u, groups={}) for u in urls]
    members = [EtcdMembership(p, url, prefix=prefix, ttl=2, interval=0.05) for p in pools]
    try:
        for m in members:
            await m.join()
        await eventually(lambda: pools[0].peers == urls, within=2.0)
        lost = members[1]._announcement
        assert lost is not None
        lost_lease = lost.lease
        etcd_request(etcd_server, "/v3/lease/revoke", {"ID": lost_lease})
        await eventually(lambda: pools[0].peers == [urls[0]], within=2.0)
        # The keep-alive (every ttl/3) hears the lease is gone; a new one lists the node again.
        await eventually(lambda: pools[0].peers == urls, within=5.0)
        assert lost.lease != lost_lease, "got the revoked lease still current; want a new one"
    finally:
        for m in members:
            await m.leave()
        for p in pools:
            await p.aclose()


async def test_join_fails_without_etcd() -> None:
    (port,) = free_ports(1)
    pool = HTTPPool("http://127.0.0.1:1", groups={})
    membership = EtcdMembership(pool, f"http://127.0.0.1:{port}")
    with pytest.raises(Exception, match="cannot connect"):
        await membership.join()
    await membership.leave()
    await pool.aclose()


@pytest.mark.slow
async def test_crashed_node_leaves_every_ring_after_its_ttl_and_comes_back(
    etcd_server: RunningServer, tmp_path: Path
) -> None:
    table = {f"key{i}": 1000 + i for i in range(600)}
    db = tmp_path / "scores.db"
    write_scores(db, table)
    prefix = f"/geecache-test/{uuid.uuid4().hex}/"
    nodes = etcd_cluster(tmp_path, etcd_server.extra["url"], prefix, db)
    urls = sorted(n.url for n in nodes)
    victim = nodes[2]
    alive = [nodes[0], nodes[1]]
    three, two = HashRing.of(urls), HashRing.of(sorted(n.url for n in alive))
    moved = [k for k in table if three.owner(k) == victim.url]
    assert len(moved) >= 60, f"got {len(moved)} keys owned by the victim"
    first, second, third = moved[:20], moved[20:40], moved[40:60]
    try:
        for node in nodes:
            node.start(tmp_path)
        async with httpx.AsyncClient(timeout=30) as client:

            async def peers(node: CacheNode) -> list[str]:
                return (await client.get(f"{node.url}/_groupcache/_peers")).json()  # type: ignore[no-any-return]

            async def wait_peers(among: list[CacheNode], want: list[str], within: float) -> None:
                async with asyncio.timeout(within):
                    while [await peers(n) for n in among] != [want] * len(among):
                        await asyncio.sleep(0.05)

            async def get_all(keys: list[str], via: list[CacheNode]) -> None:
                for i, key in enumerate(keys):
                    node = via[i % len(via)]
                    response = await client.get(f"{node.api}/api", params={"key": key})
                    got = (response.status_code, response.text)
                    assert got == (200, str(table[key])), f"get({key!r}): got {got}"

            def loaded_on(keys: list[str], node: CacheNode) -> list[str]:
                return [k for k in keys if slow_db_loads([node], k) != 1]

            await wait_peers(nodes, urls, within=10)
            await get_all(first, nodes)
            assert loaded_on(first, victim) == [], "keys the victim owns were loaded elsewhere"

            victim.stop(signal.SIGKILL)  # no clean leave: the lease has to expire
            killed = time.monotonic()
            await wait_peers(alive, sorted(n.url for n in alive), within=10)
            took = time.monotonic() - killed
            assert took > 0.5, f"dropped {took:.2f}s after the kill; want the 2 s lease to run"
            errors_before = [
                (await client.get(f"{n.url}/_groupcache/_stats")).json()["scores"]["peer_errors"]
                for n in alive
            ]
            await get_all(second, alive)
            for node in alive:
                mine = [k for k in second if two.owner(k) == node.url]
                assert mine, f"{node.url} inherited none of the victim's keys"
                assert loaded_on(mine, node) == [], f"{node.url} did not load the keys it inherited"
            errors_after = [
                (await client.get(f"{n.url}/_groupcache/_stats")).json()["scores"]["peer_errors"]
                for n in alive
            ]
            assert errors_after == errors_before, "peer errors once the rings left the victim out"

            victim.start(tmp_path)  # a fresh log: its loads from now on
            await wait_peers(nodes, urls, within=10)
            await get_all(third, alive)
            assert loaded_on(third, victim) == [], "the victim's keys did not come back to it"
            for node in alive:
                stolen = [k for k in third if slow_db_loads([node], k)]
                assert stolen == [], f"{node.url} loaded keys the revived victim owns: {stolen}"
    finally:
        for node in nodes:
            node.stop()


async def test_stopped_node_leaves_every_ring_before_its_ttl(
    etcd_server: RunningServer, tmp_path: Path
) -> None:
    """SIGTERM: the node revokes its lease as it stops, so a 30 s ttl does not hold it listed."""
    db = tmp_path / "scores.db"
    write_scores(db, {})
    prefix = f"/geecache-test/{uuid.uuid4().hex}/"
    nodes = etcd_cluster(tmp_path, etcd_server.extra["url"], prefix, db, ttl=30)[:2]
    try:
        for node in nodes:
            node.start(tmp_path)
        async with httpx.AsyncClient(timeout=10) as client:

            async def peers() -> list[str]:
                answer = await client.get(f"{nodes[0].url}/_groupcache/_peers")
                return answer.json()  # type: ignore[no-any-return]

            async with asyncio.timeout(10):
                while await peers() != sorted(n.url for n in nodes):
                    await asyncio.sleep(0.05)
            nodes[1].stop(signal.SIGTERM)
            async with asyncio.timeout(10):
                while await peers() != [nodes[0].url]:
                    await asyncio.sleep(0.05)
            response = await client.get(f"{nodes[0].api}/api", params={"key": "Tom"})
            assert (response.status_code, response.text) == (200, "630")
    finally:
        for node in nodes:
            node.stop()
    log = nodes[1].log.read_text()
    assert "revoking lease" not in log, log
