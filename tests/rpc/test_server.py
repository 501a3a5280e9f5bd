"""The server against real sockets: replies, errors, ordering, timeouts and bad input."""

from __future__ import annotations

import asyncio
import contextvars
import os
import struct

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gee.rpc
from gee.rpc import RemoteError
from gee.rpc import protocol as wire
from gee.rpc.codec import MSGPACK
from tests.rpc.conftest import Served, closed_by_peer, raw, shut
from tests.rpc.services import Args, Quotient, Sleep


@pytest.mark.parametrize("codec", ["msgpack", "json", "jsonrpc"])
async def test_arith_on_every_codec(served: Served, codec: str) -> None:
    async with gee.rpc.Client(served.url, codec=codec) as client:
        got = await client.call("Arith.Multiply", Args(7, 8), timeout=1.0)
        assert got == 56, f"got {got}; want 56"
        quo = await client.call("Arith.Divide", Args(17, 5), result=Quotient)
        assert quo == Quotient(3, 2), f"got {quo}"
        with pytest.raises(RemoteError, match=r"^divide by zero$"):
            await client.call("Arith.Divide", Args(1, 0))


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("Arith.Nope", "rpc: can't find method Arith.Nope"),
        ("Nope.Multiply", "rpc: can't find service Nope.Multiply"),
        ("Multiply", "rpc: service/method request ill-formed: Multiply"),
    ],
)
async def test_unknown_names_get_go_wording(served: Served, name: str, want: str) -> None:
    async with gee.rpc.Client(served.url) as client:
        with pytest.raises(RemoteError) as info:
            await client.call(name, Args(1, 2))
        assert info.value.message == want, f"got {info.value.message!r}; want {want!r}"
        assert await client.call("Arith.Multiply", Args(2, 3)) == 6  # the connection lives on


@pytest.mark.parametrize("codec", ["msgpack", "json", "jsonrpc"])
async def test_wrong_argument_type_names_the_field(served: Served, codec: str) -> None:
    async with gee.rpc.Client(served.url, codec=codec) as client:
        with pytest.raises(RemoteError, match=r"Expected `int`, got `str` - at `\$.B`"):
            await client.call("Arith.Multiply", {"A": 1, "B": "x"})
        with pytest.raises(RemoteError, match=r"missing required field `B`"):
            await client.call("Arith.Multiply", {"A": 1})


async def test_replies_come_back_in_completion_order(served: Served) -> None:
    order: list[int] = []
    async with gee.rpc.Client(served.url) as client:

        async def one(i: int) -> None:
            await client.call("Timing.Sleep", Sleep(0.02 * (5 - i), i))
            order.append(i)

        await asyncio.gather(*(one(i) for i in range(5)))
    assert order == [4, 3, 2, 1, 0], f"got {order}; want the shortest sleep first"


async def test_handle_timeout_cancels_the_handler(served: Served) -> None:
    served.server.handle_timeout = 0.05
    async with gee.rpc.Client(served.url) as client:
        with pytest.raises(RemoteError, match=r"request handle timeout: expect within 0\.05s"):
            await client.call("Timing.Sleep", Sleep(5))
        await asyncio.sleep(0)
        assert served.timing.cancelled == 1, "the timed-out handler was not cancelled"
        assert await client.call("Arith.Multiply", Args(2, 3)) == 6


async def test_call_deadline_reaches_the_server(served: Served) -> None:
    async with gee.rpc.Client(served.url) as client:
        with pytest.raises(gee.rpc.CallTimeoutError):
            await client.call("Timing.Sleep", Sleep(5), timeout=0.05)
        await asyncio.sleep(0.1)
        assert served.timing.cancelled == 1, "the server kept running a call its caller dropped"


async def test_thread_pool_methods_run_concurrently(served: Served) -> None:
    async with gee.rpc.Client(served.url) as client:
        loop = asyncio.get_running_loop()
        start = loop.time()
        got = await asyncio.gather(
            *(client.call("Timing.BlockingSleep", Sleep(0.2, i)) for i in range(4))
        )
        elapsed = loop.time() - start
    assert got == [0, 1, 2, 3]
    assert elapsed < 0.7, f"4 x 0.2 s blocking calls took {elapsed:.2f}s; want them in parallel"


async def test_vanished_client_cancels_its_handlers(served: Served) -> None:
    reader, writer = await raw(served.address)
    writer.write(wire.encode_handshake(1))
    body = msgspec.msgpack.encode({"seconds": 5.0})
    writer.write(wire.encode_request(1, b"Timing.Sleep", body))
    await writer.drain()
    assert await reader.readexactly(8) == wire.encode_handshake(1)
    for _ in range(100):
        if served.timing.started:
            break
        await asyncio.sleep(0.01)
    await shut(writer)
    for _ in range(100):
        if served.timing.cancelled:
            break
        await asyncio.sleep(0.01)
    assert served.timing.cancelled == 1, "the handler outlived its client"
    assert all(not c.tasks for c in served.server._connections)


@pytest.mark.parametrize(
    "first",
    [
        b"\x00\x3b\xef\x5d\x01\x01\x00\x00",  # wrong magic
        b"\x00\x3b\xef\x5c\x09\x01\x00\x00",  # unknown version
        b"\x00\x3b\xef\x5c\x01\x07\x00\x00",  # unknown codec
        b"\xff\xfe garbage",  # no protocol at all
        b"{not json\n",  # a JSON-RPC line that is not JSON
        b"BREW /coffee HTCPCP/1.0\r\n\r\n",  # not HTTP/
    ],
)
async def test_bad_openings_close_only_that_connection(served: Served, first: bytes) -> None:
    reader, writer = await raw(served.address)
    writer.write(first)
    got = await closed_by_peer(reader)
    assert got == b"", f"got {got!r}; want a silent close"
    await shut(writer)
    async with gee.rpc.Client(served.url) as client:
        assert await client.call("Arith.Multiply", Args(3, 3)) == 9


async def test_oversized_frame_gets_an_error_and_the_connection_lives(served: Served) -> None:
    served.server.max_frame = 1024
    async with gee.rpc.Client(served.url, max_frame=1 << 20) as client:
        with pytest.raises(RemoteError, match="exceeds the server's limit of 1024"):
            await client.call("Timing.Echo", b"x" * 5000)
        assert await client.call("Timing.Echo", b"small") == b"small"


async def test_huge_length_is_refused_before_allocation(served: Served) -> None:
    reader, writer = await raw(served.address)
    writer.write(wire.encode_handshake(1))
    writer.write(struct.pack(">IQBBH", 0xFFFFFFF0, 9, wire.REQUEST, 0, 0))
    await writer.drain()
    assert await reader.readexactly(8) == wire.encode_handshake(1)
    head = await reader.readexactly(16)
    length, seq, kind, _, _ = struct.unpack(">IQBBH", head)
    message = await reader.readexactly(length - 12)
    assert (seq, kind) == (9, wire.ERROR)
    assert b"exceeds the server's limit" in message, message
    for conn in served.server._connections:
        assert len(conn._pending) == 0
    await shut(writer)


async def test_half_frame_then_hang_up(served: Served) -> None:
    reader, writer = await raw(served.address)
    frame = wire.encode_request(1, b"Arith.Multiply", msgspec.msgpack.encode(Args(1, 2)))
    writer.write(wire.encode_handshake(1) + frame[: len(frame) // 2])
    await writer.drain()
    await reader.readexactly(8)
    await shut(writer)
    async with gee.rpc.Client(served.url) as client:
        assert await client.call("Arith.Multiply", Args(4, 4)) == 16


async def test_reply_frames_from_a_client_are_refused(served: Served) -> None:
    reader, writer = await raw(served.address)
    writer.write(wire.encode_handshake(1) + wire.encode_reply(1, b"\xc0"))
    await reader.readexactly(8)
    assert await closed_by_peer(reader) == b""
    await shut(writer)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.binary(min_size=1, max_size=300), handshake=st.booleans())
async def test_garbage_never_hurts_the_server(served: Served, data: bytes, handshake: bool) -> None:
    reader, writer = await raw(served.address)
    writer.write((wire.encode_handshake(1) if handshake else b"") + data)
    await writer.drain()
    try:
        async with asyncio.timeout(0.05):
            await reader.read()
    except TimeoutError:
        pass  # still waiting for the rest of a frame: fine
    await shut(writer)
    async with gee.rpc.Client(served.url) as client:
        assert await client.call("Arith.Multiply", Args(5, 5)) == 25


async def test_http_connect_then_gee_protocol(served: Served) -> None:
    reader, writer = await raw(served.address)
    writer.write(b"CONNECT /_geerpc_ HTTP/1.0\r\n\r\n")
    assert await reader.readuntil(b"\n\n") == b"HTTP/1.0 200 Connected to Gee RPC\n\n"
    await shut(writer)
    async with gee.rpc.Client(f"http@127.0.0.1:{served.address.port}") as client:
        assert await client.call("Arith.Multiply", Args(6, 7)) == 42


@pytest.mark.parametrize(
    ("request_head", "status"),
    [
        (b"GET /_geerpc_ HTTP/1.0\r\n\r\n", b"HTTP/1.0 405 Method Not Allowed"),
        (b"GET /elsewhere HTTP/1.1\r\nHost: x\r\n\r\n", b"HTTP/1.0 404 Not Found"),
    ],
)
async def test_http_other_requests(served: Served, request_head: bytes, status: bytes) -> None:
    reader, writer = await raw(served.address)
    writer.write(request_head)
    got = await closed_by_peer(reader)
    assert got.startswith(status), f"got {got[:60]!r}; want {status!r}"
    await shut(writer)


async def test_shutdown_lets_calls_finish(served: Served) -> None:
    client = gee.rpc.Client(served.url)
    call = asyncio.ensure_future(client.call("Timing.Sleep", Sleep(0.1, 7)))
    await asyncio.sleep(0.03)
    await served.server.shutdown(grace=2.0)
    assert await call == 7
    await client.close()


async def test_undecodable_body_gets_an_error_reply(served: Served) -> None:
    reader, writer = await raw(served.address)
    writer.write(wire.encode_handshake(1))
    writer.write(wire.encode_request(4, b"Arith.Multiply", b"\xc1\xff\x00"))
    await writer.drain()
    await reader.readexactly(8)
    length, seq, kind, _, _ = struct.unpack(">IQBBH", await reader.readexactly(16))
    message = (await reader.readexactly(length - 12)).decode()
    assert (seq, kind) == (4, wire.ERROR)
    assert message.startswith("rpc: cannot decode Arith.Multiply argument:"), message
    await shut(writer)


async def test_thread_pool_handler_past_the_timeout_is_answered(served: Served) -> None:
    served.server.handle_timeout = 0.05
    async with gee.rpc.Client(served.url) as client:
        with pytest.raises(RemoteError, match="request handle timeout"):
            await client.call("Timing.BlockingSleep", Sleep(0.3))


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_nothing_leaks_after_abuse(served: Served) -> None:
    async with gee.rpc.Client(served.url) as warm:  # let lazy imports and pools settle
        await warm.call("Arith.Multiply", Args(1, 1))
    await asyncio.sleep(0.05)
    fds, tasks = open_fds(), len(asyncio.all_tasks())
    for i in range(30):
        _, writer = await raw(served.address)
        if i % 3 == 0:
            writer.write(b"\x17garbage")
        elif i % 3 == 1:
            body = msgspec.msgpack.encode({"seconds": 5.0})
            writer.write(wire.encode_handshake(1) + wire.encode_request(1, b"Timing.Sleep", body))
        else:
            writer.write(wire.encode_handshake(1) + b"\x00\x00")
        await writer.drain()
        await shut(writer)
    for _ in range(200):
        if not served.server._connections and len(asyncio.all_tasks()) <= tasks:
            break
        await asyncio.sleep(0.01)
    assert served.server._connections == set()
    assert len(asyncio.all_tasks()) <= tasks, asyncio.all_tasks()
    assert open_fds() <= fds, f"got {open_fds()} open fds; want at most {fds}"


async def test_good_calls_survive_a_crowd_of_bad_connections(served: Served) -> None:
    async with gee.rpc.Client(served.url) as client:
        slow = client.go("Timing.Sleep", Sleep(0.3, 42))
        bad = [
            b"\x00\x3b\xef\x5c\x01\x01\x00\x00" + struct.pack(">IQBBH", 2, 0, 0, 0, 0),
            b"\x00garbage!",
            b"{" * 100 + b"\n",
            b"CONNECT /_geerpc_ HTTP/1.0\r\n\r\n\x00\x00\x00\x00\x00\x00\x00\x00",
        ]
        for data in bad * 5:
            _, writer = await raw(served.address)
            writer.write(data)
            await writer.drain()
            await shut(writer)
        assert await client.call("Arith.Multiply", Args(6, 7)) == 42
        assert await slow == 42


async def test_json_line_over_the_limit_closes_the_connection(served: Served) -> None:
    served.server.max_frame = 100
    reader, writer = await raw(served.address)
    writer.write(b'{"method":"Timing.Echo","params":["' + b"x" * 200)
    assert await closed_by_peer(reader) == b""
    await shut(writer)


async def test_refusal_reason_is_logged(served: Served, caplog: pytest.LogCaptureFixture) -> None:
    reader, writer = await raw(served.address)
    writer.write(b"\x00\x3b\xef\x5d\x01\x01\x00\x00")
    with caplog.at_level("WARNING", logger="gee.rpc"):
        assert await closed_by_peer(reader) == b""
    await shut(writer)
    assert "bad magic number 0x003bef5d; want 0x003bef5c" in caplog.text, caplog.text


async def test_a_client_that_does_not_read_is_paused_not_buffered(served: Served) -> None:
    reader, writer = await raw(served.address)
    writer.write(wire.encode_handshake(1))
    body = msgspec.msgpack.encode(50_000)
    for seq in range(200):  # 10 MB of replies asked for, none read yet
        writer.write(wire.encode_request(seq, b"Timing.Fill", body))
    await writer.drain()
    (conn,) = served.server._connections
    assert conn.transport is not None
    for _ in range(200):
        if not conn.transport.is_reading():
            break
        await asyncio.sleep(0.01)
    assert not conn.transport.is_reading(), "the server kept reading requests it cannot answer"
    assert await reader.readexactly(8) == wire.encode_handshake(1)
    seen = set()
    async with asyncio.timeout(20):
        for _ in range(200):
            length, seq, kind, _, _ = struct.unpack(">IQBBH", await reader.readexactly(16))
            await reader.readexactly(length - 12)
            assert kind == wire.REPLY
            seen.add(seq)
    assert seen == set(range(200))
    await shut(writer)


_request_id: contextvars.ContextVar[int] = contextvars.ContextVar("request_id", default=0)


class Eager:
    """Handlers that show what running a handler's first step before its Task is scheduled means."""

    def __init__(self) -> None:
        self.tasks: list[asyncio.Task[object] | None] = []
        self.same_task: list[bool] = []
        self.finished: asyncio.Event | None = None

    async def Now(self, n: int) -> int:
        self.tasks.append(asyncio.current_task())
        return n

    async def TimeoutFirst(self, n: int) -> int:
        async with asyncio.timeout(1):
            await asyncio.sleep(0)
        return n

    async def GroupFirst(self, n: int) -> int:
        async with asyncio.TaskGroup() as group:
            doubled = group.create_task(asyncio.sleep(0.01, 2 * n))
        return doubled.result()

    async def AwaitFirst(self, n: int) -> int:
        before = asyncio.current_task()
        await asyncio.sleep(0)
        self.tasks.append(asyncio.current_task())
        self.same_task.append(before is asyncio.current_task())
        async with asyncio.timeout(1):
            await asyncio.sleep(0.01)
        return n

    async def Inspect(self, n: int) -> list[bool]:
        # what a tracer or a library may ask of the current task, before and after a wait:
        # before, the task is not started yet, and must not crash the server for asking
        task = asyncio.current_task()
        assert task is not None
        before = [task.get_coro() is not None, task.done(), task.cancelling() == 0]
        assert repr(task)
        await asyncio.sleep(0)
        return [*before, task.get_coro() is not None]

    async def CancelSelf(self, n: int) -> int:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            return -n
        return n

    async def Linger(self, n: int) -> int:
        try:
            await asyncio.sleep(5)
        finally:
            if self.finished is not None:
                self.finished.set()
        return n

    async def Context(self, n: int) -> int:
        seen = _request_id.get()
        _request_id.set(n)
        await asyncio.sleep(0.01 * (n % 2))
        return seen

    async def Shrug(self, n: int) -> int:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            await asyncio.sleep(0)  # swallowing the cancellation and waiting again
        return n


@pytest.mark.parametrize("eager", [True, False])
async def test_handlers_see_one_task_eager_or_not(eager: bool) -> None:
    server = gee.rpc.Server(eager=eager)
    assert server.eager is eager
    service = Eager()
    server.register(service)
    address = await server.start()
    try:
        async with gee.rpc.Client(str(address)) as client:
            assert await client.call("Eager.Now", 7) == 7
            assert await client.call("Eager.AwaitFirst", 8) == 8
            got = await asyncio.gather(*(client.call("Eager.Context", n) for n in range(1, 9)))
            assert got == [0] * 8, f"got {got}; want every request to start with a clean context"
            assert await client.call("Eager.TimeoutFirst", 9) == 9
            assert await client.call("Eager.GroupFirst", 5) == 10
            assert await client.call("Eager.CancelSelf", 4) == -4
            inspected = await client.call("Eager.Inspect", 0)
            assert inspected == [not eager, False, True, True], f"got {inspected}"
            assert await client.call("Eager.Now", 10) == 10
        now, after_await, _ = service.tasks
        assert now is not None, "a handler that never waits has no current task"
        if eager:
            assert not now.done(), "a handler that never waits was scheduled as a task"
        assert after_await is not None, "a handler that waited has no task"
        assert service.same_task == [True], "the task changed at the handler's first wait"
        assert server._connections == set() or all(not c.tasks for c in server._connections)
    finally:
        await server.shutdown(grace=0.5)


@pytest.mark.parametrize("eager", [True, False])
async def test_handler_cancelled_before_its_task_ran_unwinds_at_once(eager: bool) -> None:
    # The client sends a request and vanishes in the same breath: the handler's task is
    # cancelled before its first step, and the handler must still see the cancellation (run
    # its finally) now, not when the garbage collector finds it.
    server = gee.rpc.Server(eager=eager)
    service = Eager()
    service.finished = asyncio.Event()
    server.register(service)
    address = await server.start()
    try:
        _, writer = await raw(address)
        writer.write(wire.encode_handshake(MSGPACK.id))
        writer.write(wire.encode_request(1, b"Eager.Linger", MSGPACK.encode(1)))
        writer.transport.abort()
        async with asyncio.timeout(2):
            await service.finished.wait()
    finally:
        await server.shutdown(grace=0.5)


async def test_eager_handler_that_waits_still_times_out() -> None:
    server = gee.rpc.Server(handle_timeout=0.05, eager=True)
    server.register(Eager())
    address = await server.start()
    try:
        async with gee.rpc.Client(str(address)) as client:
            # the cancellation reaches the handler inside its first await; it swallows it
            assert await client.call("Eager.Shrug", 3, timeout=2) == 3
    finally:
        await server.shutdown(grace=0.5)


async def test_default_server_runs_handlers_that_open_with_a_timeout() -> None:
    # asyncio.timeout() as a handler's first statement is common; the default must allow it.
    server = gee.rpc.Server()
    assert server.eager is True, "eager is the default"
    server.register(Eager())
    address = await server.start()
    try:
        async with gee.rpc.Client(str(address)) as client:
            assert await client.call("Eager.TimeoutFirst", 3) == 3
    finally:
        await server.shutdown(grace=0.5)
