"""The generated groupcache messages encode exactly as Go's groupcachepb does."""

from __future__ import annotations

import pytest

from gee.cache.pb import GetRequest, GetResponse


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (b"", b"\n\x00"),
        (b"x", b"\n\x01x"),
        ("héllo".encode(), b"\n\x06h\xc3\xa9llo"),
        (b"\x00" * 200, b"\n\xc8\x01" + b"\x00" * 200),
    ],
)
def test_get_response_round_trip(value: bytes, wire: bytes) -> None:
    got = GetResponse(value=value).SerializeToString()
    assert got == wire, f"got {got!r}; want {wire!r}"
    back = GetResponse.FromString(wire)
    assert back.value == value
    assert not back.HasField("minute_qps")


def test_minute_qps_is_field_2_double() -> None:
    wire = GetResponse(value=b"v", minute_qps=1.5).SerializeToString()
    assert wire == b"\n\x01v\x11\x00\x00\x00\x00\x00\x00\xf8?", f"got {wire!r}"


def test_unknown_fields_are_skipped() -> None:
    # A later groupcache (or a fork) might add fields; an old reader must still find the value.
    wire = b"\n\x01v" + b"\x18\x07"  # field 3, varint 7
    assert GetResponse.FromString(wire).value == b"v"


def test_get_request_fields() -> None:
    wire = GetRequest(group="g", key="k").SerializeToString()
    assert wire == b"\n\x01g\x12\x01k", f"got {wire!r}"
