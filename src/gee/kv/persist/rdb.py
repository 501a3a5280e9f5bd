"""Redis's RDB format (versions 1-10): reading every encoding Redis 7.0 writes, writing plain ones.

An RDB file is ``REDIS0010``, then opcodes: AUX fields (``0xFA``), SELECTDB (``0xFE``),
RESIZEDB (``0xFB``), per-key EXPIRETIME_MS/EXPIRETIME (``0xFC``/``0xFD``), IDLE (``0xF8``),
FREQ (``0xF9``) and typed key/value pairs, ended by EOF (``0xFF``) and the CRC64 of everything
before it (zero when the writer disabled ``rdbchecksum``). A DUMP payload is one typed value
followed by the RDB version (2 bytes) and the CRC64 of both.

Lengths use RDB's prefix code (6, 14, 32 or 64 bits; the ``11`` prefix marks an int-encoded
or LZF-compressed string). Small aggregates arrive as one string blob in a compact encoding:
listpack (7.0's small hash, zset and each quicklist node), ziplist and zipmap (older files),
intset (small integer sets). Those are parsed here into gee's values: ``bytes`` strings,
``deque`` lists of RESP-encoded elements, ``dict`` hashes, ``set`` sets, ``ZSet`` sorted sets.

The writer emits the plain encodings (string, list, set, hash, ZSET_2 with binary scores) with
int-encoded and LZF strings as Redis does; Redis 7.0 converts small ones to listpack/intset on
load by its own thresholds, so the loaded object is what Redis itself would hold.
"""

from __future__ import annotations

import gc
import math
import struct
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from gee.kv.errors import RDBError
from gee.kv.persist import lzf
from gee.kv.persist.crc64 import crc64
from gee.kv.zset import ZSet

# The version this writer stamps on files and DUMP payloads (Redis 7.0's).
RDB_VERSION = 10

# Value types.
TYPE_STRING = 0
TYPE_LIST = 1
TYPE_SET = 2
TYPE_ZSET = 3
TYPE_HASH = 4
TYPE_ZSET_2 = 5
TYPE_HASH_ZIPMAP = 9
TYPE_LIST_ZIPLIST = 10
TYPE_SET_INTSET = 11
TYPE_ZSET_ZIPLIST = 12
TYPE_HASH_ZIPLIST = 13
TYPE_LIST_QUICKLIST = 14
TYPE_STREAM_LISTPACKS = 15
TYPE_HASH_LISTPACK = 16
TYPE_ZSET_LISTPACK = 17
TYPE_LIST_QUICKLIST_2 = 18
TYPE_STREAM_LISTPACKS_2 = 19

# Opcodes.
OP_FUNCTION2 = 0xF5
OP_FUNCTION = 0xF6
OP_MODULE_AUX = 0xF7
OP_IDLE = 0xF8
OP_FREQ = 0xF9
OP_AUX = 0xFA
OP_RESIZEDB = 0xFB
OP_EXPIRETIME_MS = 0xFC
OP_EXPIRETIME = 0xFD
OP_SELECTDB = 0xFE
OP_EOF = 0xFF

_QUICKLIST_PLAIN = 1
_QUICKLIST_PACKED = 2

_DOUBLE = struct.Struct("<d")

# A key's idle seconds or LFU counter for ``dump``, given its database index and name (None:
# nothing to write for it).
KeyAccess = Callable[[int, bytes], int | None]


@dataclass(slots=True)
class Entry:
    """One key read from an RDB file; ``expire_ms`` None means no TTL."""

    db: int
    key: bytes
    value: Any
    expire_ms: int | None
    idle: int | None = None
    freq: int | None = None


def _list_item(value: bytes) -> bytes:
    # gee stores list elements RESP-encoded (see commands/lists.py); a leaf must not import it.
    return b"$%d\r\n%s\r\n" % (len(value), value)


def _list_value(item: bytes) -> bytes:
    return item[item.index(b"\r\n") + 2 : -2]


def _int_bytes(n: int) -> bytes:
    return b"%d" % n


# -- reading ----------------------------------------------------------------------------------
#
# The hot path reads through (data, pos) pairs with no bounds checks: a slice past the end is
# short and leaves ``pos`` beyond the data, so the next ``data[pos]`` raises IndexError, which
# ``load`` and ``load_payload`` turn into "unexpected end of data". One function call per string
# (not three method calls) is what makes a million keys load in seconds.


def _truncated(data: bytes) -> RDBError:
    return RDBError(f"unexpected end of data at offset {len(data)}")


def _string_at(data: bytes, pos: int) -> tuple[bytes, int]:
    """The string encoded at ``pos`` (any RDB string encoding) and the offset after it."""
    b = data[pos]
    if b < 0x40:
        end = pos + 1 + b
        return data[pos + 1 : end], end
    if b < 0x80:
        start = pos + 2
        end = start + (((b & 0x3F) << 8) | data[pos + 1])
        return data[start:end], end
    if b == 0x80:
        start = pos + 5
        end = start + int.from_bytes(data[pos + 1 : start], "big")
        return data[start:end], end
    if b == 0x81:
        start = pos + 9
        end = start + int.from_bytes(data[pos + 1 : start], "big")
        return data[start:end], end
    if b == 0xC0:
        return b"%d" % int.from_bytes(data[pos + 1 : pos + 2], "little", signed=True), pos + 2
    if b == 0xC1:
        return b"%d" % int.from_bytes(data[pos + 1 : pos + 3], "little", signed=True), pos + 3
    if b == 0xC2:
        return b"%d" % int.from_bytes(data[pos + 1 : pos + 5], "little", signed=True), pos + 5
    if b == 0xC3:
        clen, pos = _plain_length_at(data, pos + 1)
        ulen, pos = _plain_length_at(data, pos)
        end = pos + clen
        if end > len(data):
            raise _truncated(data)
        try:
            return lzf.decompress(data[pos:end], ulen), end
        except lzf.LZFError as exc:
            raise RDBError(f"bad LZF string before offset {end}: {exc}") from None
    if b >= 0xC0:
        raise RDBError(f"unknown string encoding {b & 0x3F} at offset {pos}")
    raise RDBError(f"unknown length encoding 0x{b:02x} at offset {pos}")


def _length_at(data: bytes, pos: int) -> tuple[int, bool, int]:
    """A length, whether it is the special-encoding marker (then it names the format), and the
    offset after it."""
    b = data[pos]
    if b < 0x40:
        return b, False, pos + 1
    if b < 0x80:
        return ((b & 0x3F) << 8) | data[pos + 1], False, pos + 2
    if b >= 0xC0:
        return b & 0x3F, True, pos + 1
    if b == 0x80:
        return int.from_bytes(data[pos + 1 : pos + 5], "big"), False, pos + 5
    if b == 0x81:
        return int.from_bytes(data[pos + 1 : pos + 9], "big"), False, pos + 9
    raise RDBError(f"unknown length encoding 0x{b:02x} at offset {pos}")


def _plain_length_at(data: bytes, pos: int) -> tuple[int, int]:
    n, special, end = _length_at(data, pos)
    if special:
        raise RDBError(f"unexpected encoded length at offset {pos}")
    return n, end


class _Reader:
    """A cursor over RDB bytes, for the value readers (the key loop in ``load`` reads inline).

    Reads past the end raise IndexError (or RDBError); the public entry points report both as
    "unexpected end of data".
    """

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.data):
            raise RDBError(f"unexpected end of data at offset {self.pos} (wanted {n} bytes)")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise RDBError(f"unexpected end of data at offset {self.pos}")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def length(self) -> tuple[int, bool]:
        """A length, and whether it is the special-encoding marker (then it names the format)."""
        n, special, self.pos = _length_at(self.data, self.pos)
        return n, special

    def plain_length(self) -> int:
        n, self.pos = _plain_length_at(self.data, self.pos)
        return n

    def string(self) -> bytes:
        s, self.pos = _string_at(self.data, self.pos)
        return s

    def strings(self, n: int) -> list[bytes]:
        """``n`` strings in a row."""
        data = self.data
        pos = self.pos
        out: list[bytes] = []
        append = out.append
        for _ in range(n):
            b = data[pos]
            if b < 0x40:  # the common case inline: a short plain string
                end = pos + 1 + b
                append(data[pos + 1 : end])
                pos = end
            else:
                s, pos = _string_at(data, pos)
                append(s)
        self.pos = pos
        return out

    def old_double(self) -> float:
        n = self.byte()
        if n == 253:
            return math.nan
        if n == 254:
            return math.inf
        if n == 255:
            return -math.inf
        try:
            return float(self.take(n))
        except ValueError:
            raise RDBError(f"bad double before offset {self.pos}") from None

    def binary_double(self) -> float:
        value: float = _DOUBLE.unpack(self.take(8))[0]
        return value


# Listpack integer entries wider than 13 bits: the type byte, then this many little-endian bytes.
_LP_INT_WIDTH = {0xF1: 2, 0xF2: 3, 0xF3: 4, 0xF4: 8}


def _listpack(blob: bytes) -> list[bytes]:
    """The elements of a listpack (integers as their decimal text)."""
    if len(blob) < 7 or int.from_bytes(blob[:4], "little") != len(blob):
        raise RDBError("listpack header does not match its length")
    out: list[bytes] = []
    append = out.append
    pos = 6
    try:
        while True:
            b = blob[pos]
            if b < 0x80:  # 7-bit unsigned integer, one byte + one back-length byte
                append(b"%d" % b)
                pos += 2
                continue
            if b < 0xC0:  # string up to 63 bytes
                n = b & 0x3F
                start = pos + 1
                append(blob[start : start + n])
                size = 1 + n
            elif b < 0xE0:
                v = ((b & 0x1F) << 8) | blob[pos + 1]
                append(b"%d" % (v - (1 << 13) if v >= 1 << 12 else v))
                pos += 3
                continue
            elif b < 0xF0:
                n = ((b & 0x0F) << 8) | blob[pos + 1]
                append(blob[pos + 2 : pos + 2 + n])
                size = 2 + n
            elif b == 0xF0:
                n = int.from_bytes(blob[pos + 1 : pos + 5], "little")
                append(blob[pos + 5 : pos + 5 + n])
                size = 5 + n
            elif b == 0xFF:
                break
            else:
                width = _LP_INT_WIDTH.get(b)
                if width is None:
                    raise RDBError(f"bad listpack entry type 0x{b:02x}")
                raw = blob[pos + 1 : pos + 1 + width]
                append(b"%d" % int.from_bytes(raw, "little", signed=True))
                size = 1 + width
            # The entry's back-length, with listpack's own thresholds (lpEncodeBacklen).
            pos += size + (
                1
                if size < 128
                else 2
                if size < 16383
                else 3
                if size < 2097151
                else 4
                if size < 268435455
                else 5
            )
    except IndexError:
        raise RDBError("listpack truncated") from None
    if pos != len(blob) - 1:
        raise RDBError("listpack has bytes after its end marker")
    return out


def _ziplist(blob: bytes) -> list[bytes]:
    """The elements of a ziplist (the pre-7.0 compact encoding)."""
    if len(blob) < 11 or int.from_bytes(blob[:4], "little") != len(blob):
        raise RDBError("ziplist header does not match its length")
    out: list[bytes] = []
    pos = 10
    try:
        while blob[pos] != 0xFF:
            pos += 1 if blob[pos] < 254 else 5
            enc = blob[pos]
            top = enc >> 6
            if top == 0:
                n = enc & 0x3F
                pos += 1
            elif top == 1:
                n = ((enc & 0x3F) << 8) | blob[pos + 1]
                pos += 2
            elif top == 2:
                n = int.from_bytes(blob[pos + 1 : pos + 5], "big")
                pos += 5
            else:
                pos += 1
                if 0xF1 <= enc <= 0xFD:
                    out.append(_int_bytes((enc & 0x0F) - 1))
                    continue
                width = {0xC0: 2, 0xD0: 4, 0xE0: 8, 0xF0: 3, 0xFE: 1}.get(enc)
                if width is None:
                    raise RDBError(f"bad ziplist entry encoding 0x{enc:02x}")
                raw = blob[pos : pos + width]
                out.append(_int_bytes(int.from_bytes(raw, "little", signed=True)))
                pos += width
                continue
            out.append(blob[pos : pos + n])
            pos += n
    except IndexError:
        raise RDBError("ziplist truncated") from None
    return out


_INTSET_CODES = {2: "h", 4: "i", 8: "q"}


def _intset(blob: bytes) -> set[bytes]:
    width = int.from_bytes(blob[:4], "little")
    count = int.from_bytes(blob[4:8], "little")
    code = _INTSET_CODES.get(width)
    if code is None or len(blob) != 8 + width * count:
        raise RDBError("intset header does not match its length")
    return {b"%d" % v for v in struct.unpack_from(f"<{count}{code}", blob, 8)}


def _zipmap(blob: bytes) -> dict[bytes, bytes]:
    out: dict[bytes, bytes] = {}
    pos = 1

    def length() -> int:
        nonlocal pos
        b = blob[pos]
        if b < 254:
            pos += 1
            return b
        if b == 254:
            pos += 5
            return int.from_bytes(blob[pos - 4 : pos], "little")
        return -1

    try:
        while True:
            n = length()
            if n < 0:
                break
            field = blob[pos : pos + n]
            pos += n
            n = length()
            free = blob[pos]
            pos += 1
            out[field] = blob[pos : pos + n]
            pos += n + free
    except IndexError:
        raise RDBError("zipmap truncated") from None
    return out


def _pairs(items: list[bytes]) -> Iterator[tuple[bytes, bytes]]:
    if len(items) % 2:
        raise RDBError("odd number of elements in a hash or sorted set")
    it = iter(items)
    return zip(it, it, strict=True)


def _zset_of(scores: dict[bytes, float]) -> ZSet:
    """A sorted set holding ``scores``, its order built in one sort rather than member by
    member; sized as Redis's load-time conversion decides (see ``_finish_zset``)."""
    z = ZSet()
    z.dict = scores
    z.list.update(zip(scores.values(), scores, strict=True))
    return _finish_zset(z)


def _zset_from_pairs(items: list[bytes]) -> ZSet:
    scores: dict[bytes, float] = {}
    for member, score in _pairs(items):
        try:
            scores[member] = float(score)
        except ValueError:
            raise RDBError(f"bad score {score!r} in a sorted set") from None
    return _zset_of(scores)


def _finish_zset(z: ZSet) -> ZSet:
    # Mirrors Redis's load-time conversion: small sets become listpack, the rest stay skiplist.
    z.big = len(z) > 128 or any(len(m) > 64 for m in z.dict)
    return z


def _list_items(elements: list[bytes]) -> list[bytes]:
    return [b"$%d\r\n%s\r\n" % (len(e), e) for e in elements]


def read_value(r: _Reader, kind: int) -> Any:
    """Read one value of RDB type ``kind`` into gee's representation."""
    if kind == TYPE_STRING:
        return r.string()
    if kind == TYPE_LIST_QUICKLIST_2:
        items: deque[bytes] = deque()
        for _ in range(r.plain_length()):
            container = r.plain_length()
            blob = r.string()
            if container == _QUICKLIST_PLAIN:
                items.append(_list_item(blob))
            else:
                items.extend(_list_items(_listpack(blob)))
        return items
    if kind == TYPE_HASH_LISTPACK:
        return dict(_pairs(_listpack(r.string())))
    if kind == TYPE_ZSET_LISTPACK:
        return _zset_from_pairs(_listpack(r.string()))
    if kind == TYPE_SET_INTSET:
        return _intset(r.string())
    if kind == TYPE_LIST:
        return deque(_list_items(r.strings(r.plain_length())))
    if kind == TYPE_SET:
        return set(r.strings(r.plain_length()))
    if kind == TYPE_HASH:
        return dict(_pairs(r.strings(2 * r.plain_length())))
    if kind in (TYPE_ZSET, TYPE_ZSET_2):
        scores: dict[bytes, float] = {}
        score = r.binary_double if kind == TYPE_ZSET_2 else r.old_double
        for _ in range(r.plain_length()):
            member = r.string()
            scores[member] = score()
        return _zset_of(scores)
    if kind == TYPE_LIST_QUICKLIST:
        items = deque()
        for _ in range(r.plain_length()):
            items.extend(_list_items(_ziplist(r.string())))
        return items
    if kind == TYPE_LIST_ZIPLIST:
        return deque(_list_items(_ziplist(r.string())))
    if kind == TYPE_HASH_ZIPLIST:
        return dict(_pairs(_ziplist(r.string())))
    if kind == TYPE_ZSET_ZIPLIST:
        return _zset_from_pairs(_ziplist(r.string()))
    if kind == TYPE_HASH_ZIPMAP:
        return _zipmap(r.string())
    if kind in (TYPE_STREAM_LISTPACKS, TYPE_STREAM_LISTPACKS_2):
        raise RDBError("streams are not supported by gee.kv")
    raise RDBError(f"unknown value type {kind} at offset {r.pos - 1}")


@dataclass(slots=True)
class RDBFile:
    """The content of an RDB file: its version, AUX fields and keys, in file order."""

    version: int
    aux: dict[bytes, bytes]
    entries: list[Entry]


def load(data: bytes, *, verify_checksum: bool = True) -> RDBFile:
    """Parse a whole RDB file; raise RDBError naming the first problem found.

    A stored checksum of zero means the writer skipped it (``rdbchecksum no``); it is then not
    verified, as Redis does.
    """
    if data[:5] != b"REDIS" or not data[5:9].isdigit():
        raise RDBError("wrong signature: not an RDB file")
    version = int(data[5:9])
    if not 1 <= version <= RDB_VERSION:
        raise RDBError(f"can't handle RDB format version {version}")
    collecting = gc.isenabled()
    gc.disable()  # a parse allocates millions of objects and makes no cycles
    try:
        try:
            out, end = _load_body(data, version)
        except IndexError:
            raise _truncated(data) from None
        if version >= 5:
            if end + 8 > len(data):
                raise _truncated(data)
            stored = int.from_bytes(data[end : end + 8], "little")
            if verify_checksum and stored:
                actual = crc64(memoryview(data)[:end])
                if actual != stored:
                    raise RDBError(
                        f"RDB checksum mismatch: stored 0x{stored:016x}, computed 0x{actual:016x}"
                    )
    finally:
        if collecting:
            # What was parsed becomes the keyspace, which lives as long as the server: frozen, it
            # is never scanned by the collector again (three full passes over millions of
            # objects right after a load otherwise). Its values hold no reference cycles, so
            # refcounting still frees them when keys go.
            gc.freeze()
            gc.enable()
    return out


def _load_body(data: bytes, version: int) -> tuple[RDBFile, int]:
    """The keys and AUX fields after the header, and the offset after the EOF opcode."""
    r = _Reader(data, 9)
    out = RDBFile(version, {}, [])
    append = out.entries.append
    db = 0
    expire: int | None = None
    idle: int | None = None
    freq: int | None = None
    pos = 9
    while True:
        op = data[pos]
        pos += 1
        if op < OP_FUNCTION2:  # a key and its value of type ``op``: the common case, inline
            b = data[pos]
            if b < 0x40:
                start = pos + 1
                pos = start + b
                key = data[start:pos]
            else:
                key, pos = _string_at(data, pos)
            if op == TYPE_STRING:
                b = data[pos]
                if b < 0x40:
                    start = pos + 1
                    pos = start + b
                    value: Any = data[start:pos]
                else:
                    value, pos = _string_at(data, pos)
            else:
                r.pos = pos
                value = read_value(r, op)
                pos = r.pos
            append(Entry(db, key, value, expire, idle, freq))
            if expire is not None or idle is not None or freq is not None:
                expire = idle = freq = None
            continue
        if op == OP_EOF:
            break
        r.pos = pos
        if op == OP_EXPIRETIME_MS:
            expire = int.from_bytes(r.take(8), "little", signed=True)
        elif op == OP_SELECTDB:
            db = r.plain_length()
        elif op == OP_RESIZEDB:
            r.plain_length()
            r.plain_length()
        elif op == OP_AUX:
            key = r.string()
            out.aux[key] = r.string()
        elif op == OP_EXPIRETIME:
            expire = int.from_bytes(r.take(4), "little", signed=True) * 1000
        elif op == OP_IDLE:
            idle = r.plain_length()
        elif op == OP_FREQ:
            freq = r.byte()
        elif op == OP_FUNCTION2:
            r.string()  # a library's code; gee.kv has no functions to restore it into
        else:  # OP_MODULE_AUX, OP_FUNCTION
            raise RDBError(f"unsupported opcode 0x{op:02x} at offset {pos - 1}")
        pos = r.pos
    if pos > len(data):
        raise _truncated(data)
    return out, pos


def load_payload(payload: bytes) -> Any:
    """The value in a DUMP payload; RDBError if its version or checksum is wrong."""
    if len(payload) < 10:
        raise RDBError("DUMP payload version or checksum are wrong")
    body, footer = payload[:-10], payload[-10:]
    version = int.from_bytes(footer[:2], "little")
    if version > RDB_VERSION or crc64(payload[:-8]) != int.from_bytes(footer[2:], "little"):
        raise RDBError("DUMP payload version or checksum are wrong")
    r = _Reader(body)
    try:
        value = read_value(r, r.byte())
    except IndexError:
        raise RDBError("Bad data format") from None
    if r.pos != len(body):
        raise RDBError("Bad data format")
    return value


# -- writing ----------------------------------------------------------------------------------


def _length(n: int) -> bytes:
    if n < 64:
        return bytes((n,))
    if n < 16384:
        return bytes((0x40 | (n >> 8), n & 0xFF))
    if n <= 0xFFFFFFFF:
        return b"\x80" + n.to_bytes(4, "big")
    return b"\x81" + n.to_bytes(8, "big")


def _string(s: bytes, compress: bool) -> bytes:
    n = len(s)
    if 0 < n <= 11 and (s[0] in b"-0123456789"):
        try:
            v = int(s)
        except ValueError:
            v = None
        if v is not None and b"%d" % v == s:
            if -128 <= v <= 127:
                return b"\xc0" + v.to_bytes(1, "little", signed=True)
            if -32768 <= v <= 32767:
                return b"\xc1" + v.to_bytes(2, "little", signed=True)
            if -(1 << 31) <= v < 1 << 31:
                return b"\xc2" + v.to_bytes(4, "little", signed=True)
    if compress and n > 20:
        packed = lzf.compress(s)
        if len(packed) <= n - 4:
            return b"\xc3" + _length(len(packed)) + _length(n) + packed
    return _length(n) + s


def dump_value(value: Any, compress: bool = True) -> bytes:
    """The type byte and encoding of one value (the part a DUMP payload and a file share)."""
    cls = value.__class__
    if cls is bytes:
        return b"\x00" + _string(value, compress)
    parts: list[bytes]
    if cls is deque:
        parts = [bytes((TYPE_LIST,)), _length(len(value))]
        parts += [_string(_list_value(item), compress) for item in value]
    elif cls is set:
        parts = [bytes((TYPE_SET,)), _length(len(value))]
        parts += [_string(member, compress) for member in value]
    elif cls is dict:
        parts = [bytes((TYPE_HASH,)), _length(len(value))]
        for field, v in value.items():
            parts.append(_string(field, compress))
            parts.append(_string(v, compress))
    elif cls is ZSet:
        # Highest score first, as Redis writes a skiplist, so loading appends at the head.
        parts = [bytes((TYPE_ZSET_2,)), _length(len(value))]
        for score, member in reversed(value.list):
            parts.append(_string(member, compress))
            parts.append(_DOUBLE.pack(score))
    else:
        raise TypeError(f"no RDB encoding for {cls.__name__}")
    return b"".join(parts)


def dump_payload(value: Any, compress: bool = True) -> bytes:
    """A DUMP payload: the value, the RDB version and the CRC64 of both."""
    body = dump_value(value, compress) + RDB_VERSION.to_bytes(2, "little")
    return body + crc64(body).to_bytes(8, "little")


class _Sink:
    """Buffers output for a binary file and keeps the running CRC64 of what was written."""

    __slots__ = ("buf", "checksum", "crc", "file")

    def __init__(self, file: BinaryIO, checksum: bool) -> None:
        self.file = file
        self.buf: list[bytes] = []
        self.checksum = checksum
        self.crc = 0

    def add(self, chunk: bytes) -> None:
        self.buf.append(chunk)
        if len(self.buf) >= 4096:
            self.flush()

    def flush(self) -> None:
        data = b"".join(self.buf)
        self.buf = []
        if self.checksum:
            self.crc = crc64(data, self.crc)
        self.file.write(data)


def dump(
    file: BinaryIO,
    databases: Iterable[tuple[int, dict[bytes, Any], dict[bytes, int]]],
    *,
    aux: dict[bytes, bytes] | None = None,
    compress: bool = True,
    checksum: bool = True,
    idle: KeyAccess | None = None,
    freq: KeyAccess | None = None,
) -> None:
    """Write an RDB file of ``databases`` (index, data, expires) to ``file``.

    Empty databases are skipped, as Redis skips them. With ``checksum`` False the trailing
    CRC64 is zero, which readers take as "not computed". ``idle`` gives a key's idle seconds
    and ``freq`` its LFU counter, written before it as IDLE and FREQ opcodes (Redis writes
    one or the other, as its policy is LRU or LFU); None from them, or no function, writes
    none for the key.
    """
    sink = _Sink(file, checksum)
    sink.add(b"REDIS%04d" % RDB_VERSION)
    for key, value in (aux or {}).items():
        sink.add(b"\xfa" + _string(key, False) + _string(value, False))
    for index, data, expires in databases:
        if not data:
            continue
        sink.add(b"\xfe" + _length(index))
        sink.add(b"\xfb" + _length(len(data)) + _length(len(expires)))
        for key, value in data.items():
            when = expires.get(key)
            if when is not None:
                sink.add(b"\xfc" + when.to_bytes(8, "little", signed=True))
            if idle is not None:
                seconds = idle(index, key)
                if seconds is not None:
                    sink.add(b"\xf8" + _length(seconds))
            if freq is not None:
                counter = freq(index, key)
                if counter is not None:
                    sink.add(bytes((OP_FREQ, counter)))
            sink.add(dump_value_keyed(key, value, compress))
    sink.add(b"\xff")
    sink.flush()
    file.write(sink.crc.to_bytes(8, "little"))


def dump_value_keyed(key: bytes, value: Any, compress: bool) -> bytes:
    """A key/value record: the type byte, the key, then the value's encoding."""
    body = dump_value(value, compress)
    return body[:1] + _string(key, compress) + body[1:]
