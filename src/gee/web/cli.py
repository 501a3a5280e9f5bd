"""``gee web APP``: serve a gee.web (or any ASGI) app with uvicorn.

A thin layer over uvicorn's own options. Nothing heavy is imported until the command runs, so
``gee --help`` stays fast.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(subparsers: Any) -> None:
    """Declare the ``web`` subcommand on the ``gee`` parser."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "web",
        help="serve a gee.web app with uvicorn",
        description="Serve an ASGI app, given as module:attribute (examples.notes.app:app).",
    )
    p.add_argument("app", metavar="APP", help="the app to serve, as module:attribute")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    p.add_argument("--uds", default=None, help="bind to this Unix socket instead")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default 1)")
    p.add_argument("--reload", action="store_true", help="restart when source files change")
    p.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug", "trace"],
        help="uvicorn's log level (default info)",
    )
    p.add_argument("--no-access-log", action="store_true", help="turn uvicorn's access log off")
    p.add_argument("--root-path", default="", help="ASGI root_path, when behind a path proxy")
    p.add_argument(
        "--proxy-headers",
        action="store_true",
        help="let uvicorn trust X-Forwarded-* from --forwarded-allow-ips",
    )
    p.add_argument("--forwarded-allow-ips", default=None, help="proxies trusted for those")
    p.add_argument(
        "--timeout-graceful-shutdown",
        type=int,
        default=None,
        help="seconds to let requests finish on SIGTERM before closing them",
    )
    p.add_argument("--app-dir", default=".", help="directory put on sys.path (default .)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start uvicorn with the parsed options; return the exit code."""
    from gee.web.serving import serve

    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "uds": args.uds,
        "reload": args.reload,
        "log_level": args.log_level,
        "access_log": not args.no_access_log,
        "root_path": args.root_path,
        "proxy_headers": args.proxy_headers,
        "forwarded_allow_ips": args.forwarded_allow_ips,
        "timeout_graceful_shutdown": args.timeout_graceful_shutdown,
        "app_dir": args.app_dir,
        "lifespan": "auto",
    }
    if args.workers is not None:
        options["workers"] = args.workers
    serve(args.app, **options)
    return 0
