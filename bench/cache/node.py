"""A gee.cache node as an ASGI app, for ASGI servers that take an import string (granian).

``app`` is an ``HTTPPool`` serving one Group, ``scores``, whose getter answers
``value-of-<key>`` for any key (the Go node's getter). The node's URL and peer list come from
the environment, since the server imports this module itself::

    GEE_BENCH_CACHE_SELF=http://127.0.0.1:8001 python -m granian --interface asgi \\
        --port 8001 bench.cache.node:app

``GEE_BENCH_CACHE_PEERS`` is the comma-separated peer list (default: this node alone).

``raw`` is the server's floor for the same answers: an ASGI app with no framework and no cache
that cuts the key out of the path and answers its ``GetResponse``. A node's gap to it on the same
server is everything gee.cache and gee.web do per request.
"""

from __future__ import annotations

import os
from typing import Any

from bench.web.apps.raw import _lifespan
from gee.cache import Group, HTTPPool
from gee.cache.pb import GetResponse

__all__ = ["GROUP", "app", "raw", "value_of"]

GROUP = "scores"
_PREFIX = len(f"/_groupcache/{GROUP}/")
_HEADERS = [(b"content-type", b"application/x-protobuf")]


def value_of(key: str) -> str:
    """What every node in the benchmark loads for ``key`` (the Go node answers the same)."""
    return "value-of-" + key


async def _load(key: str) -> str:
    return value_of(key)


_self = os.environ.get("GEE_BENCH_CACHE_SELF", "http://127.0.0.1:8001")
_peers = [p for p in os.environ.get("GEE_BENCH_CACHE_PEERS", "").split(",") if p] or [_self]

group = Group(GROUP, 64 << 20, _load, register=False)
app = HTTPPool(_self, groups={GROUP: group})
app.set_peers(*_peers)
group.peers = app


async def raw(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The floor: the key sliced out of the path (no unescaping, no routing, no cache)."""
    if scope["type"] == "http":
        key = scope["path"][_PREFIX:]
        body = GetResponse(value=value_of(key).encode()).SerializeToString()
        headers = [*_HEADERS, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    elif scope["type"] == "lifespan":
        await _lifespan(receive, send)
