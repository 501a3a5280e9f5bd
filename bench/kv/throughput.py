"""Throughput: redis-benchmark against each server, once without pipelining and once with -P 16.

Every server runs in its own fresh process (``bench.kv.servers``); redis-benchmark runs the same
nine tests with the same flags against each, and its ``--csv`` report is the figure. redis-benchmark
exits at the first error reply, and after each run the keys its tests wrote are checked (the INCR
counter must equal the number of INCRs, and so on), so a server that drops or botches commands
fails instead of posting a number.
"""

from __future__ import annotations

import contextlib
import csv
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from bench.common import Result, Server, ServerError, Table, median_result, paired_note
from bench.kv.servers import (
    GEE,
    PYTHON_PEERS,
    REDIS,
    SUBJECTS,
    Subject,
    ask,
    missing,
    pipelines,
    resp_command,
    serve,
    text,
)

__all__ = [
    "COMMANDS",
    "DEPTHS",
    "FULL",
    "QUICK",
    "ROUNDS",
    "Load",
    "Row",
    "benchmark_argv",
    "benchmark_error",
    "expected_state",
    "measure_depth",
    "measure_interleaved",
    "parse_csv",
    "run",
]

COMMANDS = ("set", "get", "incr", "lpush", "rpop", "sadd", "hset", "zadd", "lrange_100")
DEPTHS = (1, 16)
CLIENTS = 50

# redis-benchmark's CSV names for the tests above; its extra "LPUSH (needed to benchmark LRANGE)"
# row (filling the list LRANGE reads) is not one of them.
_CSV_NAMES = {name.upper(): name for name in COMMANDS} | {
    "LRANGE_100 (first 100 elements)": "lrange_100"
}


@dataclass(frozen=True)
class Load:
    """``requests``: redis-benchmark's -n per test for redis-server and gee.kv;
    ``python_requests``: for the Python peers, which would take minutes per run at full -n."""

    requests: int
    python_requests: int

    def for_subject(self, subject: Subject) -> int:
        return self.python_requests if subject in PYTHON_PEERS else self.requests


FULL = Load(requests=100_000, python_requests=20_000)
QUICK = Load(requests=2_000, python_requests=2_000)
# Passes through redis-server and gee.kv, fresh processes each time, each command run on one
# right after the other; each command keeps its median pass. On 2 small cores one run of the same
# server swings by a third from one minute to the next, so one pass per server would compare
# moments, not servers. The Python peers, 10-50x slower, run once.
ROUNDS = 5


@dataclass(frozen=True)
class Row:
    """One test's figures from redis-benchmark's CSV."""

    rps: float
    p50_ms: float
    p99_ms: float


def benchmark_argv(
    port: int, requests: int, pipeline: int, commands: Sequence[str] = COMMANDS
) -> list[str]:
    """The redis-benchmark command line for one server at one pipeline depth."""
    return [
        "redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-t", ",".join(commands),
        "-c", str(CLIENTS), "-n", str(requests), "-P", str(pipeline), "--csv",
    ]  # fmt: skip


def parse_csv(output: str) -> dict[str, Row]:
    """redis-benchmark's ``--csv`` report, by command; other lines and tests are ignored.

    Raises ValueError if the header lacks a column this benchmark reports.
    """
    lines = [line for line in output.splitlines() if line.startswith('"')]
    rows: dict[str, Row] = {}
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        return rows
    try:
        rps, p50, p99 = (header.index(c) for c in ("rps", "p50_latency_ms", "p99_latency_ms"))
    except ValueError:
        raise ValueError(f"not redis-benchmark's CSV header: {lines[0]}") from None
    for fields in reader:
        case = _CSV_NAMES.get(fields[0])
        if case is not None:
            rows[case] = Row(float(fields[rps]), float(fields[p50]), float(fields[p99]))
    return rows


def benchmark_error(output: str) -> str:
    """Why redis-benchmark stopped, from its output: the server's error reply if it quotes one
    (it exits at the first), else its last words."""
    lines = [line.strip() for line in output.splitlines()]
    lines = [line for line in lines if line and not line.startswith('"')]
    for line in lines:
        if line.startswith("Error from server"):
            return line
    return " ".join(lines[-3:]) or "(no output)"


def expected_state(
    requests: int, commands: Sequence[str] = COMMANDS
) -> list[tuple[bytes, bytes | tuple[bytes, ...]]]:
    """What the keys redis-benchmark's tests wrote must hold after one run of ``requests`` each
    of ``commands`` (no -r, so every test uses one key: one member per set, hash and sorted set;
    the list gets LPUSH, RPOP, then LPUSH again to feed LRANGE, as far as those tests ran)."""
    checks: list[tuple[bytes, bytes | tuple[bytes, ...]]] = []
    if "set" in commands:
        checks.append((resp_command("STRLEN", "key:__rand_int__"), b":3\r\n"))
    if "incr" in commands:
        checks.append((resp_command("GET", "counter:__rand_int__"), text(str(requests))))
    pushes = ("lpush" in commands) - ("rpop" in commands) + ("lrange_100" in commands)
    if {"lpush", "rpop", "lrange_100"} & set(commands):
        checks.append((resp_command("LLEN", "mylist"), b":%d\r\n" % (max(pushes, 0) * requests)))
    for command, size, key in (("sadd", "SCARD", "myset"), ("hset", "HLEN", "myhash")):
        if command in commands:
            checks.append((resp_command(size, key), b":1\r\n"))
    if "zadd" in commands:
        checks.append((resp_command("ZCARD", "myzset"), b":1\r\n"))
    return checks


def _timeout(requests: int) -> float:
    """How long one redis-benchmark run may take: every test at 2,000 req/s or better."""
    return 30 + len(COMMANDS) * requests / 2000


def measure_depth(
    subject: Subject,
    server: Server,
    port: int,
    requests: int,
    depth: int,
    commands: Sequence[str] = COMMANDS,
    check: Callable[[], None] | None = None,
) -> list[Result]:
    """One redis-benchmark run of ``commands`` on a running server, checked (and ``check``ed:
    it raises ServerError if something else is wrong after the run); a Result per command
    either way."""
    ask(port, resp_command("FLUSHALL"), text("OK"))
    argv = benchmark_argv(port, requests, depth, commands)
    problem = ""
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=_timeout(requests), check=False
        )
        output = done.stdout
        if done.returncode != 0:
            said = benchmark_error(done.stdout + "\n" + done.stderr)
            problem = f"redis-benchmark exited with status {done.returncode}: {said}"
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or b""
        output = out.decode("utf-8", "replace") if isinstance(out, bytes) else out
        problem = f"redis-benchmark had not finished after {exc.timeout:.0f} s"
    rows = parse_csv(output)
    assert server.process is not None
    if server.process.poll() is not None:
        problem = f"the server died during the run: {server.log_tail()}"
    if not problem:
        try:
            for request, want in expected_state(requests, commands):
                ask(port, request, want)
            if check is not None:
                check()
        except (ServerError, OSError) as exc:
            problem = f"after the run: {exc}"
            rows = {}  # a server that lost writes has no figures worth showing
    results = []
    for command in commands:
        row = rows.get(command)
        if row is None:
            detail = problem or "no figure in redis-benchmark's report"
            results.append(Result(subject.name, command, status="failed", detail=detail))
        else:
            extra = {"p50 ms": row.p50_ms, "p99 ms": row.p99_ms}
            results.append(Result(subject.name, command, row.rps, extra))
    return results


def measure(subject: Subject, load: Load) -> dict[int, list[Result]]:
    """Start ``subject`` once and run redis-benchmark at each depth; Results by depth."""
    results: dict[int, list[Result]] = {depth: [] for depth in DEPTHS}

    def give_up(depth: int, status: Literal["failed", "unavailable"], detail: str) -> None:
        results[depth] = [
            Result(subject.name, command, status=status, detail=detail) for command in COMMANDS
        ]

    reason = missing(subject)
    if reason is not None:
        for depth in DEPTHS:
            give_up(depth, "unavailable", reason)
        return results
    requests = load.for_subject(subject)
    try:
        with serve(subject) as (server, port):
            no_pipelining = pipelines(port)
            for depth in DEPTHS:
                if depth > 1 and no_pipelining is not None:
                    give_up(depth, "failed", no_pipelining)
                    continue
                results[depth] = measure_depth(subject, server, port, requests, depth)
                _progress(subject, depth, results[depth])
    except (ServerError, OSError) as exc:
        for depth in DEPTHS:
            if not results[depth]:
                give_up(depth, "failed", " ".join(str(exc).split()))
    return results


def _progress(subject: Subject, depth: int, results: list[Result]) -> None:
    shown = ", ".join(
        f"{r.case} {r.value:,.0f}" if r.value is not None else f"{r.case} {r.status}"
        for r in results
    )
    print(f"  {subject.name:<12} -P {depth:<2} {shown}", flush=True)


def measure_interleaved(
    subjects: Sequence[Subject], load: Load, rounds: int
) -> dict[tuple[int, str, str], list[Result]]:
    """``rounds`` passes; in each, every subject is started afresh and all serve at once, and
    each (depth, command) runs on one subject right after the other, so that the figures put
    side by side were taken seconds apart. Results by (depth, subject, command), one per pass."""
    out: dict[tuple[int, str, str], list[Result]] = {}

    def record(depth: int, results: list[Result]) -> None:
        for result in results:
            out.setdefault((depth, result.subject, result.case), []).append(result)

    def give_up(
        subject: Subject, depth: int, status: Literal["failed", "unavailable"], detail: str
    ) -> None:
        record(depth, [Result(subject.name, c, status=status, detail=detail) for c in COMMANDS])

    for number in range(rounds):
        print(f"  round {number + 1}", flush=True)
        with contextlib.ExitStack() as stack:
            running: list[tuple[Subject, Server, int, str | None]] = []
            for subject in subjects:
                reason = missing(subject)
                if reason is not None:
                    for depth in DEPTHS:
                        give_up(subject, depth, "unavailable", reason)
                    continue
                try:
                    server, port = stack.enter_context(serve(subject))
                except (ServerError, OSError) as exc:
                    for depth in DEPTHS:
                        give_up(subject, depth, "failed", " ".join(str(exc).split()))
                    continue
                running.append((subject, server, port, pipelines(port)))
            for depth in DEPTHS:
                ran: dict[str, list[Result]] = {}
                for command in COMMANDS:
                    for subject, server, port, no_pipelining in running:
                        if depth > 1 and no_pipelining is not None:
                            results = [
                                Result(subject.name, command, status="failed", detail=no_pipelining)
                            ]
                        else:
                            try:
                                results = measure_depth(
                                    subject,
                                    server,
                                    port,
                                    load.for_subject(subject),
                                    depth,
                                    (command,),
                                )
                            except (ServerError, OSError) as exc:
                                detail = " ".join(str(exc).split())
                                results = [
                                    Result(subject.name, command, status="failed", detail=detail)
                                ]
                        record(depth, results)
                        ran.setdefault(subject.name, []).extend(results)
                for subject, *_ in running:
                    _progress(subject, depth, ran.get(subject.name, []))
    return out


def run(quick: bool) -> list[Table]:
    """A table per pipeline depth: every server's req/s (and p50/p99) on every command."""
    if shutil.which("redis-benchmark") is None:
        raise SystemExit("redis-benchmark is not installed (Debian: apt-get install redis-tools)")
    load = QUICK if quick else FULL
    rounds = measure_interleaved((REDIS, GEE), load, 1 if quick else ROUNDS)
    by_depth: dict[int, list[Result]] = {depth: [] for depth in DEPTHS}
    paired: dict[int, dict[tuple[str, str], list[Result]]] = {depth: {} for depth in DEPTHS}
    for (depth, name, command), results in rounds.items():
        by_depth[depth].append(median_result(results))
        paired[depth][(name, command)] = results
    for subject in SUBJECTS:
        if subject in PYTHON_PEERS:
            for depth, results in measure(subject, load).items():
                by_depth[depth] += results
    peers = [s.name for s in SUBJECTS if s != GEE]
    python_n = (
        f"; the Python peers -n {load.python_requests:,}"
        if load.python_requests != load.requests
        else ""
    )
    return [
        Table(
            title=(
                f"redis-benchmark -c {CLIENTS} -n {load.requests:,} -P {depth}{python_n}:"
                " requests per second"
            ),
            unit="req/s",
            higher_is_better=True,
            subject_label="server",
            case_label="command",
            extra_columns=["p50 ms", "p99 ms"],
            baseline=REDIS.name,
            ours=GEE.name,
            peers=peers,
            results=by_depth[depth],
            notes=[paired_note(paired[depth], GEE.name, REDIS.name, True)],
        )
        for depth in DEPTHS
    ]
