"""``gee rpc``: run gee's registry, or poke any gee.rpc (or Go jsonrpc) server from the shell.

::

    gee rpc registry --port 9999 --ttl 30
    gee rpc serve myapp.services:Arith --address tcp@127.0.0.1:9000 \
        --registry http://127.0.0.1:9999/_geerpc_/registry
    gee rpc call tcp@127.0.0.1:9000 Arith.Multiply '{"A": 7, "B": 8}'      # prints 56
    gee rpc call tcp@127.0.0.1:1234 Arith.Multiply '{"A": 7, "B": 8}' --codec jsonrpc

Nothing heavy is imported until the command runs, so ``gee --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Coroutine
from typing import Any

__all__ = ["add_parser"]


def add_parser(subparsers: Any) -> None:
    """Declare the ``rpc`` subcommand and its own subcommands on the ``gee`` parser."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "rpc",
        help="gee.rpc: run the registry, call a method",
        description="gee.rpc tools: the built-in registry and a one-shot caller.",
    )

    def usage(_args: argparse.Namespace) -> int:
        p.print_help()
        return 2

    p.set_defaults(func=usage)
    sub = p.add_subparsers(title="commands", metavar="COMMAND")

    reg = sub.add_parser("registry", help="run gee's HTTP registry (servers heartbeat to it)")
    reg.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    reg.add_argument("--port", type=int, default=9999, help="port (default 9999)")
    reg.add_argument(
        "--ttl", type=float, default=30.0, help="seconds a heartbeat keeps a server (default 30)"
    )
    reg.set_defaults(func=_registry)

    serve = sub.add_parser("serve", help="serve classes (module:Class) until SIGTERM or Ctrl-C")
    serve.add_argument("services", nargs="+", help="module:Class, instantiated with no arguments")
    serve.add_argument(
        "--address", default="tcp@127.0.0.1:9000", help="where to listen (tcp@, unix@, http@)"
    )
    serve.add_argument(
        "--registry", default=None, help="announce to this registry (http://... or etcd://...)"
    )
    serve.add_argument(
        "--handle-timeout", type=float, default=None, help="cancel handlers after this many s"
    )
    serve.add_argument(
        "--eager",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="start handlers inside the read, scheduling a task only if they wait (default; "
        "--no-eager schedules a task per request; see docs/rpc.md)",
    )
    serve.set_defaults(func=_serve)

    call = sub.add_parser("call", help="call one method and print the reply as JSON")
    call.add_argument("address", help="tcp@host:port, unix@/path or http@host:port")
    call.add_argument("method", help="Service.Method")
    call.add_argument("args", nargs="?", default="null", help="the argument as JSON")
    call.add_argument(
        "--codec",
        choices=["msgpack", "json", "jsonrpc"],
        default="msgpack",
        help="msgpack or json on gee's protocol, jsonrpc for Go's net/rpc/jsonrpc",
    )
    call.add_argument("--timeout", type=float, default=10.0, help="call timeout in seconds")
    call.add_argument("--connect-timeout", type=float, default=5.0, help="seconds to connect")
    call.set_defaults(func=_call)


def _run(coro: Coroutine[Any, Any, int]) -> int:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency where it builds
        import asyncio

        return asyncio.run(coro)
    result: int = uvloop.run(coro)
    return result


def _registry(args: argparse.Namespace) -> int:
    from gee.rpc.registry import Registry

    async def main() -> int:
        registry = Registry(ttl=args.ttl)
        port = await registry.start(args.host, args.port)
        print(f"gee rpc registry on http://{args.host}:{port}{registry.path}", flush=True)
        try:
            await registry.serve_forever()
        finally:
            await registry.shutdown()
        return 0

    try:
        return _run(main())
    except KeyboardInterrupt:
        return 0


def _serve(args: argparse.Namespace) -> int:
    import asyncio
    import importlib
    import signal

    from gee.rpc.registry import announce
    from gee.rpc.server import Server

    server = Server(handle_timeout=args.handle_timeout, eager=args.eager)
    for spec in args.services:
        module_name, _, attr = spec.partition(":")
        if not attr:
            print(f"gee rpc serve: {spec!r} is not module:Class", file=sys.stderr)
            return 2
        target = getattr(importlib.import_module(module_name), attr)
        server.register(target() if isinstance(target, type) else target)

    async def main() -> int:
        bound = await server.start(args.address)
        if args.registry:
            await announce(server, args.registry)
        print(f"gee rpc serving {', '.join(sorted(server.services))} on {bound}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await server.shutdown()  # deregisters from the registry, lets calls finish
        return 0

    return _run(main())


def _call(args: argparse.Namespace) -> int:
    import msgspec

    from gee.rpc.client import Client
    from gee.rpc.errors import RPCError

    try:
        value = msgspec.json.decode(args.args)
    except msgspec.DecodeError as exc:
        print(f"gee rpc call: the argument is not JSON: {exc}", file=sys.stderr)
        return 2

    async def main() -> int:
        client = Client(args.address, codec=args.codec, connect_timeout=args.connect_timeout)
        try:
            reply = await client.call(args.method, value, timeout=args.timeout)
        except RPCError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        finally:
            await client.close()
        print(msgspec.json.encode(reply).decode())
        return 0

    return _run(main())
