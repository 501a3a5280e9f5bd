"""Calls per second and latency at 64 calls in flight, every subject in fresh processes.

For each subject a server process is started on a free loopback port (``bench.common.Server``,
stopped by its PID's process group), waited for until it accepts connections, and loaded by one
client process (``bench.rpc.load``, or the Go binary's ``load``) that checks every reply. Full
runs go round the subjects several times, a fresh server each time, and keep each subject's
median round, so a burst of load elsewhere on the machine hits one round rather than one subject.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import BENCH_DIR
from bench.common import Result, Server, ServerError, Table, free_port
from bench.rpc.golang import build_netrpc, go_missing

__all__ = ["FULL", "INFLIGHT", "QUICK", "SUBJECTS", "Load", "Subject", "run", "target_notes"]

ROOT = BENCH_DIR.parent
INFLIGHT = 64
CASE = "struct echo"

GEE = "gee.rpc msgpack"
GEE_JSON = "gee.rpc json"
GEE_TASKS = "gee.rpc msgpack --no-eager"
GO = "Go net/rpc"
GRPC = "grpc.aio"
RPYC = "rpyc"
PYRO5 = "Pyro5"
RAW = "raw asyncio+uvloop"


@dataclass(frozen=True)
class Load:
    """How long each measurement runs: ``rounds`` of ``warmup`` + ``seconds`` per subject."""

    warmup: float
    seconds: float
    rounds: int


QUICK = Load(warmup=0.3, seconds=1.0, rounds=1)
FULL = Load(warmup=1.0, seconds=4.0, rounds=3)


@dataclass(frozen=True)
class Subject:
    """A subject: its display name, the modules it needs, and its server and client argv."""

    name: str
    modules: tuple[str, ...]
    serve: Callable[[int, Path | None], list[str]]
    load: Callable[[int, Load, Path | None], list[str]]
    needs_go: bool = False


def _gee_program() -> str:
    beside = Path(sys.executable).with_name("gee")
    return str(beside) if beside.exists() else "gee"


def _gee_serve(port: int, _go: Path | None) -> list[str]:
    # gee's own command, as it would be deployed (uvloop), serving bench/rpc/payload.py's Echo
    return [_gee_program(), "rpc", "serve", "bench.rpc.payload:Echo", "--address",
            f"tcp@127.0.0.1:{port}"]  # fmt: skip


def _gee_serve_tasks(port: int, go: Path | None) -> list[str]:
    return [*_gee_serve(port, go), "--no-eager"]  # every request scheduled as a task


def _python_serve(peer: str) -> Callable[[int, Path | None], list[str]]:
    return lambda port, _go: [sys.executable, "-m", "bench.rpc.serve", peer, str(port)]


def _python_load(peer: str) -> Callable[[int, Load, Path | None], list[str]]:
    return lambda port, load, _go: [
        sys.executable, "-m", "bench.rpc.load", peer, str(port), "--inflight", str(INFLIGHT),
        "--warmup", str(load.warmup), "--seconds", str(load.seconds),
    ]  # fmt: skip


def _go_serve(port: int, go: Path | None) -> list[str]:
    assert go is not None
    return [str(go), "serve", str(port)]


def _go_load(port: int, load: Load, go: Path | None) -> list[str]:
    assert go is not None
    return [str(go), "load", str(port), str(INFLIGHT), str(load.warmup), str(load.seconds)]


SUBJECTS = (
    Subject(GEE, ("gee.rpc", "uvloop"), _gee_serve, _python_load("gee-msgpack")),
    Subject(GEE_JSON, ("gee.rpc", "uvloop"), _gee_serve, _python_load("gee-json")),
    Subject(GEE_TASKS, ("gee.rpc", "uvloop"), _gee_serve_tasks, _python_load("gee-msgpack")),
    Subject(GO, (), _go_serve, _go_load, needs_go=True),
    Subject(GRPC, ("grpc", "msgspec"), _python_serve("grpc"), _python_load("grpc")),
    Subject(RPYC, ("rpyc",), _python_serve("rpyc"), _python_load("rpyc")),
    Subject(PYRO5, ("Pyro5",), _python_serve("pyro5"), _python_load("pyro5")),
    Subject(RAW, ("uvloop", "msgspec"), _python_serve("raw"), _python_load("raw")),
)


def _missing(subject: Subject) -> str | None:
    if subject.needs_go:
        return go_missing()
    for module in subject.modules:
        try:
            found = importlib.util.find_spec(module) is not None
        except ImportError:
            found = False
        if not found:
            package = module.split(".")[0]
            return f"cannot import {module}; " + (
                "pip install -e ." if package == "gee" else f"pip install {package}"
            )
    return None


def _accepts(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1.0):
        return True


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # the servers import bench.rpc.payload, gee's command included
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def measure(subject: Subject, load: Load, go: Path | None) -> dict[str, float]:
    """One round: serve ``subject`` in a fresh process, load it, return the client's figures.

    Raises ServerError with the reason when the server does not start or the client fails.
    """
    port = free_port()
    env = _env()
    with Server(subject.serve(port, go), cwd=ROOT, env=env) as server:
        server.wait_until(lambda: _accepts(port), timeout=30)
        try:
            done = subprocess.run(
                subject.load(port, load, go),
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=load.warmup + load.seconds + 60,
                check=False,
            )
        except subprocess.TimeoutExpired:
            tail = server.log_tail()
            raise ServerError(f"the client did not finish; server said: {tail}") from None
        if done.returncode != 0:
            reason = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise ServerError(f"the client failed: {' / '.join(reason) or done.returncode}")
        try:
            figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise ServerError(f"the client printed no figures: {done.stdout[-300:]!r}") from None
        if server.process is not None and server.process.poll() is not None:
            raise ServerError(f"the server exited during the run: {server.log_tail()}")
    return figures


def run(quick: bool) -> Table:
    """Measure every subject (``quick``: one 1 s round each) and return the table."""
    load = QUICK if quick else FULL
    rounds: dict[str, list[dict[str, float]]] = {s.name: [] for s in SUBJECTS}
    problems: dict[str, Result] = {}
    for subject in SUBJECTS:
        reason = _missing(subject)
        if reason is not None:
            problems[subject.name] = Result(subject.name, CASE, status="unavailable", detail=reason)

    go: Path | None = None
    with tempfile.TemporaryDirectory(prefix="gee-bench-rpc-") as tmp:
        if GO not in problems:
            try:
                print("  building Go's net/rpc client and server", flush=True)
                go = build_netrpc(Path(tmp))
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                problems[GO] = Result(GO, CASE, status="failed", detail=str(exc))
        for n in range(load.rounds):
            for subject in SUBJECTS:
                if subject.name in problems:
                    continue
                print(f"  round {n + 1}/{load.rounds}: {subject.name}", flush=True)
                try:
                    figures = measure(subject, load, go)
                except ServerError as exc:
                    problems[subject.name] = Result(
                        subject.name, CASE, status="failed", detail=str(exc)
                    )
                    continue
                rounds[subject.name].append(figures)
                print(
                    f"    {figures['calls'] / figures['seconds']:,.0f} calls/s, "
                    f"p50 {figures['p50_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms",
                    flush=True,
                )

    results = []
    for subject in SUBJECTS:
        if subject.name in problems:
            results.append(problems[subject.name])
            continue
        figures = _median_round(rounds[subject.name])
        results.append(
            Result(
                subject.name,
                CASE,
                figures["calls"] / figures["seconds"],
                extra={"p50 ms": figures["p50_ms"], "p99 ms": figures["p99_ms"]},
            )
        )
    table = Table(
        title=f"Echo of a small struct, {INFLIGHT} calls in flight from one client process",
        unit="calls/s",
        higher_is_better=True,
        results=results,
        case_label="call",
        extra_columns=["p50 ms", "p99 ms"],
        baseline=RAW,
        ours=GEE,
        peers=[GO, GRPC, RPYC, PYRO5, RAW],
    )
    table.notes += _method_notes(load) + target_notes(table)
    return table


def _median_round(rounds: list[dict[str, float]]) -> dict[str, float]:
    """The round with the median rate (the lower middle one of an even count)."""
    ordered = sorted(rounds, key=lambda r: r["calls"] / r["seconds"])
    return ordered[(len(ordered) - 1) // 2]


def _method_notes(load: Load) -> list[str]:
    return [
        f"Each subject: a server process and one client process keeping {INFLIGHT} calls in"
        " flight on loopback, echoing a four-field struct (int, str, float, two strings; about"
        f" 40 bytes in MessagePack) and checking every reply; {load.warmup:g} s unmeasured, then"
        f" {load.seconds:g} s measured; {load.rounds} round(s) through all subjects, fresh"
        " servers each time, keeping each subject's median round. p50/p99: per-call latency"
        " as the caller sees it.",
        "gee.rpc rows use the default server (eager start: a handler runs inside the read and"
        " its task is scheduled only if it waits); the --no-eager row serves with"
        " `gee rpc serve --no-eager` (every request scheduled as a task first).",
        "How each keeps 64 in flight: gee.rpc (`gee rpc serve`, uvloop; the client on uvloop)"
        " and the raw echo: 64 coroutines on one connection. grpc.aio: 64 coroutines on one"
        " channel, asyncio's own loop on both sides (grpc.aio on uvloop was several times"
        " slower in a trial), generic handlers with msgspec MessagePack as the serializer"
        " (no protoc)."
        " rpyc: ThreadedServer, one connection, 64 requests pipelined with rpyc.async_."
        " Pyro5: thread-pool server, 64 threads each with its own proxy (a proxy is one"
        " blocking connection). Go: net/rpc with gob, one rpc.Client shared by 64 goroutines.",
        "The raw echo is the limit: u32 length-prefixed frames echoed by an asyncio+uvloop"
        " protocol without decoding (the client encodes and decodes the struct with msgspec"
        " and matches replies in order). Its client writes as gee.rpc's does: a loop"
        " iteration's requests in one send, a long burst in sends of 32 (so that client and"
        " server work at once rather than in turns; the raw echo runs ~1.4× faster with it).",
        "Issue 6 measured on this machine kind before gee existed (calls/s): raw ≈118k;"
        " Go net/rpc ≈73k; rpyc ≈27k; Pyro5 ≈10k; grpc.aio ≈3.6k.",
    ]


def target_notes(table: Table) -> list[str]:
    """Issue 6's targets and whether this run met them (pure: reads the table)."""
    gee = table.value(GEE, CASE)
    lines = [
        "Targets (issue 6): gee.rpc ≥ 60% of the raw limit (on par with Go's net/rpc),"
        " ≥ 15× grpc.aio, ≥ 2.5× rpyc, p99 under 2 ms at 64 in flight."
    ]
    checks = []
    for peer, goal, label in ((RAW, 0.60, "of raw"), (GRPC, 15.0, "grpc.aio"), (RPYC, 2.5, "rpyc")):
        theirs = table.value(peer, CASE)
        if gee is None or theirs is None:
            checks.append(f"{label}: not measured")
            continue
        times = gee / theirs
        shown = f"{times:.0%} of raw" if peer == RAW else f"{times:.1f}× {label}"
        checks.append(f"{shown} ({'met' if times >= goal else 'missed'})")
    p99 = next(
        (r.extra.get("p99 ms") for r in table.results if r.subject == GEE and r.status == "ok"),
        None,
    )
    if p99 is None:
        checks.append("p99: not measured")
    else:
        checks.append(f"p99 {p99:.2f} ms ({'met' if p99 < 2.0 else 'missed'})")
    lines.append("This run, gee.rpc msgpack: " + "; ".join(checks) + ".")
    return lines


def versions() -> str:
    """The versions of the measured packages and Go, for the notes."""
    found = []
    for package in ("grpcio", "rpyc", "Pyro5", "uvloop", "msgspec"):
        try:
            found.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{package} (not installed)")
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            ["go", "version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout.split()
        if len(out) >= 3:
            found.append(f"Go {out[2].removeprefix('go')}")
    return ", ".join(found)
