"""Go's net/rpc/jsonrpc: the line format, then real Go programs calling gee and called by it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

import gee.rpc
from gee.rpc import RemoteError, jsonrpc
from gee.rpc.errors import FrameTooLargeError
from tests.rpc.conftest import Served, raw, shut
from tests.rpc.services import Args, Quotient, Sleep
from tests.servers import GoBuilder

GO = Path(__file__).parent / "go"


def test_request_and_reply_lines_match_go() -> None:
    assert jsonrpc.encode_request(3, "Arith.Multiply", b'{"A":7,"B":8}') == (
        b'{"method":"Arith.Multiply","params":[{"A":7,"B":8}],"id":3}\n'
    )
    assert jsonrpc.encode_result(b"3", b"56") == b'{"id":3,"result":56,"error":null}\n'
    assert jsonrpc.encode_error(b'"x"', "divide by zero") == (
        b'{"id":"x","result":null,"error":"divide by zero"}\n'
    )


def test_line_reader_splits_and_limits() -> None:
    lines: list[bytes] = []
    reader = jsonrpc.LineReader(lines.append, max_line=20)
    reader.feed(b'{"a":1}\n\r\n{"b"')
    reader.feed(b":2}\r\n")
    assert lines == [b'{"a":1}', b'{"b":2}']
    with pytest.raises(FrameTooLargeError):
        reader.feed(b"x" * 21)


async def test_any_json_id_is_echoed(served: Served) -> None:
    reader, writer = await raw(served.address)
    writer.write(b'{"method":"Arith.Multiply","params":[{"A":2,"B":3}],"id":"abc"}\n')
    line = await reader.readline()
    assert json.loads(line) == {"id": "abc", "result": 6, "error": None}
    await shut(writer)


async def test_missing_params_is_an_error_reply(served: Served) -> None:
    reader, writer = await raw(served.address)
    writer.write(b'{"method":"Arith.Multiply","id":1}\n')
    reply = json.loads(await reader.readline())
    assert reply["id"] == 1
    assert reply["result"] is None
    assert "cannot decode Arith.Multiply params" in reply["error"], reply
    await shut(writer)


# ---------------------------------------------------------------- real Go programs


@pytest.fixture
async def go_server(go_build: GoBuilder) -> AsyncIterator[dict[str, str]]:
    """Go's net/rpc serving Arith with jsonrpc on raw TCP and on HTTP CONNECT."""
    binary = go_build({"main.go": (GO / "server.go").read_text()}, name="arith")
    proc = await asyncio.create_subprocess_exec(binary, stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(10):
            line = (await proc.stdout.readline()).decode()
        yield dict(part.split("=", 1) for part in line.split())
    finally:
        proc.kill()
        await proc.wait()


@pytest.mark.go
@pytest.mark.parametrize("transport", ["tcp", "http"])
async def test_gee_client_calls_a_go_server(go_server: dict[str, str], transport: str) -> None:
    address = f"{transport}@{go_server[transport]}"
    async with gee.rpc.Client(address, codec="jsonrpc") as client:
        assert await client.call("Arith.Multiply", Args(7, 8), timeout=5) == 56
        quo = await client.call("Arith.Divide", Args(17, 5), result=Quotient)
        assert quo == Quotient(3, 2)
        with pytest.raises(RemoteError) as info:
            await client.call("Arith.Divide", Args(1, 0))
        assert info.value.message == "divide by zero"
        with pytest.raises(RemoteError) as info:
            await client.call("Arith.Nope", Args(1, 0))
        assert info.value.message == "rpc: can't find method Arith.Nope"
        # Go answers each request in its own goroutine: replies come back out of order
        order: list[int] = []

        async def one(i: int) -> None:
            order.append(await client.call("Arith.Sleep", Args(30 * (4 - i), i)))

        await asyncio.gather(*(one(i) for i in range(4)))
        assert order == [3, 2, 1, 0], f"got {order}"
        calls = [client.call("Arith.Multiply", Args(i, 2)) for i in range(500)]
        many = await asyncio.gather(*calls)
        assert many == [2 * i for i in range(500)]


@pytest.mark.go
async def test_go_handle_http_accepts_gees_connect(go_server: dict[str, str]) -> None:
    # Go's own rpc.HandleHTTP: the CONNECT exchange succeeds; after it Go expects gob, which
    # has no Python implementation. Go's gob reader takes '{' as a 123-byte length and waits
    # for the rest, so the call's timeout is what ends it: an error, never a hang.
    client = await gee.rpc.connect(f"http@{go_server['gob']}", codec="jsonrpc")
    try:
        with pytest.raises(gee.rpc.CallTimeoutError):
            await client.call("Arith.Multiply", Args(1, 2), timeout=0.3)
    finally:
        await client.close()


@pytest.mark.go
@pytest.mark.parametrize("transport", ["tcp", "http"])
async def test_go_client_calls_a_gee_server(
    go_build: GoBuilder, served: Served, transport: str
) -> None:
    binary = go_build({"main.go": (GO / "client.go").read_text()}, name="client")
    address = f"{served.address.host}:{served.address.port}"
    proc = await asyncio.create_subprocess_exec(
        binary, transport, address, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    async with asyncio.timeout(20):
        out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    got = {line["call"]: line for line in map(json.loads, out.decode().splitlines())}
    want = {
        "Multiply": {"call": "Multiply", "result": 56, "error": None},
        "Divide": {"call": "Divide", "result": {"Quo": 3, "Rem": 2}, "error": None},
        "DivideByZero": {"call": "DivideByZero", "result": None, "error": "divide by zero"},
        "Nope": {"call": "Nope", "result": None, "error": "rpc: can't find method Arith.Nope"},
        "Concurrent": {"call": "Concurrent", "result": 3 * sum(range(100)), "error": None},
    }
    assert got == want


@pytest.mark.go
async def test_go_jsonrpc_and_gee_clients_share_a_server(
    go_build: GoBuilder, served: Served
) -> None:
    async with gee.rpc.Client(served.url) as client:
        slow = client.go("Timing.Sleep", Sleep(0.3, 1))
        await test_go_client_calls_a_gee_server(go_build, served, "tcp")
        assert await slow == 1


@given(
    name=st.text(max_size=30),
    seq=st.integers(0, 2**53),
    args=st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
def test_request_line_round_trip(name: str, seq: int, args: dict[str, int]) -> None:
    line = jsonrpc.encode_request(seq, name, msgspec.json.encode(args))
    assert line.endswith(b"\n")
    assert b"\n" not in line[:-1]
    request = jsonrpc.decode_request(line)
    assert request.method == name
    assert msgspec.json.decode(request.params) == [args]
    assert msgspec.json.decode(request.id) == seq
