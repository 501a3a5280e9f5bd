"""The HTTP benchmark: wrk against each framework, one server worker each, in one run.

Every subject runs on the same server (uvicorn, one worker, uvloop and httptools; gee.web also
on granian), in a fresh process per endpoint, started on a free loopback port, probed (its answer
must be right before it is measured) and stopped by its PID. wrk then runs with the same flags for
everyone. A run with any non-2xx answer is a failure, not a number: a fast 404 proves nothing.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bench import BENCH_DIR
from bench.common import Result, Server, ServerError, Table, free_port, http_get, median_result

__all__ = ["ENDPOINTS", "SUBJECTS", "WrkStats", "parse_wrk", "run"]

ROOT = BENCH_DIR.parent
LATE_ROUTE_SCRIPT = Path(__file__).with_name("late_route.lua")


@dataclass(frozen=True)
class Subject:
    """A framework on a server: ``requires`` names what must import (``module`` or
    ``module:attribute``) for it to be measured at all."""

    name: str
    module: str
    requires: tuple[str, ...]
    server: Literal["uvicorn", "granian"] = "uvicorn"


SUBJECTS = (
    Subject("raw ASGI", "bench.web.apps.raw", ()),
    Subject("gee.web", "bench.web.apps.gee_app", ("gee.web:Gee",)),
    Subject("Starlette", "bench.web.apps.starlette_app", ("starlette",)),
    Subject("FastAPI", "bench.web.apps.fastapi_app", ("fastapi",)),
    Subject("BlackSheep", "bench.web.apps.blacksheep_app", ("blacksheep",)),
    Subject("Litestar", "bench.web.apps.litestar_app", ("litestar",)),
    Subject("gee.web (granian)", "bench.web.apps.gee_app", ("gee.web:Gee", "granian"), "granian"),
)
BASELINE, OURS = "raw ASGI", "gee.web"
PEERS = ["Starlette", "FastAPI", "BlackSheep", "Litestar"]


@dataclass(frozen=True)
class Endpoint:
    """What wrk asks for: ``app`` (an attribute of the subject's module) at ``probe`` must answer
    ``expect`` before the run; ``script`` is wrk's Lua script (None: GET ``probe`` every time)."""

    name: str
    app: str
    probe: str
    expect: bytes
    script: Path | None = None


ENDPOINTS = (
    Endpoint("plaintext", "plaintext", "/", b"Hello, World!"),
    Endpoint("late route", "github", "/user/keys/4242", b"4242", LATE_ROUTE_SCRIPT),
)


@dataclass(frozen=True)
class Load:
    """wrk's settings: ``warmup`` seconds of load (discarded) before ``duration`` measured ones.

    ``rounds`` passes go through every subject in turn; each subject keeps its median round, so
    a burst of other load on the machine during one subject's window cannot decide its row.
    """

    connections: int
    duration: int
    warmup: int
    rounds: int = 1


FULL = Load(connections=64, duration=10, warmup=2, rounds=3)
QUICK = Load(connections=16, duration=1, warmup=0)


@dataclass(frozen=True)
class WrkStats:
    """What a wrk run reports: throughput, latency percentiles (ms) and errors."""

    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_PERCENTILE = re.compile(r"^\s*(\d+(?:\.\d+)?)%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)


def parse_wrk(output: str) -> WrkStats:
    """Read wrk's ``--latency`` report; raise ValueError if a figure is missing."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    count = re.search(r"^\s*(\d+) requests in ", output, re.MULTILINE)
    percentiles = {
        float(p): float(v) * _UNIT_MS[unit] for p, v, unit in _PERCENTILE.findall(output)
    }
    if rps is None or count is None or 50.0 not in percentiles or 99.0 not in percentiles:
        raise ValueError(f"not a wrk --latency report:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkStats(
        requests_per_s=float(rps[1]),
        p50_ms=percentiles[50.0],
        p99_ms=percentiles[99.0],
        requests=int(count[1]),
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=sum(int(n) for n in socket.groups()) if socket else 0,
    )


def wrk_argv(load: Load, duration: int, url: str, script: Path | None, start: int = 0) -> list[str]:
    """The wrk command line: one thread, ``load.connections`` connections, latency percentiles;
    ``start`` is passed to the script (where its ids start counting)."""
    argv = ["wrk", "-t1", f"-c{load.connections}", f"-d{duration}s", "--latency"]
    if script is None:
        return [*argv, url]
    return [*argv, "-s", str(script), url, "--", str(start)]


def server_argv(subject: Subject, app: str, port: int) -> list[str]:
    """The command that serves ``subject``'s ``app`` on 127.0.0.1:``port`` with one worker."""
    target = f"{subject.module}:{app}"
    common = ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    if subject.server == "granian":
        return [
            sys.executable, "-m", "granian", "--interface", "asgi", "--workers", "1",
            "--loop", "uvloop", "--no-ws", "--no-access-log", *common, target,
        ]  # fmt: skip
    return [
        sys.executable, "-m", "uvicorn", "--loop", "uvloop", "--http", "httptools",
        "--no-access-log", *common, target,
    ]  # fmt: skip


def missing(requires: tuple[str, ...]) -> str | None:
    """Why a subject cannot run here (what fails to import), or None if it can."""
    for need in requires:
        module, _, attribute = need.partition(":")
        try:
            if attribute and not hasattr(importlib.import_module(module), attribute):
                return f"{module} has no {attribute}"
            if not attribute and importlib.util.find_spec(module) is None:
                raise ModuleNotFoundError(f"No module named {module!r}")
        except ImportError as exc:
            return f"cannot import {module} ({exc}); pip install -e '.[bench]' installs the peers"
    return None


def _wrk(argv: list[str], timeout: float) -> WrkStats:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise ServerError(f"wrk exited with status {done.returncode}: {done.stderr.strip()}")
    return parse_wrk(done.stdout)


def measure(subject: Subject, endpoint: Endpoint, load: Load) -> Result:
    """Serve one app, check its answer, load it with wrk; a Result either way."""
    result = Result(subject.name, endpoint.name)
    reason = missing(subject.requires)
    if reason is not None:
        result.status, result.detail = "unavailable", reason
        return result
    port = free_port()
    url = f"http://127.0.0.1:{port}{endpoint.probe}"
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    try:
        with Server(server_argv(subject, endpoint.app, port), cwd=ROOT, env=env) as server:
            server.wait_until(lambda: bool(http_get(port, endpoint.probe)))
            status, body = http_get(port, endpoint.probe)
            if (status, body) != (200, endpoint.expect):
                raise ServerError(
                    f"GET {endpoint.probe} answered {status} {body[:80]!r};"
                    f" want 200 {endpoint.expect!r}"
                )
            if load.warmup:
                _wrk(wrk_argv(load, load.warmup, url, endpoint.script), load.warmup + 30)
            measured = wrk_argv(load, load.duration, url, endpoint.script, start=10**9)
            stats = _wrk(measured, load.duration + 30)
            assert server.process is not None
            if server.process.poll() is not None:
                raise ServerError(f"the server died during the run: {server.log_tail()}")
    except (ServerError, ValueError, OSError, subprocess.TimeoutExpired) as exc:
        result.status, result.detail = "failed", " ".join(str(exc).split())
        return result
    if stats.requests == 0:
        result.status, result.detail = "failed", "no request completed"
        return result
    if stats.non_2xx:
        result.status = "failed"
        result.detail = f"{stats.non_2xx} of {stats.requests} answers were not 2xx or 3xx"
        return result
    result.value = stats.requests_per_s
    result.extra = {"p50 ms": stats.p50_ms, "p99 ms": stats.p99_ms}
    return result


def _versions() -> str:
    names = ["uvicorn", "uvloop", "httptools", "granian"]
    names += ["starlette", "fastapi", "blacksheep", "litestar"]
    found = []
    for name in names:
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def run(quick: bool) -> Table:
    """Measure every subject on every endpoint; print each figure as it comes."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    load = QUICK if quick else FULL
    table = Table(
        title=(
            f"HTTP: wrk -t1 -c{load.connections} -d{load.duration}s --latency on loopback;"
            " one uvicorn worker (uvloop, httptools) unless named"
        ),
        unit="req/s",
        higher_is_better=True,
        subject_label="framework",
        case_label="endpoint",
        extra_columns=["p50 ms", "p99 ms"],
        baseline=BASELINE,
        ours=OURS,
        peers=PEERS,
        notes=[
            'plaintext: `GET /` answers "Hello, World!". late route: an app with all 203 GitHub'
            " API routes answers `GET /user/keys/:id` (route 201 of 203) with the id, a new id on"
            " every request (bench/web/late_route.lua), so no lookup cache can hide the router.",
            "raw ASGI is the limit: no framework, no routing; it answers every path with the text"
            " after /user/keys/ cut out by slicing. A framework's gap to it is its whole cost per"
            " request on the same server.",
            "gee.web (granian): the same app on granian, one worker, `--interface asgi --loop"
            " uvloop`.",
            f"Each run follows {load.warmup} s of discarded warm-up load; {load.rounds} round(s)"
            " through all subjects, fresh servers each time, each subject keeping its median"
            f" round (by req/s). Versions: {_versions()}.",
            "Targets (issue 3): gee.web ≥ 0.90× raw ASGI on plaintext and ≥ 0.85× on the late"
            " route, ahead of every peer on both, ≥ 5× Starlette on the late route, p99 within"
            " 1.5× of raw's.",
        ],
    )
    rounds: dict[tuple[str, str], list[Result]] = {}
    for number in range(1, load.rounds + 1):
        for subject in SUBJECTS:
            for endpoint in ENDPOINTS:
                result = measure(subject, endpoint, load)
                shown = f"{result.value:,.0f} req/s" if result.value is not None else result.status
                print(f"  [{number}] {subject.name:<18} {endpoint.name:<10} {shown}", flush=True)
                rounds.setdefault((subject.name, endpoint.name), []).append(result)
    table.results.extend(median_result(results) for results in rounds.values())
    return table
