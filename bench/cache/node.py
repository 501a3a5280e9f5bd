"""A gee.cache node as an ASGI app, for ASGI servers that take an import string (granian).

``app`` is an ``HTTPPool`` serving one Group, ``scores``, whose getter answers
``value-of-<key>`` for any key (the Go node's getter). The node's URL and peer list come from
the environment, since the server imports this module itself::

    GEE_BENCH_CACHE_SELF=http://127.0.0.1:8001 python -m granian --interface asgi \\
        --port 8001 bench.cache.node:app

``GEE_BENCH_CACHE_PEERS`` is the comma-separated peer list (default: this node alone).
"""

from __future__ import annotations

import os

from gee.cache import Group, HTTPPool

__all__ = ["GROUP", "app", "value_of"]

GROUP = "scores"


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
