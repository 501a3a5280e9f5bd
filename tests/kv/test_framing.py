"""Request framing inside one connection, fed chunk by chunk without a socket.

Each test drives ``Client.data_received`` directly with chosen chunk boundaries, so frames
split at every possible place (including a frame spanning three reads after another frame
ended mid-read) are exercised deterministically.
"""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gee.kv import Client, Config, Server
from gee.kv.resp import encode_command


class FakeTransport:
    def __init__(self) -> None:
        self.data = bytearray()
        self.closed = False

    def write(self, data: bytes) -> None:
        self.data += data

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> None:
        return None

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


@pytest.fixture
def client() -> Client:
    server = Server(Config({"port": "0"}), log_file=io.StringIO())
    c = Client(server)
    c.connection_made(FakeTransport())  # type: ignore[arg-type]
    return c


def feed(client: Client, payload: bytes, sizes: list[int]) -> bytes:
    transport = client.transport
    assert isinstance(transport, FakeTransport)
    pos = 0
    i = 0
    while pos < len(payload):
        size = sizes[i % len(sizes)]
        client.data_received(payload[pos : pos + size])
        pos += size
        i += 1
    return bytes(transport.data)


@pytest.mark.parametrize("sizes", [[1], [2, 3], [5, 100, 7], [40, 9, 300], [4096]])
def test_frames_split_at_any_boundary(client: Client, sizes: list[int]) -> None:
    commands = [
        [b"SET", b"a", b"x" * 50],
        [b"GET", b"a"],
        [b"SET", b"long", b"y" * 700],
        [b"STRLEN", b"long"],
        [b"ECHO", b"*3\r\n$999999999999\r\n"],
        [b"PING"],
    ]
    payload = b"".join(encode_command(c) for c in commands)
    out = feed(client, payload, sizes)
    want = (
        b"+OK\r\n$50\r\n" + b"x" * 50 + b"\r\n+OK\r\n:700\r\n"
        b"$19\r\n*3\r\n$999999999999\r\n\r\n+PONG\r\n"
    )
    assert out == want, f"got {out!r}; want {want!r}"


def test_bad_header_is_refused_while_the_frame_is_incomplete(client: Client) -> None:
    out = feed(client, encode_command([b"PING"]) + b"*2\r\n$3\r\nGET\r\n$999999999999\r\n", [9])
    assert out == b"+PONG\r\n-ERR Protocol error: invalid bulk length\r\n"
    assert client.closing


_values = st.sampled_from([b"", b"v", b"*1\r\n$4\r\nPING\r\n", b"$3\r\n", b"x" * 300, b"\r\n"])


@settings(max_examples=300, deadline=None)
@given(
    commands=st.lists(
        st.one_of(
            st.tuples(st.just(b"SET"), st.sampled_from([b"a", b"b"]), _values).map(list),
            st.tuples(st.just(b"GET"), st.sampled_from([b"a", b"b"])).map(list),
            st.tuples(st.just(b"ECHO"), _values).map(list),
            st.just([b"PING"]),
        ),
        min_size=1,
        max_size=12,
    ),
    sizes=st.lists(st.integers(1, 64), min_size=1, max_size=8),
)
def test_any_split_gives_the_same_replies(commands: list[list[bytes]], sizes: list[int]) -> None:
    payload = b"".join(encode_command(c) for c in commands)
    whole = _fresh_client()
    split = _fresh_client()
    assert feed(split, payload, sizes) == feed(whole, payload, [len(payload)])


def _fresh_client() -> Client:
    server = Server(Config({"port": "0"}), log_file=io.StringIO())
    c = Client(server)
    c.connection_made(FakeTransport())  # type: ignore[arg-type]
    return c
