"""The write hook persistence will use: every keyspace change is reported with its argv."""

from __future__ import annotations

from tests.kv.conftest import ThreadedServer
from tests.kv.resp_client import RawClient


def test_propagate_reports_writes_only() -> None:
    server = ThreadedServer()
    seen: list[tuple[int, list[bytes]]] = []
    server.server.propagate = lambda index, args: seen.append((index, list(args)))
    client = RawClient(server.port)
    try:
        client.pipeline(
            [
                ["set", "a", "1"],
                ["get", "a"],
                ["set", "b", "1", "nx"],
                ["set", "b", "2", "nx"],
                ["select", "2"],
                ["lpush", "l", "x"],
                ["multi"],
                ["incr", "n"],
                ["get", "n"],
                ["exec"],
                ["del", "nope"],
            ]
        )
        assert seen == [
            (0, [b"set", b"a", b"1"]),
            (0, [b"set", b"b", b"1", b"nx"]),
            (2, [b"lpush", b"l", b"x"]),
            # EXEC's writes arrive wrapped, so an AOF replays a transaction whole or not at all
            (2, [b"MULTI"]),
            (2, [b"incr", b"n"]),
            (2, [b"EXEC"]),
        ]
    finally:
        client.close()
        server.stop()
