"""Differential tests of set commands (unordered replies are compared sorted)."""

from __future__ import annotations

import pytest

from tests.kv.conftest import Differ

pytestmark = pytest.mark.redis


def test_set_basics(diff: Differ) -> None:
    diff.script(
        """
        sadd s 3 1 2
        sadd s 2 4
        smembers s
        sadd t a b c
        smembers t |sort
        scard s
        scard nope
        sismember s 1
        sismember s 9
        smismember s 1 9 2
        srem s 1 9
        srem nope a
        smembers nope
        smove s t 2
        smove s t 99
        smove s s 3
        smove nope t a
        smembers t |sort
        srem s 3 4
        exists s
        hello 3 |len
        smembers t |sort
        sinter t nope
        hello 2 |len
        """
    )


def test_set_algebra(diff: Differ) -> None:
    diff.script(
        """
        sadd a 1 2 3 4
        sadd b 3 4 5
        sadd c 4 5 6
        sinter a b c
        sinter a b |sort
        sunion a b c |sort
        sdiff a b c
        sdiff a nope |sort
        sinter a nope
        sinterstore d a b
        smembers d |sort
        sunionstore d a c
        scard d
        sdiffstore d a a
        exists d
        sintercard 2 a b
        sintercard 2 a b limit 1
        sintercard 0 a
        sintercard 3 a b
        sintercard 1 a limit -1
        sintercard 1 a foo
        set s x
        sinter a s
        sunionstore d s
        """
    )


def test_spop_srandmember_sscan(diff: Differ) -> None:
    diff.script(
        """
        sadd s 1 2 3 4 5
        spop nope
        spop nope 3
        spop s 0
        spop s -1
        spop s 1 2
        spop s 2 |len
        scard s
        srandmember nope
        srandmember nope 5
        sadd r 1 2 3 a
        srandmember r 100 |sort
        srandmember s -10 |len
        srandmember s 1 2
        srandmember s x
        spop s 100 |len
        exists s
        sadd t a b c
        sscan t 0 |len
        sscan t 0 match a |len
        sscan t x
        sscan nope 0
        sadd i 3 1 2
        sscan i 0
        """
    )
