"""Fixtures for gee.rpc tests: a real server on a free loopback port, raw sockets to poke it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from gee.rpc import Server
from gee.rpc.address import Address
from tests.rpc.services import Arith, Timing


@dataclass
class Served:
    server: Server
    address: Address
    timing: Timing

    @property
    def url(self) -> str:
        return str(self.address)


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """Every async rpc test runs on the standard loop and on uvloop (what ``gee rpc`` uses)."""
    import uvloop

    return {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    """A Server with Arith and Timing on ``tcp@127.0.0.1:<free port>``, shut down afterwards."""
    server = Server(handle_timeout=2.0)
    timing = Timing()
    server.register(Arith())
    server.register(timing)
    address = await server.start("tcp@127.0.0.1:0")
    try:
        yield Served(server, address, timing)
    finally:
        await server.shutdown(grace=0.5)


async def raw(address: Address) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A plain socket to the server, for sending bytes no client would."""
    return await asyncio.open_connection(address.host, address.port)


async def closed_by_peer(reader: asyncio.StreamReader, timeout: float = 2.0) -> bytes:
    """Read until the server closes; return everything it sent first."""
    async with asyncio.timeout(timeout):
        return await reader.read()


async def shut(writer: asyncio.StreamWriter) -> None:
    writer.close()
    try:
        await writer.wait_closed()
    except ConnectionError:
        pass
