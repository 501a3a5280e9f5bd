"""RDB files and DUMP payloads: round trips, every compact encoding Redis writes, damage."""

from __future__ import annotations

import io
import math
from collections import deque
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gee.kv.errors import RDBError
from gee.kv.persist import rdb
from gee.kv.zset import ZSet

# -- values and round trips -------------------------------------------------------------------

_blobs = st.binary(max_size=80) | st.integers(-(2**63), 2**63 - 1).map(lambda n: b"%d" % n)


def _zset(pairs: dict[bytes, float]) -> ZSet:
    z = ZSet()
    for member, score in pairs.items():
        z.add(member, score)
    return rdb._finish_zset(z)


_values = st.one_of(
    _blobs,
    st.lists(_blobs, min_size=1, max_size=20).map(lambda xs: deque(rdb._list_item(x) for x in xs)),
    st.sets(_blobs, min_size=1, max_size=20),
    st.dictionaries(_blobs, _blobs, min_size=1, max_size=20),
    st.dictionaries(
        _blobs, st.floats(allow_nan=False).map(lambda f: f + 0.0), min_size=1, max_size=20
    ).map(_zset),
)


def _plain(value: Any) -> Any:
    if isinstance(value, ZSet):
        return ("zset", value.dict, value.big)
    return value


@settings(deadline=None)
@given(_values, st.booleans())
def test_payload_round_trip(value: Any, compress: bool) -> None:
    got = rdb.load_payload(rdb.dump_payload(value, compress))
    assert _plain(got) == _plain(value)


@settings(deadline=None)
@given(
    st.dictionaries(st.binary(max_size=20), _values, max_size=8),
    st.booleans(),
    st.booleans(),
)
def test_file_round_trip(data: dict[bytes, Any], compress: bool, checksum: bool) -> None:
    expires = {key: 1_000_000 + i for i, key in enumerate(data) if i % 2}
    f = io.BytesIO()
    rdb.dump(f, [(0, {}, {}), (5, data, expires)], compress=compress, checksum=checksum)
    parsed = rdb.load(f.getvalue())
    assert parsed.version == rdb.RDB_VERSION
    got = {e.key: (_plain(e.value), e.expire_ms, e.db) for e in parsed.entries}
    want = {k: (_plain(v), expires.get(k), 5) for k, v in data.items()}
    assert got == want


def test_compressed_strings_are_smaller() -> None:
    value = b"abc" * 1000
    assert len(rdb.dump_payload(value, True)) < 100 < len(rdb.dump_payload(value, False))


@pytest.mark.parametrize(
    ("text", "want"),
    [(b"12", b"\xc0\x0c"), (b"-200", b"\xc1\x38\xff"), (b"70000", b"\xc2\x70\x11\x01\x00")],
)
def test_integers_are_int_encoded(text: bytes, want: bytes) -> None:
    got = rdb._string(text, True)
    assert got == want, f"got {got!r}; want {want!r}"


def _listpack(*entries: bytes) -> bytes:
    body = b"".join(entries) + b"\xff"
    return (len(body) + 6).to_bytes(4, "little") + len(entries).to_bytes(2, "little") + body


@pytest.mark.parametrize(
    ("entry", "want"),
    [
        (b"\x05\x01", b"5"),  # 7-bit unsigned
        (b"\x83abc\x04", b"abc"),  # 6-bit string length
        (b"\xdf\xff\x02", b"-1"),  # 13-bit signed
        (b"\xf1\x00\x80\x03", b"-32768"),  # int16
        (b"\xf2\x00\x00\x80\x04", b"-8388608"),  # int24
        (b"\xf3\xff\xff\xff\x7f\x05", b"2147483647"),  # int32
        (b"\xf4" + (2**40).to_bytes(8, "little") + b"\x09", b"%d" % 2**40),  # int64
        (b"\xe0\x40" + b"q" * 64 + b"\x42", b"q" * 64),  # 12-bit string length
        (b"\xe0\x7d" + b"q" * 125 + b"\x7f", b"q" * 125),  # entry of 127 bytes: 1-byte back-length
        (b"\xe0\x7e" + b"q" * 126 + b"\x80\x01", b"q" * 126),  # 128 bytes: 2-byte back-length
    ],
)
def test_listpack_entries(entry: bytes, want: bytes) -> None:
    got = rdb._listpack(_listpack(entry))
    assert got == [want], f"got {got!r}; want {[want]!r}"


def test_ziplist_entries() -> None:
    entries = [
        b"\x00\x03abc",
        b"\x05\xf5",  # immediate 4
        b"\x02\xfe\xf6",  # int8 -10
        b"\x02\xc0\x00\x80",  # int16
        b"\x03\xf0\x00\x00\x80",  # int24
        b"\x04\xd0\xff\xff\xff\x7f",  # int32
        b"\x06\xe0" + (-(2**40)).to_bytes(8, "little", signed=True),  # int64
    ]
    body = b"".join(entries) + b"\xff"
    blob = (len(body) + 10).to_bytes(4, "little") + b"\x00" * 4 + b"\x07\x00" + body
    got = rdb._ziplist(blob)
    want = [b"abc", b"4", b"-10", b"-32768", b"-8388608", b"2147483647", b"%d" % -(2**40)]
    assert got == want, f"got {got!r}; want {want!r}"


def test_zipmap() -> None:
    blob = b"\x02\x03foo\x03\x00bar\x01a\x02\x01xy!\xff"
    got = rdb._zipmap(blob)
    assert got == {b"foo": b"bar", b"a": b"xy"}, f"got {got!r}"


def test_old_double_scores() -> None:
    r = rdb._Reader(b"\xfd\xfe\xff\x031.5")
    got = [r.old_double() for _ in range(4)]
    assert math.isnan(got[0])
    assert got[1:] == [math.inf, -math.inf, 1.5]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b"RADIS" + b[5:], "wrong signature"),
        (lambda b: b[:5] + b"0099" + b[9:], "version 99"),
        (lambda b: b[:-3], "unexpected end"),
        (lambda b: b[:20] + bytes((b[20] ^ 0x40,)) + b[21:], "checksum mismatch"),
    ],
)
def test_damaged_files_name_the_problem(mutate: Any, message: str) -> None:
    f = io.BytesIO()
    rdb.dump(f, [(0, {b"key": b"value" * 10, b"k2": {b"a"}}, {})], compress=False)
    with pytest.raises(RDBError, match=message):
        rdb.load(mutate(f.getvalue()))


def _every_type() -> bytes:
    f = io.BytesIO()
    data: dict[bytes, Any] = {
        b"s": b"x" * 30,
        b"n": b"-70000",
        b"l": deque(rdb._list_item(x) for x in (b"a", b"12", b"y" * 40)),
        b"set": {b"1", b"two"},
        b"h": {b"f": b"v", b"g": b"300"},
        b"z": _zset({b"m": 1.5, b"n": -2.0}),
    }
    rdb.dump(f, [(0, data, {b"s": FAR}), (3, {b"k": b"v"}, {})])
    return f.getvalue()


FAR = 4_000_000_000_000


@pytest.mark.parametrize("checksum", [True, False])
def test_a_file_cut_anywhere_is_an_rdb_error(checksum: bool) -> None:
    whole = _every_type()
    for cut in range(9, len(whole)):
        with pytest.raises(RDBError):
            rdb.load(whole[:cut], verify_checksum=checksum)


def test_big_file_checksum_is_checked() -> None:
    # A flipped byte deep in a file of several hundred KB (written in many chunks) is caught.
    data = {b"key:%d" % i: b"value %d" % i * 3 for i in range(40_000)}
    f = io.BytesIO()
    rdb.dump(f, [(0, data, {})])
    whole = f.getvalue()
    assert len(whole) > 1 << 18
    assert len(rdb.load(whole).entries) == len(data)
    middle = len(whole) // 2
    damaged = whole[:middle] + bytes((whole[middle] ^ 1,)) + whole[middle + 1 :]
    with pytest.raises(RDBError, match="checksum mismatch"):
        rdb.load(damaged)


def test_bad_payload_footer() -> None:
    payload = bytearray(rdb.dump_payload(b"hello"))
    payload[1] ^= 1
    with pytest.raises(RDBError, match="checksum"):
        rdb.load_payload(bytes(payload))
