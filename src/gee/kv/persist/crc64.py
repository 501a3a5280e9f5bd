"""Redis's CRC-64 (Jones polynomial, reflected, no final xor): the RDB and DUMP checksum.

Computed by anycrc's C code (``CRC64-REDIS``, about 3 GB/s here); a table-driven loop in
Python ran at about 10 MB/s, a quarter of a 1M-key load. The check value for ``b"123456789"``
is ``0xE9C6D914C4B8D9CA``, as Redis's own self-test states.
"""

from __future__ import annotations

import anycrc

_MODEL = anycrc.Model("CRC64-REDIS")


def crc64(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """The CRC-64 of ``data``, continuing from ``crc`` (0 starts a new checksum)."""
    return int(_MODEL.calc(data, crc))
