"""Write throughput with the append-only file on: redis-benchmark against redis-server and gee.kv,
both with ``appendonly yes`` and the same ``appendfsync``, first ``everysec`` then ``always``.

Each server runs in a fresh process with a fresh data dir (on the disk the temp dir is on) and
``save ''``; redis-benchmark runs SET, LPUSH and HSET at -P 1 and then -P 16 on the same process
(flushed between). Besides the checks of the throughput tables (redis-benchmark stops at the first
error reply; the keys hold what the run wrote), the server's data dir must have grown by at least
``MIN_BYTES`` per request during the run: a server that acknowledged writes without logging them
fails instead of posting a number.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from bench.common import Result, ServerError, Table, format_ratio, median_result, ratio
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


def measure(subject: Subject, policy: str, requests: int) -> list[Result]:
    """Start ``subject`` with the AOF under ``policy``; a run per depth; Results by case."""
    reason = missing(subject)
    if reason is not None:
        return [
            Result(subject.name, case(c, d), status="unavailable", detail=reason)
            for d in DEPTHS
            for c in COMMANDS
        ]
    results: list[Result] = []
    options = {"appendonly": "yes", "appendfsync": policy}
    try:
        with serve(subject, options=options) as (server, port):
            assert server.cwd is not None  # serve() runs it in its data dir
            data_dir = server.cwd
            for depth in DEPTHS:
                before = directory_bytes(data_dir)
                want = MIN_BYTES * requests * len(COMMANDS)

                def logged(before: int = before, want: int = want) -> None:
                    grown = directory_bytes(data_dir) - before
                    if grown < want:
                        raise ServerError(
                            f"its data dir grew {grown:,} bytes during the run; an AOF of"
                            f" every write is at least {want:,}"
                        )

                ran = measure_depth(subject, server, port, requests, depth, COMMANDS, logged)
                for result in ran:
                    result.case = case(result.case, depth)
                results += ran
                shown = ", ".join(
                    f"{r.case} {r.value:,.0f}" if r.value is not None else f"{r.case} {r.status}"
                    for r in ran
                )
                print(f"  {subject.name:<12} {policy:<8} {shown}", flush=True)
    except (ServerError, OSError) as exc:
        done = {r.case for r in results}
        detail = " ".join(str(exc).split())
        results += [
            Result(subject.name, case(c, d), status="failed", detail=detail)
            for d in DEPTHS
            for c in COMMANDS
            if case(c, d) not in done
        ]
    return results


def target_note(table: Table) -> str:
    """Whether this run met issue 8's targets: the lowest ratio to redis-server at each depth."""
    parts = []
    for depth, target in TARGETS.items():
        ratios = [
            ratio(
                table.value(GEE.name, case(c, depth)), table.value(REDIS.name, case(c, depth)), True
            )
            for c in COMMANDS
        ]
        if any(r is None for r in ratios):
            parts.append(f"-P {depth}: not measured")
            continue
        lowest = min(r for r in ratios if r is not None)
        verdict = "met" if lowest >= target else "missed"
        parts.append(f"-P {depth}: lowest {format_ratio(lowest)} (target {target:.2f}×, {verdict})")
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
            for subject in (REDIS, GEE):
                for result in measure(subject, policy, requests):
                    rounds.setdefault((subject.name, result.case), []).append(result)
        table.results += [median_result(results) for results in rounds.values()]
        tables.append(table)
    tables[0].notes.append(target_note(tables[0]))
    return tables
