"""End to end: tests.web.e2e_app served by a real uvicorn (uvloop + httptools) via ``gee web``."""

from __future__ import annotations

import shutil
import signal
import socket
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from tests.servers import (
    RunningServer,
    _tail,
    free_port,
    port_open,
    start_process,
    stop_process,
    wait_for,
)
from tests.web.conftest import launch_web


def url(server: RunningServer, path: str) -> str:
    return f"http://127.0.0.1:{server.port}{path}"


def test_hello_world(web_server: RunningServer) -> None:
    r = httpx.get(url(web_server, "/"))
    assert (r.status_code, r.text) == (200, "Hello, World!")
    assert r.headers["content-type"] == "text/plain; charset=utf-8"


def test_params_are_percent_decoded_and_query_read(web_server: RunningServer) -> None:
    r = httpx.get(url(web_server, "/hello/a%20b%2Fc?q=x%26y"))
    assert r.json() == {"name": "a b/c", "q": "x&y"}, f"got {r.json()}"


def test_startup_hook_ran(web_server: RunningServer) -> None:
    assert httpx.get(url(web_server, "/state")).json()["started"] is True


def test_head_is_served_by_get_without_a_body(web_server: RunningServer) -> None:
    r = httpx.head(url(web_server, "/"))
    assert r.status_code == 200
    assert r.headers["content-length"] == "13"
    assert r.content == b""


def test_404_and_405(web_server: RunningServer) -> None:
    assert httpx.get(url(web_server, "/nope")).status_code == 404
    r = httpx.delete(url(web_server, "/"))
    assert (r.status_code, r.headers["allow"]) == (405, "GET, HEAD")


def test_keep_alive_connection_serves_many_requests(web_server: RunningServer) -> None:
    with httpx.Client() as client:
        for i in range(20):
            assert client.get(url(web_server, f"/hello/{i}")).json()["name"] == str(i)


def test_concurrent_requests_do_not_wait_for_each_other(web_server: RunningServer) -> None:
    results: list[int] = []

    def call() -> None:
        results.append(httpx.get(url(web_server, "/sleep?s=0.5")).status_code)

    threads = [threading.Thread(target=call) for _ in range(5)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    assert results == [200] * 5
    assert elapsed < 2.0, f"5 concurrent 0.5 s requests took {elapsed:.2f}s; want < 2 s"


def test_blocking_sync_handler_does_not_stall_the_loop(web_server: RunningServer) -> None:
    slow = threading.Thread(target=lambda: httpx.get(url(web_server, "/block?s=3"), timeout=20))
    slow.start()
    # Wait until the blocking handler is surely sleeping in a worker thread (asked over HTTP:
    # if the loop were blocked, this would hang rather than pass).
    wait_for(lambda: httpx.get(url(web_server, "/state")).json()["blocking"] == 1)
    assert httpx.get(url(web_server, "/")).text == "Hello, World!"
    # The fast request was answered while the blocking one still runs: no stall behind it.
    assert slow.is_alive(), "the fast request waited for the blocking handler to finish"
    slow.join()


def test_websocket_echo_with_route_params(web_server: RunningServer) -> None:
    with connect(f"ws://127.0.0.1:{web_server.port}/ws/lobby") as ws:
        ws.send("hi")
        assert ws.recv(timeout=5) == "lobby: hi"
        ws.send("again")
        assert ws.recv(timeout=5) == "lobby: again"


def test_websocket_to_unknown_path_is_refused(web_server: RunningServer) -> None:
    with pytest.raises(Exception, match="403"), connect(f"ws://127.0.0.1:{web_server.port}/nows"):
        pass


@pytest.mark.slow
def test_sigterm_lets_the_request_in_flight_finish(tmp_path: Path) -> None:
    server = launch_web(tmp_path)
    assert server.proc is not None
    got: list[httpx.Response] = []
    caller = threading.Thread(
        target=lambda: got.append(httpx.get(url(server, "/sleep?s=2"), timeout=20))
    )
    caller.start()
    wait_for(lambda: httpx.get(url(server, "/state")).json()["sleeping"] == 1)
    server.proc.send_signal(signal.SIGTERM)
    caller.join(10)
    # uvicorn re-raises the captured SIGTERM once it has shut down cleanly.
    assert server.proc.wait(10) in (0, -signal.SIGTERM)
    assert [r.text for r in got] == ["slept"]
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", server.port)) != 0, "still listening after SIGTERM"


@pytest.mark.slow
def test_served_by_granian_too(tmp_path: Path) -> None:
    # gee.web is plain ASGI: another server (Rust-based granian) runs it unchanged.
    exe = shutil.which("granian", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("granian is not installed (it is in the bench extra)")
    port = free_port()
    log = tmp_path / "granian.log"
    argv = [exe, "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port)]
    proc = start_process([*argv, "tests.web.e2e_app:app"], Path(__file__).parents[2], log)
    try:
        wait_for(lambda: proc.poll() is None and port_open(port), what=f"granian\n{_tail(log)}")
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/hello/a%20b?q=1").json() == {"name": "a b", "q": "1"}
        assert httpx.get(f"{base}/hello/%zz").status_code == 400
        assert httpx.delete(f"{base}/").headers["allow"] == "GET, HEAD"
        assert httpx.get(f"{base}/state").json()["started"] is True
    finally:
        stop_process(proc)


@pytest.mark.slow
def test_app_run_serves_with_uvicorn(tmp_path: Path) -> None:
    port = free_port()
    code = f"from tests.web.e2e_app import app; app.run(port={port}, log_level='warning')"
    log = tmp_path / "run.log"
    proc = start_process([sys.executable, "-c", code], Path(__file__).parents[2], log)
    try:
        wait_for(lambda: proc.poll() is None and port_open(port), what=f"app.run\n{_tail(log)}")
        assert httpx.get(f"http://127.0.0.1:{port}/").text == "Hello, World!"
        assert httpx.get(f"http://127.0.0.1:{port}/state").json()["started"] is True
    finally:
        stop_process(proc)


@pytest.mark.slow
def test_logger_middleware_lines_reach_the_console(tmp_path: Path) -> None:
    port = free_port()
    code = (
        "from gee.web import Gee; from gee.web.middleware import logger; app = Gee(); "
        "app.use(logger()); app.get('/', lambda c: 'hi'); "
        f"app.run(port={port}, log_level='info', access_log=False)"
    )
    log = tmp_path / "run.log"
    proc = start_process([sys.executable, "-c", code], Path(__file__).parents[2], log)
    try:
        wait_for(lambda: proc.poll() is None and port_open(port), what=f"app.run\n{_tail(log)}")
        assert httpx.get(f"http://127.0.0.1:{port}/?x=1").text == "hi"
        wait_for(lambda: "GET / 200" in log.read_text(), timeout=5, what="the access line")
    finally:
        stop_process(proc)
