"""The servers the kv benchmark measures: how to start each, and the checks it must pass first.

Every subject is started in a fresh process on a free loopback port (``bench.common.Server``),
waited for until it answers PING, and checked with a SET/GET round trip before any figure is
taken. The checks speak RESP over a plain socket and compare whole replies (a string in either
form, see ``text``), so a server that answers wrongly is a failure rather than a fast number.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bench import BENCH_DIR
from bench.common import Server, ServerError, free_port

__all__ = [
    "DEFAULT_OPTIONS",
    "SUBJECTS",
    "Subject",
    "ask",
    "exchange",
    "missing",
    "pid_of",
    "pipe",
    "pipelines",
    "resp_command",
    "serve",
    "server_argv",
    "start",
    "text",
    "versions",
]

ROOT = BENCH_DIR.parent


@dataclass(frozen=True)
class Subject:
    """A server under measurement: ``program`` must be on PATH and ``modules`` importable."""

    name: str
    program: str | None = None
    modules: tuple[str, ...] = ()


REDIS = Subject("redis-server", program="redis-server")
GEE = Subject("gee.kv", modules=("gee.kv",))
FAKEREDIS = Subject("fakeredis", modules=("fakeredis",))
# pyvalkey, which issue 4 also measured, can be served for a look by hand but is not in the
# table: it has no RPOP (redis-benchmark stops at that test, before the sets, hashes, sorted sets
# and LRANGE) and answers pipelined commands one per second, so -P 16 cannot run. A peer that can
# never finish the run would fail every smoke run (python -m bench exits 1 when a subject fails).
PYVALKEY = Subject("pyvalkey", modules=("pyvalkey",))
SUBJECTS = (REDIS, GEE, FAKEREDIS)
PYTHON_PEERS = (FAKEREDIS, PYVALKEY)


def _gee_program() -> str:
    """The ``gee`` console script beside this Python (the venv's), else the one on PATH."""
    beside = Path(sys.executable).with_name("gee")
    return str(beside) if beside.exists() else shutil.which("gee") or "gee"


# Persistence off unless a table turns it on: redis-server and gee.kv both take these names.
DEFAULT_OPTIONS = {"save": "", "appendonly": "no"}


def server_argv(
    subject: Subject, port: int, data_dir: Path, options: Mapping[str, str] | None = None
) -> list[str]:
    """The command that serves ``subject`` on 127.0.0.1:``port``, writing only under data_dir.

    ``options`` (Redis's names, e.g. ``{"appendonly": "yes"}``) override DEFAULT_OPTIONS for
    redis-server and gee.kv; the Python peers take none.
    """
    settings = {**DEFAULT_OPTIONS, **(options or {})}
    flags = [word for name, value in settings.items() for word in (f"--{name}", value)]
    where = ["--port", str(port), "--bind", "127.0.0.1", *flags, "--dir", str(data_dir)]
    if subject == REDIS:
        return ["redis-server", *where]
    if subject == GEE:
        return [_gee_program(), "kv", *where]
    if options:
        raise ValueError(f"{subject.name} takes no server options")
    return [sys.executable, "-m", "bench.kv.peer_server", subject.name, str(port)]


def missing(subject: Subject) -> str | None:
    """Why ``subject`` cannot run here, or None if it can."""
    if subject.program is not None and shutil.which(subject.program) is None:
        return f"{subject.program} is not on PATH (Debian: apt-get install redis-server)"
    for module in subject.modules:
        try:
            found = importlib.util.find_spec(module) is not None
        except ImportError:
            found = False
        if not found:
            package = module.split(".")[0]
            hint = "pip install -e ." if package == "gee" else f"pip install {package}"
            return f"cannot import {module}; {hint}"
    return None


def versions() -> str:
    """The versions of the measured programs, for the notes."""
    found = []
    for program in ("redis-server", "redis-benchmark"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [program, "--version"], capture_output=True, text=True, timeout=10, check=False
            ).stdout.split()
            version = next((w[2:] for w in out if w.startswith("v=")), None)
            version = version or next((w for w in out if w[:1].isdigit()), "?")
            found.append(f"{program} {version}")
    for package in ("fakeredis", "hiredis", "uvloop"):
        try:
            found.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{package} (not installed)")
    return ", ".join(found)


# --- RESP over a plain socket ---------------------------------------------------------------------


def resp_command(*args: str | bytes) -> bytes:
    """One command as a RESP array of bulk strings."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg.encode() if isinstance(arg, str) else arg
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def text(value: str) -> tuple[bytes, bytes]:
    """A string reply in either form, simple or bulk.

    The Python peers do not always pick Redis's form (fakeredis' TCP server answers GET with a
    simple string, pyvalkey answers PING with a bulk one); clients read both alike and
    redis-benchmark does not look, so the checks accept either.
    """
    data = value.encode()
    return b"+%s\r\n" % data, b"$%d\r\n%s\r\n" % (len(data), data)


def exchange(
    port: int, request: bytes, done: Callable[[bytes], bool], timeout: float = 5.0
) -> bytes:
    """Send ``request`` on a new connection; read until ``done(what came)`` says so, the server
    closes or ``timeout`` seconds pass; return what came (OSError if the port is closed)."""
    got = b""
    deadline = time.monotonic() + timeout
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(request)
        while not done(got):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            conn.settimeout(left)
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            got += chunk
    return got


def pipe(port: int, stream: IO[bytes], timeout: float) -> subprocess.CompletedProcess[str]:
    """``redis-cli --pipe`` on 127.0.0.1:``port`` fed ``stream``; its status and output."""
    return subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", str(port), "--pipe"],
        stdin=stream,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def ask(port: int, request: bytes, want: bytes | tuple[bytes, ...], timeout: float = 5.0) -> None:
    """Send ``request`` on a new connection and require exactly ``want`` (or one of the ``want``
    tuple) back within ``timeout`` seconds; raise ServerError quoting what came instead
    (OSError if the port is closed)."""
    wants = (want,) if isinstance(want, bytes) else want
    got = exchange(
        port,
        request,
        lambda got: got in wants or not any(w.startswith(got) for w in wants),
        timeout,
    )
    if got not in wants:
        shown = got[:120] + (b"..." if len(got) > 120 else b"")
        wanted = " or ".join(repr(w[:80]) for w in wants)
        raise ServerError(f"sent {request[:80]!r}, got {shown!r}; want {wanted}")


def pipelines(port: int, depth: int = 16, timeout: float = 2.0) -> str | None:
    """None if ``depth`` PINGs sent in one write all get their PONG within ``timeout`` seconds,
    else why not (a server that reads one command per wakeup stalls redis-benchmark -P)."""
    try:
        got = exchange(
            port, resp_command("PING") * depth, lambda got: got.count(b"PONG") >= depth, timeout
        )
    except OSError as exc:
        return f"{depth} pipelined PINGs: {exc}"
    if got.count(b"PONG") < depth:
        return (
            f"does not take pipelined commands: {got.count(b'PONG')} of {depth} PINGs sent in"
            f" one write were answered within {timeout:.0f} s"
        )
    return None


@contextlib.contextmanager
def serve(
    subject: Subject, timeout: float = 30.0, options: Mapping[str, str] | None = None
) -> Iterator[tuple[Server, int]]:
    """Start ``subject`` on a free port in a temp dir, wait for PING, check a SET/GET round trip;
    yield the running server and its port. Raises ServerError if it does not come up right.
    ``options``: see ``server_argv``; the temp dir is the server's ``dir`` and its cwd."""
    port = free_port()
    with (
        tempfile.TemporaryDirectory(prefix="gee-bench-kv-") as data_dir,
        start(subject, port, Path(data_dir), options) as server,
    ):

        def ready() -> bool:
            try:
                ask(port, resp_command("PING"), text("PONG"), timeout=1.0)
            except ServerError:
                return False  # e.g. accepted before it is ready to answer; checked below
            return True

        server.wait_until(ready, timeout)
        ask(port, resp_command("PING"), text("PONG"))
        ask(port, resp_command("SET", "bench:probe", "42"), text("OK"))
        ask(port, resp_command("GET", "bench:probe"), text("42"))
        ask(port, resp_command("DEL", "bench:probe"), b":1\r\n")
        yield server, port


def start(
    subject: Subject, port: int, data_dir: Path, options: Mapping[str, str] | None = None
) -> Server:
    """``subject``'s process (not yet started: use as a context manager), serving from
    ``data_dir`` with ``options`` (see ``server_argv``); gee.kv imports this checkout's gee."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    return Server(server_argv(subject, port, data_dir, options), cwd=data_dir, env=env)


def pid_of(server: Server) -> int:
    """The PID of a running server's process."""
    if server.process is None or server.process.poll() is not None:
        raise ServerError(f"the server is not running: {server.log_tail()}")
    return server.process.pid
