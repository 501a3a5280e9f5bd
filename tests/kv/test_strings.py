"""Differential tests of string commands against redis-server."""

from __future__ import annotations

import pytest

from tests.kv.conftest import Differ

pytestmark = pytest.mark.redis


def test_get_set_options(diff: Differ) -> None:
    diff.script(
        """
        get a
        set a hello
        get a
        set a world nx
        set a world xx
        get a
        set b v xx
        set b v nx
        set b w nx get
        set b w2 xx get
        set nope w get
        set a 1 ex 0
        set a 1 ex x
        set a 1 nx xx
        set a 1 ex 1 px 1
        set a 1 keepttl ex 1
        set a 1 ex 100
        ttl a
        set a 2 keepttl
        ttl a
        set a 3
        ttl a
        set a 1 px 100000
        pttl a |type
        set a 1 exat 99999999999
        ttl a |type
        set a 1 pxat 1
        get a
        set
        set a
        set a b c
        """
    )


def test_setnx_setex_getset_getdel_getex(diff: Differ) -> None:
    diff.script(
        """
        setnx a 1
        setnx a 2
        get a
        setex b 100 x
        ttl b
        setex b 0 x
        setex b -1 x
        setex b x x
        psetex c 100000 y
        get c
        psetex c 0 y
        getset a 5
        getset new 1
        getdel a
        getdel a
        getex b
        getex b persist
        ttl b
        getex b ex 100
        ttl b
        getex b px 0
        getex b ex 0
        getex b persist ex 1
        getex b foo
        getex nope ex 10
        lpush l x
        getex l
        getset l 1
        getdel l
        get l
        """
    )


def test_mget_mset_msetnx(diff: Differ) -> None:
    diff.script(
        """
        mset a 1 b 2 c 3
        mget a b c d
        mset a
        mset a 1 b
        msetnx a 1 z 2
        msetnx y 1 z 2
        mget y z
        msetnx a 1 b
        lpush l 1
        mget a l
        """
    )


def test_append_strlen_ranges(diff: Differ) -> None:
    diff.script(
        """
        append a hello
        append a " world"
        get a
        strlen a
        strlen nope
        getrange a 0 4
        getrange a -5 -1
        getrange a 5 2
        getrange a -1 -5
        getrange a 0 100
        getrange a -100 2
        getrange nope 0 1
        getrange a x 1
        substr a 1 3
        setrange a 6 Redis
        get a
        setrange b 5 x
        get b
        setrange c 0 ""
        exists c
        setrange a 0 ""
        setrange a -1 x
        setrange a 536870912 x
        lpush l 1
        append l x
        strlen l
        setrange l 0 x
        """
    )


def test_counters(diff: Differ) -> None:
    diff.script(
        """
        incr a
        incr a
        incrby a 10
        decr a
        decrby a 5
        incrby a x
        set s hello
        incr s
        set n 9223372036854775807
        incr n
        set n -9223372036854775808
        decr n
        decrby n -9223372036854775808
        set a " 1"
        incr a
        set a 01
        incr a
        set a +1
        incr a
        set a -0
        incr a
        set f 10.5
        incrbyfloat f 0.1
        incrbyfloat f -5
        incrbyfloat f 1e20
        incrbyfloat f 1.1e30
        incrbyfloat f inf
        incrbyfloat f abc
        incrbyfloat s 1
        set f 3.0e3
        incrbyfloat f 1
        set f 5
        incrbyfloat f 0
        incrbyfloat new -0.000001
        incrbyfloat new2 1.5e-7
        incrbyfloat new3 123456789.123456789
        lpush l 1
        incr l
        incrbyfloat l 1
        """
    )


def test_lcs(diff: Differ) -> None:
    diff.script(
        """
        mset a ohmytext b mynewtext
        lcs a b
        lcs a b len
        lcs a b idx
        lcs a b idx minmatchlen 4
        lcs a b idx withmatchlen
        lcs a b idx withmatchlen minmatchlen 2
        lcs a b len idx
        lcs a b foo
        lcs nope1 nope2
        hello 3 |len
        lcs a b idx withmatchlen
        hello 2 |len
        """
    )


def test_wrongtype_and_arity(diff: Differ) -> None:
    diff.script(
        """
        rpush l a
        get l
        set l x get
        strlen l
        get
        mget
        incr
        incrby a
        """
    )
