"""CRC-64 Jones: Redis's check value, incremental use, and agreement with the textbook algorithm."""

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


def _bytewise(data: bytes) -> int:
    """The textbook bit-at-a-time CRC, an oracle independent of the library."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x95AC9329AC4BC9B5 if crc & 1 else crc >> 1
    return crc


@pytest.mark.parametrize("size", [0, 1, 7, 8, 9, 15, 16, 17, 100, 1001])
def test_equals_bitwise(size: int) -> None:
    data = bytes((i * 37 + 11) & 0xFF for i in range(size))
    assert crc64(data) == _bytewise(data)


def test_accepts_every_bytes_like() -> None:
    data = bytes(range(200))
    want = _bytewise(data)
    assert crc64(bytearray(data)) == want
    assert crc64(memoryview(data)) == want
    assert crc64(memoryview(b"xx" + data)[2:]) == want
