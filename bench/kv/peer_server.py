"""Serve one of the Python Redis servers on 127.0.0.1 for the kv benchmark.

    python -m bench.kv.peer_server fakeredis PORT
    python -m bench.kv.peer_server pyvalkey PORT

Both are ``socketserver.ThreadingTCPServer`` subclasses, whose listen backlog of 5 stalls the 50
clients redis-benchmark connects at once for seconds (SYN retries); that would measure the backlog,
not the server, so both listen with Redis's 511 here. fakeredis plays Redis 7.0 (the version
gee.kv and Debian's redis-server are). pyvalkey prints every command and reply to stdout, a
debugging leftover; that goes to /dev/null. Otherwise each runs as its package ships it. The
process runs until it is signalled (the harness stops it by its PID).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

BACKLOG = 511


def serve_fakeredis(port: int) -> None:
    from fakeredis import TcpFakeServer

    class Server(TcpFakeServer):
        request_queue_size = BACKLOG

    server = Server(("127.0.0.1", port), server_version=(7, 0))
    print(f"fakeredis ready on port {port}", flush=True)
    server.serve_forever()


def serve_pyvalkey(port: int) -> None:
    from pyvalkey.server import ValkeyServer  # type: ignore[import-untyped, import-not-found, unused-ignore]

    class Server(ValkeyServer):  # type: ignore[misc]
        request_queue_size = BACKLOG

    server = Server(("127.0.0.1", port))
    print(f"pyvalkey ready on port {port}", flush=True)
    sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (for the whole process)
    server.serve_forever()


SERVERS = {"fakeredis": serve_fakeredis, "pyvalkey": serve_pyvalkey}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.kv.peer_server")
    parser.add_argument("server", choices=sorted(SERVERS))
    parser.add_argument("port", type=int)
    args = parser.parse_args(argv)
    SERVERS[args.server](args.port)


if __name__ == "__main__":
    main()
