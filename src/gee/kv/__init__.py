"""gee.kv: a Redis 7.0-compatible server in Python (RESP2/RESP3, all core types, expiry,
transactions, pub/sub, blocking commands).

Start it with ``gee kv`` or, from Python, ``run(Config({"port": "6379"}))``; embed it in a
running loop with ``await Server(config).start()``.
"""

from gee.kv.config import Config
from gee.kv.errors import CommandError, ConfigError, KVError
from gee.kv.server import Client, Server, run

__all__ = ["Client", "CommandError", "Config", "ConfigError", "KVError", "Server", "run"]
