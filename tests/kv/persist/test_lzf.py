"""LZF: round trips, the format's corners, and streams written by liblzf (Redis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gee.kv.persist.lzf import LZFError, compress, decompress


@settings(deadline=None)
@given(st.binary(max_size=3000))
def test_round_trip(data: bytes) -> None:
    assert decompress(compress(data), len(data)) == data


@settings(deadline=None)
@given(st.lists(st.sampled_from([b"ab", b"abc", b"x" * 40, b"hello world"]), max_size=200))
def test_round_trip_repetitive(parts: list[bytes]) -> None:
    data = b"".join(parts)
    assert decompress(compress(data), len(data)) == data


def test_repetition_compresses() -> None:
    data = b"a" * 10000
    assert len(compress(data)) < 200


@pytest.mark.parametrize(
    ("stream", "length", "want"),
    [
        (b"\x02abc", 3, b"abc"),
        # literal "a", then a 7-byte back reference at distance 1 (an overlapping copy)
        (b"\x00a\xa0\x00", 8, b"a" * 8),
        # the long form: length byte follows when the 3-bit length is 7
        (b"\x00a\xe0\x01\x00", 11, b"a" * 11),
        # literal "abc", then 8 bytes at distance 3: an overlapping copy of a longer pattern
        (b"\x02abc\xc0\x02", 11, b"abcabcabcab"),
    ],
)
def test_known_streams(stream: bytes, length: int, want: bytes) -> None:
    got = decompress(stream, length)
    assert got == want, f"got {got!r}; want {want!r}"


@pytest.mark.parametrize(
    ("stream", "length"),
    [
        (b"\x05ab", 6),  # literal run past the end
        (b"\x20\x05", 3),  # reference before the start
        (b"\x02abc", 4),  # wrong stated length
        (b"\x00a\x20", 4),  # truncated reference
    ],
)
def test_corrupt_streams(stream: bytes, length: int) -> None:
    with pytest.raises(LZFError):
        decompress(stream, length)
