"""The handshake and frame layer: round trips, split delivery, limits, malformed headers."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gee.rpc import protocol as p
from gee.rpc.errors import FrameTooLargeError, ProtocolError

Frame = tuple[int, int, int, bytes, bytes]


def collect(max_frame: int = p.DEFAULT_MAX_FRAME) -> tuple[p.FrameReader, list[Frame], list[int]]:
    frames: list[Frame] = []
    oversized: list[int] = []

    def on_frame(seq: int, kind: int, deadline: int, name: bytes, body: p.Body) -> None:
        frames.append((seq, kind, deadline, name, bytes(body)))

    def on_oversize(seq: int, kind: int, length: int) -> None:
        oversized.append(seq)

    return p.FrameReader(on_frame, on_oversize, max_frame), frames, oversized


def test_handshake_round_trip() -> None:
    data = p.encode_handshake(2)
    assert data == b"\x00\x3b\xef\x5c\x01\x02\x00\x00", f"got {data!r}"
    assert p.decode_handshake(data) == (2, 0)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"GET / HT", "bad magic"),
        (b"\x00\x3b\xef\x5c\x02\x01\x00\x00", "version 2"),
        (b"\x00\x3b\xef\x5c\x01\x01\x00\x01", "flags"),
        (b"\x00\x3b", "2 bytes"),
    ],
)
def test_handshake_refusals_say_why(data: bytes, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        p.decode_handshake(data)


def test_request_layout_byte_by_byte() -> None:
    frame = p.encode_request(7, b"A.B", b"\x81", deadline_ms=1000)
    want = struct.pack(">IQBBHI", 12 + 4 + 3 + 1, 7, p.REQUEST, p.FLAG_DEADLINE, 3, 1000)
    assert frame == want + b"A.B\x81", f"got {frame!r}"


@pytest.mark.parametrize("deadline", [0, 1000])
def test_heads_followed_by_their_parts_are_whole_frames(deadline: int) -> None:
    head = p.request_head(7, 3, 1, deadline)
    assert head + b"A.B\x81" == p.encode_request(7, b"A.B", b"\x81", deadline)
    assert p.reply_head(7, 2) + b"\x81\x01" == p.encode_reply(7, b"\x81\x01")


frames_strategy = st.lists(
    st.tuples(
        st.integers(0, 2**64 - 1),
        st.sampled_from(["request", "reply", "error"]),
        st.integers(0, 2**32 - 1),
        st.binary(max_size=40),
        st.binary(max_size=300),
    ),
    max_size=8,
)


def encode(seq: int, kind: str, deadline: int, name: bytes, body: bytes) -> tuple[bytes, Frame]:
    if kind == "request":
        return p.encode_request(seq, name, body, deadline), (seq, p.REQUEST, deadline, name, body)
    if kind == "reply":
        return p.encode_reply(seq, body), (seq, p.REPLY, 0, b"", body)
    text = body.decode("latin-1")
    return p.encode_error(seq, text), (seq, p.ERROR, 0, b"", text.encode())


@settings(max_examples=200, deadline=None)
@given(frames_strategy, st.lists(st.integers(1, 64), max_size=20))
def test_frames_round_trip_however_split(
    specs: list[tuple[int, str, int, bytes, bytes]], cuts: list[int]
) -> None:
    stream = b""
    want = []
    for spec in specs:
        data, frame = encode(*spec)
        stream += data
        want.append(frame)
    reader, got, _ = collect()
    pos = 0
    for cut in cuts:
        reader.feed(stream[pos : pos + cut])
        pos += cut
    reader.feed(stream[pos:])
    assert got == want
    assert reader.buffered == 0


def test_oversized_frame_is_skipped_not_buffered() -> None:
    reader, got, oversized = collect(max_frame=100)
    big = p.encode_reply(5, b"x" * 1000)
    small = p.encode_reply(6, b"ok")
    reader.feed(big[:20])
    assert oversized == [5], f"got {oversized}; want [5] as soon as the header is in"
    assert reader.buffered == 0
    for i in range(20, len(big), 100):
        reader.feed(big[i : i + 100])
        assert reader.buffered == 0
    reader.feed(small)
    assert got == [(6, p.REPLY, 0, b"", b"ok")]


def test_oversized_without_handler_raises() -> None:
    reader = p.FrameReader(lambda *a: None, None, max_frame=10)
    with pytest.raises(FrameTooLargeError, match="exceeds the limit of 10"):
        reader.feed(struct.pack(">IQBBH", 0xFFFFFFFF, 1, 1, 0, 0))


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (struct.pack(">IQBBH", 3, 1, 1, 0, 0) + b"\x00" * 8, "shorter than its header"),
        (struct.pack(">IQBBH", 12, 1, 9, 0, 0), "unknown frame kind 9"),
        (struct.pack(">IQBBH", 12, 1, 1, 0x80, 0), "bad frame flags"),
        (struct.pack(">IQBBH", 12, 1, 1, 1, 0), "bad frame flags"),
        (struct.pack(">IQBBH", 14, 1, 1, 0, 50) + b"ab", "overruns"),
    ],
)
def test_malformed_headers_raise(header: bytes, reason: str) -> None:
    reader, _, _ = collect()
    with pytest.raises(ProtocolError, match=reason):
        reader.feed(header)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_raises_protocol_error_or_waits(data: bytes) -> None:
    reader, _, _ = collect(max_frame=1 << 10)
    try:
        reader.feed(data)
    except ProtocolError:
        pass
