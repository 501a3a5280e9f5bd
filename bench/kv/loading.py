"""Load time: from process start until a server with a big dataset on disk answers for it.

One dataset (``dataset_commands``: mostly strings, some with a TTL, and small hashes, lists,
sets and sorted sets, one command per key) is loaded once into redis-server with
``redis-cli --pipe`` and SAVEd: that ``dump.rdb`` is what both servers load. The same commands,
written as RESP, are the AOF both load (``appendonly.aof`` in an otherwise empty ``dir``: Redis
7.0 takes an old-style single file there as its base and upgrades it to its multi-part layout).

The clock runs from the moment the process is spawned until DBSIZE answers the full count on a
fresh connection, polled every 10 ms: Redis listens while loading and answers ``-LOADING``, gee.kv
listens only once loaded, so "answers PING" would favour Redis and "accepts a connection" would
favour gee.kv. A few keys of each type are then read back (``spot_checks``), so a server that
loaded the wrong thing fails instead of posting a time; RSS is read last.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import Result, ServerError, Table, free_port
from bench.kv.memory import rss_mib
from bench.kv.servers import (
    GEE,
    REDIS,
    Subject,
    ask,
    exchange,
    missing,
    pid_of,
    pipe,
    resp_command,
    serve,
    start,
    text,
)

__all__ = ["FULL_KEYS", "QUICK_KEYS", "dataset_commands", "run", "spot_checks"]

FULL_KEYS = 1_000_000
QUICK_KEYS = 20_000
# One key in SHARE is each aggregate type (the rest are strings); each has MEMBERS elements.
SHARE = 20
MEMBERS = 8
# A deadline for the strings that have a TTL: a day after the bench runs, so none expires.
TTL_MS = 86_400_000


def _kind(i: int) -> str:
    return ("hash", "list", "set", "zset")[i % SHARE] if i % SHARE < 4 else "string"


def _string_value(i: int) -> bytes:
    # Counters, short tokens, and now and then a longer compressible text (LZF in the RDB).
    if i % 10 == 5:
        return b"%d" % (i * 7)
    if i % 10 == 9:
        return b'{"user":%d,"tags":["a","b"],"bio":"%s"}' % (i, b"lorem ipsum " * 6)
    return b"v:%08x" % (i * 2654435761 % (1 << 32))


def dataset_commands(count: int, now_ms: int) -> list[bytes]:
    """``count`` commands that each create one key: SET (every 8th with PXAT a day after
    ``now_ms``), and one HSET, RPUSH, SADD (integers: an intset) and ZADD in every SHARE."""
    out = []
    deadline = b"%d" % (now_ms + TTL_MS)
    for i in range(count):
        kind = _kind(i)
        if kind == "string":
            key = b"key:%d" % i
            if i % 8 == 3:
                out.append(resp_command(b"SET", key, _string_value(i), b"PXAT", deadline))
            else:
                out.append(resp_command(b"SET", key, _string_value(i)))
        elif kind == "hash":
            fields = [x for j in range(MEMBERS) for x in (b"f%d" % j, b"%d:%d" % (i, j))]
            out.append(resp_command(b"HSET", b"hash:%d" % i, *fields))
        elif kind == "list":
            items = [b"item-%d-%d" % (i, j) for j in range(MEMBERS)]
            out.append(resp_command(b"RPUSH", b"list:%d" % i, *items))
        elif kind == "set":
            members = [b"%d" % (i * MEMBERS + j) for j in range(MEMBERS)]
            out.append(resp_command(b"SADD", b"set:%d" % i, *members))
        else:
            pairs = [x for j in range(MEMBERS) for x in (b"%d.5" % j, b"m%d" % j)]
            out.append(resp_command(b"ZADD", b"zset:%d" % i, *pairs))
    return out


def spot_checks(count: int) -> list[tuple[bytes, bytes | tuple[bytes, ...]]]:
    """Requests and the replies they must get once ``dataset_commands(count, ...)`` is loaded:
    the first and last key of each type (a server may answer a string in either form)."""
    checks: list[tuple[bytes, bytes | tuple[bytes, ...]]] = [
        (resp_command("DBSIZE"), b":%d\r\n" % count)
    ]
    for kind in ("string", "hash", "list", "set", "zset"):
        found = [i for i in range(min(count, 2 * SHARE)) if _kind(i) == kind][:1]
        found += [i for i in range(count - 1, max(count - 2 * SHARE, -1), -1) if _kind(i) == kind][
            :1
        ]
        for i in found:
            if kind == "string":
                checks.append((resp_command("GET", b"key:%d" % i), text(_string_value(i).decode())))
            elif kind == "hash":
                checks.append((resp_command("HGET", b"hash:%d" % i, b"f7"), text(f"{i}:7")))
            elif kind == "list":
                checks.append((resp_command("LINDEX", b"list:%d" % i, b"-1"), text(f"item-{i}-7")))
            elif kind == "set":
                checks.append((resp_command("SCARD", b"set:%d" % i), b":%d\r\n" % MEMBERS))
            else:
                checks.append((resp_command("ZSCORE", b"zset:%d" % i, b"m3"), text("3.5")))
    ttl_key = next(i for i in range(count) if _kind(i) == "string" and i % 8 == 3)
    checks.append((resp_command("PEXPIRETIME", b"key:%d" % ttl_key), b"*"))  # see _check
    return checks


def _check(port: int, request: bytes, want: bytes | tuple[bytes, ...]) -> None:
    if want == b"*":  # a deadline: any positive integer
        got = exchange(port, request, lambda got: got.endswith(b"\r\n"))
        if not (got.startswith(b":") and int(got[1:]) > 0):
            raise ServerError(f"sent {request!r}, got {got!r}; want a deadline")
        return
    ask(port, request, want)


def build(commands: list[bytes], count: int, work: Path) -> tuple[Path, Path]:
    """Write the AOF (``work/aof/appendonly.aof``) and, through redis-server, the RDB
    (``work/rdb/dump.rdb``) of ``commands``; return both paths."""
    aof = work / "aof" / "appendonly.aof"
    aof.parent.mkdir()
    with open(aof, "wb") as f:
        f.write(b"".join(commands))
    rdb = work / "rdb" / "dump.rdb"
    rdb.parent.mkdir()
    with serve(REDIS) as (server, port):
        with open(aof, "rb") as stream:
            done = pipe(port, stream, timeout=120 + count / 5000)
        said = " ".join((done.stdout + done.stderr).split())
        if done.returncode != 0 or f"errors: 0, replies: {count}" not in said:
            raise ServerError(f"redis-cli --pipe (status {done.returncode}): {said[-300:]}")
        ask(port, resp_command("DBSIZE"), b":%d\r\n" % count)
        ask(port, resp_command("SAVE"), text("OK"), timeout=120)
        assert server.cwd is not None  # serve() runs it in its data dir
        shutil.copyfile(server.cwd / "dump.rdb", rdb)
    return aof, rdb


def time_load(subject: Subject, source: Path, count: int, timeout: float) -> Result:
    """Start ``subject`` on a copy of ``source`` (a dump.rdb or an appendonly.aof) and time it
    until DBSIZE answers ``count``; check what it loaded; its RSS then."""
    case = "RDB" if source.suffix == ".rdb" else "AOF"
    result = Result(subject.name, f"{count // 1000:,}k keys from {case}")
    reason = missing(subject)
    if reason is not None:
        result.status, result.detail = "unavailable", reason
        return result
    options = {"appendonly": "yes"} if case == "AOF" else {}
    want = b":%d\r\n" % count
    try:
        with tempfile.TemporaryDirectory(prefix="gee-bench-kv-load-") as data_dir:
            shutil.copyfile(source, Path(data_dir) / source.name)
            port = free_port()
            with start(subject, port, Path(data_dir), options) as server:
                began = time.monotonic()
                deadline = began + timeout
                while True:
                    assert server.process is not None
                    if server.process.poll() is not None:
                        raise ServerError(f"exited while loading: {server.log_tail()}")
                    try:
                        got = exchange(port, resp_command("DBSIZE"), _one_reply, timeout=5)
                    except OSError:
                        got = b""
                    if got == want:
                        break
                    if got and not got.startswith(b"-LOADING"):
                        raise ServerError(f"DBSIZE answered {got[:80]!r}; want {want!r}")
                    if time.monotonic() > deadline:
                        raise ServerError(f"not loaded after {timeout:.0f} s")
                    time.sleep(0.01)
                seconds = time.monotonic() - began
                for request, reply in spot_checks(count):
                    _check(port, request, reply)
                result.value = seconds
                result.extra = {"RSS MiB": rss_mib(pid_of(server))}
    except (ServerError, OSError, subprocess.TimeoutExpired) as exc:
        result.status, result.detail = "failed", " ".join(str(exc).split())
    return result


def _one_reply(got: bytes) -> bool:
    return got.endswith(b"\r\n")


def run(quick: bool) -> Table:
    """Build the dataset once, then time each server loading its RDB and its AOF."""
    count = QUICK_KEYS if quick else FULL_KEYS
    table = Table(
        title=f"Load time: from process start until DBSIZE answers {count:,} keys"
        " (lower is better)",
        unit="seconds",
        higher_is_better=False,
        subject_label="server",
        case_label="data",
        extra_columns=["RSS MiB"],
        baseline=REDIS.name,
        ours=GEE.name,
        peers=[REDIS.name],
    )
    reason = missing(REDIS)
    with tempfile.TemporaryDirectory(prefix="gee-bench-kv-data-") as work:
        try:
            if reason is not None:
                raise ServerError(f"the dataset is built by redis-server: {reason}")
            commands = dataset_commands(count, int(time.time() * 1000))
            aof, rdb = build(commands, count, Path(work))
            del commands
        except (ServerError, OSError, subprocess.TimeoutExpired) as exc:
            detail = " ".join(str(exc).split())
            for case in ("RDB", "AOF"):
                for subject in (REDIS, GEE):
                    table.results.append(
                        Result(
                            subject.name,
                            f"{count // 1000:,}k keys from {case}",
                            status="failed",
                            detail=detail,
                        )
                    )
            return table
        print(
            f"  dataset: {count:,} keys; dump.rdb {rdb.stat().st_size / 2**20:,.1f} MiB,"
            f" appendonly.aof {aof.stat().st_size / 2**20:,.1f} MiB",
            flush=True,
        )
        timeout = 60 + count / 5000
        for source in (rdb, aof):
            for subject in (REDIS, GEE):
                result = time_load(subject, source, count, timeout)
                shown = f"{result.value:.2f} s" if result.value is not None else result.status
                print(f"  {subject.name:<12} {result.case:<22} {shown}", flush=True)
                table.results.append(result)
    return table
