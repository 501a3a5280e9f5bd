"""A redis-server and a gee.kv started with the same redis.conf-style options, side by side,
and one-shot calls to either: for tests that compare the two on files they write and load."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from tests.kv.conftest import ThreadedServer
from tests.kv.resp_client import RawClient
from tests.servers import RunningServer, launch_redis, stop_process

__all__ = ["call", "call_int", "gee_with", "redis_with"]


@contextlib.contextmanager
def redis_with(workdir: Path, config: tuple[str, ...]) -> Iterator[RunningServer]:
    """redis-server in ``workdir`` with ``config`` (name, value, name, value, ...)."""
    server = launch_redis(
        workdir, *(f"--{item}" if i % 2 == 0 else item for i, item in enumerate(config))
    )
    try:
        yield server
    finally:
        assert server.proc is not None
        stop_process(server.proc)


@contextlib.contextmanager
def gee_with(workdir: Path, config: tuple[str, ...]) -> Iterator[ThreadedServer]:
    """gee.kv in ``workdir`` with ``config`` (name, value, name, value, ...)."""
    options = dict(zip(config[::2], config[1::2], strict=True))
    server = ThreadedServer(dir=str(workdir), **options)
    try:
        yield server
    finally:
        server.stop()


def call(port: int, *args: object) -> bytes:
    """One command on a fresh connection; the raw reply."""
    client = RawClient(port)
    try:
        return client.call(*args)
    finally:
        client.close()


def call_int(port: int, *args: object) -> int:
    """One command whose reply must be an integer; the integer."""
    reply = call(port, *args)
    assert reply[:1] == b":", f"{args}: got {reply!r}; want an integer"
    return int(reply[1:-2])
