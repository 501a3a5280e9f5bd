"""Differential tests of RESP3 reply shapes (maps, sets, doubles, nulls) per family."""

from __future__ import annotations

import pytest

from tests.kv.conftest import Differ

pytestmark = pytest.mark.redis


def test_resp3_shapes(diff: Differ) -> None:
    diff.call("hello", "3", mode="len")
    diff.script(
        """
        get nope
        mget a nope
        set a 1
        incrbyfloat f 1.5
        hset h a 1
        hgetall h
        hrandfield h 1 withvalues
        hrandfield h -2 withvalues
        hget h nope
        hmget h a nope
        sadd s 1 2
        smembers s
        sinter s s
        sunion s s
        sdiff s nope
        spop nope
        spop nope 2
        spop s 0
        srandmember nope
        zadd z 1 a 2 b
        zrange z 0 -1 withscores
        zrangebyscore z -inf +inf withscores
        zrandmember z 5 withscores
        zunion 1 z withscores
        zinter 1 z withscores
        zdiff 1 z withscores
        zscore z a
        zincrby z 0.5 a
        zrank z nope
        zpopmin nope
        zmpop 1 nope min
        lpop nope
        lpop nope 2
        rpush l 1
        lpos l 9
        lindex l 5
        lmpop 1 nope left
        blpop nope 0.01
        brpoplpush nope d 0.01
        bzpopmin nope 0.01
        config get maxclients
        client getname
        pubsub numsub a
        command docs get
        command info get
        object encoding nope
        lcs a nope idx
        set k v
        getdel nope
        getex nope
        set k v get
        set k2 v nx get
        type nope
        randomkey |type
        hello |len
        hello 2 |len
        """
    )
