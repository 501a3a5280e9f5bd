"""RESP2/RESP3 framing: request splitting (multibulk via hiredis, inline by hand) and reply bytes.

Replies are never objects: commands append encoded bytes straight into the connection's output
``bytearray``, and the helpers here return ``bytes`` for the few shapes that need formatting.
The constants cover the replies that dominate real traffic, so the hot paths append a constant.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

OK = b"+OK\r\n"
PONG = b"+PONG\r\n"
QUEUED = b"+QUEUED\r\n"
ZERO = b":0\r\n"
ONE = b":1\r\n"
NEG_ONE = b":-1\r\n"
NEG_TWO = b":-2\r\n"
EMPTY_ARRAY = b"*0\r\n"
NULL_BULK = b"$-1\r\n"
NULL_ARRAY = b"*-1\r\n"
NULL3 = b"_\r\n"
EMPTY_BULK = b"$0\r\n\r\n"

# Pre-encoded small integers: counters and lengths are mostly small.
_INTS = [b":%d\r\n" % i for i in range(1024)]

# Redis's limits on requests (proto-max-bulk-len and the inline buffer).
# BULK_SIZE[n]: the length of a bulk string of n bytes, ``$<n>\r\n<n bytes>\r\n``, for n < 1024;
# ARRAY_HEADER_SIZE[n]: the length of ``*<n>\r\n``.
BULK_SIZE = tuple(n + len(str(n)) + 5 for n in range(1024))
ARRAY_HEADER_SIZE = tuple(len(str(n)) + 3 for n in range(1024))

MAX_BULK_LEN = 512 * 1024 * 1024
MAX_MULTIBULK_LEN = 1024 * 1024
MAX_INLINE_LEN = 64 * 1024


def integer(n: int) -> bytes:
    """Encode ``n`` as a RESP integer reply."""
    if 0 <= n < 1024:
        return _INTS[n]
    return b":%d\r\n" % n


def bulk(value: bytes) -> bytes:
    """Encode ``value`` as a RESP bulk string."""
    return b"$%d\r\n%s\r\n" % (len(value), value)


def bulk_array(values: Iterable[bytes], n: int) -> bytes:
    """Encode ``n`` bulk strings as one RESP array."""
    return b"*%d\r\n" % n + b"".join([b"$%d\r\n%s\r\n" % (len(v), v) for v in values])


def encode_command(args: Sequence[bytes]) -> bytes:
    """Encode a command as a RESP multibulk request (for tests, and later the AOF)."""
    return b"*%d\r\n" % len(args) + b"".join([b"$%d\r\n%s\r\n" % (len(a), a) for a in args])


def format_double(value: float) -> bytes:
    """Format a double as Redis 7.0 does for scores (``%.17g``, ``inf``, ``-inf``)."""
    if value == float("inf"):
        return b"inf"
    if value == float("-inf"):
        return b"-inf"
    return b"%.17g" % value


class ProtocolError(Exception):
    """A request that cannot be framed; the message follows ``Protocol error: `` in the reply."""


_ESCAPES = {
    ord("n"): b"\n",
    ord("r"): b"\r",
    ord("t"): b"\t",
    ord("b"): b"\b",
    ord("a"): b"\a",
}
_HEX = b"0123456789abcdefABCDEF"


def split_inline(line: bytes) -> list[bytes]:
    """Split an inline command line as Redis's ``sdssplitargs`` does (quotes and escapes).

    Raises ``ProtocolError`` on unbalanced quotes, as Redis replies to ``set a "x``.
    """
    args: list[bytes] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in b" \n\r\t\v\f\0":
            i += 1
        if i >= n:
            return args
        current = bytearray()
        in_dq = in_sq = False
        while True:
            if in_dq:
                if i >= n:
                    raise ProtocolError("unbalanced quotes in request")
                ch = line[i]
                if (
                    ch == 92
                    and i + 3 < n
                    and line[i + 1] == ord("x")
                    and line[i + 2] in _HEX
                    and line[i + 3] in _HEX
                ):
                    current.append(int(line[i + 2 : i + 4], 16))
                    i += 3
                elif ch == 92 and i + 1 < n:
                    i += 1
                    current += _ESCAPES.get(line[i], bytes([line[i]]))
                elif ch == ord('"'):
                    if i + 1 < n and line[i + 1] not in b" \n\r\t\v\f\0":
                        raise ProtocolError("unbalanced quotes in request")
                    in_dq = False
                    i += 1
                    break
                else:
                    current.append(ch)
            elif in_sq:
                if i >= n:
                    raise ProtocolError("unbalanced quotes in request")
                ch = line[i]
                if ch == 92 and i + 1 < n and line[i + 1] == ord("'"):
                    i += 1
                    current.append(39)
                elif ch == ord("'"):
                    if i + 1 < n and line[i + 1] not in b" \n\r\t\v\f\0":
                        raise ProtocolError("unbalanced quotes in request")
                    in_sq = False
                    i += 1
                    break
                else:
                    current.append(ch)
            else:
                if i >= n:
                    break
                ch = line[i]
                if ch in b" \n\r\t\v\f\0":
                    break
                if ch == ord('"'):
                    in_dq = True
                elif ch == ord("'"):
                    in_sq = True
                else:
                    current.append(ch)
            i += 1
        args.append(bytes(current))


def check_partial_frame(head: bytes) -> None:
    """Validate the headers of an incomplete multibulk frame before more of it is buffered.

    hiredis waits silently for the rest of a frame, so ``*1\\r\\n$999999999999\\r\\n`` would
    make the connection buffer forever. Redis refuses such lengths at once; so does this check,
    which reads only the ``*N`` and ``$N`` header lines present in ``head``.
    """
    eol = head.find(b"\r\n")
    if eol < 0:
        if len(head) > MAX_INLINE_LEN:
            raise ProtocolError("too big mbulk count string")
        return
    try:
        count = int(head[1:eol])
    except ValueError:
        raise ProtocolError("invalid multibulk length") from None
    if count > MAX_MULTIBULK_LEN:
        raise ProtocolError("invalid multibulk length")
    pos = eol + 2
    for _ in range(count):
        if pos >= len(head):
            return
        if head[pos] != ord("$"):
            raise ProtocolError(f"expected '$', got '{chr(head[pos])}'")
        eol = head.find(b"\r\n", pos)
        if eol < 0:
            if len(head) - pos > MAX_INLINE_LEN:
                raise ProtocolError("too big bulk count string")
            return
        try:
            size = int(head[pos + 1 : eol])
        except ValueError:
            raise ProtocolError("invalid bulk length") from None
        if size < 0 or size > MAX_BULK_LEN:
            raise ProtocolError("invalid bulk length")
        pos = eol + 2 + size + 2


def resp3_to_resp2(data: bytes) -> bytes:
    """Rewrite a RESP3 reply made of aggregates, strings and integers into its RESP2 form.

    Used for replies stored in RESP3 (COMMAND INFO and DOCS): maps become flat arrays, sets
    become arrays, nulls become null bulks, doubles become bulk strings.
    """
    out = bytearray()
    pos = 0
    n = len(data)
    while pos < n:
        kind = data[pos]
        eol = data.index(b"\r\n", pos)
        if kind == ord("$") or kind == ord("="):
            size = int(data[pos + 1 : eol])
            end = eol + 2 + max(size, 0) + (2 if size >= 0 else 0)
            out += b"$" + data[pos + 1 : end]
            pos = end
            continue
        if kind == ord("%"):
            out += b"*%d\r\n" % (int(data[pos + 1 : eol]) * 2)
        elif kind == ord("~"):
            out += b"*" + data[pos + 1 : eol + 2]
        elif kind == ord("_"):
            out += NULL_BULK
        elif kind == ord(","):
            value = data[pos + 1 : eol]
            out += b"$%d\r\n%s\r\n" % (len(value), value)
        else:
            out += data[pos : eol + 2]
        pos = eol + 2
    return bytes(out)
