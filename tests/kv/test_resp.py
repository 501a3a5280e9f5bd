"""The RESP leaf: inline splitting, partial-frame checks, RESP3→RESP2, double formatting."""

from __future__ import annotations

import pytest

from gee.kv.resp import (
    ProtocolError,
    check_partial_frame,
    encode_command,
    format_double,
    resp3_to_resp2,
    split_inline,
)


@pytest.mark.parametrize(
    ("line", "want"),
    [
        (b"PING", [b"PING"]),
        (b"  set  a   b ", [b"set", b"a", b"b"]),
        (b'set a "x y"', [b"set", b"a", b"x y"]),
        (b"set a 'x y'", [b"set", b"a", b"x y"]),
        (b'echo "\\x41\\n\\t"', [b"echo", b"A\n\t"]),
        (b"echo 'it\\'s'", [b"echo", b"it's"]),
        (b'echo ""', [b"echo", b""]),
        (b"", []),
    ],
)
def test_split_inline(line: bytes, want: list[bytes]) -> None:
    got = split_inline(line)
    assert got == want, f"got {got!r}; want {want!r}"


@pytest.mark.parametrize("line", [b'set a "x', b"set a 'x", b'set a "x"y'])
def test_split_inline_refuses_unbalanced_quotes(line: bytes) -> None:
    with pytest.raises(ProtocolError, match="unbalanced quotes"):
        split_inline(line)


@pytest.mark.parametrize(
    ("head", "error"),
    [
        (b"*2\r\n$3\r\nfoo\r\n$999999999999\r\n", "invalid bulk length"),
        (b"*2\r\n$-1\r\n", "invalid bulk length"),
        (b"*2000000\r\n", "invalid multibulk length"),
        (b"*1x\r\n", "invalid multibulk length"),
        (b"*2\r\n:1\r\n", "expected '$', got ':'"),
        (b"*2\r\n$3\r\nfoo\r\n$2\r\nab", None),
        (b"*3\r\n$3\r\nSET", None),
    ],
)
def test_check_partial_frame(head: bytes, error: str | None) -> None:
    if error is None:
        check_partial_frame(head)
    else:
        with pytest.raises(ProtocolError, match=error.replace("$", "\\$")):
            check_partial_frame(head)


def test_resp3_to_resp2() -> None:
    resp3 = b"%2\r\n$1\r\na\r\n~2\r\n+x\r\n:1\r\n$1\r\nb\r\n_\r\n"
    assert resp3_to_resp2(resp3) == b"*4\r\n$1\r\na\r\n*2\r\n+x\r\n:1\r\n$1\r\nb\r\n$-1\r\n"
    assert resp3_to_resp2(b",1.5\r\n") == b"$3\r\n1.5\r\n"


@pytest.mark.parametrize(
    ("value", "want"),
    [
        (1.1, b"1.1000000000000001"),
        (3.0, b"3"),
        (1e20, b"1e+20"),
        (1e-06, b"9.9999999999999995e-07"),
        (float("inf"), b"inf"),
        (float("-inf"), b"-inf"),
    ],
)
def test_format_double_as_redis(value: float, want: bytes) -> None:
    assert format_double(value) == want


def test_encode_command() -> None:
    assert encode_command([b"GET", b"k"]) == b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
