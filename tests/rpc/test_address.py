"""Addresses: GeeRPC's ``scheme@where`` spelling, parsed and printed back."""

from __future__ import annotations

import pytest

from gee.rpc.address import Address, parse_address
from gee.rpc.errors import RPCError


@pytest.mark.parametrize(
    ("text", "want", "printed"),
    [
        ("tcp@127.0.0.1:9000", Address("tcp", "127.0.0.1", 9000), "tcp@127.0.0.1:9000"),
        ("127.0.0.1:9000", Address("tcp", "127.0.0.1", 9000), "tcp@127.0.0.1:9000"),
        ("http@localhost:80", Address("http", "localhost", 80), "http@localhost:80"),
        ("unix@/tmp/a.sock", Address("unix", path="/tmp/a.sock"), "unix@/tmp/a.sock"),
        ("tcp@[::1]:7", Address("tcp", "::1", 7), "tcp@[::1]:7"),
        ("tcp@:7", Address("tcp", "127.0.0.1", 7), "tcp@127.0.0.1:7"),
    ],
)
def test_parse_and_print(text: str, want: Address, printed: str) -> None:
    got = parse_address(text)
    assert got == want, f"got {got}; want {want}"
    assert str(got) == printed


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("udp@1.2.3.4:5", "unknown scheme 'udp'"),
        ("tcp@host", "no valid port"),
        ("tcp@host:99999", "no valid port"),
        ("unix@", "no socket path"),
    ],
)
def test_bad_addresses_say_what_to_write(text: str, reason: str) -> None:
    with pytest.raises(RPCError, match=reason):
        parse_address(text)
