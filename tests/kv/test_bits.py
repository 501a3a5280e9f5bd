"""Differential tests of bit commands against redis-server."""

from __future__ import annotations

import pytest

from tests.kv.conftest import Differ

pytestmark = pytest.mark.redis


def test_bits(diff: Differ) -> None:
    diff.script(
        """
        setbit b 7 1
        getbit b 7
        getbit b 100
        setbit b 7 0
        setbit b 100 1
        get b
        setbit b -1 1
        setbit b 1 2
        getbit b x
        set s foobar
        bitcount s
        bitcount s 0 0
        bitcount s 1 1
        bitcount s 0 -1
        bitcount s 5 30 bit
        bitcount s 0 1 bit
        bitcount s 0 1 foo
        bitcount s 0
        bitcount nope
        bitpos s 1
        bitpos s 0
        bitpos s 1 2
        bitpos s 1 2 -1 byte
        bitpos s 1 7 15 bit
        bitpos s 2
        bitpos nope 0
        bitpos nope 1
        set z "\\xff\\xff"
        bitpos z 0
        bitpos z 0 0 -1
        set k1 foobar
        set k2 abcdef
        bitop and d k1 k2
        get d
        bitop or d k1 k2
        get d
        bitop xor d k1 k2
        get d
        bitop not d k1
        get d
        bitop not d k1 k2
        bitop foo d k1
        bitop and d nope1 nope2
        exists d
        """
    )


def test_bitfield(diff: Differ) -> None:
    diff.script(
        """
        bitfield b set i8 0 100 get i8 0
        bitfield b incrby u2 100 1 overflow sat incrby u2 102 1
        bitfield b incrby i8 0 100 overflow wrap incrby i8 0 100
        bitfield b overflow sat incrby i8 0 100 overflow fail incrby i8 0 100
        bitfield b get u4 0 get i64 0 get u63 3
        bitfield b get u64 0
        bitfield b set i8 #2 -1 get u8 #2
        bitfield b overflow foo
        bitfield b get x 0
        bitfield b get i8 -1
        bitfield b foo
        bitfield_ro b get i8 0
        bitfield_ro b set i8 0 1
        get b
        """
    )
