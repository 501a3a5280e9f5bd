"""Fixtures that start real programs on free loopback ports in temp dirs, and stop them.

Each fixture waits until its program answers before handing it over, and kills only the
process it started (by PID). Tests that use one carry the matching marker (see conftest).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

__all__ = ["RunningServer", "free_port", "redis_server", "start_process", "wait_for"]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], bool], timeout: float = 20.0, what: str = "server") -> None:
    """Poll ``check`` until it returns True; raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError as exc:
            last = exc
        time.sleep(0.05)
    raise TimeoutError(f"{what} did not answer within {timeout}s (last error: {last!r})")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


@dataclass
class RunningServer:
    """A program started by a fixture: where it listens and how to reach its files."""

    host: str
    port: int
    dir: Path
    proc: subprocess.Popen[bytes] | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)


def start_process(
    argv: list[str], cwd: Path, log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``argv`` with its output in ``log``; the caller stops it with ``stop_process``."""
    out = open(log, "wb")  # noqa: SIM115  (closed by the child's exit; Popen dups it)
    try:
        return subprocess.Popen(
            argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    finally:
        out.close()


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Terminate a process we started (by PID), then kill it if it lingers."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


def _tail(path: Path, n: int = 2000) -> str:
    try:
        return path.read_bytes()[-n:].decode(errors="replace")
    except OSError:
        return ""


# ---------------------------------------------------------------- redis-server


def launch_redis(workdir: Path, *extra: str) -> RunningServer:
    """Start a redis-server (the oracle for gee.kv) with no persistence on a free port."""
    exe = shutil.which("redis-server")
    if exe is None:
        raise FileNotFoundError("redis-server")
    port = free_port()
    log = workdir / "redis.log"
    argv = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    argv += ["--dir", str(workdir), "--enable-debug-command", "yes", *extra]
    proc = start_process(argv, workdir, log)
    try:
        wait_for(lambda: proc.poll() is None and port_open(port), what="redis-server")
    except TimeoutError:
        stop_process(proc)
        raise RuntimeError(f"redis-server did not start:\n{_tail(log)}") from None
    return RunningServer("127.0.0.1", port, workdir, proc)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RunningServer]:
    """A real redis-server on a free loopback port, fresh for each test."""
    server = launch_redis(tmp_path)
    try:
        yield server
    finally:
        assert server.proc is not None
        stop_process(server.proc)


def environ_with(**values: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(values)
    return env
