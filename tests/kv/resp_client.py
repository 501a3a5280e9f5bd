"""A raw RESP client for tests: sends commands, returns each reply's exact bytes.

The differential tests compare bytes, not parsed values, so this client never decodes a reply:
it only finds where one ends.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence

from gee.kv.resp import encode_command


def reply_end(data: bytes | bytearray, pos: int = 0) -> int:
    """Offset just past the complete RESP2/3 reply at ``pos``, or -1 if it is incomplete."""
    eol = data.find(b"\r\n", pos)
    if eol < 0:
        return -1
    kind = data[pos : pos + 1]
    if kind in (b"$", b"=", b"!"):
        n = int(data[pos + 1 : eol])
        if n < 0:
            return eol + 2
        end = eol + 2 + n + 2
        return end if len(data) >= end else -1
    if kind in (b"*", b"~", b">", b"%", b"|"):
        n = int(data[pos + 1 : eol])
        if kind in (b"%", b"|"):
            n *= 2
        pos = eol + 2
        for _ in range(max(n, 0)):
            pos = reply_end(data, pos)
            if pos < 0:
                return -1
        return pos
    return eol + 2


def as_bytes(arg: object) -> bytes:
    if isinstance(arg, bytes):
        return arg
    return str(arg).encode()


class RawClient:
    """A blocking RESP connection that returns raw reply bytes."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 10.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = bytearray()

    def close(self) -> None:
        self.sock.close()

    def send(self, *args: object) -> None:
        self.sock.sendall(encode_command([as_bytes(a) for a in args]))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read(self) -> bytes:
        """Read exactly one reply (raises TimeoutError if none comes)."""
        while True:
            end = reply_end(self.buf) if self.buf else -1
            if end >= 0:
                reply = bytes(self.buf[:end])
                del self.buf[:end]
                return reply
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"closed; buffered {bytes(self.buf)!r}")
            self.buf += chunk

    def call(self, *args: object) -> bytes:
        self.send(*args)
        return self.read()

    def pipeline(self, commands: Sequence[Sequence[object]]) -> list[bytes]:
        self.sock.sendall(b"".join(encode_command([as_bytes(a) for a in c]) for c in commands))
        return [self.read() for _ in commands]

    def read_closed(self, timeout: float = 2.0) -> bytes:
        """Read until the server closes the connection; return everything received."""
        self.sock.settimeout(timeout)
        data = bytes(self.buf)
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                return data
            data += chunk
