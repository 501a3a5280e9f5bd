"""Differential tests of key commands (DEL, EXISTS, RENAME, COPY, MOVE, expiry, SCAN...)."""

from __future__ import annotations

import time

import pytest

from tests.kv.conftest import Differ
from tests.kv.resp_client import RawClient

pytestmark = pytest.mark.redis


def test_del_exists_type(diff: Differ) -> None:
    diff.script(
        """
        mset a 1 b 2
        rpush l x
        sadd s x
        hset h f v
        zadd z 1 m
        exists a b nope a
        type a
        type l
        type s
        type h
        type z
        type nope
        del a nope b
        unlink l s
        exists a b l s
        touch h z nope
        dbsize
        keys * |sort
        keys h* |sort
        keys [hz] |sort
        keys ? |sort
        keys *[^z] |sort
        del
        """
    )


def test_rename_copy_move(diff: Differ) -> None:
    diff.script(
        """
        set a 1
        rename nope x
        rename a a
        rename a b
        get b
        get a
        set c 2
        renamenx b c
        renamenx b d
        renamenx d d
        set e 5 ex 100
        rename e f
        ttl f
        copy f g
        ttl g
        copy f g
        copy f g replace
        copy f f
        copy f h db 99
        copy f h db x
        copy f h db 1
        copy f h foo
        copy nope h
        rpush l 1 2 3
        copy l l2
        rpush l2 4
        lrange l 0 -1
        lrange l2 0 -1
        move l 1
        move l 1
        move l2 0
        move l2 99
        exists l
        select 1
        lrange l 0 -1
        get h
        select 0
        """
    )


def test_expire_family(diff: Differ) -> None:
    diff.script(
        """
        set a 1
        expire a 100 nx xx
        expire a 100 gt lt
        expire a 100 foo
        expire a x
        expire a 9999999999999999
        pexpire a 9223372036854775807
        expire nope 100
        ttl a
        pttl a
        expiretime a
        pexpiretime a
        expire a 100 xx
        expire a 100 nx
        ttl a
        expire a 200 nx
        expire a 50 gt
        expire a 200 gt
        ttl a
        expire a 300 lt
        expire a 10 lt
        ttl a
        persist a
        persist a
        ttl a
        expire a 10 gt
        expire a 10 lt
        ttl a
        expireat a 99999999999
        expiretime a
        pexpireat a 99999999999999
        pexpiretime a
        expireat a -5
        exists a
        ttl nope
        pttl nope
        expiretime nope
        persist nope
        set b 1 px 1
        """
    )
    time.sleep(0.01)
    diff.script(
        """
        get b
        exists b
        ttl b
        """
    )


def test_active_expiry_reclaims_untouched_keys(kv: RawClient) -> None:
    kv.pipeline([["set", f"k{i}", "v", "px", "20"] for i in range(200)])
    kv.call("set", "keep", "v")
    deadline = time.time() + 3
    while time.time() < deadline:
        if kv.call("dbsize") == b":1\r\n":
            break
        time.sleep(0.05)
    assert kv.call("dbsize") == b":1\r\n"


def test_scan_returns_every_key_while_growing(kv: RawClient) -> None:
    kv.pipeline([["set", f"k{i}", "v"] for i in range(1000)])
    seen: set[bytes] = set()
    cursor = b"0"
    extra = 0
    while True:
        reply = kv.call("scan", cursor, "count", "37")
        head, _, rest = reply.partition(b"\r\n*")
        cursor = head.split(b"\r\n")[2]
        for line in rest.split(b"\r\n")[1:]:
            if line and not line.startswith(b"$"):
                seen.add(line)
        kv.call("set", f"new{extra}", "v")
        extra += 1
        if cursor == b"0":
            break
    missing = {f"k{i}".encode() for i in range(1000)} - seen
    assert not missing, f"got {len(missing)} keys missing; want none"


def test_scan_options(diff: Differ) -> None:
    diff.script(
        """
        mset a 1 b 2 c 3
        rpush l 1
        scan 0 count 0
        scan x
        scan 0 count 100 |len
        scan 0 count 100 match nomatch* type string
        scan 0 type foo
        scan 0 match
        randomkey |type
        """
    )


def test_object(diff: Differ) -> None:
    diff.script(
        """
        set n 123
        set big 12345678901234567890
        set e aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
        set s hello
        rpush l a
        sadd is 1 2 3
        sadd hs a
        hset h a b
        zadd z 1 a
        object encoding n
        object encoding big
        object encoding e
        object encoding s
        object encoding l
        object encoding is
        object encoding hs
        object encoding h
        object encoding z
        object encoding nope
        object refcount n
        object refcount s
        object freq s
        object help
        object foo
        object
        object encoding
        """
    )


def test_lazy_expiry_with_active_cycle_off(diff: Differ) -> None:
    diff.call("debug", "set-active-expire", "0")
    try:
        diff.call("set", "k", "v", "px", "10")
        diff.call("set", "k2", "v", "px", "10")
        time.sleep(0.05)
        diff.script(
            """
            dbsize
            get k
            dbsize
            exists k2
            dbsize
            """
        )
    finally:
        diff.call("debug", "set-active-expire", "1")


def test_memory_usage(diff: Differ) -> None:
    diff.script(
        """
        set s hello
        rpush l a b
        memory usage s |type
        memory usage l samples 5 |type
        memory usage nope
        memory usage s foo
        memory usage s samples x
        """
    )


def _scan_all(kv: RawClient, name: str, key: str) -> tuple[list[bytes], int]:
    """Run ``name key cursor COUNT 50`` to the end; return every element and the call count."""
    from tests.kv.conftest import _split_elements

    cursor = "0"
    found: list[bytes] = []
    calls = 0
    while True:
        reply = kv.call(name, key, cursor, "count", "50")
        calls += 1
        _, (raw_cursor, raw_items) = _split_elements(reply)
        cursor = raw_cursor.split(b"\r\n")[1].decode()
        found += [item.split(b"\r\n")[1] for item in _split_elements(raw_items)[1]]
        if cursor == "0":
            return found, calls


@pytest.mark.parametrize(
    ("fill", "scan"),
    [
        (["hset", "big"], ["hscan", "big"]),
        (["sadd", "big"], ["sscan", "big"]),
        (["zadd", "big"], ["zscan", "big"]),
    ],
)
def test_collection_scans_cover_big_values(kv: RawClient, fill: list[str], scan: list[str]) -> None:
    for i in range(0, 1000, 100):
        if fill[0] == "hset":
            args = [x for j in range(i, i + 100) for x in (f"m{j}", "v")]
        elif fill[0] == "zadd":
            args = [x for j in range(i, i + 100) for x in (str(j), f"m{j}")]
        else:
            args = [f"m{j}" for j in range(i, i + 100)]
        kv.call(*fill, *args)
    found, calls = _scan_all(kv, scan[0], scan[1])
    members = {f"m{j}".encode() for j in range(1000)}
    assert members <= set(found), f"got {len(members - set(found))} members missing"
    assert calls > 1, "a big value should take several SCAN calls"


@pytest.mark.parametrize(
    "pattern",
    [
        "*",
        "a*",
        "*b",
        "a?c",
        "[ab]*",
        "[^a]*",
        "[a-c]?c",
        "[c-a]*",
        "a\\*",
        "[abc",
        "x[",
        "*[",
        "*a*a*a*a*a*a*a*b",
        "?",
        "\\[x]",
        "[\\]]*",
        "A*",
        "",
    ],
)
def test_keys_patterns(diff: Differ, pattern: str) -> None:
    diff.call("mset", "abc", "1", "a*", "1", "b", "1", "[x]", "1", "]z", "1", "aaaaaaaaaaab", "1")
    diff.call("mset", "cbc", "1", "x[", "1", "a[", "1", "", "1", "xb", "1")
    diff.call("keys", pattern, mode="sort")
    diff.call("scan", "0", "match", pattern, "count", "1000", mode="len")
