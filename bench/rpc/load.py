"""``python -m bench.rpc.load SUBJECT PORT``: one client process keeping N echo calls in flight.

Prints one JSON line: ``{"calls", "seconds", "p50_ms", "p99_ms", "cpu_us"}`` (``cpu_us``: this
process's CPU time per measured call). For ``--warmup`` seconds the
callers run unmeasured (connections open, caches fill); then every call finished within the next
``--seconds`` is counted and its latency (send to reply, as the caller sees it) recorded. Every
reply is compared with what its caller sent, and a wrong one ends the run with an error: a
subject that answers wrongly fails rather than posting a number.

How each subject keeps N calls in flight from one process:

- ``gee-msgpack``, ``gee-json``, ``raw``, ``grpc``: N coroutines on one uvloop (grpc: asyncio's
  loop, the only one grpc.aio supports), each awaiting its call in a loop, sharing one
  connection (gRPC: one channel, i.e. one HTTP/2 connection).
- ``rpyc``: one connection, N requests pipelined with ``rpyc.async_``; each reply's callback
  sends that caller's next request, while the thread serves the connection.
- ``pyro5``: N threads, each with its own proxy (Pyro5 proxies are blocking, one call at a time
  per connection), so N connections.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from bench.rpc.payload import GRPC_METHOD, SERVICE, Item, item, item_dict, item_tuple

__all__ = ["Recorder", "main", "percentile"]


class WrongReply(Exception):
    """A subject answered a call with something other than what was sent."""


class Recorder:
    """Latencies of the calls finished while ``measuring``; thread-safe enough for the GIL."""

    def __init__(self) -> None:
        self.measuring = False
        self.stopping = False
        self.latencies: list[float] = []
        self.started = 0.0
        self.ended = 0.0
        self.cpu = 0.0  # this process's CPU seconds while measuring

    def record(self, seconds: float) -> None:
        if self.measuring:
            self.latencies.append(seconds)

    def begin(self) -> None:
        self.latencies = []
        self.started = time.perf_counter()
        self.cpu = time.process_time()
        self.measuring = True

    def end(self) -> None:
        self.measuring = False
        self.ended = time.perf_counter()
        self.cpu = time.process_time() - self.cpu
        self.stopping = True

    def summary(self) -> dict[str, float]:
        calls = len(self.latencies)
        seconds = self.ended - self.started
        ordered = sorted(self.latencies)
        return {
            "calls": calls,
            "seconds": seconds,
            "p50_ms": percentile(ordered, 50) * 1000,
            "p99_ms": percentile(ordered, 99) * 1000,
            # the client's CPU per call: steadier than calls/s on a busy machine
            "cpu_us": self.cpu / calls * 1e6 if calls else 0.0,
        }


def percentile(ordered: list[float], pct: float) -> float:
    """The nearest-rank percentile of sorted values (0.0 for none)."""
    if not ordered:
        return 0.0
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil(n * pct / 100)
    return ordered[int(rank) - 1]


def check(got: Any, want: Any) -> None:
    if got != want:
        raise WrongReply(f"sent {want!r}, got {got!r}")


# --- asyncio subjects ---------------------------------------------------------------------------

CallFactory = Callable[[int], Callable[[], Awaitable[None]]]


async def _drive(
    make_call: CallFactory, rec: Recorder, inflight: int, warmup: float, secs: float
) -> None:
    """Run ``inflight`` callers of ``make_call(n)()`` for warmup + secs; stop them cleanly."""

    async def caller(n: int) -> None:
        call = make_call(n)
        clock = time.perf_counter
        while not rec.stopping:
            t0 = clock()
            await call()
            rec.record(clock() - t0)

    tasks = [asyncio.create_task(caller(n)) for n in range(inflight)]
    done, _ = await asyncio.wait(tasks, timeout=warmup, return_when=asyncio.FIRST_EXCEPTION)
    if not done:
        rec.begin()
        done, _ = await asyncio.wait(tasks, timeout=secs, return_when=asyncio.FIRST_EXCEPTION)
        rec.end()
    rec.stopping = True
    await asyncio.gather(*tasks)  # raises a caller's error, if any


async def _gee(port: int, codec: str, rec: Recorder, n: int, warmup: float, secs: float) -> None:
    import gee.rpc

    client = await gee.rpc.connect(f"tcp@127.0.0.1:{port}", codec=codec)

    def make(k: int) -> Callable[[], Awaitable[None]]:
        sent = item(k)

        async def call() -> None:
            check(await client.call(SERVICE, sent, result=Item), sent)

        return call

    try:
        await _drive(make, rec, n, warmup, secs)
    finally:
        await client.close()


_RAW_BURST = 32  # requests sent without waiting for the end of the burst, as gee.rpc's client


class _RawClient(asyncio.Protocol):
    """Length-prefixed frames; the echo keeps order, so replies match a FIFO of futures."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiting: deque[asyncio.Future[bytes]] = deque()
        self.buf = bytearray()
        self.loop = asyncio.get_running_loop()
        self.out: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        pos, end = 0, len(buf)
        while end - pos >= 4:
            (length,) = struct.unpack_from(">I", buf, pos)
            if end - pos - 4 < length:
                break
            self.waiting.popleft().set_result(bytes(buf[pos + 4 : pos + 4 + length]))
            pos += 4 + length
        del buf[:pos]

    def send(self, body: bytes) -> asyncio.Future[bytes]:
        # what gee's client does too: requests of one loop iteration leave in one write, a
        # long burst in pieces of 32 (without them this echo was ~1.4x slower: client and
        # server took turns instead of working at once, and it would be no limit for gee)
        if not self.out:
            self.loop.call_soon(self.flush)
        self.out.append(struct.pack(">I", len(body)) + body)
        fut = self.loop.create_future()
        self.waiting.append(fut)
        if len(self.out) >= _RAW_BURST:
            self.flush()
        return fut

    def flush(self) -> None:
        if not self.out:
            return  # sent already, as a piece of a long burst
        out, self.out = self.out, []
        assert self.transport is not None
        self.transport.write(b"".join(out))


async def _raw(port: int, rec: Recorder, n: int, warmup: float, secs: float) -> None:
    import msgspec

    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_connection(_RawClient, "127.0.0.1", port)
    encode, decode = msgspec.msgpack.encode, msgspec.msgpack.Decoder(Item).decode

    def make(k: int) -> Callable[[], Awaitable[None]]:
        sent = item(k)

        async def call() -> None:
            check(decode(await proto.send(encode(sent))), sent)

        return call

    try:
        await _drive(make, rec, n, warmup, secs)
    finally:
        transport.close()


async def _grpc(port: int, rec: Recorder, n: int, warmup: float, secs: float) -> None:
    import grpc
    import msgspec

    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        echo = channel.unary_unary(
            GRPC_METHOD,
            request_serializer=msgspec.msgpack.encode,
            response_deserializer=msgspec.msgpack.Decoder(Item).decode,
        )

        def make(k: int) -> Callable[[], Awaitable[None]]:
            sent = item(k)

            async def call() -> None:
                check(await echo(sent), sent)

            return call

        await _drive(make, rec, n, warmup, secs)


# --- threaded subjects --------------------------------------------------------------------------


def _rpyc(port: int, rec: Recorder, n: int, warmup: float, secs: float) -> None:
    import rpyc

    conn = rpyc.connect("127.0.0.1", port)
    echo = rpyc.async_(conn.root.echo)
    errors: list[BaseException] = []
    outstanding = [0]

    def send(k: int) -> None:
        sent = item_tuple(k)
        t0 = time.perf_counter()

        def done(result: Any) -> None:
            outstanding[0] -= 1
            try:
                check(result.value, sent)
            except BaseException as exc:  # reported after the run
                errors.append(exc)
                rec.stopping = True
                return
            rec.record(time.perf_counter() - t0)
            if not rec.stopping:
                send(k)

        outstanding[0] += 1
        echo(sent).add_callback(done)

    for k in range(n):
        send(k)
    try:
        _serve_for(conn, warmup, rec)
        if not rec.stopping:
            rec.begin()
            _serve_for(conn, secs, rec)
            rec.end()
        rec.stopping = True
        while outstanding[0] and not errors:
            conn.serve(1.0)
    finally:
        conn.close()
    if errors:
        raise errors[0]


def _serve_for(conn: Any, seconds: float, rec: Recorder) -> None:
    deadline = time.perf_counter() + seconds
    while not rec.stopping and time.perf_counter() < deadline:
        conn.serve(0.05)


def _pyro5(port: int, rec: Recorder, n: int, warmup: float, secs: float) -> None:
    import Pyro5.api

    uri = f"PYRO:echo@127.0.0.1:{port}"
    errors: list[BaseException] = []
    ready = threading.Barrier(n + 1)

    def caller(k: int) -> None:
        try:
            with Pyro5.api.Proxy(uri) as proxy:
                proxy._pyroBind()
                sent = item_dict(k)
                ready.wait()
                clock = time.perf_counter
                while not rec.stopping:
                    t0 = clock()
                    check(proxy.echo(sent), sent)
                    rec.record(clock() - t0)
        except BaseException as exc:  # reported after the run
            errors.append(exc)
            rec.stopping = True
            ready.abort()

    threads = [threading.Thread(target=caller, args=(k,), daemon=True) for k in range(n)]
    for thread in threads:
        thread.start()
    try:
        ready.wait()
    except threading.BrokenBarrierError:
        pass
    else:
        time.sleep(warmup)
        if not rec.stopping:
            rec.begin()
            time.sleep(secs)
            rec.end()
    rec.stopping = True
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


# --- entry point ----------------------------------------------------------------------------------

SUBJECTS = ("gee-msgpack", "gee-json", "raw", "grpc", "rpyc", "pyro5")


def measure(subject: str, port: int, inflight: int, warmup: float, seconds: float) -> Recorder:
    """Run one subject's client against 127.0.0.1:``port``; return its recorder."""
    rec = Recorder()
    args = (rec, inflight, warmup, seconds)
    if subject in ("gee-msgpack", "gee-json"):
        import uvloop

        uvloop.run(_gee(port, subject.removeprefix("gee-"), *args))
    elif subject == "raw":
        import uvloop

        uvloop.run(_raw(port, *args))
    elif subject == "grpc":
        asyncio.run(_grpc(port, *args))
    elif subject == "rpyc":
        _rpyc(port, *args)
    elif subject == "pyro5":
        _pyro5(port, *args)
    else:
        raise ValueError(f"unknown subject {subject!r}")
    return rec


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rpc.load")
    parser.add_argument("subject", choices=SUBJECTS)
    parser.add_argument("port", type=int)
    parser.add_argument("--inflight", type=int, default=64)
    parser.add_argument("--warmup", type=float, default=0.5)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args(argv)
    try:
        rec = measure(args.subject, args.port, args.inflight, args.warmup, args.seconds)
    except WrongReply as exc:
        print(f"wrong reply: {exc}", file=sys.stderr)
        return 1
    summary = rec.summary()
    if not summary["calls"]:
        print("no call finished within the measured window", file=sys.stderr)
        return 1
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
