"""gee.kv: a Redis 7.0-compatible server in Python (RESP2/RESP3, all core types, expiry,
transactions, pub/sub, blocking commands).

Start it with ``gee kv`` or, from Python, ``run(Config({"port": "6379"}))``; embed it in a
running loop with ``await Server(config).start()``.

The names below are imported on first use (PEP 562), so that importing ``gee.kv.cli`` for
``gee --help`` does not load the server and its command table.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gee.kv.config import Config
    from gee.kv.connection import Client
    from gee.kv.errors import CommandError, ConfigError, KVError
    from gee.kv.server import Server, run

__all__ = ["Client", "CommandError", "Config", "ConfigError", "KVError", "Server", "run"]

_HOMES = {
    "Client": "gee.kv.connection",
    "CommandError": "gee.kv.errors",
    "Config": "gee.kv.config",
    "ConfigError": "gee.kv.errors",
    "KVError": "gee.kv.errors",
    "Server": "gee.kv.server",
    "run": "gee.kv.server",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'gee.kv' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
