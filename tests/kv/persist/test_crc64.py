"""CRC-64 Jones: Redis's check value, incremental use, and computing it in a child process."""

from __future__ import annotations

import os

import pytest

from gee.kv.persist.crc64 import Forked, crc64


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
    """The textbook bit-at-a-time CRC, to check the sliced tables against."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x95AC9329AC4BC9B5 if crc & 1 else crc >> 1
    return crc


@pytest.mark.parametrize("size", [0, 1, 7, 8, 9, 15, 16, 17, 100, 1001])
def test_sliced_equals_bitwise(size: int) -> None:
    data = bytes((i * 37 + 11) & 0xFF for i in range(size))
    assert crc64(data) == _bytewise(data)


def test_forked_child_computes_the_same_checksum() -> None:
    data = bytes(range(256)) * 400
    forked = Forked(memoryview(data))
    assert forked.pid > 0
    assert forked.result() == crc64(data)
    forked.close()  # after result(): nothing left to stop
    assert (forked.pid, forked.fd) == (0, -1)


def test_forked_child_not_waited_for_is_stopped_and_reaped() -> None:
    forked = Forked(bytes(10_000_000))  # about a second of work: still running at close()
    pid = forked.pid
    forked.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped: no zombie left behind
