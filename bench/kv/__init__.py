"""The kv benchmark: gee.kv against Debian's redis-server and fakeredis' TCP server.

Two throughput tables, redis-benchmark at ``-P 1`` and at ``-P 16`` (``throughput``), and one of
memory after loading small keys (``memory``). The servers and the checks each must pass before it
is measured are in ``servers``; the Python peers are served by ``peer_server``.
"""

from __future__ import annotations

from bench.common import Report

__all__ = ["run"]


def run(quick: bool) -> Report:
    """Measure throughput at both pipeline depths, then memory; ``quick``: tiny -n and data."""
    from bench.kv import memory, throughput
    from bench.kv.servers import versions

    print("throughput (redis-benchmark)", flush=True)
    tables = throughput.run(quick)
    print("memory (RSS after redis-cli --pipe)", flush=True)
    rss = memory.run(quick)
    load = throughput.QUICK if quick else throughput.FULL
    tables[0].notes += [
        "Commands: redis-benchmark's own tests `-t "
        + ",".join(throughput.COMMANDS)
        + f" -c {throughput.CLIENTS}` (3-byte values, one key per test), against every server"
        " in a fresh process on loopback; the -P 16 table is a second run on the same server"
        " (flushed) with 16 commands in flight per connection. On these 2 cores -P 1 is bound"
        " by the benchmark client (even a trivial server nears Redis there), so server capacity"
        " shows at -P 16.",
        f"fakeredis runs with -n {load.python_requests:,} per test instead of"
        f" {load.requests:,}, which would take minutes per run at its speed; req/s is a"
        " steady-state rate, so the figures stay comparable (50 connections are opened once per"
        " test either way).",
        "Checks: every server must answer PING and a SET/GET round trip before it is measured,"
        " and 16 PINGs sent in one write within 2 s before the -P 16 run (else that run is"
        " failed: redis-benchmark would stall); redis-benchmark exits at the first error reply;"
        " after each run the test keys must hold what the run wrote (the INCR counter equals"
        " -n, the list -n items, one member per set, hash and sorted set).",
        "fakeredis' TCP server runs in bench/kv/peer_server.py as Redis 7.0, with its"
        " socketserver listen backlog raised from 5 to Redis's 511 (5 stalls 50 connecting"
        " clients for seconds).",
        "pyvalkey (named in issue 4) is not in the table: it has no RPOP, so redis-benchmark"
        " stops at that test, and it answers 16 pipelined PINGs at about one a second, so -P 16"
        " cannot run. A run here on 2026-11-22 (2 busy cores) saw ≈9–12k req/s at -P 1 on set,"
        " get, incr and lpush (`python -m bench.kv.peer_server pyvalkey PORT` serves it).",
        "Issue 4 measured on this machine kind before gee existed: redis-server ≈82–93k req/s"
        " at -P 1 and ≈0.8–1.3M at -P 16; fakeredis' server ≈6–7k and ≈11–14k; pyvalkey ≈5k"
        " and no pipelining at all.",
        "Targets (issue 4): gee.kv ≥ 0.90× redis-server at -P 1 and ≥ 0.25× at -P 16 on every"
        " command, and ≥ 20× fakeredis (the -P 16 target is the hard one).",
    ]
    rss.notes += [
        "Data: `SET key:<i> val:<i>` for the string keys; for the hash fields,"
        f" `HSET hash:<h> field:<j> val:<i>` in hashes of {memory.FIELDS_PER_HASH:,} fields"
        f" ({memory.PAIRS_PER_HSET} fields per HSET). Each data set is loaded into a fresh"
        " server, which must then report the right DBSIZE; RSS is VmRSS from /proc, read before"
        " (empty) and right after loading. Below 1× in the ratio columns means more memory than"
        " redis-server.",
        "Target (issue 4): gee.kv's RSS ≤ 3× redis-server's, i.e. ≥ 0.33× in the ratio columns.",
    ]
    return Report(
        system="kv",
        title="kv: gee.kv against redis-server and fakeredis",
        tables=[*tables, rss],
        notes=[f"Versions: {versions()}."],
    )
