"""The ``gee kv`` subcommand: start the Redis-compatible server.

Flags follow redis-server's option names; ``--config`` reads a redis.conf-style file first, and
flags given on the command line override it. The server is imported only when the subcommand
runs, so ``gee --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

# flag -> config option; each takes one value.
_FLAGS = {
    "port": "port number to listen on (6379; 0 picks a free one)",
    "bind": "addresses to listen on, space separated (default: all)",
    "dir": "working directory for data files (default: the current one)",
    "dbfilename": "RDB snapshot file name, in --dir (dump.rdb)",
    "save": "save points '<seconds> <changes> ...' ('' disables; default 3600 1 300 100 60 10000)",
    "rdbcompression": "LZF-compress strings in RDB files (yes)",
    "rdbchecksum": "write and check the RDB CRC64 (yes)",
    "appendonly": "log every write to the append-only file and replay it at start (no)",
    "appendfsync": "when the AOF reaches the disk: always, everysec or no (everysec)",
    "appendfilename": "the append-only file's name, in --dir (appendonly.aof)",
    "maxmemory": "memory limit in bytes, units allowed (100mb, 1gb; 0: no limit)",
    "maxmemory-policy": "what to evict at the limit: noeviction, allkeys-lru, volatile-lfu, ...",
    "maxmemory-samples": "keys sampled per eviction (5)",
    "databases": "number of databases (16)",
    "requirepass": "password clients must AUTH with (none)",
    "maxclients": "most clients connected at once (10000)",
    "timeout": "close clients idle this many seconds (0: never)",
}


def add_parser(subparsers: Any) -> None:
    """Declare ``gee kv`` on the ``gee`` command's subparsers."""
    parser = subparsers.add_parser(
        "kv",
        help="Redis-compatible server (RESP2/3, redis-cli and redis-py work)",
        description="gee.kv: a Redis 7.0-compatible server.",
    )
    for flag, text in _FLAGS.items():
        parser.add_argument(f"--{flag}", metavar="VALUE", help=text)
    parser.add_argument("--config", metavar="FILE", help="redis.conf-style configuration file")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Build the configuration from the file and flags, then serve until stopped."""
    from gee.kv.config import Config
    from gee.kv.errors import ConfigError
    from gee.kv.server import run

    config = Config()
    try:
        if args.config:
            config.load_file(args.config)
        for flag in _FLAGS:
            value = getattr(args, flag.replace("-", "_"), None)
            if value is not None:
                config.set(flag, value)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    if config.ignored:
        print(
            f"gee kv: ignoring {len(config.ignored)} Redis directive(s) with no gee.kv"
            f" counterpart (first: {config.ignored[0]})",
            file=sys.stderr,
        )
    return run(config)
