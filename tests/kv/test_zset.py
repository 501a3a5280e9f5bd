"""The sorted-set leaf: ordering by (score, member), ranks and spans."""

from __future__ import annotations

from gee.kv.zset import ZSet


def build(*pairs: tuple[float, bytes]) -> ZSet:
    z = ZSet()
    for score, member in pairs:
        z.add(member, score)
    return z


def test_order_rank_and_update() -> None:
    z = build((2, b"b"), (1, b"z"), (2, b"a"), (float("-inf"), b"m"))
    assert [m for _, m in z.list] == [b"m", b"z", b"a", b"b"]
    assert z.rank(b"a") == 2
    z.add(b"a", 0)
    assert z.rank(b"a") == 1
    assert z.remove(b"a")
    assert not z.remove(b"a")
    assert z.rank(b"a") is None
    assert len(z) == 3


def test_score_spans_are_inclusive_or_exclusive() -> None:
    z = build((1, b"a"), (2, b"b"), (2, b"c"), (3, b"d"))
    assert z.score_span(2, False, 2, False) == (1, 3)
    assert z.score_span(2, True, 3, False) == (3, 4)
    assert z.count_score(1, True, 3, True) == 2
    assert z.count_score(5, False, 1, False) == 0


def test_lex_spans() -> None:
    z = build((0, b"a"), (0, b"b"), (0, b"c"))
    assert z.lex_span(b"b", False, None, False) == (1, 3)
    assert z.lex_span(b"a", True, b"c", True) == (1, 2)
    assert z.lex_span(None, False, b"a", False) == (0, 1)
