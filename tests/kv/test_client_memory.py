"""Clients' output buffers in used memory: a client that pipelines big GETs without reading
its replies makes INFO's mem_clients_normal and used_memory grow, counts against maxmemory,
and gives it all back when it disconnects. Each test runs on gee.kv and on redis-server, so
the expectations are Redis's."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gee.kv.resp import encode_command
from tests.kv.conftest import ThreadedServer
from tests.kv.resp_client import RawClient
from tests.servers import launch_redis, stop_process

pytestmark = pytest.mark.redis

VALUE = 1 << 20  # 1 MB per GET reply
GETS = 32  # 32 MB of replies, far more than the kernel's socket buffers take
OOM = b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"


@pytest.fixture(params=["gee", "redis"])
def port(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[int]:
    """A fresh gee.kv or redis-server holding one 1 MB string at ``big``."""
    if request.param == "gee":
        gee = ThreadedServer()
        server_port, stop = gee.port, gee.stop
    else:
        redis = launch_redis(tmp_path)
        assert redis.proc is not None
        proc = redis.proc
        server_port, stop = redis.port, lambda: stop_process(proc)
    try:
        client = RawClient(server_port)
        assert client.call("SET", "big", b"x" * VALUE) == b"+OK\r\n"
        client.close()
        yield server_port
    finally:
        stop()


def _memory(client: RawClient) -> dict[str, int]:
    fields = {}
    for line in client.call("INFO", "memory").split(b"\r\n"):
        name, _, value = line.partition(b":")
        if value.isdigit():
            fields[name.decode()] = int(value)
    return fields


def _poll(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _stalled_reader(port: int) -> socket.socket:
    """A connection that sends GETS × GET big and reads none of the replies."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
    sock.connect(("127.0.0.1", port))
    sock.sendall(encode_command([b"GET", b"big"]) * GETS)
    return sock


def test_unread_replies_count_in_used_memory(port: int) -> None:
    info = RawClient(port)
    try:
        before = _memory(info)
        sock = _stalled_reader(port)
        try:
            # Most of the 32 MB cannot leave the server while nobody reads them.
            _poll(
                lambda: (
                    _memory(info)["mem_clients_normal"]
                    > before["mem_clients_normal"] + GETS * VALUE // 2
                ),
                "mem_clients_normal to grow",
            )
            during = _memory(info)
            grown = during["mem_clients_normal"] - before["mem_clients_normal"]
            used = during["used_memory"] - before["used_memory"]
            # Loosely: redis-server's used_memory has been seen 2 MB short of its own
            # mem_clients_normal growth (other allocations shrink meanwhile).
            assert used >= grown * 3 // 4, f"used_memory grew {used}; want about {grown}"
            overhead = during["used_memory_overhead"] - before["used_memory_overhead"]
            assert overhead >= grown * 3 // 4, f"used_memory_overhead grew {overhead}; want {grown}"
        finally:
            sock.close()
        _poll(
            lambda: _memory(info)["mem_clients_normal"] < before["mem_clients_normal"] + VALUE,
            "mem_clients_normal to fall back",
        )
        after = _memory(info)
        assert after["used_memory"] < before["used_memory"] + VALUE, (
            f"got used_memory {after['used_memory']}; want about {before['used_memory']}"
        )
    finally:
        info.close()


def test_unread_replies_count_against_maxmemory(port: int) -> None:
    info = RawClient(port)
    try:
        # Room for 8 MB more: the data fits, the unread replies do not.
        limit = _memory(info)["used_memory"] + 8 * VALUE
        assert info.call("CONFIG", "SET", "maxmemory", limit) == b"+OK\r\n"
        assert info.call("SET", "small", "fits") == b"+OK\r\n"
        sock = _stalled_reader(port)
        try:
            _poll(lambda: info.call("SET", "small", "refused") == OOM, "SET to be refused")
            assert info.call("EXISTS", "small") == b":1\r\n"  # reads go on
        finally:
            sock.close()
        _poll(lambda: info.call("SET", "small", "again") == b"+OK\r\n", "SET to be accepted")
    finally:
        info.close()
