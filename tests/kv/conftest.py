"""Fixtures for gee.kv: an in-process server, the real redis-server, and a differential pair.

The gee.kv server runs in a background thread on its own event loop (uvloop), on a free port;
redis-server comes from tests.servers. Both are started once per session; every test that uses
them starts from FLUSHALL on both sides.
"""

from __future__ import annotations

import asyncio
import shlex
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gee.kv import Config, Server
from tests.kv.resp_client import RawClient, reply_end
from tests.servers import RunningServer, free_port, launch_redis, stop_process


class ThreadedServer:
    """A gee.kv Server running on a private loop in a daemon thread."""

    def __init__(self, **options: str) -> None:
        # No save points unless a test asks: the shared server must never write dump.rdb.
        values = {"port": str(free_port()), "bind": "127.0.0.1", "save": "", **options}
        self.server = Server(Config(values), log_file=open("/dev/null", "w"))  # noqa: SIM115
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        if not self.ready.wait(10):
            raise RuntimeError("gee.kv did not start")

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def main() -> None:
            await self.server.start()
            self.ready.set()
            await self.server.serve_forever()

        self.loop.run_until_complete(main())
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()

    @property
    def port(self) -> int:
        return self.server.port

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.server.stop)
        self.thread.join(10)
        self.server.log_file.close()


@pytest.fixture(scope="session")
def kv_server() -> Iterator[ThreadedServer]:
    """One gee.kv server for the session (tests FLUSHALL before use)."""
    server = ThreadedServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def kv(kv_server: ThreadedServer) -> Iterator[RawClient]:
    """A raw connection to a freshly flushed gee.kv."""
    client = RawClient(kv_server.port)
    client.call("FLUSHALL")
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One real redis-server for the session: the oracle the replies are compared with."""
    server = launch_redis(Path(tmp_path_factory.mktemp("redis")))
    try:
        yield server
    finally:
        assert server.proc is not None
        stop_process(server.proc)


def _split_elements(reply: bytes) -> tuple[bytes, list[bytes]]:
    """Split an aggregate reply into its header and raw elements."""
    eol = reply.index(b"\r\n")
    header = reply[: eol + 2]
    n = int(reply[1:eol]) * (2 if reply[:1] == b"%" else 1)
    pos = eol + 2
    items = []
    for _ in range(max(n, 0)):
        end = reply_end(reply, pos)
        items.append(reply[pos:end])
        pos = end
    return header, items


def canonical(reply: bytes, mode: str) -> bytes:
    """Normalise an unordered reply: 'sort' sorts elements, 'pairs' sorts key-value pairs,
    'len' keeps only an aggregate's header, 'type' only the reply's type byte."""
    if mode == "type":
        return reply[:1]
    if reply[:1] not in (b"*", b"~", b"%") or reply.startswith(b"*-1"):
        return reply
    header, items = _split_elements(reply)
    if mode == "sort":
        return header + b"".join(sorted(items))
    if mode == "pairs":
        if reply[:1] == b"%":
            pairs = [items[i] + items[i + 1] for i in range(0, len(items), 2)]
        elif items and items[0][:1] == b"*":
            pairs = items
        else:
            pairs = [items[i] + items[i + 1] for i in range(0, len(items), 2)]
        return header + b"".join(sorted(pairs))
    if mode == "len":
        return header
    raise ValueError(mode)


class Differ:
    """Runs the same commands on gee.kv and redis-server and asserts identical replies."""

    def __init__(self, kv_port: int, redis_port: int) -> None:
        self.kv_port = kv_port
        self.redis_port = redis_port
        self.conns: dict[str, tuple[RawClient, RawClient]] = {}
        self.conn("main")
        self.call("FLUSHALL")

    def conn(self, name: str = "main") -> tuple[RawClient, RawClient]:
        if name not in self.conns:
            self.conns[name] = (RawClient(self.kv_port), RawClient(self.redis_port))
        return self.conns[name]

    def close(self) -> None:
        for a, b in self.conns.values():
            a.close()
            b.close()

    def call(self, *args: object, conn: str = "main", mode: str | None = None) -> bytes:
        """Send ``args`` to both; assert byte-identical replies; return gee's."""
        mine, theirs = self.conn(conn)
        mine.send(*args)
        theirs.send(*args)
        got, want = mine.read(), theirs.read()
        if mode is not None:
            got, want = canonical(got, mode), canonical(want, mode)
        assert got == want, f"{args!r}: got {got!r}; want {want!r}"
        return got

    def send(self, *args: object, conn: str = "main") -> None:
        """Send without reading (for blocking commands); ``read`` checks the reply later."""
        mine, theirs = self.conn(conn)
        mine.send(*args)
        theirs.send(*args)

    def read(self, conn: str = "main", mode: str | None = None) -> bytes:
        mine, theirs = self.conn(conn)
        got, want = mine.read(), theirs.read()
        if mode is not None:
            got, want = canonical(got, mode), canonical(want, mode)
        assert got == want, f"read on {conn}: got {got!r}; want {want!r}"
        return got

    def script(self, text: str, conn: str = "main") -> None:
        """Run one command per line (shlex syntax); ``# sort`` etc. after ``|`` set a mode."""
        for line in text.strip().splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            mode = None
            if " |" in line:
                line, mode = line.rsplit(" |", 1)
                mode = mode.strip()
            self.call(*shlex.split(line), conn=conn, mode=mode)


@pytest.fixture
def diff(kv_server: ThreadedServer, oracle: RunningServer) -> Iterator[Differ]:
    """A Differ over flushed gee.kv and redis-server."""
    differ = Differ(kv_server.port, oracle.port)
    try:
        yield differ
    finally:
        differ.close()
