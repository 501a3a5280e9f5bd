"""The web benchmark: gee.web against the raw ASGI limit and the ASGI frameworks.

Two tables: HTTP throughput and latency under wrk (``http_bench``), and the router alone with no
HTTP (``router_bench``). The apps under measurement are in ``bench.web.apps``.
"""

from __future__ import annotations

from bench.common import Report

__all__ = ["run"]


def run(quick: bool) -> Report:
    """Run the router micro-benchmark, then the HTTP benchmark; ``quick``: 1 s per wrk run."""
    from bench.web import http_bench, router_bench

    print("router micro-benchmark", flush=True)
    router = router_bench.run(quick)
    print("HTTP benchmark (wrk)", flush=True)
    http = http_bench.run(quick)
    return Report(system="web", title="web: gee.web against ASGI frameworks", tables=[http, router])
