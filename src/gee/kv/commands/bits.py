"""Bit commands on strings: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD(_RO).

Bits are numbered from the most significant bit of the first byte, as in Redis; ranges work
on Python ints built from the bytes, which keeps the arithmetic in C.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gee.kv.commands import command
from gee.kv.commands.common import NOT_INTEGER, SYNTAX, parse_int, parse_int_or_none
from gee.kv.commands.strings import MAX_STRING, get_string
from gee.kv.errors import CommandError
from gee.kv.resp import ONE, ZERO, integer

if TYPE_CHECKING:
    from gee.kv.connection import Client

_POPCOUNT = bytes(bin(i).count("1") for i in range(256))


def _bit_offset(raw: bytes) -> int:
    offset = parse_int_or_none(raw)
    if offset is None or offset < 0 or offset >= MAX_STRING * 8:
        raise CommandError("ERR bit offset is not an integer or out of range")
    return offset


@command("setbit")
def setbit(c: Client, args: list[bytes]) -> None:
    offset = _bit_offset(args[2])
    if args[3] not in (b"0", b"1"):
        raise CommandError("ERR bit is not an integer or out of range")
    bit = args[3] == b"1"
    old = get_string(c, args[1]) or b""
    byte = offset >> 3
    buf = bytearray(old)
    if len(buf) <= byte:
        buf += b"\0" * (byte + 1 - len(buf))
    mask = 1 << (7 - (offset & 7))
    previous = 1 if buf[byte] & mask else 0
    if bit:
        buf[byte] |= mask
    else:
        buf[byte] &= ~mask & 0xFF
    c.db.data[args[1]] = bytes(buf)
    c.db.modified(args[1])
    c.out += ONE if previous else ZERO


@command("getbit")
def getbit(c: Client, args: list[bytes]) -> None:
    offset = _bit_offset(args[2])
    value = get_string(c, args[1]) or b""
    byte = offset >> 3
    if byte >= len(value):
        c.out += ZERO
        return
    c.out += ONE if value[byte] & (1 << (7 - (offset & 7))) else ZERO


def _range_unit(args: list[bytes], index: int) -> bool:
    """Parse the optional BYTE|BIT unit; True for BIT."""
    if len(args) <= index:
        return False
    unit = args[index].lower()
    if unit == b"bit":
        return True
    if unit == b"byte":
        return False
    raise CommandError(SYNTAX)


def _clamp_range(start: int, end: int, n: int) -> tuple[int, int]:
    if start < 0:
        start = max(0, n + start)
    if end < 0:
        end = max(0, n + end)
    if end >= n:
        end = n - 1
    return start, end


@command("bitcount")
def bitcount(c: Client, args: list[bytes]) -> None:
    if len(args) == 3 or len(args) > 5:
        raise CommandError(SYNTAX)
    if len(args) >= 4:
        start = parse_int(args[2])
        end = parse_int(args[3])
        is_bit = _range_unit(args, 4)
    value = get_string(c, args[1])
    if value is None:
        c.out += ZERO
        return
    if len(args) == 2:
        c.out += integer(sum(value.translate(_POPCOUNT)))
        return
    total_bits = len(value) * 8 if is_bit else len(value)
    start, end = _clamp_range(start, end, total_bits)
    if start > end:
        c.out += ZERO
        return
    if not is_bit:
        c.out += integer(sum(value[start : end + 1].translate(_POPCOUNT)))
        return
    bits = int.from_bytes(value, "big")
    width = len(value) * 8
    segment = (bits >> (width - 1 - end)) & ((1 << (end - start + 1)) - 1)
    c.out += integer(bin(segment).count("1"))


@command("bitpos")
def bitpos(c: Client, args: list[bytes]) -> None:
    if args[2] not in (b"0", b"1"):
        if parse_int_or_none(args[2]) is None:
            raise CommandError(NOT_INTEGER)
        raise CommandError("ERR The bit argument must be 1 or 0.")
    bit = args[2] == b"1"
    if len(args) > 6:
        raise CommandError(SYNTAX)
    start = parse_int(args[3]) if len(args) > 3 else 0
    end_given = len(args) > 4
    end = parse_int(args[4]) if end_given else -1
    is_bit = _range_unit(args, 5)
    value = get_string(c, args[1])
    if value is None:
        c.out += integer(-1 if bit else 0)
        return
    width = len(value) * 8
    total = width if is_bit else len(value)
    start, end = _clamp_range(start, end, total)
    if start > end:
        c.out += integer(-1)
        return
    lo, hi = (start, end) if is_bit else (start * 8, end * 8 + 7)
    bits = int.from_bytes(value, "big")
    for pos in range(lo, hi + 1):
        if bool((bits >> (width - 1 - pos)) & 1) == bit:
            c.out += integer(pos)
            return
    if not bit and not end_given:
        c.out += integer(hi + 1)
    else:
        c.out += integer(-1)


@command("bitop")
def bitop(c: Client, args: list[bytes]) -> None:
    op = args[1].lower()
    if op not in (b"and", b"or", b"xor", b"not"):
        raise CommandError(SYNTAX)
    sources = args[3:]
    if op == b"not" and len(sources) != 1:
        raise CommandError("ERR BITOP NOT must be called with a single source key.")
    values = [get_string(c, key) or b"" for key in sources]
    width = max((len(v) for v in values), default=0)
    db = c.db
    dest = args[2]
    if width == 0:
        if db.delete(dest):
            db.modified(dest)
        c.out += ZERO
        return
    ints = [int.from_bytes(v.ljust(width, b"\0"), "big") for v in values]
    if op == b"not":
        result = ~ints[0] & ((1 << (width * 8)) - 1)
    else:
        result = ints[0]
        for other in ints[1:]:
            if op == b"and":
                result &= other
            elif op == b"or":
                result |= other
            else:
                result ^= other
    db.set(dest, result.to_bytes(width, "big"))
    db.modified(dest)
    c.out += integer(width)


@command("bitfield")
def bitfield(c: Client, args: list[bytes]) -> None:
    _bitfield(c, args, readonly=False)


@command("bitfield_ro")
def bitfield_ro(c: Client, args: list[bytes]) -> None:
    _bitfield(c, args, readonly=True)


def _bf_type(raw: bytes) -> tuple[bool, int]:
    kind = raw[:1].lower()
    bits = parse_int_or_none(raw[1:])
    if (
        kind not in (b"i", b"u")
        or bits is None
        or bits < 1
        or (kind == b"i" and bits > 64)
        or (kind == b"u" and bits > 63)
    ):
        raise CommandError(
            "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not "
            "supported but i64 is."
        )
    return kind == b"i", bits


def _bf_offset(raw: bytes, bits: int) -> int:
    multiply = raw[:1] == b"#"
    value = parse_int_or_none(raw[1:] if multiply else raw)
    if value is None or value < 0:
        raise CommandError("ERR bit offset is not an integer or out of range")
    if multiply:
        value *= bits
    if value >= MAX_STRING * 8:
        raise CommandError("ERR bit offset is not an integer or out of range")
    return value


def _bitfield(c: Client, args: list[bytes], readonly: bool) -> None:
    ops: list[tuple[bytes, bool, int, int, int, bytes]] = []
    overflow = b"wrap"
    i = 2
    while i < len(args):
        op = args[i].lower()
        left = len(args) - i - 1
        if op == b"get" and left >= 2:
            signed, bits = _bf_type(args[i + 1])
            ops.append((op, signed, bits, _bf_offset(args[i + 2], bits), 0, overflow))
            i += 3
        elif op in (b"set", b"incrby") and left >= 3:
            if readonly:
                raise CommandError("ERR BITFIELD_RO only supports the GET subcommand")
            signed, bits = _bf_type(args[i + 1])
            offset = _bf_offset(args[i + 2], bits)
            value = parse_int(args[i + 3])
            ops.append((op, signed, bits, offset, value, overflow))
            i += 4
        elif op == b"overflow" and left >= 1:
            overflow = args[i + 1].lower()
            if overflow not in (b"wrap", b"sat", b"fail"):
                raise CommandError("ERR Invalid OVERFLOW type specified")
            i += 2
        else:
            raise CommandError(SYNTAX)
    current = get_string(c, args[1])
    buf = bytearray(current or b"")
    results: list[int | None] = []
    changed = False
    for op, signed, bits, offset, arg, mode in ops:
        if op == b"get":
            results.append(_bf_get(buf, offset, bits, signed))
            continue
        end_byte = (offset + bits - 1) >> 3
        if len(buf) <= end_byte:
            buf += b"\0" * (end_byte + 1 - len(buf))
        old = _bf_get(buf, offset, bits, signed)
        new = arg if op == b"set" else old + arg
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        if lo <= new <= hi:
            stored = new
        elif mode == b"fail":
            results.append(None)
            continue
        elif mode == b"sat":
            stored = hi if new > hi else lo
        else:
            stored = new & ((1 << bits) - 1)
            if signed and stored > hi:
                stored -= 1 << bits
        _bf_set(buf, offset, bits, stored)
        changed = True
        results.append(old if op == b"set" else stored)
    if changed:
        c.db.data[args[1]] = bytes(buf)
        if current is None and c.db.expires:
            c.db.expires.pop(args[1], None)
        c.db.modified(args[1])
    c.out += b"*%d\r\n" % len(results)
    for result in results:
        c.out += c.null if result is None else integer(result)


def _bf_get(buf: bytearray, offset: int, bits: int, signed: bool) -> int:
    value = 0
    for pos in range(offset, offset + bits):
        byte = pos >> 3
        bit = (buf[byte] >> (7 - (pos & 7))) & 1 if byte < len(buf) else 0
        value = (value << 1) | bit
    if signed and value >> (bits - 1):
        value -= 1 << bits
    return value


def _bf_set(buf: bytearray, offset: int, bits: int, value: int) -> None:
    value &= (1 << bits) - 1
    for i in range(bits):
        pos = offset + i
        mask = 1 << (7 - (pos & 7))
        if (value >> (bits - 1 - i)) & 1:
            buf[pos >> 3] |= mask
        else:
            buf[pos >> 3] &= ~mask & 0xFF
