"""The kv benchmark: gee.kv against Debian's redis-server and fakeredis' TCP server.

Two throughput tables, redis-benchmark at ``-P 1`` and at ``-P 16`` (``throughput``); two with
the append-only file on, ``appendfsync everysec`` and ``always`` (``persistence``); one of memory
after loading small keys (``memory``); one of the time to load a big RDB and AOF (``loading``).
The servers and the checks each must pass before it is measured are in ``servers``; the Python
peers are served by ``peer_server``.
"""

from __future__ import annotations

from bench.common import Report

__all__ = ["run"]


def run(quick: bool) -> Report:
    """Measure throughput at both pipeline depths, then with the AOF, memory, and load time;
    ``quick``: tiny -n and data."""
    from bench.kv import loading, memory, persistence, throughput
    from bench.kv.servers import versions

    print("throughput (redis-benchmark)", flush=True)
    tables = throughput.run(quick)
    print("throughput with the AOF (redis-benchmark)", flush=True)
    aof_tables = persistence.run(quick)
    print("memory (RSS after redis-cli --pipe)", flush=True)
    rss = memory.run(quick)
    print("load time (an RDB and an AOF of the same keys)", flush=True)
    load_time = loading.run(quick)
    load = throughput.QUICK if quick else throughput.FULL
    tables[0].notes += [
        "Commands: redis-benchmark's own tests `-t "
        + ",".join(throughput.COMMANDS)
        + f" -c {throughput.CLIENTS}` (3-byte values, one key per test), against every server"
        " in a fresh process on loopback; the -P 16 table is a second run on the same server"
        " (flushed) with 16 commands in flight per connection. On these 2 cores -P 1 is bound"
        " by the benchmark client (even a trivial server nears Redis there), so server capacity"
        " shows at -P 16.",
        f"Rounds: {throughput.ROUNDS} passes; in each, redis-server and gee.kv are started"
        " afresh and each command runs on one right after the other (one redis-benchmark -t"
        " <command> per server, checked as below), so the two figures of a row were taken"
        " seconds apart; each keeps its median pass (p50/p99 from that pass). fakeredis runs"
        " once. One run of the same server was seen to swing by a third from one minute to the"
        " next on this machine.",
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
    aof_tables[-1].notes += [
        f"Commands: redis-benchmark -t <command> -c {throughput.CLIENTS} for each of"
        f" {', '.join(persistence.COMMANDS)}, at -P 1 then -P 16, each run on one server right"
        " after the other (flushed before each run); both servers in fresh processes with"
        " `--appendonly yes --appendfsync <policy> --save ''` and fresh data dirs on the"
        " machine's disk. Redis 7.0 keeps its AOF as a base file and an incremental file under"
        " appendonlydir/, gee.kv as one appendonly.aof; both rewrite automatically at their"
        " default thresholds (64 MB), which these runs do not reach."
        f" {throughput.ROUNDS} passes, each case keeping its median pass.",
        "Checks: those of the throughput tables (no error reply; the keys hold what the run"
        f" wrote), and the data dir must grow by at least {persistence.MIN_BYTES} bytes per"
        " request during each run (every write logged).",
        "Target (issue 8): with everysec, the ratios gee.kv reaches without persistence:"
        " ≥ 0.90× redis-server at -P 1 and ≥ 0.25× at -P 16 on every command. Under"
        " `always`, both servers fsync once per event-loop iteration (group commit), so the"
        " disk's fsync latency sets both figures.",
    ]
    load_time.notes += [
        f"Data: {loading.FULL_KEYS:,} keys (quick: {loading.QUICK_KEYS:,}), one command per"
        f" key: strings (1 in 8 with a TTL a day away; counters, short tokens, and 1 in 10 a"
        f" 100-byte text that LZF compresses), and 1 in {loading.SHARE} each a hash, list, set"
        f" (integers: an intset) and sorted set of {loading.MEMBERS} elements. redis-server"
        " loads them with redis-cli --pipe and SAVEs: that dump.rdb (Redis's own encodings:"
        " listpack, quicklist, intset, LZF) is the RDB both servers load; the commands written"
        " as RESP are the AOF both load (an old-style appendonly.aof in an empty dir, which"
        " Redis 7.0 takes as its base file).",
        "Time: from spawning the process until DBSIZE on a new connection answers the full"
        " count (polled every 10 ms; Redis answers -LOADING meanwhile, gee.kv listens once"
        " loaded), so it includes each program's start-up (for gee.kv, Python's and the"
        " imports, ≈0.3 s). The first and last key of each type are then read back and must"
        " hold what was written. RSS is read right after.",
        "gee.kv checks the RDB's CRC-64 in a child process while it parses (a pure-Python"
        " CRC runs at ≈10 MB/s), so its RDB load uses a second core.",
    ]
    return Report(
        system="kv",
        title="kv: gee.kv against redis-server and fakeredis",
        tables=[*tables, *aof_tables, rss, load_time],
        notes=[f"Versions: {versions()}."],
    )
