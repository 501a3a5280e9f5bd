"""Differential tests of sorted set commands."""

from __future__ import annotations

import pytest

from tests.kv.conftest import Differ

pytestmark = pytest.mark.redis


def test_zadd_options(diff: Differ) -> None:
    diff.script(
        """
        zadd z 1 a 2 b 3 c
        zadd z nx 10 a 4 d
        zadd z xx 20 b 5 e
        zadd z gt 1 c 30 c
        zadd z lt 100 a 0 a
        zadd z ch 1 a 2 b 9 f
        zadd z incr 5 a
        zadd z nx incr 5 a
        zadd z xx incr 5 nope
        zadd z gt incr -1 a
        zadd z nx xx 1 a
        zadd z gt lt 1 a
        zadd z nx gt 1 a
        zadd z incr 1 a 2 b
        zadd z 1
        zadd z x a
        zadd z 1 a 2
        zadd z nan a
        zadd z inf i -inf ni +inf pi
        zadd z 1.1 x 0.000001 y 1e20 w
        zrange z 0 -1 withscores
        zadd z incr inf ni
        zincrby z 5 a
        zincrby z x a
        zincrby new 1.5 m
        zscore z a
        zscore z nope
        zscore nope a
        zmscore z a nope x
        zmscore nope a
        zcard z
        zcard nope
        zrem z a nope
        zrem nope a
        hello 3 |len
        zscore z x
        zmscore z x nope
        zincrby z 1 x
        zadd z incr 1 x
        zrange z 0 2 withscores
        hello 2 |len
        """
    )


def test_zrange_family(diff: Differ) -> None:
    diff.script(
        """
        zadd z 1 a 2 b 3 c 4 d 5 e
        zrange z 0 -1
        zrange z 1 2 withscores
        zrange z -2 -1
        zrange z 3 1
        zrange z 0 -1 rev
        zrange z (1 4 byscore
        zrange z 4 (1 byscore rev withscores
        zrange z -inf +inf byscore limit 1 2
        zrange z +inf -inf byscore rev limit 1 2
        zrange z 0 -1 limit 1 2
        zrange z [a (c bylex
        zrange z + - bylex rev limit 0 2
        zrange z - + bylex withscores
        zrange z x 1
        zrange z a b byscore
        zrange z a b bylex
        zrange z 0 1 foo
        zrangebyscore z 2 4
        zrangebyscore z (2 4 withscores limit 0 1
        zrangebyscore z -inf inf
        zrevrangebyscore z 4 2
        zrevrangebyscore z 4 2 limit 1 -1
        zrangebylex z - [c
        zrevrangebylex z [c -
        zrangebylex z a c
        zrevrange z 0 1 withscores
        zrange nope 0 -1
        zrangebyscore nope 0 1
        zrangebyscore nope x 1
        zrangebylex nope a b
        zcount z 2 4
        zcount z (2 (4
        zcount z x 1
        zlexcount z - +
        zlexcount z [b (d
        zlexcount z a b
        zlexcount nope - +
        zrank z c
        zrank z nope
        zrevrank z c
        zrank nope a
        zrangestore d z 1 3
        zrange d 0 -1 withscores
        zrangestore d z 5 1 byscore rev
        zrangestore d z 0 -1 withscores
        zrangestore d nope 0 -1
        exists d
        """
    )


def test_zremrange_and_pops(diff: Differ) -> None:
    diff.script(
        """
        zadd z 1 a 2 b 3 c 4 d 5 e 6 f 7 g
        zremrangebyrank z 0 0
        zremrangebyscore z (5 6
        zremrangebylex z [c [d
        zremrangebylex z x y
        zrange z 0 -1 withscores
        zpopmin z
        zpopmax z
        zpopmin z 0
        zpopmin z -1
        zpopmin z 1 2
        zpopmax z 5
        exists z
        zpopmin nope
        zpopmin nope 2
        zadd z 1 a 2 b 3 c
        zmpop 2 nope z min
        zmpop 1 z max count 5
        zmpop 1 z max
        zmpop 0 z max
        zmpop 1 z middle
        zadd z 1 a 2 b
        hello 3 |len
        zpopmin z
        zpopmax z 1
        zadd z 1 a 2 b
        zmpop 1 z min count 2
        zmpop 1 z min
        hello 2 |len
        """
    )


def test_zrandmember_zscan_wrongtype(diff: Differ) -> None:
    diff.script(
        """
        zadd z 1 a 2 b 3 c
        zrandmember nope
        zrandmember nope 3
        zrandmember z 10
        zrandmember z -5 |len
        zrandmember z 10 withscores
        zrandmember z 1 foo
        zscan z 0
        zscan z 0 match b
        zscan nope 0
        set s x
        zadd s 1 a
        zscore s a
        zrange s 0 -1
        zcard s
        zpopmin s
        zrank s a
        """
    )


# Spellings of a double at the edges of what Redis's parsers take: string2d (ZADD, ZINCRBY,
# weights: strtod, nothing skipped, overflow and underflow refused), zslParseRange (score
# bounds: strtod, leading spaces skipped, any range) and string2ld (INCRBYFLOAT, timeouts).
_DOUBLES = [
    "0",
    "0.0",
    "+5",
    ".5",
    "5.",
    "1e308",
    "1.7976931348623157e308",
    "1.8e308",
    "1e400",
    "-1e400",
    "1e-400",
    "-1e-400",
    "2.4e-324",
    "4.9e-324",
    "0e500",
    "0." + "0" * 400 + "1",
    "9" * 400,
    "inf",
    "-inf",
    "+inf",
    "Infinity",
    "-INF",
    "nan",
    "0x10",
    "-0x1.8p1",
    "0x1p-2000",
    "0x1p2000",
    "0x0p0",
    "0x",
    " 1",
    "1 ",
    "1_0",
    "1e",
    "e5",
    "",
    "\t2",
]


@pytest.mark.parametrize("raw", _DOUBLES)
def test_double_spellings_parse_as_in_redis(diff: Differ, raw: str) -> None:
    diff.call("ZADD", "z", raw, "m")
    diff.call("ZINCRBY", "z", raw, "m")
    diff.call("ZADD", "z", "1", "n")
    diff.call("ZRANGEBYSCORE", "z", raw, "+inf")
    diff.call("ZCOUNT", "z", "(" + raw, "+inf")
    diff.call("ZRANGEBYSCORE", "z", "-inf", raw)
    diff.call("ZUNIONSTORE", "u", "1", "z", "WEIGHTS", raw)
    diff.call("ZRANGE", "u", "0", "-1", "WITHSCORES")
    # string2ld (strtold): INCRBYFLOAT, and blocking timeouts (the list is not empty)
    diff.call("INCRBYFLOAT", "f", raw)
    diff.call("RPUSH", "l", "x")
    diff.call("BLPOP", "l", raw)


def test_negative_zero_is_kept_only_in_a_big_sorted_set(diff: Differ) -> None:
    # Redis's listpack stores an integral score as an integer, so a small set's -0 reads 0;
    # its skiplist keeps the double.
    diff.call("ZADD", "small", "-0", "m")
    diff.call("ZSCORE", "small", "m")
    diff.call("ZINCRBY", "small", "-0", "m")
    diff.call("ZADD", "big", *[str(x) for i in range(200) for x in (i + 1, f"m{i}")])
    diff.call("ZADD", "big", "-0", "neg")
    diff.call("ZSCORE", "big", "neg")
    diff.call("ZINCRBY", "big", "-0", "neg")
    diff.call("ZRANGE", "big", "0", "0", "WITHSCORES")
