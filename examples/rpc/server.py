"""``python -m examples.rpc.server --name NAME --port PORT --registry URL``: one demo server.

Serves ``Arith`` and ``Host`` on 127.0.0.1:PORT (0: any free port), announces itself to gee's
registry at URL (heartbeats every ttl/3), prints one line saying where it listens, and serves
until SIGTERM or Ctrl-C; then ``server.shutdown()`` deregisters it and lets running calls finish.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

import gee.rpc
from examples.rpc.services import Arith, Host

__all__ = ["main", "serve"]


async def serve(name: str, port: int, registry: str) -> None:
    server = gee.rpc.Server(handle_timeout=10.0)
    server.register(Arith())
    server.register(Host(name))
    address = await server.start(f"tcp@127.0.0.1:{port}")
    await gee.rpc.announce(server, registry)
    print(f"serving Arith, Host on {address}", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.shutdown()  # deregisters from the registry first
    print("deregistered and stopped", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.rpc.server")
    parser.add_argument("--name", required=True, help="what Host.Name answers")
    parser.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    parser.add_argument("--registry", required=True, help="gee registry URL to announce to")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.name, args.port, args.registry))
    return 0


if __name__ == "__main__":
    sys.exit(main())
