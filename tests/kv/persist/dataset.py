"""A dataset with every type in its small and large encodings, and a full dump to compare by.

``populate`` writes it through any RESP server (gee.kv or redis-server) so both sides hold the
same content; ``full_dump`` reads back every key of every database with its type, value and
absolute deadline (PEXPIRETIME), so two servers compare exactly, not by sampling.
"""

from __future__ import annotations

from typing import Any

import hiredis

from tests.kv.resp_client import RawClient

DATABASES = 16
FAR = 4_000_000_000_000  # an absolute deadline in ms, long after any test ends


def call(client: RawClient, *args: object) -> Any:
    """Send one command and return the parsed reply (errors come back as ReplyError)."""
    reader = hiredis.Reader()
    reader.feed(client.call(*args))
    return reader.gets()


def commands() -> list[list[object]]:
    """The writes that build the dataset (database 0 unless a SELECT says otherwise)."""
    out: list[list[object]] = [
        ["SET", "s:small-int", "7"],
        ["SET", "s:neg-int", "-32769"],
        ["SET", "s:int32", "2147483647"],
        ["SET", "s:int64", "-9223372036854775808"],
        ["SET", "s:not-canonical", "007"],
        ["SET", "s:minus-zero", "-0"],
        ["SET", "s:float", "3.14"],
        ["SET", "s:empty", ""],
        ["SET", "s:embstr", "hello world"],
        ["SET", "s:raw-compressible", "abc" * 400],
        ["SET", "s:binary", bytes(range(256))],
        ["SET", "s:ttl", "soon", "PXAT", FAR],
        ["RPUSH", "l:small", "a", "1", "-1", "300", "-70000", "4294967296", "x" * 70, ""],
        ["RPUSH", "l:big", *[f"element-{i}" for i in range(3000)]],
        ["RPUSH", "l:ints", *range(-500, 500)],
        ["RPUSH", "l:long-items", *["y" * 9000, "z" * 20000, "w"]],
        ["HSET", "h:small", "f1", "v1", "n", "12", "neg", "-3", "empty", ""],
        ["HSET", "h:big", *[x for i in range(700) for x in (f"field{i}", f"value{i}")]],
        ["HSET", "h:long", "f", "v" * 100],
        ["SADD", "set:intset", "1", "2", "3", "-100000", "9999999999", "-9223372036854775808"],
        ["SADD", "set:strings", "a", "b", "c"],
        ["SADD", "set:big-ints", *range(1000)],
        ["SADD", "set:big", *[f"m{i}" for i in range(1000)]],
        ["ZADD", "z:small", "1", "a", "2.5", "b", "-inf", "c", "inf", "d", "0.1", "e", "-3", "f"],
        ["ZADD", "z:big", *[x for i in range(300) for x in (str(i / 7), f"member{i}")]],
        ["ZADD", "z:long", "1", "m" * 100],
        ["ZADD", "z:ties", "1", "b", "1", "a", "1", "c"],
        ["PEXPIREAT", "h:small", FAR + 1],
        ["PEXPIREAT", "l:big", FAR + 2],
        ["PEXPIREAT", "z:big", FAR + 3],
        ["SELECT", "3"],
        ["SET", "other-db", "x"],
        ["RPUSH", "other-list", "1"],
        ["SELECT", "15"],
        ["SADD", "last-db", "q"],
        ["PEXPIREAT", "last-db", FAR + 4],
        ["SELECT", "0"],
    ]
    return out


def populate(client: RawClient) -> None:
    """Write the dataset; every reply must be a success."""
    replies = client.pipeline(commands())
    for cmd, reply in zip(commands(), replies, strict=True):
        assert not reply.startswith(b"-"), f"{cmd[:2]} got {reply!r}"


def value_of(client: RawClient, key: bytes, kind: bytes) -> Any:
    if kind == b"string":
        return call(client, "GET", key)
    if kind == b"list":
        return call(client, "LRANGE", key, 0, -1)
    if kind == b"hash":
        flat = call(client, "HGETALL", key)
        return sorted(zip(flat[::2], flat[1::2], strict=True))
    if kind == b"set":
        return sorted(call(client, "SMEMBERS", key))
    if kind == b"zset":
        return call(client, "ZRANGE", key, 0, -1, "WITHSCORES")
    raise AssertionError(f"unexpected type {kind!r}")


def full_dump(port: int) -> dict[tuple[int, bytes], tuple[bytes, Any, int]]:
    """(db, key) -> (type, value, PEXPIRETIME) for every key in every database."""
    client = RawClient(port)
    out: dict[tuple[int, bytes], tuple[bytes, Any, int]] = {}
    try:
        for index in range(DATABASES):
            call(client, "SELECT", index)
            cursor = b"0"
            while True:
                cursor, keys = call(client, "SCAN", cursor, "COUNT", 1000)
                for key in keys:
                    kind = call(client, "TYPE", key)
                    value = value_of(client, key, kind)
                    out[(index, key)] = (kind, value, call(client, "PEXPIRETIME", key))
                if cursor == b"0":
                    break
    finally:
        client.close()
    return out


def encodings(port: int) -> set[bytes]:
    """The OBJECT ENCODING of every key in database 0 (to show the dataset covers them)."""
    client = RawClient(port)
    try:
        _, keys = call(client, "SCAN", 0, "COUNT", 10000)
        return {call(client, "OBJECT", "ENCODING", key) for key in keys}
    finally:
        client.close()
