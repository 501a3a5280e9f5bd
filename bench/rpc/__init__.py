"""The rpc benchmark: gee.rpc against Go's net/rpc, grpc.aio, rpyc, Pyro5 and a raw echo.

One table (``throughput``): calls/s, p50 and p99 of a small struct echo with 64 calls in flight
from one client process on loopback, each server in its own process. The servers are in
``serve`` (gee.rpc is served by ``gee rpc serve``, Go by ``netrpc.go``), the clients in ``load``.
"""

from __future__ import annotations

from bench.common import Report

__all__ = ["run"]


def run(quick: bool) -> Report:
    """Measure every subject; ``quick``: one 1 s round each instead of three 4 s rounds."""
    from bench.rpc import throughput

    print("echo at 64 calls in flight", flush=True)
    table = throughput.run(quick)
    return Report(
        system="rpc",
        title="rpc: gee.rpc against Go's net/rpc, grpc.aio, rpyc and Pyro5",
        tables=[table],
        notes=[f"Versions: {throughput.versions()}."],
    )
