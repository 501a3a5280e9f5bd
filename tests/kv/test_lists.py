"""Differential tests of list commands (non-blocking; blocking ones are in test_blocking)."""

from __future__ import annotations

import pytest

from tests.kv.conftest import Differ

pytestmark = pytest.mark.redis


def test_push_pop_range(diff: Differ) -> None:
    diff.script(
        """
        lpush l a b c
        rpush l d e
        lpushx nope a
        rpushx nope a
        lpushx l z
        rpushx l y
        llen l
        llen nope
        lrange l 0 -1
        lrange l 1 2
        lrange l -3 -1
        lrange l 5 1
        lrange l -100 100
        lrange l 100 200
        lrange nope 0 -1
        lrange l x 1
        lpop l
        rpop l
        lpop l 2
        rpop l 0
        rpop l -1
        rpop l x
        lpop l 1 2
        lpop l 100
        lpop l
        rpop l 2
        lpop nope 2
        exists l
        """
    )


def test_index_set_rem_trim_insert(diff: Differ) -> None:
    diff.script(
        """
        rpush l a b c a b c a
        lindex l 0
        lindex l -1
        lindex l 100
        lindex l x
        lindex nope 0
        lset l 1 B
        lset l -1 Z
        lset l 100 x
        lset nope 0 x
        lrange l 0 -1
        lrem l 1 a
        lrem l -1 c
        lrem l 0 b
        lrange l 0 -1
        lrem nope 0 a
        linsert l before c X
        linsert l after Z Y
        linsert l after nope Q
        linsert l middle c Q
        linsert nope before a b
        lrange l 0 -1
        ltrim l 1 -2
        lrange l 0 -1
        ltrim l 5 1
        exists l
        ltrim nope 0 1
        """
    )


def test_lpos(diff: Differ) -> None:
    diff.script(
        """
        rpush l a b c 1 2 3 c c
        lpos l c
        lpos l c rank 2
        lpos l c rank -1
        lpos l c count 0
        lpos l c count 2
        lpos l c rank -2 count 2
        lpos l c maxlen 2
        lpos l c count 0 maxlen 3
        lpos l z
        lpos l z count 0
        lpos l c rank 0
        lpos l c rank -9223372036854775808
        lpos l c rank -9223372036854775807
        lpos l c count -1
        lpos l c maxlen -1
        lpos l c foo 1
        lpos l c rank
        lpos nope a
        lpos nope a count 1
        """
    )


def test_moves_and_mpop(diff: Differ) -> None:
    diff.script(
        """
        rpush a 1 2 3
        lmove a b left right
        lmove a b right left
        lrange a 0 -1
        lrange b 0 -1
        lmove a a left right
        lrange a 0 -1
        lmove a b up down
        lmove nope b left left
        rpoplpush a b
        rpoplpush a b
        exists a
        set s x
        rpoplpush b s
        lrange b 0 -1
        lmpop 2 nope b left
        lmpop 2 nope b right count 10
        lmpop 1 nope left
        lmpop 0 a left
        lmpop x a left
        lmpop 3 a left
        lmpop 1 a middle
        lmpop 1 a left count 0
        lmpop 1 a left count 1 count 2
        lmpop 1 s left
        rpush x 1
        hello 3 |len
        lmpop 1 nope left
        lpop nope 1
        lmpop 1 x left
        hello 2 |len
        """
    )


def test_wrongtype(diff: Differ) -> None:
    diff.script(
        """
        set s x
        lpush s a
        rpush s a
        lpushx s a
        lpop s
        llen s
        lrange s 0 1
        lindex s 0
        lset s 0 a
        lrem s 0 a
        ltrim s 0 1
        linsert s before a b
        lpos s a
        lmove s d left left
        """
    )
