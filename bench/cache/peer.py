"""(2) The peer endpoint: wrk against one node's ``GET /_groupcache/scores/<key>``, its hit path.

Each node runs alone (it owns every key) in a fresh process on a free loopback port. Before it
is measured, each of the 1,000 keys wrk will cycle through is fetched once and its protobuf body
checked, which also loads it into the node's cache; after the run the node must report exactly
those 1,000 loads (gee: ``/_groupcache/_stats``; Go: ``/loads``), so every measured request was a
cache hit. wrk's flags and report parsing are bench/web's.
"""

from __future__ import annotations

import http.client
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bench import BENCH_DIR
from bench.cache.node import GROUP, value_of
from bench.common import Result, Server, ServerError, Table, free_port, http_get, median_result
from bench.web import http_bench
from bench.web.http_bench import Load, WrkStats, parse_wrk, wrk_argv

__all__ = ["FULL", "GO", "QUICK", "SUBJECTS", "Subject", "run", "target_notes"]

ROOT = BENCH_DIR.parent
KEYS = 1000
CASE = f"hit, {KEYS:,} keys"
SCRIPT = Path(__file__).with_name("cycle_keys.lua")

FULL = Load(connections=64, duration=5, warmup=1)
QUICK = Load(connections=16, duration=1, warmup=0)
# Full runs go round all the nodes this many times, a fresh process each time, and keep each
# node's median round: on a small machine a burst of other load then hits one round, not one
# node's only figure.
FULL_ROUNDS, QUICK_ROUNDS = 3, 1

CLI = "gee cache (uvicorn)"
UVICORN = "gee HTTPPool (uvicorn)"
GRANIAN = "gee HTTPPool (granian)"
GO = "Go groupcache"
RAW_UVICORN = "raw ASGI (uvicorn)"
RAW_GRANIAN = "raw ASGI (granian)"


@dataclass(frozen=True)
class Setup:
    """What the subjects' command lines need: the gee CLI's key table and the Go binary."""

    db: Path
    go: Path | None


@dataclass(frozen=True)
class Subject:
    """A node: ``argv(port, url, setup)`` starts it; ``requires`` must import to run it."""

    name: str
    argv: Callable[[int, str, Setup], list[str]]
    requires: tuple[str, ...] = ()
    kind: Literal["gee", "go", "raw"] = "gee"


def gee_cli_argv(port: int, url: str, setup: Setup, *extra: str) -> list[str]:
    """``gee cache`` as deployed (uvicorn, uvloop and httptools when installed), serving
    ``setup.db``'s table, quiet."""
    return [
        sys.executable, "-m", "gee", "cache", "--port", str(port), "--self", url,
        "--db", str(setup.db), "--log-level", "warning", *extra,
    ]  # fmt: skip


def _module_argv(
    server: Literal["uvicorn", "granian"], app: str = "app"
) -> Callable[[int, str, Setup], list[str]]:
    subject = http_bench.Subject(server, "bench.cache.node", (), server)
    return lambda port, url, setup: http_bench.server_argv(subject, app, port)


def go_argv(port: int, url: str, setup: Setup, peers: str = "") -> list[str]:
    assert setup.go is not None
    return [str(setup.go), "-addr", f"127.0.0.1:{port}", "-self", url, "-peers", peers or url]


SUBJECTS = (
    Subject(CLI, gee_cli_argv, ("gee.cache",)),
    Subject(UVICORN, _module_argv("uvicorn"), ("gee.cache", "uvicorn", "uvloop", "httptools")),
    Subject(GRANIAN, _module_argv("granian"), ("gee.cache", "granian")),
    Subject(GO, go_argv, kind="go"),
    Subject(RAW_UVICORN, _module_argv("uvicorn", "raw"), ("uvicorn", "uvloop", "httptools"), "raw"),
    Subject(RAW_GRANIAN, _module_argv("granian", "raw"), ("granian",), "raw"),
)


def working_set(n: int = KEYS) -> list[str]:
    """The keys wrk cycles through (cycle_keys.lua spells them the same way)."""
    return [f"key-{i}" for i in range(n)]


def node_env(url: str, peers: str = "") -> dict[str, str]:
    """The environment of a node process: bench importable, bench.cache.node's settings."""
    import os

    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {
        **os.environ,
        "PYTHONPATH": path,
        "GEE_BENCH_CACHE_SELF": url,
        "GEE_BENCH_CACHE_PEERS": peers or url,
    }


def fetch(conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
    """GET ``path`` on a kept-alive connection; (status, body)."""
    conn.request("GET", path)
    response = conn.getresponse()
    return response.status, response.read()


def check_peer_get(conn: http.client.HTTPConnection, key: str) -> None:
    """Fetch ``key`` through the peer endpoint; raise ServerError unless it is the right value."""
    from gee.cache.pb import GetResponse

    status, body = fetch(conn, f"/_groupcache/{GROUP}/{key}")
    want = value_of(key).encode()
    if status != 200 or GetResponse.FromString(body).value != want:
        raise ServerError(
            f"GET {key!r} answered {status} {body[:80]!r}; want GetResponse{{{want!r}}}"
        )


def loads(port: int, kind: Literal["gee", "go", "raw"]) -> int:
    """How many times the node's getter ran (gee: local_loads in _stats; Go: /loads)."""
    import json

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        if kind == "go":
            status, body = fetch(conn, "/loads")
            return sum(json.loads(body).values())  # per key, as the tests read it
        status, body = fetch(conn, "/_groupcache/_stats")
        if status != 200:
            raise ServerError(f"/_groupcache/_stats answered {status}")
        return int(json.loads(body)[GROUP]["local_loads"])
    finally:
        conn.close()


def _wrk(argv: list[str], timeout: float) -> WrkStats:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise ServerError(f"wrk exited with status {done.returncode}: {done.stderr.strip()}")
    return parse_wrk(done.stdout)


def measure(subject: Subject, load: Load, setup: Setup) -> Result:
    """Start the node, warm and check its keys, wrk it, check it only hit; a Result either way."""
    result = Result(subject.name, CASE)
    reason = http_bench.missing(subject.requires)
    if reason is not None:
        result.status, result.detail = "unavailable", reason
        return result
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    try:
        with Server(subject.argv(port, url, setup), cwd=ROOT, env=node_env(url)) as server:
            server.wait_until(lambda: http_get(port, "/_groupcache/_none/x")[0] > 0)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                for key in working_set():
                    check_peer_get(conn, key)
            finally:
                conn.close()
            target = f"{url}/_groupcache/{GROUP}/key-0"
            # wrk_argv passes its last argument to the script: here, how many keys to cycle.
            if load.warmup:
                _wrk(wrk_argv(load, load.warmup, target, SCRIPT, KEYS), load.warmup + 30)
            stats = _wrk(wrk_argv(load, load.duration, target, SCRIPT, KEYS), load.duration + 30)
            assert server.process is not None
            if server.process.poll() is not None:
                raise ServerError(f"the node died during the run: {server.log_tail()}")
            loaded = KEYS if subject.kind == "raw" else loads(port, subject.kind)
            if loaded != KEYS:
                raise ServerError(f"the node loaded {loaded} keys, not {KEYS}: not all hits")
    except (ServerError, ValueError, OSError, subprocess.TimeoutExpired) as exc:
        result.status, result.detail = "failed", " ".join(str(exc).split())
        return result
    if stats.requests == 0 or stats.non_2xx or stats.socket_errors:
        result.status = "failed"
        result.detail = (
            f"{stats.requests} requests, {stats.non_2xx} not 2xx,"
            f" {stats.socket_errors} socket errors"
        )
        return result
    result.value = stats.requests_per_s
    result.extra = {"p50 ms": stats.p50_ms, "p99 ms": stats.p99_ms}
    return result


def run(quick: bool, setup: Setup) -> Table:
    """Measure every node; print each figure as it comes."""
    load, rounds = (QUICK, QUICK_ROUNDS) if quick else (FULL, FULL_ROUNDS)
    subjects = [s for s in SUBJECTS if s.kind != "go" or setup.go is not None]
    # (the caller reports why the Go node is missing)
    measured: dict[str, list[Result]] = {s.name: [] for s in subjects}
    for n in range(rounds):
        for subject in subjects:
            done = measured[subject.name]
            if done and done[-1].status != "ok":
                continue  # failed or unavailable once: not retried
            result = measure(subject, load, setup)
            shown = f"{result.value:,.0f} req/s" if result.value is not None else result.status
            print(f"  round {n + 1}/{rounds}: {subject.name:<24} {shown}", flush=True)
            done.append(result)
    results = [median_result(measured[s.name]) for s in subjects]
    table = Table(
        title=(
            f"Peer endpoint, one node: wrk -t1 -c{load.connections} -d{load.duration}s"
            f" --latency cycling {KEYS:,} cached keys"
        ),
        unit="req/s",
        higher_is_better=True,
        results=results,
        subject_label="node",
        case_label="requests",
        extra_columns=["p50 ms", "p99 ms"],
        baseline=GO,
    )
    table.notes += [
        f"Each node alone (it owns every key), in a fresh process on loopback; each of the"
        f" {KEYS:,} keys is fetched once and its `GetResponse` checked before the run (which"
        " caches it), and after the run the node must report exactly that many loads, so every"
        " measured request was a cache hit. wrk cycles `GET /_groupcache/scores/key-<i>`"
        f" (bench/cache/cycle_keys.lua) after {load.warmup} s of discarded warm-up load;"
        f" {rounds} round(s) through all nodes, fresh processes each time, keeping each"
        " node's median round.",
        "gee cache (uvicorn): the `gee cache` command as deployed (one uvicorn process, uvloop"
        " and httptools; it also routes a front-API port). gee HTTPPool (uvicorn / granian):"
        " bench/cache/node.py's bare `HTTPPool` under uvicorn (`--loop uvloop --http"
        " httptools`) and under granian (`--interface asgi --loop uvloop`), one worker each."
        " Go groupcache: bench/cache/groupcache_node.go, groupcache's `HTTPPool` as the whole"
        " handler of net/http; Go uses every core (GOMAXPROCS default), each gee node one."
        " raw ASGI (uvicorn / granian): the servers' floor, bench/cache/node.py's `raw`, an"
        " ASGI app with no framework and no cache that slices the key out of the path and"
        " answers its `GetResponse`; a gee node's gap to it on the same server is all that"
        " gee.cache and gee.web cost per request.",
        *target_notes(table),
    ]
    return table


def target_notes(table: Table) -> list[str]:
    """Issue 5's target for the peer endpoint and whether this run met it (pure)."""
    go = table.value(GO, CASE)
    checks = []
    for name in (CLI, UVICORN, GRANIAN):
        ours = table.value(name, CASE)
        if ours is None or go is None:
            checks.append(f"{name}: not measured")
        else:
            share = ours / go
            checks.append(f"{name} {share:.0%} of Go ({'met' if share >= 0.5 else 'missed'})")
    return [
        "Target (issue 5): a gee node ≥ 50% of the Go groupcache node's req/s (issue 5"
        " measured the Go node here at ≈57–70k req/s, machine-bound).",
        "This run: " + "; ".join(checks) + ".",
    ]
