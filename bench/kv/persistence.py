"""Write throughput with the append-only file on: redis-benchmark against redis-server and gee.kv,
both with ``appendonly yes`` and the same ``appendfsync``, first ``everysec`` then ``always``.

Each pass starts both servers in fresh processes with fresh data dirs (on the disk the temp dir
is on) and ``save ''``; redis-benchmark runs SET, LPUSH and HSET at -P 1 and then -P 16, each on
one server right after the other (flushed before each run). Besides the checks of the
throughput tables (redis-benchmark stops at the first error reply; the keys hold what the run
wrote), the server's data dir must have grown by at least ``MIN_BYTES`` per request during the
run: a server that acknowledged writes without logging them fails instead of posting a number.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from bench.common import (
    Result,
    Server,
    ServerError,
    Table,
    format_ratio,
    median_result,
    paired_note,
    paired_ratio,
    ratio,
)
from bench.kv.servers import GEE, REDIS, Subject, missing, serve
from bench.kv.throughput import CLIENTS, DEPTHS, FULL, QUICK, ROUNDS, measure_depth

__all__ = ["COMMANDS", "MIN_BYTES", "POLICIES", "case", "directory_bytes", "run", "target_note"]

COMMANDS = ("set", "lpush", "hset")
POLICIES = ("everysec", "always")
# The fewest bytes one of those commands takes in an AOF (LPUSH mylist xxx is 36 in RESP).
MIN_BYTES = 30
# Issue 8's targets with everysec: the ratios to redis-server gee.kv must reach without
# persistence (issue 4), by pipeline depth.
TARGETS = {1: 0.90, 16: 0.25}


def case(command: str, depth: int) -> str:
    """A table's case name: the command and the pipeline depth."""
    return f"{command} -P {depth}"


def directory_bytes(path: Path) -> int:
    """The size of every file under ``path`` (Redis 7 keeps its AOF in a subdirectory)."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def measure(subjects: Sequence[Subject], policy: str, requests: int) -> list[Result]:
    """Start every subject afresh with the AOF under ``policy``, all serving at once; run each
    (depth, command) on one subject right after the other, so that the figures compared were
    taken seconds apart. A Result per subject and case."""
    results: list[Result] = []
    options = {"appendonly": "yes", "appendfsync": policy}
    with contextlib.ExitStack() as stack:
        running: list[tuple[Subject, Server, int]] = []
        for subject in subjects:
            reason = missing(subject)
            failure: tuple[Literal["failed", "unavailable"], str] | None = None
            if reason is not None:
                failure = ("unavailable", reason)
            else:
                try:
                    server, port = stack.enter_context(serve(subject, options=options))
                    running.append((subject, server, port))
                except (ServerError, OSError) as exc:
                    failure = ("failed", " ".join(str(exc).split()))
            if failure is not None:
                results += [
                    Result(subject.name, case(c, d), status=failure[0], detail=failure[1])
                    for d in DEPTHS
                    for c in COMMANDS
                ]
        for depth in DEPTHS:
            for command in COMMANDS:
                for subject, server, port in running:
                    results.append(_measure_one(subject, server, port, requests, depth, command))
        for subject, *_ in running:
            shown = ", ".join(
                f"{r.case} {r.value:,.0f}" if r.value is not None else f"{r.case} {r.status}"
                for r in results
                if r.subject == subject.name
            )
            print(f"  {subject.name:<12} {policy:<8} {shown}", flush=True)
    return results


def _measure_one(
    subject: Subject, server: Server, port: int, requests: int, depth: int, command: str
) -> Result:
    """One checked redis-benchmark run of ``command``: its writes must reach the data dir."""
    assert server.cwd is not None  # serve() runs it in its data dir
    data_dir = server.cwd
    before = directory_bytes(data_dir)
    want = MIN_BYTES * requests

    def logged() -> None:
        grown = directory_bytes(data_dir) - before
        if grown < want:
            raise ServerError(
                f"its data dir grew {grown:,} bytes during the run; an AOF of"
                f" every write is at least {want:,}"
            )

    try:
        (result,) = measure_depth(subject, server, port, requests, depth, (command,), logged)
    except (ServerError, OSError) as exc:
        detail = " ".join(str(exc).split())
        result = Result(subject.name, command, status="failed", detail=detail)
    result.case = case(command, depth)
    return result


def _lowest(ratios: list[float | None]) -> float | None:
    """The lowest of ``ratios``; None when any is missing."""
    known = [r for r in ratios if r is not None]
    return min(known) if known and len(known) == len(ratios) else None


def target_note(table: Table, rounds: dict[tuple[str, str], list[Result]]) -> str:
    """Whether this run met issue 8's targets: the lowest ratio to redis-server at each depth,
    both between the two servers' median passes (the table's) and pass by pass."""
    parts = []
    for depth, target in TARGETS.items():
        cases = [case(c, depth) for c in COMMANDS]
        by_median = _lowest(
            [ratio(table.value(GEE.name, c), table.value(REDIS.name, c), True) for c in cases]
        )
        by_pass = _lowest(
            [
                paired_ratio(rounds.get((GEE.name, c), []), rounds.get((REDIS.name, c), []), True)
                for c in cases
            ]
        )
        if by_median is None or by_pass is None:
            parts.append(f"-P {depth}: not measured")
            continue
        parts.append(
            f"-P {depth}: lowest {format_ratio(by_median)} between median passes"
            f" ({'met' if by_median >= target else 'missed'}), {format_ratio(by_pass)} pass by"
            f" pass ({'met' if by_pass >= target else 'missed'}); target {target:.2f}×"
        )
    return "This run, gee.kv against redis-server with everysec: " + "; ".join(parts) + "."


def run(quick: bool) -> list[Table]:
    """A table per fsync policy: both servers' req/s on every command at both depths."""
    if shutil.which("redis-benchmark") is None:
        raise SystemExit("redis-benchmark is not installed (Debian: apt-get install redis-tools)")
    requests = (QUICK if quick else FULL).requests
    tables = []
    for policy in POLICIES:
        table = Table(
            title=(
                f"With the AOF (appendonly yes, appendfsync {policy}): redis-benchmark"
                f" -c {CLIENTS} -n {requests:,}, requests per second"
            ),
            unit="req/s",
            higher_is_better=True,
            subject_label="server",
            case_label="command",
            extra_columns=["p50 ms", "p99 ms"],
            baseline=REDIS.name,
            ours=GEE.name,
            peers=[REDIS.name],
        )
        rounds: dict[tuple[str, str], list[Result]] = {}
        for _ in range(1 if quick else ROUNDS):
            for result in measure((REDIS, GEE), policy, requests):
                rounds.setdefault((result.subject, result.case), []).append(result)
        table.results += [median_result(results) for results in rounds.values()]
        table.notes.append(paired_note(rounds, GEE.name, REDIS.name, True))
        if policy == "everysec":
            table.notes.append(target_note(table, rounds))
        tables.append(table)
    return tables
