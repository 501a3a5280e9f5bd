"""Where a gee.cache node's time goes per peer request, with no server and no network.

    python -m bench.cache.profile_node [--requests N] [--profile]

Calls bench/cache/node.py's ``HTTPPool`` (the app the peer-endpoint benchmark serves) as an ASGI
app with the scope uvicorn and httptools build for ``GET /_groupcache/scores/key-<i>`` (a
kept-alive request cycling 1,000 cached keys, as cycle_keys.lua does) and a ``send`` that only
keeps the messages. Prints µs per request for the whole app, for a minimal ASGI app that sends a
fixed protobuf answer (the floor: what any ASGI app costs per request), and for the Group's hit
path alone; with ``--profile``, cProfile's view of the app sorted by own time, in µs per request.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import time

from bench.cache.node import GROUP, app, group, value_of
from gee.web.types import ASGIApp, Message, Receive, Scope, Send

KEYS = 1000


def scope_for(key: str) -> Scope:
    """The scope uvicorn (httptools) hands the app for wrk's request."""
    path = f"/_groupcache/{GROUP}/{key}"
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8001),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "GET",
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8001")],
        "state": {},
    }


async def _receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: Message) -> None:
    return None


async def minimal(scope: Scope, receive: Receive, send: Send) -> None:
    """The floor: the two messages of a 200 protobuf answer, nothing looked at."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/x-protobuf"), (b"content-length", b"20")],
        }
    )
    await send({"type": "http.response.body", "body": b"\n\x12value-of-key-0000"})


async def _loop(target: ASGIApp, scopes: list[Scope], n: int) -> float:
    started = time.perf_counter()
    for i in range(n):
        await target(scopes[i % KEYS], _receive, _send)
    return time.perf_counter() - started


async def _group_loop(keys: list[str], n: int) -> float:
    get = group.get
    started = time.perf_counter()
    for i in range(n):
        await get(keys[i % KEYS])
    return time.perf_counter() - started


async def main(n: int, profile: bool) -> None:
    keys = [f"key-{i}" for i in range(KEYS)]
    scopes = [scope_for(k) for k in keys]
    sent: list[Message] = []

    async def keep(message: Message) -> None:
        sent.append(message)

    await app(scopes[0], _receive, keep)  # check the answer once
    status = sent[0]["status"]
    if status != 200 or value_of(keys[0]).encode() not in sent[1]["body"]:
        raise SystemExit(f"the app answered {status} {sent[1]['body']!r}")
    for key in keys:
        await group.get(key)  # warm the cache: only hits below
    loads = group.stats.local_loads
    await _loop(app, scopes, n // 10)  # warm up
    figures = {
        "HTTPPool app (whole request)": await _loop(app, scopes, n),
        "minimal ASGI app (floor)": await _loop(minimal, scopes, n),
        "group.get alone (hit)": await _group_loop(keys, n),
    }
    assert group.stats.local_loads == loads, "a request missed the cache"
    for label, seconds in figures.items():
        print(f"{label:<30} {seconds / n * 1e6:7.2f} µs/request")
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        await _loop(app, scopes, n)
        profiler.disable()
        print_profile(pstats.Stats(profiler), n, figures["HTTPPool app (whole request)"] / n * 1e6)


def print_profile(stats: pstats.Stats, n: int, whole_us: float) -> None:
    """Own time per function: µs per profiled request, its share of the profiled total, and
    that share of the unprofiled request (cProfile slows small calls most: an estimate)."""
    table: dict[tuple[str, int, str], tuple[int, int, float, float, object]]
    table = stats.stats  # type: ignore[attr-defined]
    total = sum(row[2] for row in table.values())
    rows = sorted(table.items(), key=lambda item: -item[1][2])
    print(f"\ncProfile of {n:,} requests; own time per request ({whole_us:.2f} µs unprofiled):")
    print(f"{'profiled µs':>11} {'share':>6} {'≈ µs':>6} {'calls':>5}  function")
    for (filename, line, name), (_cc, calls, own, _cum, _callers) in rows[:22]:
        where = filename.split("/src/")[-1].split("site-packages/")[-1]
        share = own / total
        print(
            f"{own / n * 1e6:11.2f} {share:6.1%} {share * whole_us:6.2f} {calls / n:5.1f}"
            f"  {where}:{line}({name})"
        )


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--profile", action="store_true", help="also print cProfile's view")
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.profile))


if __name__ == "__main__":
    cli()
