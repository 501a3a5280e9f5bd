"""``gee cache``: run one node of a gee.cache cluster, GeeCache's demo made a real command.

::

    gee cache --port 8001 --self http://127.0.0.1:8001 \\
        --peers http://127.0.0.1:8001,http://127.0.0.1:8002,http://127.0.0.1:8003 \\
        --api-port 9999
    curl 'http://127.0.0.1:9999/api?key=Tom'

The node serves groupcache's peer endpoint on ``--port`` and, with ``--api-port``, GeeCache's
front API on a second port, both from one uvicorn server. Its group's getter reads a score
table from a SQLite file through gee.orm (``--db``; created with GeeCache's Tom/Jack/Sam when
missing) and logs every load as a slow database search, so the cache's effect shows in the
log. With ``--etcd`` the node lists itself in etcd and its ring follows every node listed
there, instead of a fixed ``--peers``. Nothing heavy is imported until the command runs, so
``gee --help`` stays fast.
"""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gee.orm import Engine

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
        help="this node's URL exactly as in --peers, or as listed in etcd (default http://HOST:PORT)",
    )
    members = p.add_mutually_exclusive_group()
    members.add_argument(
        "--peers",
        default="",
        help="comma-separated peer URLs, this node included (default: this node alone)",
    )
    members.add_argument(
        "--etcd",
        default=None,
        metavar="URL",
        help="list this node in the etcd at URL (http://host:2379) and follow every node listed",
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
        default="scores.db",
        metavar="PATH",
        help="the SQLite file of scores; created with Tom, Jack and Sam when missing"
        " (default scores.db); a .json file is read as an object of key -> value instead",
    )
    p.add_argument(
        "--etcd-prefix",
        default="/geecache/peers/",
        help="where the nodes are listed in etcd (default /geecache/peers/)",
    )
    p.add_argument(
        "--etcd-ttl",
        type=int,
        default=5,
        metavar="SECONDS",
        help="lease of this node's listing: a crashed node leaves the rings after it (default 5)",
    )
    p.add_argument("--timeout", type=float, default=5.0, help="peer request timeout, seconds")
    p.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="log level (default info)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the node and serve until SIGINT or SIGTERM; return the exit code."""
    import json
    import logging
    import socket

    import uvicorn

    from gee.cache.demo import api_app, demo_group, open_scores
    from gee.cache.http import HTTPPool
    from gee.web.types import Receive, Scope, Send

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    log = logging.getLogger("gee.cache")
    if args.self_url is None and args.etcd is not None and args.host in ("0.0.0.0", "::"):
        log.error(
            "--etcd lists this node by its URL: give --self (http://ITS-ADDRESS:%d)", args.port
        )
        return 2
    self_url = args.self_url or f"http://{args.host}:{args.port}"
    peers = [p.strip() for p in args.peers.split(",") if p.strip()] or [self_url]
    engine = None
    if args.db.endswith(".json"):  # a table of any values, as the benchmarks write them
        with open(args.db, encoding="utf-8") as f:
            scores: Mapping[str, str] | Engine = {str(k): str(v) for k, v in json.load(f).items()}
    else:
        scores = engine = open_scores(args.db)
    group = demo_group(args.group, args.cache_bytes, scores, args.slow_db)
    pool = HTTPPool(self_url, timeout=args.timeout)
    pool.set_peers(*peers)  # with --etcd: this node alone, until it has joined
    group.peers = pool
    api = api_app(group) if args.api_port is not None else None
    membership = None
    if args.etcd is not None:
        from gee.cache.etcd import EtcdMembership

        membership = EtcdMembership(pool, args.etcd, prefix=args.etcd_prefix, ttl=args.etcd_ttl)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        # One server, two ports: the front API on --api-port, the peer endpoint on --port.
        if api is not None and scope.get("server", (None, None))[1] == args.api_port:
            await api(scope, receive, send)
        else:
            await pool(scope, receive, send)

    failed = []

    class Node(uvicorn.Server):
        """uvicorn's server, joining etcd once it listens and leaving before it stops."""

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if membership is not None and not self.should_exit:
                from gee.rpc.errors import RPCError

                try:
                    await membership.join()
                except RPCError as exc:
                    log.error("cannot join through etcd at %s: %s", args.etcd, exc)
                    failed.append(exc)
                    self.should_exit = True

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            if membership is not None:
                await membership.leave()  # the others stop asking this node first
            await super().shutdown(sockets=sockets)
            await pool.aclose()

    sockets = []
    for port in (args.port, args.api_port):
        if port is not None:
            sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((args.host, port))
            sockets.append(sock)
    log.info(
        "gee cache node %s (group %r, %d bytes, scores in %s) with peers %s%s",
        self_url,
        args.group,
        args.cache_bytes,
        args.db,
        f"from etcd {args.etcd}{args.etcd_prefix}" if membership is not None else peers,
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
        Node(config).run(sockets=sockets)
    finally:
        for sock in sockets:
            sock.close()
        if engine is not None:
            engine.close()
    return 1 if failed else 0
