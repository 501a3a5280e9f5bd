"""files.parse_range against Python's own slicing, over random sizes and ranges."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gee.web.files import parse_range

sizes = st.integers(min_value=0, max_value=300)
offsets = st.integers(min_value=0, max_value=400)


def served(data: bytes, span: tuple[int, int] | str | None) -> bytes | str | None:
    if isinstance(span, tuple):
        return data[span[0] : span[1] + 1]
    return span


@given(sizes, offsets, offsets)
def test_first_last(size: int, first: int, last: int) -> None:
    data = bytes(i % 251 for i in range(size))
    got = served(data, parse_range(f"bytes={first}-{last}", size))
    if first >= size:
        assert got == "unsatisfiable"
    elif last < first:
        assert got is None  # malformed: ignored, the whole file is served
    else:
        assert got == data[first : last + 1]


@given(sizes, offsets)
def test_open_ended_and_suffix(size: int, n: int) -> None:
    data = bytes(i % 251 for i in range(size))
    from_n = served(data, parse_range(f"bytes={n}-", size))
    assert from_n == ("unsatisfiable" if n >= size else data[n:])
    last_n = served(data, parse_range(f"bytes=-{n}", size))
    assert last_n == ("unsatisfiable" if n == 0 or size == 0 else data[-n:])


@given(st.text(max_size=20))
def test_garbage_never_raises(header: str) -> None:
    assert parse_range(header, 100) in (None, "unsatisfiable") or isinstance(
        parse_range(header, 100), tuple
    )


def test_only_ascii_digits_count() -> None:
    for header in ("bytes=1_0-20", "bytes=+5-9", "bytes=٣-9", "bytes=1-2,4-5", "bytes=-"):
        assert parse_range(header, 100) is None, header
