"""gee.rpc's wire protocol: a fixed-length handshake, then length-prefixed frames.

GeeRPC sent its Option as a JSON object with no length, and the server's JSON decoder read ahead
into the first request, so it only worked because the example slept between the two. Here every
byte's meaning follows from the bytes before it: the handshake is exactly eight bytes, and every
frame starts with its length. ``docs/rpc.md`` draws the layout byte by byte.

Handshake, client to server, echoed unchanged by a server that accepts it::

    magic u32 = 0x003BEF5C | version u8 = 1 | codec u8 | flags u16 = 0

Frame, both ways (all integers big-endian)::

    length u32 | seq u64 | kind u8 | flags u8 | name_len u16 | [deadline_ms u32] | name | body

``length`` counts every byte after itself. ``kind`` is request, reply or error (an error's body is
its UTF-8 message). ``flags`` bit 0 says a deadline follows: the milliseconds the caller will
still wait, so the server can give up when the caller has. A request's ``name`` is
``Service.Method``; replies have none. This module is a leaf: bytes in, callbacks out.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Final, TypeAlias

from gee.rpc.errors import FrameTooLargeError, ProtocolError

__all__ = [
    "DEFAULT_MAX_FRAME",
    "ERROR",
    "FLAG_DEADLINE",
    "HANDSHAKE_SIZE",
    "HEADER_SIZE",
    "MAGIC",
    "REPLY",
    "REQUEST",
    "VERSION",
    "FrameReader",
    "decode_handshake",
    "encode_error",
    "encode_handshake",
    "encode_reply",
    "encode_request",
    "reply_head",
    "request_head",
]

MAGIC: Final = 0x003BEF5C  # GeeRPC's MagicNumber; its leading zero byte is never HTTP or JSON
VERSION: Final = 1
HANDSHAKE_SIZE: Final = 8
HEADER_SIZE: Final = 16  # length, seq, kind, flags, name_len
DEFAULT_MAX_FRAME: Final = 16 << 20

REQUEST: Final = 1
REPLY: Final = 2
ERROR: Final = 3
FLAG_DEADLINE: Final = 0x01

_FIXED: Final = HEADER_SIZE - 4  # header bytes counted by ``length``
_MAX_DEADLINE_MS: Final = 0xFFFFFFFF

_HANDSHAKE = struct.Struct(">IBBH")
_HEAD = struct.Struct(">IQBBH")
_HEAD_DEADLINE = struct.Struct(">IQBBHI")
_U32 = struct.Struct(">I")

Body: TypeAlias = bytes | bytearray | memoryview
# on_frame(seq, kind, deadline_ms or 0, name, body)
FrameHandler: TypeAlias = Callable[[int, int, int, bytes, Body], None]
# on_oversize(seq, kind, length): the frame is being skipped, never buffered
OversizeHandler: TypeAlias = Callable[[int, int, int], None]


def encode_handshake(codec_id: int, flags: int = 0) -> bytes:
    """Return the eight handshake bytes asking for ``codec_id``."""
    return _HANDSHAKE.pack(MAGIC, VERSION, codec_id, flags)


def decode_handshake(data: bytes | bytearray) -> tuple[int, int]:
    """Return ``(codec_id, flags)`` from eight handshake bytes; ProtocolError says what is wrong."""
    if len(data) != HANDSHAKE_SIZE:
        raise ProtocolError(f"handshake is {len(data)} bytes; want {HANDSHAKE_SIZE}")
    magic, version, codec_id, flags = _HANDSHAKE.unpack(data)
    if magic != MAGIC:
        raise ProtocolError(f"bad magic number {magic:#010x}; want {MAGIC:#010x}")
    if version != VERSION:
        raise ProtocolError(f"unsupported protocol version {version}; want {VERSION}")
    if flags:
        raise ProtocolError(f"unknown handshake flags {flags:#06x}")
    return codec_id, flags


def encode_request(seq: int, name: bytes, body: bytes, deadline_ms: int = 0) -> bytes:
    """Return a request frame; ``deadline_ms`` 0 means the caller waits as long as it takes."""
    return b"".join((request_head(seq, len(name), len(body), deadline_ms), name, body))


def encode_reply(seq: int, body: bytes) -> bytes:
    """Return a reply frame carrying an encoded result."""
    return _HEAD.pack(_FIXED + len(body), seq, REPLY, 0, 0) + body


def reply_head(seq: int, body_len: int) -> bytes:
    """Return the header of a reply frame whose body of ``body_len`` bytes is sent after it.

    For writers that gather frames and send them in one join: the body is never copied twice.
    """
    return _HEAD.pack(_FIXED + body_len, seq, REPLY, 0, 0)


def request_head(seq: int, name_len: int, body_len: int, deadline_ms: int = 0) -> bytes:
    """Return the header of a request frame (name and body follow); see ``encode_request``."""
    if deadline_ms:
        return _HEAD_DEADLINE.pack(
            _FIXED + 4 + name_len + body_len,
            seq,
            REQUEST,
            FLAG_DEADLINE,
            name_len,
            min(deadline_ms, _MAX_DEADLINE_MS),
        )
    return _HEAD.pack(_FIXED + name_len + body_len, seq, REQUEST, 0, name_len)


def encode_error(seq: int, message: str) -> bytes:
    """Return an error frame; its body is the message in UTF-8."""
    body = message.encode("utf-8", "replace")
    return _HEAD.pack(_FIXED + len(body), seq, ERROR, 0, 0) + body


class FrameReader:
    """Cuts a byte stream into frames and hands each to ``on_frame``.

    Feed it whatever the socket delivered. When a chunk holds whole frames and nothing is
    buffered, bodies are zero-copy views of that chunk; otherwise the partial frame waits in one
    growing buffer. A frame longer than ``max_frame`` is reported to ``on_oversize`` (or raises
    FrameTooLargeError when that is None) as soon as its 16-byte header is in, and its remaining
    bytes are counted off as they arrive, never stored. A malformed header raises ProtocolError:
    after that the stream has no trustworthy boundary left, so the caller must close it.
    """

    __slots__ = ("_buf", "_max", "_on_frame", "_on_oversize", "_skip")

    def __init__(
        self,
        on_frame: FrameHandler,
        on_oversize: OversizeHandler | None = None,
        max_frame: int = DEFAULT_MAX_FRAME,
    ) -> None:
        self._buf = bytearray()
        self._skip = 0  # bytes of an oversized frame still to discard
        self._max = max_frame
        self._on_frame = on_frame
        self._on_oversize = on_oversize

    @property
    def buffered(self) -> int:
        """Bytes of an incomplete frame held back (0 between frames)."""
        return len(self._buf)

    @property
    def idle(self) -> bool:
        """True between frames: nothing held back and no oversized frame being skipped.

        Only then may a caller parse the next chunk itself (a faster path for the common case)
        and hand this reader whatever it does not handle.
        """
        return not self._buf and not self._skip

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Parse ``data`` and call back for every complete frame in it."""
        view = memoryview(data)
        if self._skip:
            n = min(self._skip, len(view))
            self._skip -= n
            view = view[n:]
        if not view:
            return
        buf = self._buf
        if buf:
            buf += view
            del buf[: self._parse(buf, None)]
        else:
            done = self._parse(view, view)
            if done < len(view):
                buf += view[done:]

    def _parse(self, src: bytearray | memoryview, view: memoryview | None) -> int:
        """Consume whole frames from ``src``; return how many bytes were used.

        ``view`` is ``src`` when it is an immutable chunk that bodies may point into; with a
        buffer (``None``) bodies are copied, because the buffer is about to be trimmed.
        """
        pos = 0
        end = len(src)
        while end - pos >= HEADER_SIZE:
            length, seq, kind, flags, name_len = _HEAD.unpack_from(src, pos)
            if length < _FIXED:
                raise ProtocolError(f"frame length {length} is shorter than its header")
            total = 4 + length
            if length > self._max:
                if self._on_oversize is None:
                    raise FrameTooLargeError(
                        f"frame of {length} bytes exceeds the limit of {self._max}"
                    )
                self._on_oversize(seq, kind, length)
                if end - pos >= total:
                    pos += total
                    continue
                self._skip = total - (end - pos)
                return end
            if end - pos < total:
                break
            if kind != REQUEST and kind != REPLY and kind != ERROR:
                raise ProtocolError(f"unknown frame kind {kind}")
            start = pos + HEADER_SIZE
            deadline = 0
            if flags:
                if flags != FLAG_DEADLINE or length < _FIXED + 4:
                    raise ProtocolError(f"bad frame flags {flags:#04x}")
                (deadline,) = _U32.unpack_from(src, start)
                start += 4
            frame_end = pos + total
            name_end = start + name_len
            if name_end > frame_end:
                raise ProtocolError(f"name of {name_len} bytes overruns its frame")
            name = bytes(src[start:name_end]) if name_len else b""  # replies carry none
            body: Body = src[name_end:frame_end] if view is None else view[name_end:frame_end]
            pos = frame_end
            self._on_frame(seq, kind, deadline, name, body)
        return pos
