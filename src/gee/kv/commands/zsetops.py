"""Sorted-set algebra: ZUNION, ZINTER, ZDIFF, their STORE forms, and ZINTERCARD.

Sets may stand in for sorted sets (every member scoring 1), weights multiply scores, and a
NaN produced by inf - inf or inf * 0 counts as 0, all as in Redis.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from gee.kv.commands import command
from gee.kv.commands.common import SYNTAX, WRONGTYPE, parse_float_or_none, parse_int
from gee.kv.commands.zsets import reply_members, store_items
from gee.kv.errors import CommandError
from gee.kv.resp import integer
from gee.kv.zset import ZSet

if TYPE_CHECKING:
    from gee.kv.connection import Client


def _source(c: Client, key: bytes) -> dict[bytes, float]:
    value = c.db.get(key)
    if value is None:
        return {}
    if value.__class__ is ZSet:
        return value.dict
    if value.__class__ is set:
        return dict.fromkeys(value, 1.0)
    raise CommandError(WRONGTYPE)


def _parse_algebra(
    c: Client, args: list[bytes], start: int, name: str, op: str, store: bool
) -> tuple[list[bytes], list[float], str, bool]:
    numkeys = parse_int(args[start])
    if numkeys < 1:
        raise CommandError(f"ERR at least 1 input key is needed for '{name}' command")
    if numkeys > len(args) - start - 1:
        raise CommandError(SYNTAX)
    keys = args[start + 1 : start + 1 + numkeys]
    weights = [1.0] * numkeys
    aggregate = "sum"
    with_scores = False
    i = start + 1 + numkeys
    while i < len(args):
        option = args[i].lower()
        left = len(args) - i - 1
        if option == b"weights" and op != "diff" and left >= numkeys:
            for j in range(numkeys):
                weight = parse_float_or_none(args[i + 1 + j])
                if weight is None:
                    raise CommandError("ERR weight value is not a float")
                weights[j] = weight
            i += numkeys + 1
        elif option == b"aggregate" and op != "diff" and left >= 1:
            aggregate = args[i + 1].lower().decode(errors="replace")
            if aggregate not in ("sum", "min", "max"):
                raise CommandError(SYNTAX)
            i += 2
        elif option == b"withscores" and not store:
            with_scores = True
            i += 1
        else:
            raise CommandError(SYNTAX)
    return keys, weights, aggregate, with_scores


def _combine(a: float, b: float, aggregate: str) -> float:
    if aggregate == "sum":
        total = a + b
        return 0.0 if math.isnan(total) else total
    if aggregate == "min":
        return min(a, b)
    return max(a, b)


def _weighted(score: float, weight: float) -> float:
    value = score * weight
    return 0.0 if math.isnan(value) else value


def _algebra(
    c: Client, keys: list[bytes], weights: list[float], aggregate: str, op: str
) -> dict[bytes, float]:
    sources = [_source(c, k) for k in keys]
    if op == "union":
        result: dict[bytes, float] = {}
        for src, weight in zip(sources, weights, strict=True):
            for member, score in src.items():
                value = _weighted(score, weight)
                old = result.get(member)
                result[member] = value if old is None else _combine(old, value, aggregate)
        return result
    if op == "inter":
        if not all(sources):
            return {}
        order = sorted(range(len(sources)), key=lambda j: len(sources[j]))
        first = order[0]
        result = {}
        for member, score in sources[first].items():
            value = _weighted(score, weights[first])
            for j in order[1:]:
                other = sources[j].get(member)
                if other is None:
                    break
                value = _combine(value, _weighted(other, weights[j]), aggregate)
            else:
                result[member] = value
        # Aggregation must follow key order, not size order, for MIN/MAX/SUM of floats.
        if aggregate == "sum" and len(order) > 1:
            for member in result:
                total = _weighted(sources[0][member], weights[0])
                for j in range(1, len(sources)):
                    total = _combine(total, _weighted(sources[j][member], weights[j]), "sum")
                result[member] = total
        return result
    first_src = sources[0]
    rest = sources[1:]
    return {m: s for m, s in first_src.items() if not any(m in r for r in rest)}


def _sorted_items(result: dict[bytes, float]) -> list[tuple[float, bytes]]:
    return sorted((s, m) for m, s in result.items())


def _algebra_reply(c: Client, args: list[bytes], op: str) -> None:
    name = args[0].lower().decode(errors="replace")
    keys, weights, aggregate, with_scores = _parse_algebra(c, args, 1, name, op, False)
    items = _sorted_items(_algebra(c, keys, weights, aggregate, op))
    reply_members(c, items, with_scores)


def _algebra_store(c: Client, args: list[bytes], op: str) -> None:
    name = args[0].lower().decode(errors="replace")
    keys, weights, aggregate, _ = _parse_algebra(c, args, 2, name, op, True)
    items = _sorted_items(_algebra(c, keys, weights, aggregate, op))
    store_items(c, args[1], items)


@command("zunion")
def zunion(c: Client, args: list[bytes]) -> None:
    _algebra_reply(c, args, "union")


@command("zinter")
def zinter(c: Client, args: list[bytes]) -> None:
    _algebra_reply(c, args, "inter")


@command("zdiff")
def zdiff(c: Client, args: list[bytes]) -> None:
    _algebra_reply(c, args, "diff")


@command("zunionstore")
def zunionstore(c: Client, args: list[bytes]) -> None:
    _algebra_store(c, args, "union")


@command("zinterstore")
def zinterstore(c: Client, args: list[bytes]) -> None:
    _algebra_store(c, args, "inter")


@command("zdiffstore")
def zdiffstore(c: Client, args: list[bytes]) -> None:
    _algebra_store(c, args, "diff")


@command("zintercard")
def zintercard(c: Client, args: list[bytes]) -> None:
    numkeys = parse_int(args[1])
    if numkeys <= 0:
        raise CommandError("ERR at least 1 input key is needed for 'zintercard' command")
    if numkeys > len(args) - 2:
        raise CommandError("ERR Number of keys can't be greater than number of args")
    keys = args[2 : 2 + numkeys]
    limit = 0
    i = 2 + numkeys
    while i < len(args):
        if args[i].lower() == b"limit" and i + 1 < len(args):
            limit = parse_int(args[i + 1], "ERR LIMIT can't be negative")
            if limit < 0:
                raise CommandError("ERR LIMIT can't be negative")
            i += 2
        else:
            raise CommandError(SYNTAX)
    n = len(_algebra(c, keys, [1.0] * len(keys), "sum", "inter"))
    c.out += integer(min(n, limit) if limit else n)
