"""The call every subject makes: echo one small struct, the same four fields everywhere.

gee.rpc and grpc.aio carry it as a msgspec Struct (gee through its codecs, gRPC through
msgspec's MessagePack as the message serializer, since there is no ``.proto``); rpyc as a tuple
(brine passes tuples of builtins by value, where a dict or an object would become a remote
reference); Pyro5 as a dict (serpent); the raw echo as MessagePack bytes; Go as a struct (gob).
"""

from __future__ import annotations

import msgspec

__all__ = ["GRPC_METHOD", "SERVICE", "Echo", "Item", "item", "item_dict", "item_tuple"]

SERVICE = "Echo.Echo"  # gee's and Go's method name
GRPC_METHOD = "/bench.Echo/Echo"


class Item(msgspec.Struct):
    """The echoed struct: about 40 bytes in MessagePack."""

    id: int
    name: str
    score: float
    tags: list[str]


def item(n: int) -> Item:
    """The struct caller ``n`` sends (each caller its own, so a misrouted reply is caught)."""
    return Item(id=n, name=f"caller-{n}", score=n + 0.5, tags=["gee", "rpc"])


def item_tuple(n: int) -> tuple[int, str, float, tuple[str, ...]]:
    """``item(n)`` as rpyc passes it by value."""
    it = item(n)
    return (it.id, it.name, it.score, tuple(it.tags))


def item_dict(n: int) -> dict[str, object]:
    """``item(n)`` as Pyro5's serpent carries it."""
    it = item(n)
    return {"id": it.id, "name": it.name, "score": it.score, "tags": list(it.tags)}


class Echo:
    """gee.rpc's echo service (``gee rpc serve bench.rpc.payload:Echo``)."""

    async def Echo(self, args: Item) -> Item:
        return args
