"""Differential tests of hash commands."""

from __future__ import annotations

import pytest

from tests.kv.conftest import Differ

pytestmark = pytest.mark.redis


def test_hash_basics(diff: Differ) -> None:
    diff.script(
        """
        hset h a 1 b 2
        hset h a 3 c 4
        hset h a
        hmset h d 5
        hmset h d
        hsetnx h a x
        hsetnx h e x
        hget h a
        hget h nope
        hget nope a
        hmget h a nope b
        hmget nope a b
        hgetall h
        hgetall nope
        hkeys h
        hvals h
        hlen h
        hlen nope
        hexists h a
        hexists h nope
        hstrlen h a
        hstrlen h nope
        hdel h a nope
        hdel h nope
        hgetall h
        hdel h b c d e
        exists h
        hello 3 |len
        hset h2 x 1 y 2
        hgetall h2
        hgetall nope
        hello 2 |len
        """
    )


def test_hash_counters(diff: Differ) -> None:
    diff.script(
        """
        hincrby h a 5
        hincrby h a -10
        hincrby h a x
        hset h s hello f 1.5 big 9223372036854775807
        hincrby h s 1
        hincrby h big 1
        hincrbyfloat h f 0.1
        hincrbyfloat h f x
        hincrbyfloat h s 1
        hincrbyfloat h new 2.5e3
        hincrbyfloat h f inf
        hgetall h
        hincrby n a x
        exists n
        hincrbyfloat n a x
        exists n
        """
    )


def test_hrandfield_and_hscan(diff: Differ) -> None:
    diff.script(
        """
        hset h a 1 b 2 c 3
        hrandfield nope
        hrandfield nope 3
        hrandfield h 0
        hrandfield h 5 |sort
        hrandfield h 3 withvalues |pairs
        hrandfield h -5 |len
        hrandfield h 1 foo
        hrandfield h x
        hrandfield h -9223372036854775808
        hscan h 0
        hscan h 0 match a*
        hscan h 0 count 0
        hscan nope 0
        hscan h x
        """
    )


def test_hash_wrongtype(diff: Differ) -> None:
    diff.script(
        """
        set s x
        hset s a b
        hget s a
        hgetall s
        hdel s a
        hlen s
        hincrby s a 1
        hscan s 0
        """
    )
