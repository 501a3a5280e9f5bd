"""LZF, the compressor Redis applies to RDB strings (``rdbcompression yes``).

The stream is a sequence of chunks, each led by a control byte: below 32 it is a literal run
of ``ctrl + 1`` bytes; otherwise a back reference of ``(ctrl >> 5) + 2`` bytes (7 means one
more length byte follows) at distance ``((ctrl & 31) << 8 | next byte) + 1``. Any valid stream
decompresses the same, so the compressor here need not match Redis's byte for byte: it finds
matches through a dict of 3-byte prefixes rather than liblzf's lossy hash table, which gives
streams at least as short.
"""

from __future__ import annotations

_MAX_LIT = 32
_MAX_OFF = 1 << 13
_MAX_REF = (1 << 8) + (1 << 3)  # 264: 7 + 255 + 2


class LZFError(ValueError):
    """A compressed stream that does not decode to the stated length."""


def decompress(data: bytes, length: int) -> bytes:
    """Expand ``data`` to exactly ``length`` bytes, or raise LZFError."""
    out = bytearray()
    i = 0
    n = len(data)
    olen = 0  # len(out), kept by hand: the loop runs once per chunk of a few bytes
    try:
        while i < n:
            ctrl = data[i]
            if ctrl < 32:
                i += 1
                j = i + ctrl + 1
                if j > n:
                    raise LZFError("literal run past the end of the input")
                out += data[i:j]
                olen += j - i
                i = j
                continue
            size = ctrl >> 5
            if size == 7:  # the long form: a length byte, then the offset's low byte
                size = 9 + data[i + 1]
                i += 3
            else:
                size += 2
                i += 2
            dist = ((ctrl & 31) << 8) + data[i - 1] + 1
            ref = olen - dist
            if ref < 0:
                raise LZFError("back reference before the start of the output")
            if size <= dist:
                out += out[ref : ref + size]
            else:  # overlapping: the copy repeats the last ``dist`` bytes as it writes them
                q, r = divmod(size, dist)
                pattern = out[ref:]
                out += pattern * q + pattern[:r]
            olen += size
    except IndexError:
        raise LZFError("truncated back reference") from None
    if olen != length:
        raise LZFError(f"decompressed {olen} bytes; expected {length}")
    return bytes(out)


def compress(data: bytes) -> bytes:
    """An LZF stream that decompresses to ``data`` (possibly longer than ``data``)."""
    n = len(data)
    out = bytearray()
    seen: dict[bytes, int] = {}
    lit_start = 0
    i = 0

    while i + 2 < n:
        prefix = data[i : i + 3]
        ref = seen.get(prefix)
        seen[prefix] = i
        if ref is not None and i - ref <= _MAX_OFF:
            size = 3
            limit = min(_MAX_REF, n - i)
            while size < limit and data[ref + size] == data[i + size]:
                size += 1
            _literals(out, data, lit_start, i)
            off = i - ref - 1
            size -= 2
            if size < 7:
                out.append((size << 5) | (off >> 8))
            else:
                out.append((7 << 5) | (off >> 8))
                out.append(size - 7)
            out.append(off & 0xFF)
            size += 2
            for k in range(i + 1, min(i + size, n - 2)):
                seen[data[k : k + 3]] = k
            i += size
            lit_start = i
        else:
            i += 1
    _literals(out, data, lit_start, n)
    return bytes(out)


def _literals(out: bytearray, data: bytes, start: int, end: int) -> None:
    """Append ``data[start:end]`` as literal runs of at most 32 bytes."""
    while start < end:
        run = min(_MAX_LIT, end - start)
        out.append(run - 1)
        out.extend(data[start : start + run])
        start += run
