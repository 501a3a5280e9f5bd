"""Differential tests of connection commands: AUTH, HELLO, RESET, CLIENT."""

from __future__ import annotations

import pytest

from tests.kv.conftest import Differ
from tests.kv.resp_client import RawClient

pytestmark = pytest.mark.redis


def test_auth_and_hello(diff: Differ) -> None:
    diff.call("config", "set", "requirepass", "pw")
    try:
        diff.script(
            """
            ping
            get a
            auth wrong
            auth default wrong
            hello 3
            hello 3 auth default wrong
            hello 3 auth default pw setname me |len
            client getname
            ping
            hello 2 |len
            auth pw
            auth default pw
            auth a b c
            """,
            conn="fresh",
        )
        diff.script(
            """
            multi
            auth pw
            exec
            """,
            conn="fresh2",
        )
    finally:
        diff.call("config", "set", "requirepass", "")


def test_reset_and_client_commands(diff: Differ) -> None:
    diff.script(
        """
        client setname before
        select 2
        multi
        reset
        client getname
        set x 1
        select 0
        get x
        client setname "a b"
        client setname ""
        client getname
        client no-evict on
        client no-evict off
        client no-evict maybe
        client kill 1.2.3.4:5
        client kill id 99999
        client kill id x
        client kill foo bar
        client kill skipme maybe
        client list type foo
        client list foo
        client foo
        """
    )


def test_client_kill_by_id_and_self(kv: RawClient) -> None:
    victim = RawClient(kv.sock.getpeername()[1])
    victim_id = int(victim.call("client", "id")[1:-2])
    assert kv.call("client", "kill", "id", str(victim_id)) == b":1\r\n"
    assert victim.read_closed() == b""
    victim.close()
    me = RawClient(kv.sock.getpeername()[1])
    my_id = int(me.call("client", "id")[1:-2])
    assert me.call("client", "kill", "id", str(my_id), "skipme", "no") == b":1\r\n"
    assert me.read_closed() == b""
    me.close()
