"""Differential tests of sorted-set algebra (ZUNION, ZINTER, ZDIFF, STORE forms, ZINTERCARD)."""

from __future__ import annotations

import pytest

from tests.kv.conftest import Differ

pytestmark = pytest.mark.redis


def test_zset_algebra(diff: Differ) -> None:
    diff.script(
        """
        zadd a 1 x 2 y 3 z
        zadd b 10 y 20 z 30 w
        sadd s x w
        zunion 2 a b withscores
        zunion 2 a b weights 2 3 withscores
        zunion 2 a b aggregate max withscores
        zunion 3 a b s aggregate min withscores
        zinter 2 a b withscores
        zinter 2 a b weights 1 -1 aggregate sum withscores
        zinter 3 a b s
        zdiff 2 a b withscores
        zdiff 2 b s
        zunionstore d 2 a b
        zrange d 0 -1 withscores
        zinterstore d 2 a b aggregate max
        zrange d 0 -1 withscores
        zdiffstore d 2 a a
        exists d
        zunion 0 a
        zunion 3 a b
        zunion 2 a b weights 1
        zunion 2 a b weights 1 x
        zunion 2 a b aggregate foo
        zunionstore d 2 a b withscores
        zdiff 2 a b weights 1 2
        zintercard 2 a b
        zintercard 2 a b limit 1
        zintercard 0 a
        set str v
        zunion 2 a str
        zadd i inf x
        zadd j -inf x
        zunion 2 i j withscores
        zinter 2 i j weights 0 1 withscores
        """
    )
