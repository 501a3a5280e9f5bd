"""CRC-64 Jones: Redis's check value and incremental use."""

from __future__ import annotations

import pytest

from gee.kv.persist.crc64 import crc64


@pytest.mark.parametrize(
    ("data", "want"),
    [
        (b"", 0),
        (b"123456789", 0xE9C6D914C4B8D9CA),  # Redis's crc64 self-test
    ],
)
def test_check_values(data: bytes, want: int) -> None:
    got = crc64(data)
    assert got == want, f"got {got:#x}; want {want:#x}"


def test_continues_from_a_previous_crc() -> None:
    data = bytes(range(256)) * 5
    assert crc64(data[700:], crc64(data[:700])) == crc64(data)
