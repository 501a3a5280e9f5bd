"""Instructions per request on gee.kv's fast path, counted by valgrind: a development tool.

On this shared 2-core VM req/s and even CPU time per request swing with the host; the number
of instructions the Python side runs per request does not. This feeds one encoded request to
a ``Client``'s ``data_received`` (no socket: a transport that drops what it is given) N times
under callgrind, subtracts a run that feeds it none, and prints the instructions per request
and where they go. It measures gee.kv's own work only: uvloop, the kernel and the client are
not in it. Needs valgrind (Debian: valgrind).

With ``--aof``, the server appends to an AOF (appendfsync everysec) and the requests are fed
inside a running uvloop loop, which takes one turn after each request so that the AOF's commit
runs as it does under redis-benchmark -P 1; the run it is measured against takes the same turns
with no requests. So the figure is the request's cost plus the AOF's (the loop's turn is not
in it), and the same count with the AOF off gives the AOF's share.

    python -m bench.kv.instructions [--tests set,get] [-n 10000] [--top 15] [--aof]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["REQUESTS", "count", "main"]

# redis-benchmark's requests for its tests (one key per test, 3-byte values).
REQUESTS: dict[str, list[str]] = {
    "get": ["GET", "key:__rand_int__"],
    "set": ["SET", "key:__rand_int__", "xxx"],
    "incr": ["INCR", "counter:__rand_int__"],
    "lpush": ["LPUSH", "mylist", "xxx"],
    "rpop": ["RPOP", "mylist"],
    "sadd": ["SADD", "myset", "element:__rand_int__"],
    "hset": ["HSET", "myhash", "element:__rand_int__", "xxx"],
    "zadd": ["ZADD", "myzset", "0", "element:__rand_int__"],
    "lrange_100": ["LRANGE", "mylist", "0", "99"],
}

# Run in the child: a server that is never started, one client, a transport that drops writes.
_FEED = """
import sys
from gee.kv.connection import Client
from gee.kv.resp import encode_command
from gee.kv.server import Server

class Transport:
    def write(self, data): pass
    def get_extra_info(self, name, default=None): return None
    def get_write_buffer_size(self): return 0

args, n = sys.argv[1].split(), int(sys.argv[2])
client = Client(Server())
client.connection_made(Transport())
feed = client.data_received
setup = encode_command([b"LPUSH", b"mylist"] + [b"xxx"] * 100)
feed(setup)  # LRANGE has 100 items to read; RPOP has items to pop
data = encode_command([a.encode() for a in args])
for _ in range(200):
    feed(data)
for _ in range(n):
    feed(data)
"""

# As _FEED, with an AOF (unless argv[4] is "off") and a running loop that turns once after
# each request; argv[3] is the run's number of turns, argv[2] how many of them feed a request.
_FEED_AOF = """
import asyncio, sys, tempfile
from pathlib import Path
import uvloop
from gee.kv.connection import Client
from gee.kv.persist.aof import AOF
from gee.kv.resp import encode_command
from gee.kv.server import Server

class Transport:
    def write(self, data): pass
    def get_extra_info(self, name, default=None): return None
    def get_write_buffer_size(self): return 0
    def is_closing(self): return False

args, n, turns = sys.argv[1].split(), int(sys.argv[2]), int(sys.argv[3])

async def main():
    server = Server()
    with tempfile.TemporaryDirectory() as tmp:
        aof = AOF(server, Path(tmp) / "appendonly.aof")
        if sys.argv[4] != "off":
            server.aof = aof
            server.propagate = aof.propagate
        client = Client(server)
        client.connection_made(Transport())
        feed = client.data_received
        feed(encode_command([b"LPUSH", b"mylist"] + [b"xxx"] * 100))
        data = encode_command([a.encode() for a in args])
        for _ in range(200):
            feed(data)
            await asyncio.sleep(0)
        for i in range(turns):
            if i < n:
                feed(data)
            await asyncio.sleep(0)
        aof.close()

uvloop.run(main())
"""


def _functions(out_file: Path) -> dict[str, int]:
    """Instructions by function (self cost) from a callgrind output file."""
    report = subprocess.run(
        ["callgrind_annotate", "--inclusive=no", "--threshold=100", str(out_file)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    costs: dict[str, int] = {}
    for line in report.splitlines():
        match = re.match(r"\s*([\d,]+) \([^)]*\)\s+(\S+)", line)
        if match and ":" in match.group(2):
            name = match.group(2).split(":", 1)[1]
            costs[name] = costs.get(name, 0) + int(match.group(1).replace(",", ""))
    return costs


def count(test: str, n: int, aof: str = "") -> tuple[float, dict[str, float]]:
    """(instructions per request, per-request instructions by function) for one test; ``aof``
    "on" or "off" runs it in a loop with or without an AOF (see the module docstring)."""
    args = " ".join(REQUESTS[test])
    program = [_FEED_AOF] if aof else [_FEED]
    with tempfile.TemporaryDirectory(prefix="gee-instructions-") as tmp:
        runs = []
        for requests in (0, n):
            out = Path(tmp) / f"callgrind.{requests}"
            valgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
            feed = [sys.executable, "-c", *program, args, str(requests), str(n), aof]
            subprocess.run([*valgrind, *feed], capture_output=True, check=True)
            runs.append(_functions(out))
    base, loaded = runs
    per = {k: (loaded.get(k, 0) - base.get(k, 0)) / n for k in set(base) | set(loaded)}
    return sum(per.values()), per


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.kv.instructions", description=__doc__)
    parser.add_argument("--tests", default=",".join(REQUESTS))
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--top", type=int, default=0, help="also list the N costliest functions")
    parser.add_argument("--aof", action="store_true", help="with an AOF (appendfsync everysec)")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    for test in args.tests.split(","):
        total, per = count(test, args.n, "on" if args.aof else "")
        if args.aof:  # the AOF's share, and by function what it adds
            base, without = count(test, args.n, "off")
            share = total - base
            print(f"{test:<11} {total:8,.0f} instructions/request, the AOF's {share:,.0f}")
            per = {k: per.get(k, 0) - without.get(k, 0) for k in set(per) | set(without)}
        else:
            print(f"{test:<11} {total:8,.0f} instructions/request", flush=True)
        for name, cost in sorted(per.items(), key=lambda kv: -kv[1])[: args.top]:
            print(f"    {cost:7,.0f}  {name[:80]}")


if __name__ == "__main__":
    main()
