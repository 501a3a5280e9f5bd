"""Go's net/rpc/jsonrpc wire format: one JSON object per line, both ways.

Request ``{"method":"Arith.Multiply","params":[{"A":7,"B":8}],"id":N}``, reply
``{"id":N,"result":56,"error":null}``. ``params`` is a one-element array, ``id`` is echoed
byte for byte (Go's server accepts any JSON value there), and the error is a string or null;
there is no ``"jsonrpc"`` member. Go's encoder ends every object with a newline, so a line is
a message; the reader still tolerates ``\\r\\n`` and blank lines. A leaf: bytes in, callbacks
and bytes out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from gee.rpc.errors import FrameTooLargeError

__all__ = [
    "LineReader",
    "Request",
    "Response",
    "decode_request",
    "decode_response",
    "encode_error",
    "encode_request",
    "encode_result",
]

_NULL = msgspec.Raw(b"null")
_json = msgspec.json.Encoder()


class Request(msgspec.Struct):
    """A JSON-RPC request as Go's client sends it; ``params`` and ``id`` stay undecoded."""

    method: str = ""
    params: msgspec.Raw = _NULL
    id: msgspec.Raw = _NULL


class Response(msgspec.Struct):
    """A JSON-RPC reply as Go's server sends it; ``result`` stays undecoded."""

    id: Any = None
    result: msgspec.Raw = _NULL
    error: Any = None


decode_request = msgspec.json.Decoder(Request).decode
decode_response = msgspec.json.Decoder(Response).decode


def encode_request(seq: int, name: str, body: bytes) -> bytes:
    """Return one request line; ``body`` is the argument already encoded as JSON."""
    return b'{"method":%b,"params":[%b],"id":%d}\n' % (_json.encode(name), body, seq)


def encode_result(id_raw: bytes, body: bytes) -> bytes:
    """Return one reply line carrying ``body`` (JSON) as the result."""
    return b'{"id":%b,"result":%b,"error":null}\n' % (id_raw, body)


def encode_error(id_raw: bytes, message: str) -> bytes:
    """Return one reply line carrying ``message`` as the error and a null result."""
    return b'{"id":%b,"result":null,"error":%b}\n' % (id_raw, _json.encode(message))


class LineReader:
    """Cuts a stream into lines and calls ``on_line`` for each one that is not blank.

    A line longer than ``max_line`` raises FrameTooLargeError as soon as that many bytes are
    buffered without a newline: a line has no length prefix to skip by.
    """

    __slots__ = ("_buf", "_max", "_on_line")

    def __init__(self, on_line: Callable[[bytes], None], max_line: int) -> None:
        self._buf = bytearray()
        self._max = max_line
        self._on_line = on_line

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Parse ``data`` and call back for every complete line."""
        buf = self._buf
        buf += data
        start = 0
        while True:
            end = buf.find(b"\n", start)
            if end < 0:
                break
            line = bytes(buf[start:end]).strip()
            start = end + 1
            if line:
                self._on_line(line)
        if start:
            del buf[:start]
        if len(buf) > self._max:
            raise FrameTooLargeError(f"JSON line over the limit of {self._max} bytes")
