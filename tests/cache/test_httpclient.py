"""The peer-fetch client on real sockets: a gee node, a Go node, and raw servers that misbehave."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from gee.cache import Group, HTTPPool, PeerError
from gee.cache.http import escape
from gee.cache.httpclient import MAX_HEAD, Client
from gee.cache.pb import GetResponse
from tests.cache.cluster import serve
from tests.cache.test_interop import GO_NODE, go_node
from tests.servers import GoBuilder, free_port

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[tuple[int, list[int]]]:
    """Serve ``handler`` on a free port; yield the port and a one-item list counting connections.

    Every handler task is awaited before the block ends, so no socket outlives the test.
    """
    count = [0]
    tasks: list[asyncio.Task[None]] = []

    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        count[0] += 1
        task = asyncio.current_task()
        assert task is not None
        tasks.append(task)  # type: ignore[arg-type]
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the client hung up, or the test is over
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except ConnectionError:
                pass

    server = await asyncio.start_server(run, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], count
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


async def respond_forever(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, response: bytes
) -> None:
    """Answer every request on the connection with ``response``."""
    while True:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(response)
        await writer.drain()


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    c = Client(timeout=2.0)
    yield c
    await c.aclose()


async def test_gee_node_keep_alive_reuses_one_connection(client: Client) -> None:
    async def getter(key: str) -> bytes:
        return b"v:" + key.encode()

    port = free_port()
    group = Group("g", 1 << 20, getter, register=False)
    pool = HTTPPool(f"http://127.0.0.1:{port}", groups={"g": group})
    async with serve(pool, port):
        for key in ["a", "a b", "a/b", "é", ""]:
            status, body = await client.request(
                "GET", "127.0.0.1", port, f"/_groupcache/g/{escape(key)}".encode()
            )
            assert status == 200, f"{key!r}: got status {status}; want 200"
            got = GetResponse.FromString(body).value
            assert got == b"v:" + key.encode(), f"{key!r}: got {got!r}"
        status, body = await client.request("GET", "127.0.0.1", port, b"/_groupcache/nope/k")
        assert (status, body) == (404, b"no such group: nope\n"), f"got {status} {body!r}"
        assert len(client._open) == 1, f"got {len(client._open)} connections; want 1 (reused)"
        await client.aclose()
    await pool.aclose()


@pytest.mark.go
async def test_go_node_content_length_and_chunked_bodies(
    client: Client, go_build: GoBuilder, tmp_path: Path
) -> None:
    binary = go_build({"main.go": GO_NODE}, gopath=True, name="groupcache-node")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with go_node(binary, tmp_path, port, [url]):
        # Go's net/http sends a small body with Content-Length and chunks one over 2 KB.
        for key in ["k", "x" * 5000, "a b"]:
            target = f"/_groupcache/scores/{escape(key)}".encode()
            status, body = await client.request("GET", "127.0.0.1", port, target)
            assert status == 200, f"{key[:10]!r}: got status {status}; want 200"
            got = GetResponse.FromString(body).value
            want = b"value-of-" + key.encode()
            assert got == want, f"{key[:10]!r}: got {got[:20]!r}... ({len(got)} bytes)"
        status, body = await client.request("GET", "127.0.0.1", port, b"/_groupcache/nope/k")
        assert status == 404, f"got {status} {body!r}; want 404"
        assert len(client._open) == 1, f"got {len(client._open)} connections; want 1"


async def test_chunked_body_is_reassembled(client: Client) -> None:
    response = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\n\r\n"
    )
    async with raw_server(lambda r, w: respond_forever(r, w, response)) as (port, count):
        for _ in range(3):
            got = await client.request("GET", "127.0.0.1", port, b"/x")
            assert got == (200, b"abcdefg"), f"got {got}; want (200, b'abcdefg')"
        assert count == [1], f"got {count[0]} connections; want 1"


async def test_connection_close_is_not_reused(client: Client) -> None:
    response = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"

    async def once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(response)
        await writer.drain()

    async with raw_server(once) as (port, count):
        for _ in range(3):
            got = await client.request("GET", "127.0.0.1", port, b"/x")
            assert got == (200, b"ok"), f"got {got}"
        assert count == [3], f"got {count[0]} connections; want 3 (one per request)"
        assert not client._open, "a Connection: close connection was kept"


async def test_kept_alive_connection_closed_by_the_peer_is_retried_once(client: Client) -> None:
    response = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    async def answer_one_then_hang_up(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(response)
        await writer.drain()
        await reader.readuntil(b"\r\n\r\n")  # the next request: not answered

    async with raw_server(answer_one_then_hang_up) as (port, count):
        for _ in range(3):
            got = await client.request("GET", "127.0.0.1", port, b"/x")
            assert got == (200, b"ok"), f"got {got}"
        assert count == [3], f"got {count[0]} connections; want 3 (each reuse failed, retried)"


async def test_fresh_connection_closed_before_an_answer_is_not_retried(client: Client) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")

    async with raw_server(hang_up) as (port, count):
        with pytest.raises(PeerError, match="ReadError"):
            await client.request("GET", "127.0.0.1", port, b"/x")
        assert count == [1], f"got {count[0]} connections; want 1 (no retry on a fresh one)"


async def test_connection_closed_mid_body_is_an_error_not_retried(client: Client) -> None:
    async def short_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        await writer.drain()

    async with raw_server(short_body) as (port, count):
        with pytest.raises(PeerError, match="RemoteProtocolError"):
            await client.request("GET", "127.0.0.1", port, b"/x")
        assert count == [1], f"got {count[0]} connections; want 1"


async def test_huge_head_is_refused(client: Client) -> None:
    response = b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * (MAX_HEAD + 10) + b"\r\n\r\n"

    async with raw_server(lambda r, w: respond_forever(r, w, response)) as (port, _):
        with pytest.raises(PeerError, match="head over"):
            await client.request("GET", "127.0.0.1", port, b"/x")
        assert not client._open, "the connection with a huge head was kept"


async def test_garbage_is_a_protocol_error(client: Client) -> None:
    async with raw_server(lambda r, w: respond_forever(r, w, b"SPAM\r\n\r\n")) as (port, _):
        with pytest.raises(PeerError, match="RemoteProtocolError"):
            await client.request("GET", "127.0.0.1", port, b"/x")


async def test_stalled_peer_times_out_and_the_connection_is_dropped() -> None:
    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab")
        await asyncio.sleep(30)

    client = Client(timeout=0.2)
    try:
        async with raw_server(stall) as (port, _):
            with pytest.raises(PeerError, match="TimeoutError"):
                await client.request("GET", "127.0.0.1", port, b"/x")
            assert not client._open, "a connection left mid-response was kept"
    finally:
        await client.aclose()


async def test_unreachable_peer_is_a_connect_error(client: Client) -> None:
    with pytest.raises(PeerError, match="ConnectError"):
        await client.request("GET", "127.0.0.1", free_port(), b"/x")
    assert not client._open
    assert client._count == 0, f"got {client._count} connections counted; want 0"


async def test_connections_are_bounded() -> None:
    response = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    most = 0

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            await asyncio.sleep(0.01)
            writer.write(response)
            await writer.drain()

    client = Client(timeout=5, max_connections=3)
    try:
        async with raw_server(slow) as (port, count):

            async def one() -> tuple[int, bytes]:
                nonlocal most
                most = max(most, len(client._open))
                return await client.request("GET", "127.0.0.1", port, b"/x")

            results = await asyncio.gather(*(one() for _ in range(30)))
            assert set(results) == {(200, b"ok")}
            assert count[0] <= 3, f"got {count[0]} connections; want at most 3"
            assert most <= 3, f"saw {most} connections open at once; want at most 3"
    finally:
        await client.aclose()


async def test_closed_client_refuses_requests() -> None:
    client = Client()
    await client.aclose()
    with pytest.raises(PeerError, match="closed"):
        await client.request("GET", "127.0.0.1", free_port(), b"/x")
