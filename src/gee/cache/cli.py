"""``gee cache``: run one node of a gee.cache cluster, GeeCache's demo made a real command.

::

    gee cache --port 8001 --self http://127.0.0.1:8001 \\
        --peers http://127.0.0.1:8001,http://127.0.0.1:8002,http://127.0.0.1:8003 \\
        --api-port 9999
    curl 'http://127.0.0.1:9999/api?key=Tom'

The node serves groupcache's peer endpoint on ``--port`` and, with ``--api-port``, GeeCache's
front API on a second port, both from one uvicorn server. Its group's getter is a slow
"database" of scores that logs every load, so the cache's effect shows in the log. Nothing
heavy is imported until the command runs, so ``gee --help`` stays fast.
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gee.cache.group import Group
    from gee.web import Gee

# GeeCache's demo table.
SCORES = {"Tom": "630", "Jack": "589", "Sam": "567"}

_SIZE = re.compile(r"(\d+)\s*([KMGT]?)(I?B)?", re.IGNORECASE)


def parse_size(text: str) -> int:
    """Parse a byte count such as ``65536``, ``64KB``, ``64MB`` or ``1GiB`` (units of 1024)."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 64MB)")
    number, unit = int(match.group(1)), match.group(2).upper()
    return int(number * 1024 ** " KMGT".index(unit or " "))


def add_parser(subparsers: Any) -> None:
    """Declare the ``cache`` subcommand on the ``gee`` parser."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "cache",
        help="run a gee.cache node (groupcache-compatible)",
        description="Run one node of a gee.cache cluster, serving groupcache's peer protocol.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8001, help="peer port (default 8001)")
    p.add_argument(
        "--self",
        dest="self_url",
        default=None,
        help="this node's URL exactly as in --peers (default http://HOST:PORT)",
    )
    p.add_argument(
        "--peers",
        default="",
        help="comma-separated peer URLs, this node included (default: this node alone)",
    )
    p.add_argument("--group", default="scores", help="the group's name (default scores)")
    p.add_argument(
        "--cache-bytes",
        type=parse_size,
        default=parse_size("64MB"),
        help="bytes the group may cache, main and hot caches together (default 64MB)",
    )
    p.add_argument("--api-port", type=int, default=None, help="also serve /api?key=K on this port")
    p.add_argument(
        "--slow-db",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="how long the demo database takes per load (default 0)",
    )
    p.add_argument(
        "--db",
        default=None,
        metavar="JSON",
        help="a JSON object of key -> value to serve instead of the Tom/Jack/Sam demo table",
    )
    p.add_argument("--timeout", type=float, default=5.0, help="peer request timeout, seconds")
    p.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="log level (default info)",
    )
    p.set_defaults(func=run)


def demo_group(
    name: str, cache_bytes: int, slow_db: float, table: dict[str, str] | None = None
) -> Group:
    """A Group over ``table`` (None: GeeCache's scores); each load is logged as a slow search."""
    import asyncio
    import logging

    from gee.cache.group import Group

    log = logging.getLogger("gee.cache.demo")
    rows = SCORES if table is None else table

    async def load_score(key: str) -> str:
        log.info("[SlowDB] search key %s", key)
        if slow_db:
            await asyncio.sleep(slow_db)
        score = rows.get(key)
        if score is None:
            raise KeyError(f"{key} not exist")
        return score

    return Group(name, cache_bytes, load_score)


def api_app(group: Group) -> Gee:
    """GeeCache's front API: ``GET /api?key=K`` answers the value, 500 with the getter's error."""
    from gee.cache.errors import CacheError
    from gee.web import Context, Gee

    app = Gee()

    async def api(c: Context) -> None:
        key = c.query("key")
        if key is None:
            c.string(400, "key is required\n")
            return
        try:
            value = await group.get(key)
        except CacheError as exc:
            c.string(500, "%s\n", exc)
            return
        c.data(200, value, "application/octet-stream")

    app.get("/api", api)
    return app


def run(args: argparse.Namespace) -> int:
    """Start the node and serve until SIGINT or SIGTERM; return the exit code."""
    import json
    import logging
    import socket

    import uvicorn

    from gee.cache.http import HTTPPool
    from gee.web.types import Receive, Scope, Send

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    self_url = args.self_url or f"http://{args.host}:{args.port}"
    peers = [p.strip() for p in args.peers.split(",") if p.strip()] or [self_url]
    table = None
    if args.db is not None:
        with open(args.db, encoding="utf-8") as f:
            table = {str(k): str(v) for k, v in json.load(f).items()}
    group = demo_group(args.group, args.cache_bytes, args.slow_db, table)
    pool = HTTPPool(self_url, timeout=args.timeout)
    pool.set_peers(*peers)
    group.peers = pool
    api = api_app(group) if args.api_port is not None else None

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        # One server, two ports: the front API on --api-port, the peer endpoint on --port.
        if api is not None and scope.get("server", (None, None))[1] == args.api_port:
            await api(scope, receive, send)
        else:
            await pool(scope, receive, send)

    sockets = []
    for port in (args.port, args.api_port):
        if port is not None:
            sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((args.host, port))
            sockets.append(sock)
    logging.getLogger("gee.cache").info(
        "gee cache node %s (group %r, %d bytes) with peers %s%s",
        self_url,
        args.group,
        args.cache_bytes,
        peers,
        f"; api on port {args.api_port}" if api is not None else "",
    )
    # Keep idle peer connections 75 s rather than uvicorn's 5: Go's http.Transport reuses them
    # for up to 90 s, and each reuse of one the server already closed costs a retry.
    config = uvicorn.Config(
        app,
        log_level=args.log_level,
        access_log=False,
        lifespan="off",
        ws="none",
        timeout_keep_alive=75,
    )
    try:
        uvicorn.Server(config).run(sockets=sockets)
    finally:
        for sock in sockets:
            sock.close()
    return 0
