"""The client: multiplexing, timeouts, lost connections, redial, transports."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

import gee.rpc
from gee.rpc import CallTimeoutError, RPCConnectionError, RPCError
from gee.rpc import protocol as wire
from tests.rpc.conftest import Served
from tests.rpc.services import Args, Sleep

ROOT = Path(__file__).resolve().parents[2]


async def test_ten_thousand_calls_in_flight_on_one_connection(served: Served) -> None:
    async with gee.rpc.Client(served.url) as client:
        await client.connect()
        futures = [client.go("Arith.Multiply", Args(i, 2)) for i in range(10_000)]
        assert client.in_flight > 0
        got = await asyncio.gather(*futures)
        assert got == [2 * i for i in range(10_000)]
        assert client.in_flight == 0


async def test_go_returns_a_future_before_connecting(served: Served) -> None:
    client = gee.rpc.Client(served.url)
    fut = client.go("Arith.Multiply", Args(3, 4))
    assert await fut == 12
    await client.close()


async def test_timed_out_call_is_forgotten_and_late_reply_dropped(served: Served) -> None:
    async with gee.rpc.Client(served.url) as client:
        served.server.handle_timeout = None
        with pytest.raises(CallTimeoutError, match=r"Timing.Sleep timed out after 0\.05s"):
            await client.call("Timing.Sleep", Sleep(0.2, 1), timeout=0.05)
        assert client.in_flight == 0
        # the next call on the same connection is unaffected by the stale seq
        assert await client.call("Timing.Sleep", Sleep(0.01, 2), timeout=1) == 2


async def test_calls_sharing_a_deadline_bucket_time_out_alone(served: Served) -> None:
    # Calls with one timeout sent together share a timer; those answered in time leave their
    # bucket, and only the slow ones time out, each with its own error.
    async with gee.rpc.Client(served.url) as client:
        await client.connect()
        calls = [
            client.go("Timing.Sleep", Sleep(0.4 if i % 3 == 0 else 0.0, i), timeout=0.2)
            for i in range(30)
        ]
        got = await asyncio.gather(*calls, return_exceptions=True)
        for i, result in enumerate(got):
            if i % 3 == 0:
                assert isinstance(result, CallTimeoutError), f"call {i}: got {result!r}"
            else:
                assert result == i, f"call {i}: got {result!r}; want {i}"
        assert client.in_flight == 0
        conn = client._conn
        assert conn is not None
        assert not conn.timers, f"got deadlines left for {sorted(conn.timers)}"
        await asyncio.sleep(0.3)  # the late replies arrive and are dropped
        assert await client.call("Timing.Sleep", Sleep(0, 99), timeout=0.2) == 99


async def test_cancelled_call_is_forgotten(served: Served) -> None:
    async with gee.rpc.Client(served.url) as client:
        task = asyncio.ensure_future(client.call("Timing.Sleep", Sleep(0.3)))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert client.in_flight == 0
        fut = client.go("Timing.Sleep", Sleep(0.3))
        await asyncio.sleep(0.01)
        fut.cancel()
        await asyncio.sleep(0)
        assert client.in_flight == 0


async def test_connection_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(RPCConnectionError, match=r"cannot connect to tcp@127\.0\.0\.1"):
        await gee.rpc.connect(f"tcp@127.0.0.1:{port}")


async def test_connect_timeout_when_the_server_never_answers() -> None:
    done = asyncio.Event()

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()
        await writer.wait_closed()
        done.set()

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(RPCConnectionError, match=r"timed out after 0\.1s"):
            await gee.rpc.connect(f"tcp@127.0.0.1:{port}", connect_timeout=0.1)
        async with asyncio.timeout(2):
            await done.wait()
    finally:
        server.close()
        await server.wait_closed()


async def test_unknown_codec_is_refused_by_name() -> None:
    with pytest.raises(RPCError, match="unknown codec 'gob'"):
        gee.rpc.Client("tcp@127.0.0.1:1", codec="gob")


async def test_request_over_the_limit_is_refused_before_sending(served: Served) -> None:
    async with gee.rpc.Client(served.url, max_frame=100) as client:
        with pytest.raises(gee.rpc.FrameTooLargeError, match="exceeds the limit of 100"):
            await client.call("Timing.Echo", b"x" * 200)
        assert await client.call("Timing.Echo", b"ok") == b"ok"


async def test_reply_over_the_limit_fails_that_call_only(served: Served) -> None:
    async with gee.rpc.Client(served.url, max_frame=100) as client:
        with pytest.raises(gee.rpc.FrameTooLargeError, match="reply of 1015 bytes exceeds"):
            await client.call("Timing.Fill", 1000)
        assert await client.call("Timing.Fill", 10) == b"x" * 10


async def test_unix_socket(tmp_path: Path) -> None:
    from tests.rpc.services import Arith

    server = gee.rpc.Server()
    server.register(Arith())
    path = tmp_path / "rpc.sock"
    await server.start(f"unix@{path}")
    try:
        async with gee.rpc.Client(f"unix@{path}") as client:
            assert await client.call("Arith.Multiply", Args(2, 21)) == 42
    finally:
        await server.shutdown()
    assert not path.exists()


def test_sync_client(tmp_path: Path) -> None:
    import threading

    from tests.rpc.services import Arith

    ready = threading.Event()
    box: dict[str, object] = {}

    def serve() -> None:
        async def main() -> None:
            server = gee.rpc.Server()
            server.register(Arith())
            box["address"] = str(await server.start())
            stop = asyncio.Event()
            box["stop"] = (asyncio.get_running_loop(), stop)
            ready.set()
            await stop.wait()
            await server.shutdown()

        asyncio.run(main())

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        assert ready.wait(5)
        with gee.rpc.SyncClient(str(box["address"])) as client:
            assert client.call("Arith.Multiply", Args(6, 6)) == 36
    finally:
        loop, stop = box["stop"]  # type: ignore[misc]
        loop.call_soon_threadsafe(stop.set)
        thread.join(5)


@pytest.fixture
async def child() -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """A gee.rpc server in a child process, killed (if still alive) afterwards."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.rpc.serve_arith", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    async with asyncio.timeout(15):
        address = (await proc.stdout.readline()).decode().strip()
    try:
        yield proc, address
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def test_server_killed_mid_call_fails_every_pending_call(
    child: tuple[asyncio.subprocess.Process, str],
) -> None:
    proc, address = child
    client = await gee.rpc.connect(address)
    try:
        calls = [client.go("Timing.Sleep", Sleep(10, i)) for i in range(50)]
        assert await client.call("Arith.Multiply", Args(2, 2)) == 4
        proc.kill()
        async with asyncio.timeout(5):
            results = await asyncio.gather(*calls, return_exceptions=True)
        assert all(isinstance(r, RPCConnectionError) for r in results), results[:3]
        assert "lost" in str(results[0])
        assert client.in_flight == 0
        with pytest.raises(RPCConnectionError, match="cannot connect"):
            await client.call("Arith.Multiply", Args(1, 1))
    finally:
        await client.close()


async def test_client_redials_after_the_server_restarts(served: Served) -> None:
    async with gee.rpc.Client(served.url) as client:
        assert await client.call("Arith.Multiply", Args(1, 1)) == 1
        for conn in list(served.server._connections):
            conn.close()
        await asyncio.sleep(0.05)
        assert not client.connected
        assert await client.call("Arith.Multiply", Args(2, 5)) == 10


async def test_close_fails_pending_calls(served: Served) -> None:
    client = await gee.rpc.connect(served.url)
    fut = client.go("Timing.Sleep", Sleep(5))
    await client.close()
    with pytest.raises(RPCConnectionError):
        await fut
    with pytest.raises(RPCConnectionError, match="client is closed"):
        await client.call("Arith.Multiply", Args(1, 1))


async def test_cancelled_connect_leaves_no_socket_behind() -> None:
    done = asyncio.Event()

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # returns when the client's socket is closed
        writer.close()
        await writer.wait_closed()
        done.set()

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        task = asyncio.ensure_future(gee.rpc.connect(f"tcp@127.0.0.1:{port}"))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with asyncio.timeout(2):
            await done.wait()
    finally:
        server.close()
        await server.wait_closed()


async def test_calls_wait_while_the_server_is_not_reading() -> None:
    stalled = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def stuck(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        writer.write(await reader.readexactly(8))  # accept the handshake, then read no more
        await stalled.wait()
        writer.close()

    server = await asyncio.start_server(stuck, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = await gee.rpc.connect(f"tcp@127.0.0.1:{port}")
    try:
        calls = []
        for _ in range(60):
            calls.append(asyncio.ensure_future(client.call("X.Echo", b"x" * 1_000_000)))
            await asyncio.sleep(0.005)
        conn = client._conn
        assert conn is not None
        assert conn.transport is not None
        buffered = conn.transport.get_write_buffer_size()
        assert buffered < 20_000_000, f"{buffered} bytes buffered; want callers to wait"
        assert conn.writable is not None, "the client did not notice the stalled server"
    finally:
        await client.close()
        stalled.set()
        results = await asyncio.gather(*calls, return_exceptions=True)
        assert all(isinstance(r, RPCConnectionError) for r in results)
        server.close()
        await server.wait_closed()
        for writer in writers:
            if not writer.is_closing():
                writer.close()


@pytest.mark.parametrize("split", [1, 7, 16, 17, 40, 10_000])
async def test_replies_cut_anywhere_resolve_their_calls(split: int) -> None:
    # A hand-made server answers 20 calls out of order, two of them with errors and one twice
    # (a late duplicate is dropped), and delivers the bytes in pieces of ``split``: frames
    # arrive whole, cut in the header, cut in the body, several to a chunk.
    got_requests: asyncio.Future[list[int]] = asyncio.get_running_loop().create_future()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.readexactly(wire.HANDSHAKE_SIZE))
        seqs = []
        for _ in range(20):
            (length,) = struct.unpack(">I", await reader.readexactly(4))
            frame = await reader.readexactly(length)
            seqs.append(struct.unpack_from(">Q", frame)[0])
        got_requests.set_result(seqs)
        out = b""
        for seq in reversed(seqs):
            if seq % 7 == 0:
                out += wire.encode_error(seq, f"no {seq}")
            else:
                out += wire.encode_reply(seq, msgspec.msgpack.encode(seq * 10))
        out += wire.encode_reply(seqs[0], msgspec.msgpack.encode(-1))  # a duplicate: dropped
        try:
            for i in range(0, len(out), split):
                writer.write(out[i : i + split])
                await writer.drain()
                await asyncio.sleep(0)
            await reader.read()
        except ConnectionError:
            pass  # the client had every reply it waited for and hung up before the duplicate
        finally:
            writer.close()
            served.set()

    served = asyncio.Event()
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with gee.rpc.Client(f"tcp@127.0.0.1:{port}") as client:
        await client.connect()
        calls = [client.go("Any.Thing", i) for i in range(20)]
        seqs = await got_requests
        results = await asyncio.gather(*calls, return_exceptions=True)
        for seq, result in zip(seqs, results, strict=True):
            if seq % 7 == 0:
                assert isinstance(result, gee.rpc.RemoteError), f"got {result!r}; want an error"
                assert str(result) == f"no {seq}"
            else:
                assert result == seq * 10, f"got {result!r}; want {seq * 10}"
        assert client.in_flight == 0
    # the handler closes its side once it sees the client's EOF; wait_closed() does not wait
    # for handlers on 3.11, and one cut short would leak its socket into a later test
    async with asyncio.timeout(2):
        await served.wait()
    server.close()
    await server.wait_closed()
