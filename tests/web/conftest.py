"""Fixtures of the gee.web tests: a real uvicorn (uvloop + httptools) serving tests.web.e2e_app."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import (
    RunningServer,
    _tail,
    free_port,
    port_open,
    start_process,
    stop_process,
    wait_for,
)

ROOT = Path(__file__).resolve().parents[2]


def launch_web(workdir: Path, app: str = "tests.web.e2e_app:app") -> RunningServer:
    """Start ``gee web APP`` (the CLI, so it is tested too) on a free port and wait for it."""
    port = free_port()
    log = workdir / "web.log"
    argv = [sys.executable, "-m", "gee", "web", app, "--port", str(port)]
    argv += ["--log-level", "warning", "--timeout-graceful-shutdown", "5"]
    proc = start_process(argv, ROOT, log)
    try:
        wait_for(lambda: proc.poll() is None and port_open(port), what="gee web")
    except TimeoutError:
        stop_process(proc)
        raise RuntimeError(f"gee web did not start:\n{_tail(log)}") from None
    return RunningServer("127.0.0.1", port, workdir, proc, {"log": log})


@pytest.fixture(scope="module")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One real server per test module (starting one takes about half a second)."""
    server = launch_web(tmp_path_factory.mktemp("web"))
    try:
        yield server
    finally:
        assert server.proc is not None
        stop_process(server.proc)
