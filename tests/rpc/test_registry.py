"""gee's built-in registry: heartbeats, expiry, deregistration, long-poll, XClient on top."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

import gee.rpc
from gee.rpc import httpclient
from gee.rpc.registry import Registry, RegistryDiscovery, announce
from gee.rpc.xclient import XClient
from tests.rpc.services import Args, Arith


@pytest.fixture
async def registry() -> AsyncIterator[tuple[Registry, str]]:
    reg = Registry(ttl=0.5)
    port = await reg.start()
    try:
        yield reg, f"http://127.0.0.1:{port}/_geerpc_/registry"
    finally:
        await reg.shutdown()


async def eventually(check: Callable[[], bool], within: float = 2.0) -> None:
    async with asyncio.timeout(within):
        while not check():
            await asyncio.sleep(0.01)


async def arith_server() -> gee.rpc.Server:
    server = gee.rpc.Server()
    server.register(Arith())
    await server.start()
    return server


async def test_get_lists_servers_in_geerpc_header_and_json(
    registry: tuple[Registry, str],
) -> None:
    _reg, url = registry
    for address in ("tcp@127.0.0.1:2", "tcp@127.0.0.1:1"):
        answer = await httpclient.request("POST", url, b"", {"X-Geerpc-Server": address})
        assert answer.status == 200
        assert answer.headers["x-geerpc-ttl"] == "0.5"
    got = await httpclient.request("GET", url)
    assert got.headers["x-geerpc-servers"] == "tcp@127.0.0.1:1,tcp@127.0.0.1:2"
    assert json.loads(got.body) == {"servers": ["tcp@127.0.0.1:1", "tcp@127.0.0.1:2"], "version": 2}
    missing = await httpclient.request("POST", url, b"")
    assert missing.status == 400
    wrong = await httpclient.request("GET", url.replace("registry", "nope"))
    assert wrong.status == 404


async def test_silent_servers_expire(registry: tuple[Registry, str]) -> None:
    reg, url = registry
    await httpclient.request("POST", url, b"", {"X-Geerpc-Server": "tcp@127.0.0.1:9"})
    assert reg.alive() == ["tcp@127.0.0.1:9"]
    await eventually(lambda: reg.alive() == [])


async def test_long_poll_returns_on_change(registry: tuple[Registry, str]) -> None:
    reg, url = registry
    poll = asyncio.ensure_future(httpclient.request("GET", f"{url}?version=0&wait=5"))
    await asyncio.sleep(0.1)
    assert not poll.done()
    reg.heartbeat("tcp@127.0.0.1:7")
    async with asyncio.timeout(1):
        answer = await poll
    assert json.loads(answer.body)["servers"] == ["tcp@127.0.0.1:7"]


async def test_servers_announce_heartbeat_and_deregister(registry: tuple[Registry, str]) -> None:
    _reg, url = registry
    one, two = await arith_server(), await arith_server()
    await announce(one, url)
    await announce(two, url)
    discovery = RegistryDiscovery(url, wait=5)
    async with XClient(discovery, "round_robin") as xc:
        assert sorted(await discovery.servers()) == sorted(
            map(str, [*one.addresses, *two.addresses])
        )
        assert [await xc.call("Arith.Multiply", Args(i, 2)) for i in range(4)] == [0, 2, 4, 6]
        await asyncio.sleep(0.7)  # longer than the ttl: heartbeats keep both listed
        assert len(await discovery.servers()) == 2
        await two.shutdown()  # deregisters; the long-poll brings the news
        await eventually(lambda: discovery._servers == [str(one.addresses[0])], within=1.0)
        assert await xc.call("Arith.Multiply", Args(3, 3)) == 9
    await one.shutdown()


async def test_plain_polling_discovery(registry: tuple[Registry, str]) -> None:
    reg, url = registry
    reg.heartbeat("tcp@127.0.0.1:5")
    discovery = RegistryDiscovery(url, wait=0, interval=0.05)
    assert await discovery.servers() == ["tcp@127.0.0.1:5"]
    reg.heartbeat("tcp@127.0.0.1:6")
    await eventually(lambda: discovery._servers == ["tcp@127.0.0.1:5", "tcp@127.0.0.1:6"])
    await discovery.close()


@pytest.fixture
def registry_in_a_thread() -> Iterator[str]:
    """A registry listing one server, on its own loop, so the test loop's tasks are the client's."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start() -> tuple[Registry, int]:
        reg = Registry()
        port = await reg.start()
        reg.heartbeat("tcp@127.0.0.1:5")
        return reg, port

    reg, port = asyncio.run_coroutine_threadsafe(start(), loop).result(5)
    try:
        yield f"http://127.0.0.1:{port}/_geerpc_/registry"
    finally:
        asyncio.run_coroutine_threadsafe(reg.shutdown(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


async def test_many_first_calls_start_one_watch(registry_in_a_thread: str) -> None:
    before = asyncio.all_tasks()
    discovery = RegistryDiscovery(registry_in_a_thread, wait=5)
    lists = await asyncio.gather(*(discovery.servers() for _ in range(50)))
    assert lists == [["tcp@127.0.0.1:5"]] * 50
    await discovery.close()
    leftover = [t for t in asyncio.all_tasks() - before if not t.done()]
    assert leftover == [], f"got {len(leftover)} tasks left after close(); want none"
