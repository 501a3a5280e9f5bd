"""(3) Remote-hit latency: a client asks node A for keys that node B owns and already caches.

Two 3-node clusters on loopback, each node in its own process: three ``gee cache`` nodes
(uvicorn; the client asks A's front API ``/api?key=K``) and three Go groupcache nodes (the client
asks A's ``/get?key=K``). The keys are chosen with gee's ring (which agrees with groupcache's,
as tests/cache/test_interop.py checks): ones B owns, loaded into B's cache first by asking B,
and, for comparison, ones A owns, loaded into A's cache first. Each measured key is then asked of
A exactly once (so A's hot cache, which keeps one peer value in ten, never answers), one request
at a time on one kept-alive connection, timed by the client. Afterwards A must have loaded no
key B owns and B no key twice, or the run failed: every measured request was a hit on its owner.
"""

from __future__ import annotations

import http.client
import json
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from bench.cache import peer
from bench.cache.node import GROUP, value_of
from bench.common import Result, Server, ServerError, Table, free_port, http_get
from bench.rpc.load import percentile

__all__ = ["CASES", "FULL", "GEE", "GO", "QUICK", "owned_keys", "run"]

GEE = "gee cache ×3 (uvicorn)"
GO = "Go groupcache ×3"
REMOTE = "remote hit (A asks B)"
LOCAL = "local hit (A owns)"
CASES = (REMOTE, LOCAL)
NODES = 3


@dataclass(frozen=True)
class Load:
    """``keys`` measured per case after ``warmup`` unmeasured ones (each key asked once)."""

    keys: int
    warmup: int


QUICK = Load(keys=200, warmup=50)
FULL = Load(keys=5000, warmup=500)


@dataclass
class Node:
    """One running node: its peer port and URL, and the port its front API answers on."""

    url: str
    port: int
    api_port: int
    server: Server


def owned_keys(urls: list[str], owner: str, n: int, prefix: str) -> list[str]:
    """The first ``n`` keys ``prefix<i>`` whose owner on the ring of ``urls`` is ``owner``."""
    from gee.cache import HashRing

    ring = HashRing.of(urls)
    found: list[str] = []
    i = 0
    while len(found) < n:
        key = f"{prefix}{i}"
        if ring.owner(key) == owner:
            found.append(key)
        i += 1
    return found


@contextmanager
def start_cluster(
    kind: Literal["gee", "go"], ports: list[int], setup: peer.Setup, db: Path
) -> Iterator[list[Node]]:
    """Start a node on each of ``ports``, all listing each other; stop them when the block ends.

    gee nodes serve the table in ``db`` (``gee cache --db``); Go nodes answer any key.
    """
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    peers = ",".join(urls)
    with ExitStack() as stack:
        nodes = []
        for port, url in zip(ports, urls, strict=True):
            if kind == "gee":
                api_port = free_port()
                argv = peer.gee_cli_argv(
                    port, url, peer.Setup(db=db, go=None), "--peers", peers,
                    "--api-port", str(api_port),
                )  # fmt: skip
            else:
                api_port = port
                argv = peer.go_argv(port, url, setup, peers)
            server = stack.enter_context(Server(argv, cwd=peer.ROOT, env=peer.node_env(url)))
            nodes.append(Node(url, port, api_port, server))
        probe = "/_groupcache/_stats" if kind == "gee" else "/pid"
        for node in nodes:

            def up(port: int = node.port) -> bool:
                return http_get(port, probe)[0] == 200

            node.server.wait_until(up)
        yield nodes


def _asker(kind: Literal["gee", "go"], conn: http.client.HTTPConnection) -> Callable[[str], float]:
    """A function that asks the node behind ``conn`` for a key, checks it, returns seconds."""
    path = "/api?key=" if kind == "gee" else "/get?key="

    def ask(key: str) -> float:
        started = time.perf_counter()
        status, body = peer.fetch(conn, path + quote(key, safe=""))
        seconds = time.perf_counter() - started
        if status != 200 or body != value_of(key).encode():
            raise ServerError(f"asked for {key!r}: {status} {body[:80]!r}")
        return seconds

    return ask


def _stats(port: int) -> dict[str, int]:
    status, body = http_get(port, "/_groupcache/_stats", timeout=10)
    if status != 200:
        raise ServerError(f"/_groupcache/_stats answered {status}")
    counters: dict[str, int] = json.loads(body)[GROUP]
    return counters


def measure_cluster(
    kind: Literal["gee", "go"], load: Load, setup: peer.Setup, workdir: Path
) -> dict[str, list[float]]:
    """Run one cluster; return each case's request times in ms. Raises ServerError."""
    n = load.keys + load.warmup
    ports = [free_port() for _ in range(NODES)]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    remote = owned_keys(urls, urls[1], n, "rk-")  # B's
    local = owned_keys(urls, urls[0], n, "lk-")  # A's
    db = workdir / f"cluster-{kind}.json"
    db.write_text(json.dumps({k: value_of(k) for k in remote + local}), encoding="utf-8")
    times: dict[str, list[float]] = {REMOTE: [], LOCAL: []}
    with start_cluster(kind, ports, setup, db) as nodes, ExitStack() as stack:
        a, b = nodes[0], nodes[1]
        conn_a = http.client.HTTPConnection("127.0.0.1", a.api_port, timeout=10)
        conn_b = http.client.HTTPConnection("127.0.0.1", b.api_port, timeout=10)
        stack.callback(conn_a.close)
        stack.callback(conn_b.close)
        ask_a, ask_b = _asker(kind, conn_a), _asker(kind, conn_b)
        for key in remote:
            ask_b(key)  # B owns it: B loads it into its main cache
        for key in local:
            ask_a(key)  # A owns it: A loads it into its main cache
        for case, keys in ((REMOTE, remote), (LOCAL, local)):
            for i, key in enumerate(keys):
                seconds = ask_a(key)
                if i >= load.warmup:
                    times[case].append(seconds * 1000)
        _check_loads(kind, a, b, n)
        for node in nodes:
            assert node.server.process is not None
            if node.server.process.poll() is not None:
                raise ServerError(f"{node.url} exited: {node.server.log_tail()}")
    return times


def _check_loads(kind: Literal["gee", "go"], a: Node, b: Node, n: int) -> None:
    """A loaded only its own keys, B only the remote keys, each once: every asked key hit."""
    if kind == "gee":
        a_loads = _stats(a.port)["local_loads"]
        b_loads = _stats(b.port)["local_loads"]
        peer_loads = _stats(a.port)["peer_loads"]
        if peer_loads != n:
            raise ServerError(f"A fetched {peer_loads} values from peers, not {n}")
    else:
        a_loads, b_loads = peer.loads(a.port, "go"), peer.loads(b.port, "go")
    if (a_loads, b_loads) != (n, n):
        raise ServerError(
            f"loads: A {a_loads}, B {b_loads}; want {n} each (some request was not a hit)"
        )


def run(quick: bool, setup: peer.Setup, workdir: Path) -> Table:
    """Measure the gee cluster and (when built) the Go cluster."""
    load = QUICK if quick else FULL
    results: list[Result] = []
    subjects: list[tuple[str, Literal["gee", "go"]]] = [(GEE, "gee")]
    if setup.go is not None:
        subjects.append((GO, "go"))
    for name, kind in subjects:
        try:
            times = measure_cluster(kind, load, setup, workdir)
        except (ServerError, OSError, ValueError) as exc:
            for case in CASES:
                results.append(
                    Result(name, case, status="failed", detail=" ".join(str(exc).split()))
                )
            print(f"  {name:<24} failed: {exc}", flush=True)
            continue
        for case in CASES:
            ordered = sorted(times[case])
            p50, p99 = percentile(ordered, 50), percentile(ordered, 99)
            extra = {
                "p90 ms": percentile(ordered, 90),
                "p99 ms": p99,
                "mean ms": statistics.fmean(ordered),
            }
            results.append(Result(name, case, p50, extra))
            print(f"  {name:<24} {case:<22} p50 {p50:.3f} ms, p99 {p99:.3f} ms", flush=True)
    table = Table(
        title=(
            f"Latency through node A of a 3-node cluster, {load.keys:,} keys per case, one"
            " request at a time"
        ),
        unit="p50 ms",
        higher_is_better=False,
        results=results,
        subject_label="cluster",
        case_label="get",
        extra_columns=["p90 ms", "p99 ms", "mean ms"],
        baseline=GO,
    )
    table.notes += [
        "A client asks node A's front API (gee: `gee cache --api-port`'s `/api?key=K`; Go:"
        " the node's `/get?key=K`) for keys node B owns and already caches (remote hit: A"
        " misses, fetches from B over groupcache's protocol, B answers from its cache), and for"
        " keys A owns and caches (local hit: no peer involved), each key once after"
        f" {load.warmup:,} unmeasured ones, one request at a time on one kept-alive"
        " connection; times are the client's (http.client), so both clusters carry the same"
        " client overhead. Afterwards every node's load count must show that each measured"
        " request was a hit on its owner. Issue 5 sets no target here.",
    ]
    return table
