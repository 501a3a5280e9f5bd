"""Server CPU per request: what a server spends on each redis-benchmark request, in µs.

On a small shared machine req/s at -P 1 swings with the host, and at -P 1 both servers are partly
bound by the benchmark client; the CPU a server process spends per request (user and system time
from /proc, before and after a run) is steadier, and it is what a change to the command path
moves. A development tool, not part of the benchmark table:

    python -m bench.kv.cpu [--tests set,get] [-n 100000] [-P 1] [--servers gee.kv,redis-server]
                           [--aof everysec|always]
"""

from __future__ import annotations

import argparse
import os
import subprocess
from pathlib import Path

from bench.kv.servers import SUBJECTS, pid_of, serve
from bench.kv.throughput import CLIENTS, benchmark_argv, parse_csv

__all__ = ["cpu_seconds", "main"]


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds a process has used so far, from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # Fields after the command name, which is in parentheses and may hold spaces.
    fields = stat[stat.rindex(")") + 2 :].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.kv.cpu", description=__doc__)
    parser.add_argument("--tests", default="set,get,lpush,hset,zadd")
    parser.add_argument("-n", type=int, default=100_000)
    parser.add_argument("-P", type=int, default=1, dest="depth")
    parser.add_argument("--servers", default="gee.kv,redis-server")
    parser.add_argument("--aof", choices=("everysec", "always", "no"), help="appendonly yes")
    args = parser.parse_args(argv)
    by_name = {s.name: s for s in SUBJECTS}
    for name in args.servers.split(","):
        aof = {"appendonly": "yes", "appendfsync": args.aof} if args.aof else None
        with serve(by_name[name], options=aof) as (server, port):
            pid = pid_of(server)
            for test in args.tests.split(","):
                user0, sys0 = cpu_seconds(pid)
                run = benchmark_argv(port, args.n, args.depth, [test])
                done = subprocess.run(run, capture_output=True, text=True, check=True)
                user1, sys1 = cpu_seconds(pid)
                rps = parse_csv(done.stdout)[test].rps
                per = 1e6 / args.n
                print(
                    f"{name:<12} {test:<10} {rps:>10,.0f} req/s  cpu/req"
                    f" {(user1 - user0 + sys1 - sys0) * per:5.2f} µs"
                    f" (user {(user1 - user0) * per:5.2f}, system {(sys1 - sys0) * per:5.2f})"
                    f"  -c {CLIENTS} -P {args.depth}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
